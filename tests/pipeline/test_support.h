#pragma once
// What the engine tests share: a counting semaphore (C++17 has none) to script
// the order of events across stage threads, and a count of this process's threads.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <thread>

namespace spikevid::test {

class Semaphore {
 public:
  void post(int n = 1) {
    std::lock_guard<std::mutex> lock(mutex_);
    count_ += n;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return count_ > 0; });
    --count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

inline std::size_t live_threads() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return static_cast<std::size_t>(std::distance(begin(tasks), end(tasks)));
}

// The thread count before a run. A thread is started and joined first because
// a runtime may add a helper thread at the first thread start (ThreadSanitizer
// does), and that one must not look like a thread the pipeline left behind.
inline std::size_t threads_before_run() {
  std::thread([] {}).join();
  // Wait until the probe thread is reaped: two equal readings 10 ms apart.
  std::size_t n = live_threads();
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const std::size_t again = live_threads();
    if (again == n) break;
    n = again;
  }
  return n;
}

// A joined thread can stay listed a moment while the kernel reaps it (long
// under load: the baseline itself may still count the probe thread); this
// waits (up to 5 s) until no more than `expected` are left and returns the count.
inline std::size_t threads_settled_at(std::size_t expected) {
  for (int i = 0; i < 500 && live_threads() > expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return live_threads();
}

}  // namespace spikevid::test
