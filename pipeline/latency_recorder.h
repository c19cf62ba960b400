#pragma once
// LatencyRecorder: keeps the stamps of every frame that reached the sink, then
// turns them into the summary and the Chrome trace. The sink's runner feeds it;
// stage code never does.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "pipeline/frame_meta.h"
#include "pipeline/latency_summary.h"

namespace spikevid {

class LatencyRecorder {
 public:
  // One name per stage in line order, the sink last; throws std::invalid_argument
  // for none or more than kMaxStages. Thread-safe: no. Blocks: no. Allocates: yes.
  LatencyRecorder(std::vector<std::string> stage_names, std::size_t warmup_frames = 0);

  // Keeps the stamps of one frame that left the last stage.
  // Thread-safe: one thread at a time. Blocks: no. Allocates: every kChunkFrames frames.
  void record(const FrameMeta& meta);

  // The edges' counters, for the summary (the pipeline sets them after the run).
  // Thread-safe: no. Blocks: no. Allocates: no.
  void set_edges(std::vector<EdgeStats> edges);

  // Thread-safe: no (not while record() runs). Blocks: no. Allocates: no.
  std::size_t recorded() const { return recorded_; }
  const std::vector<std::string>& stage_names() const { return names_; }

  // The statistics over the frames after warm-up.
  // Thread-safe: no (not while record() runs). Blocks: no. Allocates: yes.
  LatencySummary summary() const;

  // A Chrome trace event file (opens in Perfetto): one "X" slice per frame and
  // stage, warm-up included, on one track per stage named after it; µs from the
  // first frame's first stamp. Thread-safe: no. Blocks: on `out`. Allocates: yes.
  void write_trace(std::ostream& out) const;

 private:
  // Stamps are kept in chunks so a long run never copies what it recorded.
  static constexpr std::size_t kChunkFrames = 4096;
  std::int64_t enter(std::size_t frame, int stage) const;
  std::int64_t leave(std::size_t frame, int stage) const;
  std::int64_t at(std::size_t frame, std::size_t field) const;

  std::vector<std::string> names_;
  std::size_t warmup_frames_;
  std::size_t stride_;  // int64s per frame: seq, capture, then enter and leave per stage
  std::vector<std::vector<std::int64_t>> chunks_;
  std::size_t recorded_ = 0;
  std::vector<EdgeStats> edges_;
};

}  // namespace spikevid
