#include "stages/tiles.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace spikevid {
namespace {

// 1 inside the tile, a raised-cosine ramp across each overlap (never 0, so
// every pixel has weight); the ramps of two neighbours sum to 1.
torch::Tensor edge_weights(const TileGrid& g) {
  auto w = torch::ones({g.tile}, torch::kFloat32);
  for (int i = 0; i < g.overlap; ++i) {
    const double ramp = 0.5 - 0.5 * std::cos(M_PI * (i + 0.5) / g.overlap);
    w[i] = ramp;
    w[g.tile - 1 - i] = ramp;
  }
  return w;
}

}  // namespace

void check_tile_grid(const TileGrid& g) {
  if (g.rows < 1 || g.cols < 1) throw std::invalid_argument("tiles: need at least 1×1 tiles");
  if (g.tile < 2 || g.overlap < 0 || 2 * g.overlap >= g.tile)
    throw std::invalid_argument("tiles: the overlap must be between 0 and half a tile");
}

torch::Tensor cut_tiles(const torch::Tensor& frame, const TileGrid& g) {
  check_tile_grid(g);
  TORCH_CHECK(frame.dim() == 4 && frame.size(0) == 1 && frame.size(1) == 1 &&
                  frame.size(2) == g.height() && frame.size(3) == g.width(),
              "tiles: expected a frame [1,1,", g.height(), ",", g.width(), "], got ",
              frame.sizes());
  const int step = g.tile - g.overlap;
  std::vector<torch::Tensor> tiles;
  for (int r = 0; r < g.rows; ++r)
    for (int c = 0; c < g.cols; ++c)
      tiles.push_back(frame.narrow(2, r * step, g.tile).narrow(3, c * step, g.tile));
  return torch::cat(tiles).contiguous();
}

torch::Tensor blend_tiles(const torch::Tensor& tiles, const TileGrid& g) {
  check_tile_grid(g);
  TORCH_CHECK(tiles.dim() == 4 && tiles.size(0) == g.rows * g.cols && tiles.size(2) == g.tile &&
                  tiles.size(3) == g.tile,
              "tiles: expected [", g.rows * g.cols, ",1,", g.tile, ",", g.tile, "] tiles, got ",
              tiles.sizes());
  const int step = g.tile - g.overlap;
  const auto opts = tiles.options();
  auto e = edge_weights(g).to(opts.device());
  auto w = torch::outer(e, e).view({1, 1, g.tile, g.tile}).to(opts.dtype());
  auto sum = torch::zeros({1, 1, g.height(), g.width()}, opts);
  auto weight = torch::zeros({1, 1, g.height(), g.width()}, opts);
  for (int r = 0; r < g.rows; ++r)
    for (int c = 0; c < g.cols; ++c) {
      auto tile = tiles.narrow(0, r * g.cols + c, 1);
      sum.narrow(2, r * step, g.tile).narrow(3, c * step, g.tile).add_(tile * w);
      weight.narrow(2, r * step, g.tile).narrow(3, c * step, g.tile).add_(w);
    }
  return sum / weight;
}

}  // namespace spikevid
