// engine_bench: what the engine itself costs, with stages that do nothing.
//   - one hop: a two-thread ping-pong, one-way latency from a timestamp in the item,
//     with the receiver spinning (pings back to back) and parked (pings 1 ms apart);
//   - frames per second through six threads joined by channels (capacity 1, 4, 64),
//     and through a six-stage Pipeline (stamping, unique_ptr frames, recorder);
//   - the same with a mutex + condition variable queue, side by side, as a ratio.
// Usage: engine_bench [--frames N] [--repeats R] [--json FILE]
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "pipeline/channel.h"
#include "pipeline/json_text.h"
#include "pipeline/pipeline.h"

namespace spikevid {
namespace {

constexpr std::size_t kHopCapacity = 64;
constexpr int kSpinningPings = 20'000;  // per repeat
constexpr int kParkedPings = 300;
constexpr std::chrono::milliseconds kParkGap{1};  // far longer than spin + yield

// The baseline: the smallest bounded blocking queue a careful engineer writes.
template <typename T>
class MutexQueue {
 public:
  explicit MutexQueue(std::size_t capacity) : capacity_(capacity) {}
  void push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [this] { return items_.size() < capacity_; });
    items_.push_back(std::move(item));
    not_empty_.notify_one();
  }
  std::optional<T> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [this] { return !items_.empty() || finished_; });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void finish() {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    not_empty_.notify_all();
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;
  bool finished_ = false;
};

// Channel<T> under the same three calls as MutexQueue.
class ChannelQueue {
 public:
  explicit ChannelQueue(std::size_t capacity) : channel_({capacity, Overflow::block}) {}
  void push(std::int64_t item) { channel_.push(item); }
  std::optional<std::int64_t> pop() { return channel_.pop(); }
  void finish() { channel_.finish(); }

 private:
  Channel<std::int64_t> channel_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return percentile(v, 0.5);
}

struct Hops {
  std::vector<double> one_way_ns;  // sender's stamp to the receiver's pop
  std::vector<double> push_ns;     // what push() cost the sender (a wake-up, if parked)
};

// `pings` hops, each answered before the next; `gap` > 0 lets the receiver park.
template <typename Queue>
Hops hops(int pings, std::chrono::microseconds gap) {
  Queue there(kHopCapacity);
  Queue back(kHopCapacity);
  Hops result;
  result.one_way_ns.reserve(static_cast<std::size_t>(pings));
  result.push_ns.reserve(static_cast<std::size_t>(pings));
  std::thread echo([&] {
    while (std::optional<std::int64_t> sent = there.pop()) {
      result.one_way_ns.push_back(static_cast<double>(now_ns() - *sent));
      back.push(0);
    }
  });
  for (int i = 0; i < pings; ++i) {
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
    const std::int64_t sent = now_ns();
    there.push(sent);
    result.push_ns.push_back(static_cast<double>(now_ns() - sent));
    back.pop();
  }
  there.finish();
  echo.join();
  return result;
}

// Frames per second through `stages` threads in a line, each passing items on.
template <typename Queue>
double chain_fps(std::size_t capacity, std::int64_t frames, int stages) {
  std::vector<std::unique_ptr<Queue>> edges;
  for (int i = 0; i + 1 < stages; ++i) edges.push_back(std::make_unique<Queue>(capacity));
  const std::int64_t start = now_ns();
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (std::int64_t i = 0; i < frames; ++i) edges.front()->push(i);
    edges.front()->finish();
  });
  for (int s = 1; s + 1 < stages; ++s) {
    threads.emplace_back([&, s] {
      while (std::optional<std::int64_t> item = edges[s - 1]->pop()) edges[s]->push(*item);
      edges[s]->finish();
    });
  }
  threads.emplace_back([&] {
    while (edges.back()->pop()) {
    }
  });
  for (auto& thread : threads) thread.join();
  return static_cast<double>(frames) * 1e9 / static_cast<double>(now_ns() - start);
}

struct Frame {
  FrameMeta meta;
  std::int64_t value = 0;
};
using FramePtr = std::unique_ptr<Frame>;

// Frames per second through a six-stage Pipeline; also its median end to end.
std::pair<double, double> pipeline_fps(std::size_t capacity, std::int64_t frames) {
  PipelineConfig config;
  config.channel = {capacity, Overflow::block};
  Pipeline p(config);
  std::int64_t next = 0;
  auto port = p.add_source("source", [&]() -> std::optional<FramePtr> {
    if (next == frames) return std::nullopt;
    auto frame = std::make_unique<Frame>();
    frame->value = next++;
    return frame;
  });
  for (int i = 1; i <= 4; ++i) {
    port = p.add_transform("pass" + std::to_string(i), port, [](FramePtr f) { return f; });
  }
  p.add_sink("sink", port, [](FramePtr) {});
  const std::int64_t start = now_ns();
  p.run();
  const double fps = static_cast<double>(frames) * 1e9 / static_cast<double>(now_ns() - start);
  return {fps, p.recorder().summary().end_to_end.p50_ms};
}

