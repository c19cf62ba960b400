#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pipeline/channel.h"

namespace spikevid {
namespace {

// ThreadSanitizer sends every atomic access through its runtime, which makes a
// capacity-1 ring about 20 times slower: a fifth of the items keeps each case
// under 20 s and still crosses the ring 200,000 times.
#if SPIKEVID_TSAN
constexpr std::uint64_t kItems = 200'000;
#else
constexpr std::uint64_t kItems = 1'000'000;
#endif

void wait_until_parked(const ChannelBase& channel) {
  while (channel.stats().parks == 0) std::this_thread::yield();
}

TEST_CASE("parse_overflow reads the three policy names and rejects others", "[channel]") {
  CHECK(parse_overflow("block") == Overflow::block);
  CHECK(parse_overflow("keep_latest") == Overflow::keep_latest);
  CHECK(parse_overflow("drop_newest") == Overflow::drop_newest);
  CHECK_THROWS_AS(parse_overflow("latest"), std::invalid_argument);
  CHECK_THROWS_AS(parse_overflow(""), std::invalid_argument);
  CHECK(std::string(to_string(Overflow::keep_latest)) == "keep_latest");
}

TEST_CASE("a channel of capacity 0 is refused", "[channel]") {
  CHECK_THROWS_AS(Channel<int>(ChannelConfig{0, Overflow::block}), std::invalid_argument);
}

TEST_CASE("block: a million items cross threads in order, none lost", "[channel]") {
  const std::size_t capacity = GENERATE(1, 7, 64);
  Channel<std::uint64_t> channel({capacity, Overflow::block});
  std::uint64_t not_queued = 0;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kItems; ++i) {
      if (channel.push(i) != PushResult::queued) ++not_queued;
    }
    channel.finish();
  });
  std::uint64_t expected = 0;
  std::uint64_t out_of_order = 0;
  while (std::optional<std::uint64_t> item = channel.pop()) {
    if (*item != expected) ++out_of_order;
    ++expected;
  }
  producer.join();
  const ChannelStats stats = channel.stats();
  CHECK(not_queued == 0);
  CHECK(out_of_order == 0);
  CHECK(expected == kItems);
  CHECK(stats.pushed == kItems);
  CHECK(stats.popped == kItems);
  CHECK(stats.dropped == 0);
  CHECK(stats.high_water >= 1);
  CHECK(stats.high_water <= capacity);
  CHECK(stats.capacity == capacity);
}

TEST_CASE("keep_latest: a million items, the newest always arrives, drops counted", "[channel]") {
  Channel<std::uint64_t> channel({8, Overflow::keep_latest});
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kItems; ++i) channel.push(i);
    channel.finish();
  });
  std::vector<std::uint64_t> popped;
  while (std::optional<std::uint64_t> item = channel.pop()) popped.push_back(*item);
  producer.join();
  std::uint64_t not_increasing = 0;
  for (std::size_t i = 1; i < popped.size(); ++i) not_increasing += popped[i] <= popped[i - 1];
  const ChannelStats stats = channel.stats();
  REQUIRE(!popped.empty());
  CHECK(popped.back() == kItems - 1);
  CHECK(not_increasing == 0);
  CHECK(stats.pushed == kItems);
  CHECK(stats.popped == popped.size());
  CHECK(stats.popped + stats.dropped == kItems);
  CHECK(stats.high_water == 1);
  CHECK(stats.capacity == 1);
}

TEST_CASE("drop_newest: a million items, exactly the queued ones arrive", "[channel]") {
  Channel<std::uint64_t> channel({16, Overflow::drop_newest});
  std::vector<std::uint64_t> queued;
  std::uint64_t dropped = 0;
  queued.reserve(kItems);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kItems; ++i) {
      if (channel.push(i) == PushResult::queued) {
        queued.push_back(i);
      } else {
        ++dropped;
      }
    }
    channel.finish();
  });
  std::vector<std::uint64_t> popped;
  popped.reserve(kItems);
  while (std::optional<std::uint64_t> item = channel.pop()) popped.push_back(*item);
  producer.join();
  const ChannelStats stats = channel.stats();
  CHECK(popped == queued);
  CHECK(stats.pushed == kItems);
  CHECK(stats.dropped == dropped);
  CHECK(stats.popped + stats.dropped == kItems);
  CHECK(stats.high_water <= 16);
}

