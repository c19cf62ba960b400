#pragma once
// The CUDA path of the model stages, all of it behind this header.
//
// A GpuLane belongs to one model stage (encode or decode) on a CUDA device:
//   - its own CUDA stream, current on the calling thread while the stage
//     computes (run()), so the stages' kernels overlap on the GPU;
//   - the hand-off by CUDA events: run() records an event after the stage's
//     work, the item carries it, and the next stage's stream waits for it on
//     the GPU (cudaStreamWaitEvent): no device-wide synchronisation, and the
//     host waits only where it needs the pixels (host_wait);
//   - GPU time per batch, measured with CUDA events around the stage's work;
//   - CUDA graphs: graphed() captures a forward pass once per input shape and
//     replays it, one launch instead of dozens.
// Pinned host buffers and asynchronous copies need no CUDA headers: the
// stages ask for page-locked tensors and non-blocking copies, which run on the
// lane's stream because it is current.
//
// gpu_lane_cuda.cpp is compiled only against a LibTorch with CUDA; otherwise
// gpu_lane_none.cpp, whose make_gpu_lane() returns nullptr and the stages run
// as on the CPU. Threading: one run() at a time per lane, from any thread.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace spikevid {

// A point in one lane's stream: done when the work recorded before it is.
class GpuEvent {
 public:
  virtual ~GpuEvent() = default;
  virtual void host_wait() const = 0;  // blocks this thread until done
};
using GpuEventPtr = std::shared_ptr<const GpuEvent>;

// The host waits for `event` (only it, not the device); nothing for nullptr.
inline void host_wait(const GpuEventPtr& event) {
  if (event) event->host_wait();
}

class GpuLane {
 public:
  virtual ~GpuLane() = default;
  // Runs `work` with the lane's stream current on this thread, after making
  // the stream wait (on the GPU) for `wait_for` (nullptr entries are skipped);
  // times the work with CUDA events; returns the event recorded after it.
  virtual GpuEventPtr run(const std::vector<GpuEventPtr>& wait_for,
                          const std::function<void()>& work) = 0;
  // Inside run(): `forward(input)` through a CUDA graph. One graph per
  // shape and dtype, captured on first use (after warm-up calls) for
  // `capacity` rows: a smaller batch fills the first rows (the rest compute
  // on stale rows, unused), so batches of every size up to `capacity` replay
  // the one graph; a larger one runs without a graph. The result is a view
  // of the graph's own output: use it on this lane before the next call
  // overwrites it. `forward` must not synchronise with the host (no
  // .item()), must treat rows independently (eval mode) and always do the
  // same work for a shape.
  virtual torch::Tensor graphed(
      const torch::Tensor& input, int64_t capacity,
      const std::function<torch::Tensor(const torch::Tensor&)>& forward) = 0;
  // Milliseconds of GPU time of every run() so far, in order (waits for the
  // lane's stream to finish). At most the first 1,000,000 are kept.
  virtual std::vector<double> gpu_ms() = 0;
};

// A lane for `device` ("cuda" or "cuda:N"): nullptr for "cpu", and nullptr
// when this build has no CUDA path (the stage then runs without streams).
std::unique_ptr<GpuLane> make_gpu_lane(const std::string& device);

// Whether this build has the CUDA path (streams, events, graphs).
bool have_cuda_path();

// The GPU of `device` in words (name, memory, driver and runtime versions);
// "" without the CUDA path.
std::string describe_gpu(const std::string& device);

}  // namespace spikevid
