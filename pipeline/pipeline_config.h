#pragma once
// The settings of one Pipeline, a plain struct with defaults (filled from the
// command line by the tools).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "pipeline/frame_meta.h"
#include "pipeline/overflow.h"

namespace spikevid {

// How a batched stage forms a batch (Pipeline::add_batch_transform).
// waiting: the items already waiting, 1..max_batch; it never waits (live).
// full: it waits for max_batch items or the end of the stream, so every batch
// but the last is full (offline: which frames share a model call, and with it
// float rounding, no longer depends on timing; a run gives the same results
// every time).
enum class BatchFill { waiting, full };

struct PipelineConfig {
  // Every edge's capacity and policy unless the builder call names its own.
  ChannelConfig channel;
  // Frames at the sink left out of the statistics (not of the trace).
  std::size_t warmup_frames = 0;
  // false: the sink keeps no stamps (a long benchmark that only wants fps).
  bool record_latency = true;
  // Every stamp comes from here; tests inject a fake clock.
  std::function<std::int64_t()> clock = now_ns;
  // Polled by run() every kStopPollInterval; a signal handler may set it, since
  // storing to a lock-free atomic is async-signal-safe. Must outlive run().
  const std::atomic<bool>* stop_flag = nullptr;
};

}  // namespace spikevid
