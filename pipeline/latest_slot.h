#pragma once
// keep_latest's storage: one slot that the producer overwrites (DESIGN.md names
// two ways; this is the second). It is a triple buffer: the producer fills its
// own buffer and swaps it into the middle, the consumer swaps the middle out, so
// the producer never waits and nothing is allocated. Why not the consumer
// draining a ring to its newest item: with a full ring the producer would have
// to wait, and keep_latest exists so that a live source never does.
#include <array>
#include <atomic>
#include <cstdint>

namespace spikevid {

template <typename T>
class LatestSlot {
 public:
  // Makes `item` the one waiting; returns true if that replaced an item the
  // consumer never took (a drop; that item is destroyed here, on this thread).
  // Thread-safe: producer only. Blocks: no. Allocates: no.
  bool put(T item) {
    buffers_[back_].value = std::move(item);
    const std::uint8_t old = middle_.exchange(back_ | kFresh, std::memory_order_acq_rel);
    back_ = old & kIndex;
    if ((old & kFresh) == 0) return false;
    buffers_[back_].value = T{};
    return true;
  }

  // Whether an item is waiting.
  // Thread-safe: any thread (a hint unless called by the consumer). Blocks: no. Allocates: no.
  bool has_item() const { return (middle_.load(std::memory_order_acquire) & kFresh) != 0; }

  // Moves the waiting item into `out`; false if none is waiting.
  // Thread-safe: consumer only. Blocks: no. Allocates: no.
  bool take(T& out) {
    if ((middle_.load(std::memory_order_relaxed) & kFresh) == 0) return false;
    // Only the consumer clears kFresh, so the exchange still finds an item.
    const std::uint8_t old = middle_.exchange(front_, std::memory_order_acq_rel);
    front_ = old & kIndex;
    out = std::move(buffers_[front_].value);
    return true;
  }

 private:
  static constexpr std::uint8_t kIndex = 3;  // low bits of middle_: which buffer
  static constexpr std::uint8_t kFresh = 4;  // set: the middle buffer holds an untaken item

  struct alignas(64) Buffer {
    T value{};
  };
  std::array<Buffer, 3> buffers_;
  alignas(64) std::atomic<std::uint8_t> middle_{1};
  alignas(64) std::uint8_t back_ = 0;   // the producer's buffer
  alignas(64) std::uint8_t front_ = 2;  // the consumer's buffer
};

}  // namespace spikevid
