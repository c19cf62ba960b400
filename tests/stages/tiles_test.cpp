#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "stages/tiles.h"

using namespace spikevid;

namespace {

torch::Tensor gradient(
    const TileGrid& g) {  // smooth: 0.2 at the top left to 0.8 at the bottom right
  auto y = torch::linspace(0, 1, g.height()).view({g.height(), 1});
  auto x = torch::linspace(0, 1, g.width()).view({1, g.width()});
  return (0.2 + 0.3 * y + 0.3 * x).view({1, 1, g.height(), g.width()});
}

// The largest jump between neighbouring pixels, across rows or columns.
double max_step(const torch::Tensor& f) {
  auto dy = (f.narrow(2, 1, f.size(2) - 1) - f.narrow(2, 0, f.size(2) - 1)).abs().max();
  auto dx = (f.narrow(3, 1, f.size(3) - 1) - f.narrow(3, 0, f.size(3) - 1)).abs().max();
  return std::max(dy.item<double>(), dx.item<double>());
}

}  // namespace

TEST_CASE("tiles: a 2x2 grid cuts and blends back exactly", "[tiles]") {
  const TileGrid g{2, 2, 64, 16};
  CHECK(g.height() == 112);
  CHECK(g.width() == 112);
  auto frame = gradient(g);
  auto tiles = cut_tiles(frame, g);
  CHECK(tiles.sizes() == torch::IntArrayRef({4, 1, 64, 64}));
  CHECK(torch::equal(tiles[1], frame[0].narrow(1, 0, 64).narrow(2, 48, 64)));
  CHECK((blend_tiles(tiles, g) - frame).abs().max().item<double>() < 1e-6);
}

TEST_CASE("tiles: a tile's own bias fades across the overlap instead of making a seam", "[tiles]") {
  // Each decoded tile off by its own constant (±0.05): the bound on any step
  // in the blended frame is the gradient's own step plus the bias difference
  // (0.1) spread over the ramp — well under the 0.1 a hard seam would show.
  const TileGrid g{2, 2, 64, 16};
  auto frame = gradient(g);
  auto tiles =
      cut_tiles(frame, g) + torch::tensor({0.05f, -0.05f, -0.05f, 0.05f}).view({4, 1, 1, 1});
  const double smooth_step = max_step(frame);
  const double blended_step = max_step(blend_tiles(tiles, g));
  CHECK(blended_step < smooth_step + 0.1 * M_PI / (2 * 16) + 1e-6);
  CHECK(blended_step < 0.03);
  // Without blending (overlap 0) the same biases leave a 0.1 seam.
  const TileGrid hard{2, 2, 64, 0};
  auto hard_frame = gradient(hard);
  auto hard_tiles = cut_tiles(hard_frame, hard) +
                    torch::tensor({0.05f, -0.05f, -0.05f, 0.05f}).view({4, 1, 1, 1});
  CHECK(max_step(blend_tiles(hard_tiles, hard)) > 0.09);
}

TEST_CASE("tiles: bad grids and frames are refused", "[tiles]") {
  CHECK_THROWS_AS(check_tile_grid(TileGrid{0, 2, 64, 16}), std::invalid_argument);
  CHECK_THROWS_AS(check_tile_grid(TileGrid{2, 2, 64, 32}), std::invalid_argument);
  CHECK_THROWS(cut_tiles(torch::zeros({1, 1, 64, 64}), TileGrid{2, 2, 64, 16}));
}

TEST_CASE("frame_from_pixels: image in [0,1] and its tiles; another size is refused", "[tiles]") {
  TileGrid g{2, 2, 64, 16};
  std::vector<std::uint8_t> px(static_cast<std::size_t>(g.width()) * g.height());
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i % 251);
  auto f = frame_from_pixels(px.data(), g.width(), g.height(), g, false);
  CHECK(f->image.sizes() == torch::IntArrayRef({1, 1, g.height(), g.width()}));
  CHECK(f->image.flatten()[300].item<float>() == Approx((300 % 251) / 255.0));
  CHECK(f->tiles.sizes() == torch::IntArrayRef({4, 1, 64, 64}));
  CHECK(torch::equal(f->tiles, cut_tiles(f->image, g)));
  auto one = frame_from_pixels(px.data(), 64, 64, TileGrid{}, false);
  CHECK(torch::equal(one->tiles, one->image));
  CHECK_THROWS_AS(frame_from_pixels(px.data(), 64, 64, g, false), std::runtime_error);
}
