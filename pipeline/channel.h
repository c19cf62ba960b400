#pragma once
// Channel<T>: the bounded single-producer single-consumer edge between two
// stages, with its overflow policy, end of stream, close, and counters.
//
// block and drop_newest run on boost::lockfree::spsc_queue with `capacity`
// items. keep_latest is a slot that the producer overwrites (latest_slot.h): it
// holds one item whatever the capacity, so the consumer always gets the newest
// item and the producer never waits; each overwritten item is counted dropped.
// End of stream is a flag set after the last push, so like a frame it arrives
// after everything pushed before it, and no policy ever drops it.
// Waiting sides spin, yield, then park (parker.h).
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "pipeline/channel_base.h"
#include "pipeline/latest_slot.h"
#include "pipeline/overflow.h"
#include "pipeline/parker.h"

namespace spikevid {

enum class PushResult { queued, dropped, closed };

template <typename T>
class Channel final : public ChannelBase {
 public:
  // Throws std::invalid_argument if config.capacity is 0.
  // Thread-safe: construct before sharing. Blocks: no. Allocates: the ring.
  explicit Channel(ChannelConfig config) : config_(checked(config)), queue_(ring_size(config)) {}

  // Offers `item`: queued, dropped (drop_newest, full), or closed (not taken).
  // Thread-safe: producer only. Blocks: only under block while full. Allocates: no.
  PushResult push(T item) {
    if (is_closed()) return PushResult::closed;
    if (config_.overflow == Overflow::keep_latest) {
      if (latest_.put(std::move(item))) bump(dropped_);
      return queued(1);
    }
    Moving slot(std::move(item));
    if (!queue_.push(slot)) {
      if (config_.overflow == Overflow::drop_newest) {
        bump(dropped_);
        bump(pushed_);
        return PushResult::dropped;
      }
      producer_.wait([this] { return queue_.write_available() > 0 || is_closed(); });
      if (is_closed()) return PushResult::closed;
      queue_.push(slot);  // cannot fail: only this thread fills the ring
    }
    return queued(config_.capacity - queue_.write_available());
  }

  // The next item; nullopt after end of stream (once drained) or after close.
  // Thread-safe: consumer only. Blocks: until an item, end of stream or close. Allocates: no.
  std::optional<T> pop() {
    T out{};
    if (is_closed()) return std::nullopt;
    if (try_pop(out)) return std::optional<T>(std::move(out));
    consumer_.wait(
        [this] { return has_item() || finished_.load(std::memory_order_acquire) || is_closed(); });
    if (!is_closed() && try_pop(out)) return std::optional<T>(std::move(out));
    return std::nullopt;
  }

  // Moves the next item into `out` if one is waiting.
  // Thread-safe: consumer only. Blocks: no. Allocates: no.
  bool try_pop(T& out) {
    const bool got =
        config_.overflow == Overflow::keep_latest
            ? latest_.take(out)
            : queue_.consume_one([&out](Moving& slot) { out = std::move(slot.value); });
    if (!got) return false;
    bump(popped_);
    if (config_.overflow == Overflow::block) producer_.notify();
    return true;
  }

  // End of stream: the consumer gets what is queued, then nullopt.
  // Thread-safe: producer only, after its last push. Blocks: no. Allocates: no.
  void finish() {
    finished_.store(true, std::memory_order_release);
    consumer_.notify();
  }

  // Ends the channel now: pushes fail, pops return nullopt, both sides wake.
  // Thread-safe: yes, from any thread, more than once. Blocks: no. Allocates: no.
  void close() override {
    closed_.store(true, std::memory_order_release);
    producer_.notify();
    consumer_.notify();
  }

  // Whether close() was called.
  // Thread-safe: yes. Blocks: no. Allocates: no.
  bool is_closed() const { return closed_.load(std::memory_order_acquire); }

  // The counters now (high_water: the most items waiting right after a push).
  // Thread-safe: yes, exact once both sides stopped. Blocks: no. Allocates: no.
  ChannelStats stats() const override {
    ChannelStats s;
    s.capacity = config_.overflow == Overflow::keep_latest ? 1 : config_.capacity;
    s.overflow = config_.overflow;
    s.pushed = pushed_.load(std::memory_order_relaxed);
    s.popped = popped_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.high_water = high_water_.load(std::memory_order_relaxed);
    s.parks = producer_.parks() + consumer_.parks();
    return s;
  }

 private:
  // Boost 1.74's spsc_queue::push copies (takes T const&); this wrapper's copy
  // moves, so move-only items such as std::unique_ptr can go through the ring.
  struct Moving {
    mutable T value{};
    Moving() = default;
    explicit Moving(T v) : value(std::move(v)) {}
    Moving(const Moving& other) : value(std::move(other.value)) {}
    Moving& operator=(const Moving& other) {
      if (this != &other) value = std::move(other.value);
      return *this;
    }
  };

  static ChannelConfig checked(ChannelConfig config) {
    if (config.capacity == 0) throw std::invalid_argument("channel capacity must be at least 1");
    return config;
  }
  static std::size_t ring_size(ChannelConfig config) {
    return config.overflow == Overflow::keep_latest ? 1 : config.capacity;
  }
  // Each counter has one writer, so a plain store is exact and cheaper than an RMW.
  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  PushResult queued(std::uint64_t waiting) {
    bump(pushed_);
    if (waiting > high_water_.load(std::memory_order_relaxed)) {
      high_water_.store(waiting, std::memory_order_relaxed);
    }
    consumer_.notify();
    return PushResult::queued;
  }
  bool has_item() const {
    return config_.overflow == Overflow::keep_latest ? latest_.has_item()
                                                     : queue_.read_available() > 0;
  }

  const ChannelConfig config_;
  boost::lockfree::spsc_queue<Moving> queue_;
  LatestSlot<T> latest_;
  Parker producer_;                                   // waits for room (block only)
  Parker consumer_;                                   // waits for an item, end of stream or close
  alignas(64) std::atomic<std::uint64_t> pushed_{0};  // producer-written
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> high_water_{0};
  alignas(64) std::atomic<std::uint64_t> popped_{0};  // consumer-written
  alignas(64) std::atomic<bool> finished_{false};
  std::atomic<bool> closed_{false};
};

}  // namespace spikevid
