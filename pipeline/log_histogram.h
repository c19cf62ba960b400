#pragma once
// LogHistogram: durations counted in fixed log-spaced buckets, each 1 % wider
// than the one before, from 10 ns to about 3 hours (3,000 buckets, 24 kB).
// Any percentile comes back within 0.5 % of the samples around its rank (the
// bucket's geometric middle); count, mean, min and max are exact. Fixed size:
// a run of days costs what a run of seconds does (HdrHistogram's idea, simpler).
#include <array>
#include <cstdint>

#include "pipeline/latency_summary.h"

namespace spikevid {

class LogHistogram {
 public:
  // Thread-safe: no. Blocks: no. Allocates: no. Negative values count as 0.
  void add(std::int64_t ns);

  // The q-quantile (0 <= q <= 1) in ms, ranked as numpy.percentile's default
  // (linear between the samples at ranks floor(h) and floor(h)+1, h = (n-1)q),
  // each sample taken as its bucket's middle, clamped to [min, max].
  // Throws std::invalid_argument if empty or q is outside [0, 1].
  // Thread-safe: yes, while nobody adds. Blocks: no. Allocates: no.
  double quantile_ms(double q) const;

  // Every field of LatencyStats (all 0 when empty).
  // Thread-safe: yes, while nobody adds. Blocks: no. Allocates: no.
  LatencyStats stats() const;

  std::uint64_t count() const { return count_; }

 private:
  static constexpr double kFirstNs = 10;  // the upper edge of bucket 0
  static constexpr double kRatio = 1.01;  // each bucket's upper edge over its lower
  static constexpr int kBuckets = 3000;   // 10 ns · 1.01^2999 ≈ 9.3e13 ns ≈ 26 h
  static int bucket_of(std::int64_t ns);
  static double middle_ns(int bucket);
  double sample_ns(std::uint64_t rank) const;  // the rank-th smallest, 0-based

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  double sum_ns_ = 0;
  std::int64_t min_ns_ = 0, max_ns_ = 0;
};

}  // namespace spikevid
