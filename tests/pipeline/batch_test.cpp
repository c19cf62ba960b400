#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
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

// The schedule: the batch stage holds its batch until the source has pushed
// the whole next group, so each batch is exactly what was waiting (up to the
// maximum). A group of 6 with a maximum of 4 leaves 2 waiting; the next group
// joins them, so 4 more are waiting at the next batch.
TEST_CASE("a batched transform takes what is waiting and never waits to fill a batch",
          "[pipeline][batch]") {
  const std::vector<int> groups = {1, 3, 1, 6, 2};
  test::Semaphore entered;  // the batch stage holds a batch
  test::Semaphore release;  // the batch stage may finish it
  Pipeline p(PipelineConfig{ChannelConfig{16, Overflow::block}});
  std::size_t group = 0;
  int in_group = 0;
  std::uint64_t next = 0;
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {
    if (in_group == groups[group]) {  // the group is all pushed
      ++group;
      in_group = 0;
      if (group > 1) release.post();
      entered.wait();
      if (group == groups.size()) {
        release.post(100);
        return std::nullopt;
      }
    }
    ++in_group;
    auto frame = std::make_unique<Frame>();
    frame->value = next++;
    return frame;
  });
  std::vector<std::size_t> sizes;
  auto b = p.add_batch_transform("batch", a, 4, [&](std::vector<FramePtr> batch) {
    sizes.push_back(batch.size());
    entered.post();
    release.wait();
    return batch;
  });
  std::vector<std::uint64_t> values;
  std::vector<std::int64_t> enters;
  p.add_sink("sink", b, [&](FramePtr f) {
    values.push_back(f->value);
    enters.push_back(f->meta.enter_ns[1]);
  });
  p.run();

  CHECK(sizes == std::vector<std::size_t>{1, 3, 1, 4, 4});
  REQUIRE(values.size() == 13);
  for (std::uint64_t i = 0; i < values.size(); ++i) CHECK(values[i] == i);
  // One stamp per batch: frames 1..3 went through together.
  CHECK(enters[1] == enters[3]);
  CHECK(enters[0] != enters[1]);
}

TEST_CASE("a batched transform that returns the wrong count is an error", "[pipeline][batch]") {
  Pipeline p;
  std::uint64_t next = 0;
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {
    if (next++ == 5) return std::nullopt;
    return std::make_unique<Frame>();
  });
  auto b = p.add_batch_transform("bad", a, 4, [](std::vector<FramePtr> batch) {
    batch.push_back(std::make_unique<Frame>());
    return batch;
  });
  p.add_sink("sink", b, [](FramePtr) {});
  CHECK_THROWS_AS(p.run(), std::logic_error);
}

// Three workers: the first three batches are held until all three are inside
// fn at once (so they truly overlap), and later batches finish out of order
// (a later batch sleeps less); the sink still sees every frame in input order.
TEST_CASE("a batched transform on several workers overlaps batches and keeps the order",
          "[pipeline][batch]") {
  constexpr int kWorkers = 3;
  constexpr std::uint64_t kFrames = 60;
  Pipeline p(PipelineConfig{ChannelConfig{8, Overflow::block}});
  std::uint64_t next = 0;
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {
    if (next == kFrames) return std::nullopt;
    auto frame = std::make_unique<Frame>();
    frame->value = next++;
    return frame;
  });
  std::mutex mutex;
  std::condition_variable cv;
  int inside = 0, most_inside = 0, held = 0;
  bool all_met = false;
  auto b = p.add_batch_transform(
      "batch", a, 2,
      [&](std::vector<FramePtr> batch) {
        {
          std::unique_lock<std::mutex> lock(mutex);
          most_inside = std::max(most_inside, ++inside);
          if (held < kWorkers) {
            ++held;
            if (inside == kWorkers) all_met = true;
            cv.notify_all();
            cv.wait_for(lock, std::chrono::seconds(10), [&] { return all_met; });
          }
        }
        const auto v = batch.front()->value;
        std::this_thread::sleep_for(std::chrono::microseconds(200 * (3 - v % 3)));
        {
          std::lock_guard<std::mutex> lock(mutex);
          --inside;
        }
        return batch;
      },
      std::nullopt, kWorkers);
  std::vector<std::uint64_t> values;
  p.add_sink("sink", b, [&](FramePtr f) { values.push_back(f->value); });
  const auto before = test::threads_before_run();
  p.run();
  CHECK(all_met);
  CHECK(most_inside == kWorkers);
  REQUIRE(values.size() == kFrames);
  for (std::uint64_t i = 0; i < values.size(); ++i) CHECK(values[i] == i);
  CHECK(test::threads_settled_at(before) == before);  // the helpers were joined
}

