#pragma once
// Port<T>: what the builder returns for a stage that outputs T, and what the
// next stage is connected to. It carries the stage's index, which is also the
// index of its stamps in FrameMeta and its row in the latency summary.
#include "pipeline/stage_runner.h"

namespace spikevid {

class Pipeline;

template <typename T>
class Port {
 public:
  // Position in the line: the source is 0, the next stage 1, ...
  // Thread-safe: yes. Blocks: no. Allocates: no.
  int stage_index() const { return stage_index_; }

 private:
  friend class Pipeline;
  Port(detail::Output<T>* output, int stage_index) : output_(output), stage_index_(stage_index) {}

  detail::Output<T>* output_;
  int stage_index_;
};

}  // namespace spikevid
