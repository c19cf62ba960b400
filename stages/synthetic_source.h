#pragma once
// Outputs: FramePtr. A synthetic moving scene, the same for a seed: a camera
// panning over a texture with natural images' rough statistics, and a dark
// disc crossing it.
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
  torch::Tensor texture_;  // [1,1,3S,3S]: the scene the camera pans over
  torch::Tensor xs_, ys_;
};

}  // namespace spikevid
