#pragma once
// What flows between the stages. Each item carries its FrameMeta (the runner
// stamps it); tensors stay on the device of the stage that made them.
#include <memory>

#include <torch/types.h>

#include "pipeline/frame_meta.h"

namespace spikevid {

struct Frame {
  FrameMeta meta;
  torch::Tensor image;  // [1,1,S,S] gray in [0,1]: the model input
};

struct Spikes {
  FrameMeta meta;
  torch::Tensor image;   // the input it came from (for the view and the scores)
  torch::Tensor counts;  // [1,bins,N]
};

struct Reconstruction {
  FrameMeta meta;
  torch::Tensor image;   // the input
  torch::Tensor counts;  // [1,bins,N]
  torch::Tensor output;  // [1,1,S,S] in [0,1]
};

using FramePtr = std::unique_ptr<Frame>;
using SpikesPtr = std::unique_ptr<Spikes>;
using ReconstructionPtr = std::unique_ptr<Reconstruction>;

}  // namespace spikevid
