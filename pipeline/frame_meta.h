#pragma once
// What travels with every frame: its number and the times it entered and left
// each stage. The runner writes it; stage code only reads it. The stamps live in
// the frame (a fixed array), so measuring allocates nothing per frame.
#include <array>
#include <chrono>
#include <cstdint>

namespace spikevid {

// Most stages a pipeline may have; a fixed bound keeps the stamps in the frame.
constexpr int kMaxStages = 16;

// Nanoseconds on the steady clock, the default clock of every stamp.
// Thread-safe: yes. Blocks: no. Allocates: no.
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct FrameMeta {
  std::uint64_t seq = 0;        // 0, 1, 2, ... in source order; gaps at the sink are drops
  std::int64_t capture_ns = 0;  // when the source returned the frame (= leave_ns[0])
  std::array<std::int64_t, kMaxStages> enter_ns{};  // indexed by stage, source = 0
  std::array<std::int64_t, kMaxStages> leave_ns{};

  // Time stage `stage` spent on this frame.
  // Thread-safe: read-only. Blocks: no. Allocates: no.
  std::int64_t service_ns(int stage) const { return leave_ns[stage] - enter_ns[stage]; }

  // Time the frame waited in the channel in front of `stage` (stage >= 1).
  // Thread-safe: read-only. Blocks: no. Allocates: no.
  std::int64_t queue_wait_ns(int stage) const { return enter_ns[stage] - leave_ns[stage - 1]; }

  // From capture until it left stage `last` (the sink, for end to end).
  // Thread-safe: read-only. Blocks: no. Allocates: no.
  std::int64_t end_to_end_ns(int last) const { return leave_ns[last] - capture_ns; }
};

}  // namespace spikevid
