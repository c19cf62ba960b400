#pragma once
// Inputs: CapturedPtr (8-bit gray, any size; the size may change midway).
// Outputs: FramePtr: the largest centred crop with the model's aspect, resized
// (area interpolation) to 64×64, or to the tile grid's size and cut into its
// overlapping tiles. A frame already at that size is taken as it is (a build
// without OpenCV takes only those).
// Threading: process() runs on one thread at a time. Blocking: never.
#include <string>

#include "stages/items.h"
#include "stages/tiles.h"

namespace spikevid {

struct PreprocessConfig {
  TileGrid tiles;       // 1×1: one 64×64 input per frame
  bool pinned = false;  // page-locked output, for the CUDA path's asynchronous upload
};

class PreprocessStage {
 public:
  explicit PreprocessStage(PreprocessConfig config);  // throws std::invalid_argument on a bad grid
  FramePtr process(CapturedPtr captured);
  const TileGrid& grid() const { return config_.tiles; }

 private:
  FramePtr crop_and_resize(const GrayImage& image, int out_w, int out_h) const;

  PreprocessConfig config_;
};

}  // namespace spikevid
