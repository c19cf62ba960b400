#pragma once
// How a channel's waiting side waits without burning a core: spin, then yield,
// then park (an eventcount). The notifier pays one uncontended atomic
// read-modify-write while nobody is parked and takes the mutex only when
// somebody is, so the hot path never makes a system call.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace spikevid {

// Pause rounds before yielding: about one cross-core hop (a pause is 13-21 ns
// on the Xeon of bench/RESULTS.md, so 16 are 0.2-0.35 µs). Longer spins lost up to
// 10x throughput with six stage threads on two cores: a spinning thread holds
// the core its producer needs.
constexpr int kSpinCount = 16;
// Yields before parking (~0.2 µs each on an idle core): with more stage threads
// than cores, a yield hands the core to a peer that has work, without the
// futex wake-up a park costs the peer later.
constexpr int kYieldCount = 16;

class Parker {
 public:
  // Returns once ready() is true. One waiter at a time; ready() must become true
  // before the matching notify(). Thread-safe: one waiter with any notifiers.
  // Blocks: yes (spins, yields, then parks). Allocates: no.
  template <typename Ready>
  void wait(Ready ready) {
    for (int i = 0; i < kSpinCount; ++i) {
      if (ready()) return;
      cpu_relax();
    }
    for (int i = 0; i < kYieldCount; ++i) {
      if (ready()) return;
      std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    // An RMW on both sides (here and in notify) orders the flag against the
    // data: either notify() sees the flag, or ready() below sees the data.
    parked_.exchange(1, std::memory_order_acq_rel);
    parks_.store(parks_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    while (!ready()) cv_.wait(lock);
    parked_.store(0, std::memory_order_relaxed);
  }

  // Wakes the waiter if it is parked; call after making its ready() true.
  // Thread-safe: yes. Blocks: briefly on the mutex, only if a waiter is parked. Allocates: no.
  void notify() {
    if (parked_.fetch_add(0, std::memory_order_acq_rel) == 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    cv_.notify_one();
  }

  // How many times the waiter went past spinning and yielding to sleep.
  // Thread-safe: yes. Blocks: no. Allocates: no.
  std::uint64_t parks() const { return parks_.load(std::memory_order_relaxed); }

 private:
  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  std::atomic<std::uint32_t> parked_{0};
  std::atomic<std::uint64_t> parks_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace spikevid
