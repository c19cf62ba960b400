#pragma once
// LatencyRecorder: the stamps of every frame that reached the sink, folded
// into fixed-size log histograms (pipeline/log_histogram.h: p50 to p99.9
// within 1 %) as they arrive, plus the stamps of the first and the last
// kTraceFrames frames for the Chrome trace. Its memory does not grow with the
// run: `live` can run for days. The sink's runner feeds it; stage code never does.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "pipeline/frame_meta.h"
#include "pipeline/latency_summary.h"
#include "pipeline/log_histogram.h"

namespace spikevid {

class LatencyRecorder {
 public:
  // One name per stage in line order, the sink last; throws std::invalid_argument
  // for none or more than kMaxStages. Thread-safe: no. Blocks: no. Allocates: yes.
  LatencyRecorder(std::vector<std::string> stage_names, std::size_t warmup_frames = 0);

  // Counts one frame that left the last stage.
  // Thread-safe: one thread at a time. Blocks: no. Allocates: no (the trace's
  // buffers are sized at construction).
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
  // stage, on one track per stage named after it, µs from the first frame's
  // first stamp; the first and the last kTraceFrames frames (warm-up included).
  // Thread-safe: no. Blocks: on `out`. Allocates: yes.
  void write_trace(std::ostream& out) const;

  // Frames the trace keeps at each end of the run.
  static constexpr std::size_t kTraceFrames = 2048;

 private:
  void keep_for_trace(const FrameMeta& meta);

  std::vector<std::string> names_;
  std::size_t warmup_frames_;
  std::size_t recorded_ = 0;
  std::vector<LogHistogram> service_, wait_;  // per stage
  LogHistogram end_to_end_;
  std::int64_t first_sink_ns_ = 0, last_sink_ns_ = 0;  // after warm-up
  std::vector<FrameMeta> head_, tail_;  // the trace: the first frames; the last, a ring
  std::vector<EdgeStats> edges_;
};

}  // namespace spikevid
