#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>
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

}  // namespace
}  // namespace spikevid
