#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pipeline/pipeline.h"
#include "tests/pipeline/test_support.h"

namespace spikevid {
namespace {

struct Frame {
  FrameMeta meta;
  std::uint64_t value = 0;
};
using FramePtr = std::unique_ptr<Frame>;

struct Image {
  FrameMeta meta;
  std::uint64_t value = 0;
};
using ImagePtr = std::shared_ptr<Image>;

FramePtr make_frame(std::uint64_t value) {
  auto frame = std::make_unique<Frame>();
  frame->value = value;
  return frame;
}

// A source that counts up from 0 and ends after `count` frames.
auto counting_source(std::uint64_t& next, std::uint64_t count) {
  return [&next, count]() -> std::optional<FramePtr> {
    if (next == count) return std::nullopt;
    return make_frame(next++);
  };
}

TEST_CASE("five stages carry every frame in order under block", "[pipeline]") {
  constexpr std::uint64_t kFrames = 20'000;
  Pipeline p(PipelineConfig{ChannelConfig{4, Overflow::block}});
  std::uint64_t next = 0;
  std::vector<std::uint64_t> values;
  std::vector<std::uint64_t> seqs;
  auto a = p.add_source("source", counting_source(next, kFrames));
  auto b = p.add_transform("double", a, [](FramePtr f) {
    f->value *= 2;
    return f;
  });
  auto c = p.add_transform("to_image", b, [](FramePtr f) {
    auto image = std::make_shared<Image>();
    image->value = f->value + 1;
    return image;
  });
  auto d = p.add_transform<ImagePtr>(
      "same", c, [](ImagePtr x) { return x; }, ChannelConfig{1, Overflow::block});
  p.add_sink("sink", d, [&](const ImagePtr& x) {
    values.push_back(x->value);
    seqs.push_back(x->meta.seq);
  });
  const std::size_t threads_before = test::threads_before_run();
  p.run();
  CHECK(test::threads_settled_at(threads_before) <= threads_before);

  REQUIRE(values.size() == kFrames);
  std::uint64_t wrong = 0;
  for (std::uint64_t i = 0; i < kFrames; ++i) wrong += values[i] != 2 * i + 1 || seqs[i] != i;
  CHECK(wrong == 0);
  CHECK(a.stage_index() == 0);
  CHECK(d.stage_index() == 3);
  CHECK(p.stage_names() ==
        std::vector<std::string>{"source", "double", "to_image", "same", "sink"});
  const std::vector<EdgeStats> edges = p.edge_stats();
  REQUIRE(edges.size() == 4);
  CHECK(edges[0].name == "source->double");
  CHECK(edges[3].name == "same->sink");
  CHECK(edges[2].stats.capacity == 1);
  for (const EdgeStats& edge : edges) {
    CHECK(edge.stats.pushed == kFrames);
    CHECK(edge.stats.popped == kFrames);
    CHECK(edge.stats.dropped == 0);
  }
  CHECK(p.recorder().recorded() == kFrames);
  const LatencySummary summary = p.recorder().summary();
  CHECK(summary.frames == kFrames);
  CHECK(summary.stages.size() == 5);
  CHECK(summary.edges.size() == 4);
}

TEST_CASE("every stamp comes from the injected clock, in path order", "[pipeline]") {
  constexpr std::uint64_t kFrames = 1000;
  std::atomic<std::int64_t> ticks{0};
  PipelineConfig config;
  config.clock = [&ticks] { return ticks.fetch_add(1) + 1; };
  config.warmup_frames = 10;
  Pipeline p(config);
  std::uint64_t next = 0;
  std::uint64_t out_of_order = 0;
  auto a = p.add_source("source", counting_source(next, kFrames));
  auto b = p.add_transform("one", a, [](FramePtr f) { return f; });
  auto c = p.add_transform("two", b, [](FramePtr f) { return f; });
  p.add_sink("sink", c, [&](FramePtr f) {
    const FrameMeta& m = f->meta;
    out_of_order += m.capture_ns != m.leave_ns[0];
    for (int s = 0; s <= 2; ++s) {
      out_of_order += m.enter_ns[s] >= m.leave_ns[s];
      if (s > 0) out_of_order += m.leave_ns[s - 1] >= m.enter_ns[s];
    }
  });
  p.run();
  CHECK(out_of_order == 0);
  const LatencySummary summary = p.recorder().summary();
  CHECK(summary.frames == kFrames - 10);
  CHECK(summary.warmup_frames == 10);
  // One tick is 1 ns: a stage's service is at least the tick between its two stamps.
  CHECK(summary.stages[1].service.count == kFrames - 10);
  CHECK(summary.stages[1].service.max_ms >= 1e-6);
  CHECK(summary.end_to_end.p50_ms > 0);
}

// The schedule: the slow stage holds one frame while the source pushes a burst
// of kBurst frames into a keep_latest edge, so exactly the last of each burst
// survives; then the slow stage is let go and takes it.
TEST_CASE("keep_latest drops to the newest frame behind a slow stage", "[pipeline]") {
  constexpr std::uint64_t kRounds = 5;
  constexpr std::uint64_t kBurst = 10;
  test::Semaphore entered;  // the slow stage holds a frame
  test::Semaphore release;  // the slow stage may finish it
  Pipeline p(PipelineConfig{ChannelConfig{4, Overflow::block}});
  std::uint64_t emitted = 0;
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {
    if (emitted > 0 && (emitted - 1) % kBurst == 0) {  // the previous burst is all pushed
      if (emitted > 1) release.post();
      entered.wait();
      if (emitted == 1 + kRounds * kBurst) {
        release.post();
        return std::nullopt;
      }
    }
    return make_frame(emitted++);
  });
  auto b = p.add_transform(
      "slow", a,
      [&](FramePtr f) {
        entered.post();
        release.wait();
        return f;
      },
      ChannelConfig{4, Overflow::keep_latest});
  std::vector<std::uint64_t> values;
  p.add_sink("sink", b, [&](FramePtr f) { values.push_back(f->value); });
  p.run();

