#pragma once
// Resolution by tiles (the paper's stacked encoders and decoders): a frame is
// cut into overlapping 64×64 tiles that one encoder–decoder pair handles as a
// batch, and the decoded tiles are blended back with weights that ramp across
// each overlap, so a tile's own bias fades into its neighbour's instead of
// ending in a seam.
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "stages/items.h"

namespace spikevid {

struct TileGrid {
  int rows = 1, cols = 1;
  int tile = 64;     // tile side, the model's input size
  int overlap = 16;  // pixels shared by neighbouring tiles
  int height() const { return rows * (tile - overlap) + overlap; }
  int width() const { return cols * (tile - overlap) + overlap; }
};

// Throws std::invalid_argument on a grid that does not make sense
// (rows or cols < 1, overlap < 0 or ≥ tile/2).
void check_tile_grid(const TileGrid& grid);

// frame [1,1,H,W] with H, W = grid.height(), grid.width() → [rows·cols,1,tile,tile], row-major.
torch::Tensor cut_tiles(const torch::Tensor& frame, const TileGrid& grid);

// The inverse: tiles [rows·cols,1,tile,tile] → frame [1,1,H,W]. Blending
// identical overlaps returns them exactly.
torch::Tensor blend_tiles(const torch::Tensor& tiles, const TileGrid& grid);

// Parses "RxC" (rows × columns, e.g. "3x4"); throws std::invalid_argument.
TileGrid parse_tile_grid(const std::string& text);

// 8-bit gray pixels already at the grid's size (height × width, row-major) →
// a Frame: image [1,1,H,W] in [0,1] and its tiles (T = 1: the image itself),
// on the CPU; in page-locked memory when `pinned` (the CUDA path uploads
// them asynchronously). Throws std::runtime_error on another size.
FramePtr frame_from_pixels(const std::uint8_t* pixels, int width, int height, const TileGrid& grid,
                           bool pinned);

}  // namespace spikevid
