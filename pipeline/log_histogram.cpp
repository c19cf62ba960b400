#include "pipeline/log_histogram.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace spikevid {

int LogHistogram::bucket_of(std::int64_t ns) {
  if (ns <= kFirstNs) return 0;
  const int b =
      1 + static_cast<int>(std::log(static_cast<double>(ns) / kFirstNs) / std::log(kRatio));
  return std::min(b, kBuckets - 1);
}

double LogHistogram::middle_ns(int bucket) {
  if (bucket == 0) return kFirstNs / 2;
  // Bucket b spans [10·r^(b-1), 10·r^b): its geometric middle.
  return kFirstNs * std::pow(kRatio, static_cast<double>(bucket) - 0.5);
}

void LogHistogram::add(std::int64_t ns) {
  ns = std::max<std::int64_t>(ns, 0);
  ++counts_[static_cast<std::size_t>(bucket_of(ns))];
  min_ns_ = count_ == 0 ? ns : std::min(min_ns_, ns);
  max_ns_ = count_ == 0 ? ns : std::max(max_ns_, ns);
  sum_ns_ += static_cast<double>(ns);
  ++count_;
}

double LogHistogram::sample_ns(std::uint64_t rank) const {
  if (rank == 0) return static_cast<double>(min_ns_);
  if (rank + 1 >= count_) return static_cast<double>(max_ns_);
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[static_cast<std::size_t>(b)];
    if (seen > rank)
      return std::clamp(middle_ns(b), static_cast<double>(min_ns_), static_cast<double>(max_ns_));
  }
  return static_cast<double>(max_ns_);
}

double LogHistogram::quantile_ms(double q) const {
  if (count_ == 0) throw std::invalid_argument("percentile of no samples");
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("percentile: q must be in [0, 1]");
  const double h = static_cast<double>(count_ - 1) * q;
  const auto low = static_cast<std::uint64_t>(std::floor(h));
  const double a = sample_ns(low);
  const double v =
      low + 1 >= count_ ? a : a + (h - static_cast<double>(low)) * (sample_ns(low + 1) - a);
  return v / 1e6;
}

LatencyStats LogHistogram::stats() const {
  LatencyStats s;
  if (count_ == 0) return s;
  s.count = count_;
  s.p50_ms = quantile_ms(0.50);
  s.p90_ms = quantile_ms(0.90);
  s.p99_ms = quantile_ms(0.99);
  s.p999_ms = quantile_ms(0.999);
  s.max_ms = static_cast<double>(max_ns_) / 1e6;
  s.mean_ms = sum_ns_ / static_cast<double>(count_) / 1e6;
  return s;
}

}  // namespace spikevid