  std::vector<std::uint64_t> expected;
  for (std::uint64_t r = 0; r <= kRounds; ++r) expected.push_back(r * kBurst);
  CHECK(values == expected);
  const ChannelStats edge = p.edge_stats()[0].stats;
  CHECK(edge.overflow == Overflow::keep_latest);
  CHECK(edge.pushed == 1 + kRounds * kBurst);
  CHECK(edge.popped == kRounds + 1);
  CHECK(edge.dropped == kRounds * (kBurst - 1));
  CHECK(edge.high_water == 1);
  const LatencySummary summary = p.recorder().summary();
  REQUIRE(summary.edges.size() == 2);
  CHECK(summary.edges[0].stats.dropped == kRounds * (kBurst - 1));
  CHECK(summary.edges[1].stats.dropped == 0);
}

TEST_CASE("an exception in any stage stops all stages and comes out of run()", "[pipeline]") {
  const int thrower = GENERATE(0, 1, 2, 3, 4);
  const std::size_t threads_before = test::threads_before_run();
  Pipeline p;
  std::uint64_t next = 0;
  auto stage = [thrower](int index) {
    return [thrower, index](FramePtr f) {
      if (index == thrower && f->value == 100) throw std::runtime_error("boom");
      return f;
    };
  };
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {  // never ends by itself
    if (thrower == 0 && next == 100) throw std::runtime_error("boom");
    return make_frame(next++);
  });
  auto b = p.add_transform("one", a, stage(1));
  auto c = p.add_transform("two", b, stage(2));
  auto d = p.add_transform("three", c, stage(3));
  std::uint64_t sunk = 0;
  p.add_sink("sink", d, [&](FramePtr f) {
    if (thrower == 4 && f->value == 100) throw std::runtime_error("boom");
    ++sunk;
  });
  CHECK_THROWS_WITH(p.run(), "boom");
  CHECK(p.stop_requested());
  CHECK(sunk <= 100);
  CHECK(test::threads_settled_at(threads_before) <= threads_before);
}

TEST_CASE("stop() from another thread ends a run whose source never ends", "[pipeline]") {
  const std::size_t threads_before = test::threads_before_run();
  Pipeline p;
  std::uint64_t next = 0;
  std::atomic<std::uint64_t> sunk{0};
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> { return make_frame(next++); });
  auto b = p.add_transform("one", a, [](FramePtr f) { return f; });
  p.add_sink("sink", b, [&](FramePtr) { sunk.fetch_add(1); });
  std::thread stopper([&] {
    while (sunk.load() < 1000) std::this_thread::yield();
    p.stop();
  });
  p.run();
  stopper.join();
  CHECK(sunk.load() >= 1000);
  CHECK(p.stop_requested());
  CHECK(test::threads_settled_at(threads_before) <= threads_before);
}

std::atomic<bool> g_stop{false};
extern "C" void request_stop(int) { g_stop.store(true); }

