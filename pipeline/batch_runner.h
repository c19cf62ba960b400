#pragma once
// Runs a batched transform: `std::vector<U> fn(std::vector<T>)` on up to
// max_batch items. BatchFill::waiting (live): the items already waiting; it
// never waits to fill a batch: waiting would add latency to the first frame
// for a throughput gain the device only sees when frames pile up anyway.
// BatchFill::full (offline): it waits for max_batch items or the end of the
// stream, so batch composition, and float results, do not depend on timing.
// fn returns one output per
// input, in order (a null output forwards nothing). A keep_latest edge holds
// one item, so batches behind it are always 1: give a batched stage a block or
// drop_newest edge with capacity >= max_batch.
//
// Workers: a stateless stage may run on `workers` threads at once, each on the
// next batch in turn. They take turns at the input (one pops at a time, so the
// edge keeps one consumer and each batch gets a ticket), compute side by side,
// and push in ticket order, so the next edge sees the frames in input order.
// fn must then be safe to call from several threads at once. One worker is the
// plain loop: no lock, no extra thread.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pipeline/pipeline_config.h"
#include "pipeline/stage_runner.h"

namespace spikevid::detail {

template <typename In, typename Out, typename F>
class BatchRunner final : public StageRunner {
 public:
  BatchRunner(std::string name, int index, RunContext& context, Channel<In>* input,
              std::size_t max_batch, F fn, int workers = 1, BatchFill fill = BatchFill::waiting)
      : StageRunner(std::move(name), index, context),
        input_(input),
        max_batch_(max_batch),
        workers_(workers),
        fill_(fill),
        fn_(std::move(fn)) {
    if (workers_ < 1)
      throw std::invalid_argument("stage '" + this->name() + "': workers must be >= 1");
  }

  Output<Out>& port() { return output_; }
  const void* output() const override { return &output_; }
  int workers() const { return workers_; }

  void run() override {
    if (workers_ == 1) {
      if (loop(false)) output_.channel->finish();
      return;
    }
    std::vector<std::thread> helpers;
    helpers.reserve(static_cast<std::size_t>(workers_ - 1));
    try {
      for (int w = 1; w < workers_; ++w) helpers.emplace_back([this] { guarded(); });
    } catch (...) {
      abort();
      for (auto& t : helpers) t.join();
      throw;
    }
    guarded();
    for (auto& t : helpers) t.join();
    if (error_) std::rethrow_exception(error_);
    if (!aborted_) output_.channel->finish();
  }

 private:
  // One worker's loop; false when the output closed (stop) or a worker failed.
  bool loop(bool shared) {
    Channel<Out>& out = *output_.channel;
    std::vector<FrameMeta> metas;
    metas.reserve(max_batch_);
    for (;;) {
      std::vector<In> batch;
      std::uint64_t ticket = 0;
      {
        std::unique_lock<std::mutex> lock(input_mutex_, std::defer_lock);
        if (shared) lock.lock();
        std::optional<In> first = input_->pop();
        if (!first) break;
        batch.reserve(max_batch_);
        batch.push_back(std::move(*first));
        if (fill_ == BatchFill::full) {
          while (batch.size() < max_batch_) {
            std::optional<In> next = input_->pop();  // blocks; none: end of stream or stop
            if (!next) break;
            batch.push_back(std::move(*next));
          }
        } else {
          In more{};
          while (batch.size() < max_batch_ && input_->try_pop(more))
            batch.push_back(std::move(more));
        }
        ticket = tickets_++;
      }
      const std::int64_t enter = now();
      metas.clear();
      for (const In& item : batch) metas.push_back(item->meta);
      std::vector<Out> results = fn_(std::move(batch));
      const std::int64_t leave = now();
      if (results.size() != metas.size()) {
        throw std::logic_error("stage '" + name() + "' returned " + std::to_string(results.size()) +
                               " items for a batch of " + std::to_string(metas.size()));
      }
      if (shared) {  // wait for this batch's turn; the turn, not the lock, is held while pushing
        std::unique_lock<std::mutex> turn(turn_mutex_);
        turn_cv_.wait(turn, [&] { return next_out_ == ticket || aborted_; });
        if (aborted_) return false;
      }
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (!results[i]) continue;
        metas[i].enter_ns[index()] = enter;
        metas[i].leave_ns[index()] = leave;
        results[i]->meta = metas[i];
        if (out.push(std::move(results[i])) == PushResult::closed) {
          if (shared) abort();
          return false;
        }
      }
      if (shared) {
        {
          std::lock_guard<std::mutex> turn(turn_mutex_);
          ++next_out_;
        }
        turn_cv_.notify_all();
      }
    }
    return true;
  }

  // A helper's body: the first error is kept for run() to rethrow, and both
  // edges close so that every other worker returns (the pipeline then stops).
  void guarded() {
    try {
      loop(true);
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(turn_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      abort();
    }
  }

  void abort() {
    {
      std::lock_guard<std::mutex> lock(turn_mutex_);
      aborted_ = true;
    }
    turn_cv_.notify_all();
    input_->close();
    if (output_.channel) output_.channel->close();
  }

  Channel<In>* input_;
  std::size_t max_batch_;
  int workers_;
  BatchFill fill_;
  F fn_;
  Output<Out> output_;
  std::mutex input_mutex_;  // one worker pops at a time; guards tickets_
  std::uint64_t tickets_ = 0;
  std::mutex turn_mutex_;  // guards next_out_, aborted_, error_
  std::condition_variable turn_cv_;
  std::uint64_t next_out_ = 0;
  bool aborted_ = false;
  std::exception_ptr error_;
};

}  // namespace spikevid::detail
