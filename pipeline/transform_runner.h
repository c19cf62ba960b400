#pragma once
// Runs a transform: `U fn(T)`, one item at a time. The output carries the
// input's stamps, so a stage may return a new object or the same one; a null
// output forwards nothing (the stage kept no frame for this input).
#include "pipeline/stage_runner.h"

namespace spikevid::detail {

template <typename In, typename Out, typename F>
class TransformRunner final : public StageRunner {
 public:
  TransformRunner(std::string name, int index, RunContext& context, Channel<In>* input, F fn)
      : StageRunner(std::move(name), index, context), input_(input), fn_(std::move(fn)) {}

  Output<Out>& port() { return output_; }
  const void* output() const override { return &output_; }

  void run() override {
    Channel<Out>& out = *output_.channel;
    while (std::optional<In> item = input_->pop()) {
      const std::int64_t enter = now();
      FrameMeta meta = (*item)->meta;  // fn may consume the item
      Out result = fn_(std::move(*item));
      meta.enter_ns[index()] = enter;
      meta.leave_ns[index()] = now();
      if (!result) continue;
      result->meta = meta;
      if (out.push(std::move(result)) == PushResult::closed) return;
    }
    out.finish();
  }

 private:
  Channel<In>* input_;
  F fn_;
  Output<Out> output_;
};

}  // namespace spikevid::detail
