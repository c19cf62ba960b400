#pragma once
// Decoders scored on a clip as the tiled video commands see it: each frame is
// cropped and resized to the tile grid (the preprocess stage), cut into tiles,
// encoded, decoded tile by tile and blended back (the decode stage's blend),
// and compared with the input at model resolution, frame by frame.
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "io/gray_image.h"
#include "models/training.h"
#include "stages/tiles.h"

namespace spikevid {

class Encoder;

// `decode` maps the counts [T,bins·N] of one frame's tiles to tiles [T,1,64,64], called frame by
// frame in order (a temporal decoder keeps its state between calls); the encoder runs on `device`.
// Spikes are seeded by `seed` (the same draws for every decoder). Frames are processed
// `frames_per_batch` at a time. Scores are means over the frames.
Scores evaluate_clip(Encoder& encoder,
                     const std::function<torch::Tensor(const torch::Tensor&)>& decode,
                     const std::vector<GrayImage>& frames, const TileGrid& grid,
                     torch::Device device, std::uint64_t seed, int frames_per_batch = 8);

// The mean image's scores on the same frames: every output pixel `level`.
Scores evaluate_clip_flat(const std::vector<GrayImage>& frames, const TileGrid& grid, double level);

}  // namespace spikevid
