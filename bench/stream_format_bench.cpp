// The spike stream's count codings (io/spike_stream.h) on real spike files:
// bytes a frame, bits a count against the counts' order-0 entropy, and the
// CPU time to write and read a frame, side by side in one run.
//   build/bench/stream_format_bench SPIKES.h5...
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "io/spike_file.h"
#include "io/spike_stream.h"

using namespace spikevid;
using Clock = std::chrono::steady_clock;

namespace {

double entropy_bits(const std::vector<float>& counts) {
  std::map<long, double> histogram;
  for (float c : counts) histogram[std::lround(c)] += 1;
  double h = 0;
  for (const auto& [value, n] : histogram) {
    const double p = n / static_cast<double>(counts.size());
    h -= p * std::log2(p);
  }
  return h;
}

void measure(const std::string& path) {
  const SpikeFile f = read_spike_file(path);
  const auto& h = f.header;
  const std::size_t per_frame = static_cast<std::size_t>(h.bins) * h.cells;
  const double mean = [&] {
    double s = 0;
    for (float c : f.counts) s += c;
    return s / static_cast<double>(f.counts.size());
  }();
  std::printf(
      "%s: %lld frames of %zu counts (%dx%d tiles), mean count %.3f, order-0 entropy %.3f bits a "
      "count\n",
      path.c_str(), static_cast<long long>(f.frames), per_frame, h.tile_rows, h.tile_cols, mean,
      entropy_bits(f.counts));
  std::printf(
      "| coding | bytes a frame (message) | bits a count (counts only) | bits a count (message) | "
      "write us a frame | read us a frame |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (auto coding : stream::kAllCodings) {
    double counts_bytes = 0, message_bytes = 0;
    std::vector<std::string> messages;
    const auto t0 = Clock::now();
    int rounds = 0;
    do {  // at least 0.3 s of writing, every frame each round
      messages.clear();
      for (std::int64_t i = 0; i < f.frames; ++i) {
        const float* c = f.counts.data() + static_cast<std::size_t>(i) * per_frame;
        messages.push_back(stream::frame_message(1, static_cast<std::uint64_t>(i),
                                                 f.timestamps_ns[i], c, per_frame, coding));
      }
      ++rounds;
    } while (Clock::now() - t0 < std::chrono::milliseconds(300));
    const double write_us =
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / (rounds * f.frames);
    for (const auto& m : messages) {
      message_bytes += static_cast<double>(m.size());
      counts_bytes += static_cast<double>(m.size() - stream::kPrefixBytes - 12);
    }
    const auto t1 = Clock::now();
    rounds = 0;
    do {
      for (const auto& m : messages) {
        const auto got =
            stream::parse_message(reinterpret_cast<const std::uint8_t*>(m.data()), m.size());
        if (got.counts.size() != per_frame) throw std::runtime_error("round trip lost counts");
      }
      ++rounds;
    } while (Clock::now() - t1 < std::chrono::milliseconds(300));
    const double read_us =
        std::chrono::duration<double, std::micro>(Clock::now() - t1).count() / (rounds * f.frames);
    const double n = static_cast<double>(f.counts.size());
    std::printf("| %s | %.0f | %.3f | %.3f | %.1f | %.1f |\n", stream::to_string(coding),
                message_bytes / static_cast<double>(f.frames), 8 * counts_bytes / n,
                8 * message_bytes / n, write_us, read_us);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: stream_format_bench SPIKES.h5...\n");
    return 2;
  }
  try {
    for (int i = 1; i < argc; ++i) measure(argv[i]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stream_format_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
