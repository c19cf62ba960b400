#pragma once
// Outputs: FramePtr. A synthetic moving scene, the same for a seed: a drifting
// grating under a soft disc that moves on a circle, with 1/f-like texture.
// For tests and benchmarks that need no camera and no file.
// Threading: next() runs on one thread at a time. Blocking: never.
#include <cstdint>

#include "stages/items.h"

namespace spikevid {

struct SyntheticConfig {
  int size = 64;
  int64_t frames = 300;  // then end of stream
  std::uint64_t seed = 1;
};

class SyntheticSource {
 public:
  explicit SyntheticSource(SyntheticConfig config);
  // nullptr after the last frame.
  FramePtr next();

 private:
  SyntheticConfig config_;
  int64_t index_ = 0;
  torch::Tensor texture_, xs_, ys_;
};

}  // namespace spikevid
