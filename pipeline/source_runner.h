#pragma once
// Runs a source: `std::optional<T> fn()`, called until it returns nullopt (end
// of stream) or the pipeline stops. A null pointer means "nothing this time",
// so a polling source can return and let a stop be noticed.
#include <optional>

#include "pipeline/stage_runner.h"

namespace spikevid::detail {

template <typename T, typename F>
class SourceRunner final : public StageRunner {
 public:
  SourceRunner(std::string name, RunContext& context, F fn)
      : StageRunner(std::move(name), 0, context), fn_(std::move(fn)) {}

  Output<T>& port() { return output_; }
  const void* output() const override { return &output_; }

  void run() override {
    Channel<T>& out = *output_.channel;
    std::uint64_t seq = 0;
    while (!stopping()) {
      const std::int64_t enter = now();
      std::optional<T> item = fn_();
      const std::int64_t leave = now();
      if (!item) break;
      if (!*item) continue;
      FrameMeta& meta = (*item)->meta;
      meta = FrameMeta{};
      meta.seq = seq++;
      meta.capture_ns = leave;  // when the frame became available, not when we asked
      meta.enter_ns[0] = enter;
      meta.leave_ns[0] = leave;
      if (out.push(std::move(*item)) == PushResult::closed) return;
    }
    out.finish();
  }

 private:
  F fn_;
  Output<T> output_;
};

}  // namespace spikevid::detail
