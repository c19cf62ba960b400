#include "pipeline/latency_summary.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace spikevid {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("percentile of no samples");
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("percentile: q must be in [0, 1]");
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const auto low = static_cast<std::size_t>(std::floor(h));
  if (low + 1 >= sorted.size()) return sorted.back();
  return sorted[low] + (h - static_cast<double>(low)) * (sorted[low + 1] - sorted[low]);
}

LatencyStats compute_latency_stats(std::vector<double> samples_ms) {
  LatencyStats stats;
  if (samples_ms.empty()) return stats;
  std::sort(samples_ms.begin(), samples_ms.end());
  stats.count = samples_ms.size();
  stats.p50_ms = percentile(samples_ms, 0.50);
  stats.p90_ms = percentile(samples_ms, 0.90);
  stats.p99_ms = percentile(samples_ms, 0.99);
  stats.p999_ms = percentile(samples_ms, 0.999);
  stats.max_ms = samples_ms.back();
  stats.mean_ms = std::accumulate(samples_ms.begin(), samples_ms.end(), 0.0) /
                  static_cast<double>(samples_ms.size());
  return stats;
}

}  // namespace spikevid
