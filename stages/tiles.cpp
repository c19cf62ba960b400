#include "stages/tiles.h"

#include <cmath>
#include <stdexcept>
#include <string>

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

TileGrid parse_tile_grid(const std::string& text) {
  const auto x = text.find('x');
  TileGrid g;
  try {
    std::size_t used_r = 0, used_c = 0;
    if (x == std::string::npos) throw std::invalid_argument("");
    g.rows = std::stoi(text.substr(0, x), &used_r);
    g.cols = std::stoi(text.substr(x + 1), &used_c);
    if (used_r != x || used_c != text.size() - x - 1) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument("--tiles: expected ROWSxCOLS such as 3x4, got '" + text + "'");
  }
  if (g.rows < 1 || g.cols < 1 || g.rows > 32 || g.cols > 32)
    throw std::invalid_argument("--tiles: rows and columns must be 1 to 32, got '" + text + "'");
  return g;
}

FramePtr frame_from_pixels(const std::uint8_t* pixels, int width, int height, const TileGrid& grid,
                           bool pinned) {
  if (width != grid.width() || height != grid.height())
    throw std::runtime_error("preprocess: a " + std::to_string(width) + "x" +
                             std::to_string(height) + " frame, expected the grid's " +
                             std::to_string(grid.width()) + "x" + std::to_string(grid.height()));
  auto image =
      torch::from_blob(const_cast<std::uint8_t*>(pixels), {1, 1, height, width}, torch::kUInt8)
          .to(torch::kFloat32)
          .div_(255.0);
  auto f = std::make_unique<Frame>();
  f->tiles = grid.rows * grid.cols == 1 ? image : cut_tiles(image, grid).contiguous();
  if (pinned) {
    // Page-locked, so the encode stage's upload is an asynchronous DMA.
    image = image.pin_memory();
    f->tiles = grid.rows * grid.cols == 1 ? image : f->tiles.pin_memory();
  }
  f->image = std::move(image);
  return f;
}

}  // namespace spikevid
