#pragma once
// The numbers a run reports, as plain structs that other code can put in its
// own output (the benchmark command's JSON), and the percentile behind them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/channel_base.h"

namespace spikevid {

struct LatencyStats {
  std::size_t count = 0;  // samples; every field below is 0 when there are none
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
};

struct StageLatency {
  std::string name;
  LatencyStats service;     // leave - enter
  LatencyStats queue_wait;  // enter - the previous stage's leave; none for the source
};

struct LatencySummary {
  std::uint64_t frames = 0;         // frames in the statistics, after warm-up
  std::uint64_t warmup_frames = 0;  // frames left out at the start
  double fps = 0;  // (frames - 1) / (last - first sink leave time); 0 below 2 frames
  std::vector<StageLatency> stages;  // in line order, source first
  LatencyStats end_to_end;           // sink leave - capture
  std::vector<EdgeStats> edges;      // drops per edge, in line order
};

// The q-quantile (0 <= q <= 1) of ascending `sorted`, by linear interpolation
// between closest ranks (numpy.percentile's default): with h = (n - 1) q,
// sorted[floor h] + (h - floor h) (sorted[floor h + 1] - sorted[floor h]).
// Throws std::invalid_argument if sorted is empty or q is outside [0, 1].
// Thread-safe: yes. Blocks: no. Allocates: only the exception.
double percentile(const std::vector<double>& sorted, double q);

// Sorts the samples and computes every field of LatencyStats.
// Thread-safe: yes. Blocks: no. Allocates: no (sorts in place).
LatencyStats compute_latency_stats(std::vector<double> samples_ms);

}  // namespace spikevid