TEST_CASE("keep_latest replaces the waiting item and counts each replacement", "[channel]") {
  Channel<std::unique_ptr<int>> channel({4, Overflow::keep_latest});
  CHECK(channel.push(std::make_unique<int>(1)) == PushResult::queued);
  CHECK(channel.push(std::make_unique<int>(2)) == PushResult::queued);
  CHECK(channel.push(std::make_unique<int>(3)) == PushResult::queued);
  CHECK(channel.stats().dropped == 2);
  std::optional<std::unique_ptr<int>> item = channel.pop();
  REQUIRE(item);
  CHECK(**item == 3);
  std::unique_ptr<int> none;
  CHECK_FALSE(channel.try_pop(none));
  channel.push(std::make_unique<int>(4));
  channel.finish();
  item = channel.pop();
  REQUIRE(item);
  CHECK(**item == 4);
  CHECK_FALSE(channel.pop());
  const ChannelStats stats = channel.stats();
  CHECK(stats.pushed == 4);
  CHECK(stats.popped == 2);
  CHECK(stats.dropped == 2);
  CHECK(stats.high_water == 1);
}

TEST_CASE("drop_newest drops what arrives while full", "[channel]") {
  Channel<std::unique_ptr<int>> channel({2, Overflow::drop_newest});
  CHECK(channel.push(std::make_unique<int>(1)) == PushResult::queued);
  CHECK(channel.push(std::make_unique<int>(2)) == PushResult::queued);
  CHECK(channel.push(std::make_unique<int>(3)) == PushResult::dropped);
  CHECK(**channel.pop() == 1);
  CHECK(channel.push(std::make_unique<int>(4)) == PushResult::queued);
  channel.finish();
  CHECK(**channel.pop() == 2);
  CHECK(**channel.pop() == 4);
  CHECK_FALSE(channel.pop());
  const ChannelStats stats = channel.stats();
  CHECK(stats.pushed == 4);
  CHECK(stats.popped == 3);
  CHECK(stats.dropped == 1);
  CHECK(stats.high_water == 2);
}

TEST_CASE("block counts the high-water mark exactly", "[channel]") {
  Channel<int> channel({3, Overflow::block});
  channel.push(1);
  channel.push(2);
  CHECK(channel.stats().high_water == 2);
  channel.pop();
  channel.push(3);
  channel.push(4);
  CHECK(channel.stats().high_water == 3);
}

TEST_CASE("end of stream arrives after the items queued before it", "[channel]") {
  const Overflow overflow = GENERATE(Overflow::block, Overflow::drop_newest);
  Channel<int> channel({4, overflow});
  channel.push(1);
  channel.push(2);
  channel.finish();
  CHECK(*channel.pop() == 1);
  CHECK(*channel.pop() == 2);
  CHECK_FALSE(channel.pop());
  CHECK_FALSE(channel.pop());
}

TEST_CASE("close ends the channel at once, items left or not", "[channel]") {
  Channel<int> channel({4, Overflow::block});
  channel.push(1);
  channel.close();
  CHECK(channel.is_closed());
  CHECK_FALSE(channel.pop());
  CHECK(channel.push(2) == PushResult::closed);
  CHECK(channel.stats().pushed == 1);
}

TEST_CASE("close wakes a producer parked on a full block channel", "[channel]") {
  Channel<int> channel({1, Overflow::block});
  channel.push(1);
  PushResult result = PushResult::queued;
  std::thread producer([&] { result = channel.push(2); });
  wait_until_parked(channel);
  channel.close();
  producer.join();
  CHECK(result == PushResult::closed);
}

TEST_CASE("a pop wakes a producer parked on a full block channel", "[channel]") {
  Channel<int> channel({1, Overflow::block});
  channel.push(1);
  PushResult result = PushResult::closed;
  std::thread producer([&] { result = channel.push(2); });
  wait_until_parked(channel);
  CHECK(*channel.pop() == 1);
  producer.join();
  CHECK(result == PushResult::queued);
  CHECK(*channel.pop() == 2);
}

TEST_CASE("close, end of stream and a push wake a parked consumer", "[channel]") {
  const Overflow overflow = GENERATE(Overflow::block, Overflow::keep_latest, Overflow::drop_newest);
  const int how = GENERATE(0, 1, 2);  // 0: close, 1: finish, 2: push
  Channel<int> channel({2, overflow});
  std::optional<int> got = -1;
  std::thread consumer([&] { got = channel.pop(); });
  wait_until_parked(channel);
  if (how == 0) channel.close();
  if (how == 1) channel.finish();
  if (how == 2) channel.push(7);
  consumer.join();
  if (how == 2) {
    CHECK(got == 7);
  } else {
    CHECK_FALSE(got);
  }
}

}  // namespace
}  // namespace spikevid