// What one round of the Parker's spin costs here (0 where there is no pause instruction).
double pause_ns() {
#if defined(__x86_64__) || defined(__i386__)
  constexpr int kPauses = 1'000'000;
  const std::int64_t start = now_ns();
  for (int i = 0; i < kPauses; ++i) _mm_pause();
  return static_cast<double>(now_ns() - start) / kPauses;
#else
  return 0;
#endif
}

struct Result {
  std::string name;
  double value;
  std::string unit;
};

}  // namespace
}  // namespace spikevid

int main(int argc, char** argv) {
  using namespace spikevid;
  std::int64_t frames = 200'000;
  int repeats = 5;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--frames" && i + 1 < argc) {
      frames = std::atoll(argv[++i]);
    } else if (arg == "--repeats" && i + 1 < argc) {
      repeats = std::atoi(argv[++i]);
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      std::cerr << "usage: engine_bench [--frames N] [--repeats R] [--json FILE]\n";
      return 2;
    }
  }
  if (frames < 1 || repeats < 1) {
    std::cerr << "engine_bench: --frames and --repeats must be at least 1\n";
    return 2;
  }

  std::vector<Result> results;
  auto report = [&](const std::string& name, double value, const std::string& unit) {
    results.push_back({name, value, unit});
    std::printf("%-48s %14.1f %s\n", name.c_str(), value, unit.c_str());
    std::fflush(stdout);
  };
  std::printf("engine_bench: %lld frames, %d repeats, %u hardware threads\n",
              static_cast<long long>(frames), repeats, std::thread::hardware_concurrency());

  const double pause = pause_ns();
  report("pause instruction", pause, "ns");
  report("spin phase (kSpinCount pauses)", pause * kSpinCount, "ns");

  // One hop, receiver spinning: median over repeats of each repeat's median.
  std::vector<double> channel_hops;
  std::vector<double> mutex_hops;
  std::vector<double> channel_pushes;
  for (int r = 0; r < repeats; ++r) {
    const Hops channel = hops<ChannelQueue>(kSpinningPings, {});
    channel_hops.push_back(median(channel.one_way_ns));
    channel_pushes.push_back(median(channel.push_ns));
    mutex_hops.push_back(median(hops<MutexQueue<std::int64_t>>(kSpinningPings, {}).one_way_ns));
  }
  const double channel_hop = median(channel_hops);
  const double mutex_hop = median(mutex_hops);
  report("hop, receiver spinning: Channel", channel_hop, "ns");
  report("hop, receiver spinning: mutex+condvar", mutex_hop, "ns");
  report("hop ratio mutex/Channel", mutex_hop / channel_hop, "x");

  // One hop to a parked receiver: what parking costs, to the hop and to the sender.
  const Hops parked = hops<ChannelQueue>(kParkedPings, kParkGap);
  const double channel_parked = median(parked.one_way_ns);
  const double mutex_parked =
      median(hops<MutexQueue<std::int64_t>>(kParkedPings, kParkGap).one_way_ns);
  report("hop, receiver parked: Channel", channel_parked, "ns");
  report("hop, receiver parked: mutex+condvar", mutex_parked, "ns");
  report("parking cost to the hop (parked - spinning)", channel_parked - channel_hop, "ns");
  report("push, receiver spinning: Channel", median(channel_pushes), "ns");
  report("push, receiver parked (wakes it): Channel", median(parked.push_ns), "ns");

  for (const std::size_t capacity : {1, 4, 64}) {
    std::vector<double> channel_fps;
    std::vector<double> mutex_fps;
    std::vector<double> engine_fps;
    std::vector<double> engine_e2e;
    for (int r = 0; r < repeats; ++r) {
      channel_fps.push_back(chain_fps<ChannelQueue>(capacity, frames, 6));
      mutex_fps.push_back(chain_fps<MutexQueue<std::int64_t>>(capacity, frames, 6));
      const auto [fps, e2e] = pipeline_fps(capacity, frames);
      engine_fps.push_back(fps);
      engine_e2e.push_back(e2e);
    }
    const std::string cap = " (capacity " + std::to_string(capacity) + ")";
    const double channel = median(channel_fps);
    const double mutex = median(mutex_fps);
    report("6 threads, Channel" + cap, channel, "frames/s");
    report("6 threads, mutex+condvar" + cap, mutex, "frames/s");
    report("6 threads, ratio Channel/mutex" + cap, channel / mutex, "x");
    report("6-stage Pipeline" + cap, median(engine_fps), "frames/s");
    report("6-stage Pipeline, end to end p50" + cap, median(engine_e2e) * 1e3, "us");
  }

  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << "{\"frames\":" << frames << ",\"repeats\":" << repeats << ",\"results\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      out << (i ? ",\n" : "\n") << "{\"name\":" << json_string(results[i].name)
          << ",\"value\":" << json_number(results[i].value)
          << ",\"unit\":" << json_string(results[i].unit) << "}";
    }
    out << "\n]}\n";
    if (!out) {
      std::cerr << "engine_bench: cannot write " << json_path << "\n";
      return 1;
    }
  }
  return 0;
}