TEST_CASE("a signal handler stops a run through PipelineConfig::stop_flag", "[pipeline]") {
  static_assert(std::atomic<bool>::is_always_lock_free, "a signal handler needs a lock-free flag");
  g_stop.store(false);
  std::signal(SIGUSR1, request_stop);
  PipelineConfig config;
  config.stop_flag = &g_stop;
  Pipeline p(config);
  std::uint64_t next = 0;
  std::uint64_t sunk = 0;
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> { return make_frame(next++); });
  p.add_sink("sink", a, [&](FramePtr) {
    if (++sunk == 1000) std::raise(SIGUSR1);
  });
  p.run();
  std::signal(SIGUSR1, SIG_DFL);
  CHECK(g_stop.load());
  CHECK(p.stop_requested());
  CHECK(sunk >= 1000);
}

TEST_CASE("a null output forwards nothing and a null from the source is skipped", "[pipeline]") {
  Pipeline p;
  std::uint64_t next = 0;
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {
    if (next == 10) return std::nullopt;
    const std::uint64_t value = next++;
    if (value == 3) return FramePtr{};  // "nothing this time"
    return make_frame(value);
  });
  auto b =
      p.add_transform("odd", a, [](FramePtr f) { return f->value % 2 ? std::move(f) : nullptr; });
  std::vector<std::uint64_t> values;
  std::vector<std::uint64_t> seqs;
  p.add_sink("sink", b, [&](FramePtr f) {
    values.push_back(f->value);
    seqs.push_back(f->meta.seq);
  });
  p.run();
  CHECK(values == std::vector<std::uint64_t>{1, 5, 7, 9});
  CHECK(seqs == std::vector<std::uint64_t>{1, 4, 6, 8});  // seq numbers what the source delivered
}

TEST_CASE("the builder keeps the pipeline a line", "[pipeline]") {
  Pipeline p;
  auto source = [] { return std::optional<FramePtr>(); };
  auto same = [](FramePtr f) { return f; };
  auto a = p.add_source("source", source);
  CHECK_THROWS_AS(p.add_source("second", source), std::logic_error);
  CHECK_THROWS_AS(p.run(), std::logic_error);  // no sink yet
  CHECK_THROWS_AS(p.recorder(), std::logic_error);
  auto b = p.add_transform("one", a, same);
  CHECK_THROWS_AS(p.add_transform("branch", a, same), std::logic_error);
  CHECK_THROWS_AS(p.add_batch_transform("zero", b, 0, [](std::vector<FramePtr> v) { return v; }),
                  std::invalid_argument);
  Pipeline other;
  auto foreign = other.add_source("source", source);
  CHECK_THROWS_AS(p.add_transform("foreign", foreign, same), std::logic_error);
  p.add_sink("sink", b, [](FramePtr) {});
  CHECK_THROWS_AS(p.add_sink("after", b, [](FramePtr) {}), std::logic_error);
  p.run();
  CHECK_THROWS_AS(p.run(), std::logic_error);
  CHECK(p.recorder().recorded() == 0);
}

TEST_CASE("a pipeline holds at most kMaxStages stages", "[pipeline]") {
  Pipeline p;
  auto port = p.add_source("s", [] { return std::optional<FramePtr>(); });
  for (int i = 1; i < kMaxStages; ++i) {
    port = p.add_transform("t" + std::to_string(i), port, [](FramePtr f) { return f; });
  }
  CHECK_THROWS_AS(p.add_sink("sink", port, [](FramePtr) {}), std::length_error);
}

}  // namespace
}  // namespace spikevid

namespace spikevid {
namespace {

TEST_CASE("an upstream edge (a camera's own buffer) is listed first among the edges",
          "[pipeline]") {
  Pipeline p;
  std::uint64_t next = 0;
  auto src = p.add_source("capture", counting_source(next, 5));
  p.add_sink("sink", src, [](FramePtr) {});
  p.add_upstream_edge("camera->capture", [] {
    ChannelStats s;
    s.pushed = 7;
    s.dropped = 2;
    s.popped = 5;
    return s;
  });
  p.run();
  const auto edges = p.edge_stats();
  REQUIRE(edges.size() == 2);
  CHECK(edges[0].name == "camera->capture");
  CHECK(edges[0].stats.dropped == 2);
  CHECK(p.recorder().summary().edges.size() == 2);
  CHECK_THROWS_AS(p.add_upstream_edge("late", [] { return ChannelStats{}; }), std::logic_error);
}

}  // namespace
}  // namespace spikevid
