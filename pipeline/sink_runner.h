#pragma once
// Runs the sink: `void fn(T)`, the last stage. After each frame it hands the
// frame's stamps to the latency recorder, so only the sink thread writes there.
#include "pipeline/latency_recorder.h"
#include "pipeline/stage_runner.h"

namespace spikevid::detail {

template <typename In, typename F>
class SinkRunner final : public StageRunner {
 public:
  SinkRunner(std::string name, int index, RunContext& context, Channel<In>* input, F fn)
      : StageRunner(std::move(name), index, context), input_(input), fn_(std::move(fn)) {}

  const void* output() const override { return nullptr; }

  void run() override {
    LatencyRecorder* const record = recorder();
    while (std::optional<In> item = input_->pop()) {
      const std::int64_t enter = now();
      FrameMeta meta = (*item)->meta;
      fn_(std::move(*item));
      meta.enter_ns[index()] = enter;
      meta.leave_ns[index()] = now();
      if (record) record->record(meta);
    }
  }

 private:
  Channel<In>* input_;
  F fn_;
};

}  // namespace spikevid::detail
