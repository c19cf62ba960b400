#pragma once
// Runs a batched transform: `std::vector<U> fn(std::vector<T>)` on up to
// max_batch items that are already waiting. It never waits to fill a batch:
// waiting would add latency to the first frame for a throughput gain the
// device only sees when frames pile up anyway. fn returns one output per
// input, in order (a null output forwards nothing). A keep_latest edge holds
// one item, so batches behind it are always 1: give a batched stage a block or
// drop_newest edge with capacity >= max_batch.
#include <stdexcept>
#include <vector>

#include "pipeline/stage_runner.h"

namespace spikevid::detail {

template <typename In, typename Out, typename F>
class BatchRunner final : public StageRunner {
 public:
  BatchRunner(std::string name, int index, RunContext& context, Channel<In>* input,
              std::size_t max_batch, F fn)
      : StageRunner(std::move(name), index, context),
        input_(input),
        max_batch_(max_batch),
        fn_(std::move(fn)) {}

  Output<Out>& port() { return output_; }
  const void* output() const override { return &output_; }

  void run() override {
    Channel<Out>& out = *output_.channel;
    std::vector<FrameMeta> metas;
    metas.reserve(max_batch_);
    while (std::optional<In> first = input_->pop()) {
      std::vector<In> batch;
      batch.reserve(max_batch_);
      batch.push_back(std::move(*first));
      In more{};
      while (batch.size() < max_batch_ && input_->try_pop(more)) batch.push_back(std::move(more));
      const std::int64_t enter = now();
      metas.clear();
      for (const In& item : batch) metas.push_back(item->meta);
      std::vector<Out> results = fn_(std::move(batch));
      const std::int64_t leave = now();
      if (results.size() != metas.size()) {
        throw std::logic_error("stage '" + name() + "' returned " + std::to_string(results.size()) +
                               " items for a batch of " + std::to_string(metas.size()));
      }
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (!results[i]) continue;
        metas[i].enter_ns[index()] = enter;
        metas[i].leave_ns[index()] = leave;
        results[i]->meta = metas[i];
        if (out.push(std::move(results[i])) == PushResult::closed) return;
      }
    }
    out.finish();
  }

 private:
  Channel<In>* input_;
  std::size_t max_batch_;
  F fn_;
  Output<Out> output_;
};

}  // namespace spikevid::detail
