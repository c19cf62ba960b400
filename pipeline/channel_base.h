#pragma once
// What the pipeline and the latency recorder see of any channel, whatever it
// carries: its counters and a way to close it.
#include <cstdint>
#include <string>

#include "pipeline/overflow.h"

namespace spikevid {

// A snapshot of one edge's counters. After the run, pushed == popped + dropped
// for an edge that reached end of stream.
struct ChannelStats {
  std::size_t capacity = 0;  // what the channel holds at most (1 for keep_latest)
  Overflow overflow = Overflow::block;
  std::uint64_t pushed = 0;      // items offered by the producer while open
  std::uint64_t popped = 0;      // items delivered to the consumer
  std::uint64_t dropped = 0;     // items discarded by the overflow policy
  std::uint64_t high_water = 0;  // most items waiting right after a push, <= capacity
  std::uint64_t parks = 0;       // times a side slept (past spinning and yielding)
};

// One edge of a pipeline by name ("capture->encode") and its counters.
struct EdgeStats {
  std::string name;
  ChannelStats stats;
};

class ChannelBase {
 public:
  virtual ~ChannelBase() = default;

  // Ends the channel now: pushes fail, pops return nothing, both sides wake.
  // Thread-safe: yes, from any thread, more than once. Blocks: no. Allocates: no.
  virtual void close() = 0;

  // The counters now; exact once both sides have stopped.
  // Thread-safe: yes. Blocks: no. Allocates: no.
  virtual ChannelStats stats() const = 0;
};

}  // namespace spikevid
