#pragma once
// The part of a stage the pipeline owns: its name, its place in the line, and
// the thread body that pops, stamps, calls the stage's function and pushes.
// Measuring lives here so that stage code never does it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "pipeline/channel.h"
#include "pipeline/frame_meta.h"
#include "pipeline/item.h"

namespace spikevid {

class LatencyRecorder;

namespace detail {

// What every stage thread of one pipeline shares.
struct RunContext {
  std::function<std::int64_t()> clock;
  std::atomic<bool> stopping{false};
  LatencyRecorder* recorder = nullptr;  // null: record nothing
};

// A stage's output edge; set when the next stage is added.
template <typename T>
struct Output {
  Channel<T>* channel = nullptr;
};

class StageRunner {
 public:
  StageRunner(std::string name, int index, RunContext& context)
      : name_(std::move(name)), index_(index), context_(context) {}
  virtual ~StageRunner() = default;

  // The stage's thread: returns at end of stream or stop; throws what the stage throws.
  virtual void run() = 0;
  // Identity of the output a Port points at (null for the sink).
  virtual const void* output() const = 0;

  const std::string& name() const { return name_; }
  int index() const { return index_; }

 protected:
  std::int64_t now() const { return context_.clock(); }
  bool stopping() const { return context_.stopping.load(std::memory_order_relaxed); }
  LatencyRecorder* recorder() const { return context_.recorder; }

 private:
  std::string name_;
  int index_;
  RunContext& context_;
};

}  // namespace detail
}  // namespace spikevid