TEST_CASE("a worker's error stops the run and reaches run(); no worker is left waiting",
          "[pipeline][batch]") {
  Pipeline p(PipelineConfig{ChannelConfig{4, Overflow::block}});
  std::uint64_t next = 0;
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {
    auto frame = std::make_unique<Frame>();  // endless: only the error ends the run
    frame->value = next++;
    return frame;
  });
  auto b = p.add_batch_transform(
      "batch", a, 1,
      [](std::vector<FramePtr> batch) {
        if (batch.front()->value == 7) throw std::runtime_error("frame 7 is bad");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return batch;
      },
      std::nullopt, 2);
  std::uint64_t last = 0;
  p.add_sink("sink", b, [&](FramePtr f) { last = f->value; });
  CHECK_THROWS_WITH(p.run(), "frame 7 is bad");
  CHECK(last < 7);
}

TEST_CASE("stop ends a run whose batched stage has several workers", "[pipeline][batch]") {
  Pipeline p(PipelineConfig{ChannelConfig{4, Overflow::block}});
  auto a = p.add_source("source",
                        [&]() -> std::optional<FramePtr> { return std::make_unique<Frame>(); });
  auto b = p.add_batch_transform(
      "batch", a, 2, [](std::vector<FramePtr> batch) { return batch; }, std::nullopt, 3);
  std::uint64_t seen = 0;
  p.add_sink("sink", b, [&](FramePtr) {
    if (++seen == 100) p.stop();
  });
  p.run();
  CHECK(seen >= 100);
  CHECK(p.stop_requested());
}

// Offline: a batch is max_batch frames whatever the timing (a slow source
// here, so a stage that took what was waiting would see single frames); the
// last is what is left at the end of the stream.
TEST_CASE("a batched transform that fills its batches waits for max_batch or the end",
          "[pipeline][batch]") {
  for (int workers : {1, 2}) {
    Pipeline p(PipelineConfig{ChannelConfig{8, Overflow::block}});
    std::uint64_t next = 0;
    auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {
      if (next == 11) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      auto frame = std::make_unique<Frame>();
      frame->value = next++;
      return frame;
    });
    std::mutex mutex;
    std::vector<std::size_t> sizes;
    auto b = p.add_batch_transform(
        "batch", a, 4,
        [&](std::vector<FramePtr> batch) {
          std::lock_guard<std::mutex> lock(mutex);
          sizes.push_back(batch.size());
          return batch;
        },
        std::nullopt, workers, BatchFill::full);
    std::vector<std::uint64_t> values;
    p.add_sink("sink", b, [&](FramePtr f) { values.push_back(f->value); });
    p.run();
    INFO(workers << " worker(s)");
    CHECK(sizes == std::vector<std::size_t>{4, 4, 3});
    REQUIRE(values.size() == 11);
    for (std::uint64_t i = 0; i < values.size(); ++i) CHECK(values[i] == i);
  }
}

TEST_CASE("stop ends a run whose batched stage waits to fill a batch", "[pipeline][batch]") {
  Pipeline p(PipelineConfig{ChannelConfig{8, Overflow::block}});
  std::uint64_t made = 0;
  auto a = p.add_source("source", [&]() -> std::optional<FramePtr> {
    if (made == 6) {  // then stalls: nothing this time, and never again
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return FramePtr{};
    }
    ++made;
    return std::make_unique<Frame>();
  });
  std::atomic<std::uint64_t> seen{0};
  auto b = p.add_batch_transform(
      "batch", a, 4, [](std::vector<FramePtr> batch) { return batch; }, std::nullopt, 1,
      BatchFill::full);
  p.add_sink("sink", b, [&](FramePtr) { ++seen; });
  std::thread stopper([&] {
    while (seen.load() < 4) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    p.stop();  // two frames wait for two more that never come
  });
  p.run();
  stopper.join();
  CHECK(seen.load() >= 4);
  CHECK(p.stop_requested());
}

TEST_CASE("a batched stage needs at least one worker", "[pipeline][batch]") {
  Pipeline p;
  auto a = p.add_source("source", []() -> std::optional<FramePtr> { return std::nullopt; });
  CHECK_THROWS_AS(p.add_batch_transform(
                      "batch", a, 1, [](std::vector<FramePtr> b) { return b; }, std::nullopt, 0),
                  std::invalid_argument);
}

}  // namespace
}  // namespace spikevid
