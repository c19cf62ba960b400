#pragma once
// What flows between the stages. Each item carries its FrameMeta (the runner
// stamps it); tensors stay on the device of the stage that made them.
//   capture → Captured → preprocess → Frame → encode → Spikes → decode
//   → Reconstruction → compose → Composed → sink
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "io/gray_image.h"
#include "pipeline/frame_meta.h"

namespace spikevid {

class GpuEvent;  // stages/gpu_lane.h

struct Captured {
  FrameMeta meta;
  GrayImage image;          // 8-bit gray, as the source gave it
  std::int64_t pts_ns = 0;  // the source's presentation time
};

struct Frame {
  FrameMeta meta;
  torch::Tensor image;  // [1,1,H,W] gray in [0,1]: the input at model resolution
  torch::Tensor tiles;  // [T,1,S,S]: the model inputs (T = 1, the image itself, without tiles)
  std::int64_t pts_ns = 0;
};

struct Spikes {
  FrameMeta meta;
  torch::Tensor image;   // the input it came from (for the view and the scores); may be undefined
  torch::Tensor counts;  // [T,bins,N]
  std::int64_t pts_ns = 0;
  // On the CUDA path: done when `counts` is. A consumer on another stream
  // waits for it on the GPU; one on the host calls host_wait() first.
  std::shared_ptr<const GpuEvent> ready;
  int stream = 0;                // serve (stages/spike_server.h): which stream
  std::int64_t received_ns = 0;  // serve: when its message was taken from the transport
};

struct Reconstruction {
  FrameMeta meta;
  torch::Tensor image;   // the input (undefined when decoding a spike file)
  torch::Tensor counts;  // [T,bins,N]
  torch::Tensor output;  // [1,1,H,W] in [0,1], tiles blended, on the CPU (pinned on the CUDA path)
  std::int64_t pts_ns = 0;
  int stream = 0;  // as the Spikes'
  std::int64_t received_ns = 0;
};

struct Composed {
  FrameMeta meta;
  int width = 0, height = 0;
  std::vector<std::uint8_t> bgr;  // width·height·3
};

using CapturedPtr = std::unique_ptr<Captured>;
using FramePtr = std::unique_ptr<Frame>;
using SpikesPtr = std::unique_ptr<Spikes>;
using ReconstructionPtr = std::unique_ptr<Reconstruction>;
using ComposedPtr = std::unique_ptr<Composed>;

}  // namespace spikevid
