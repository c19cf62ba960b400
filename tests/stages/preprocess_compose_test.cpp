#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "stages/compose.h"
#include "stages/preprocess.h"

using namespace spikevid;

namespace {

CapturedPtr gray_frame(int w, int h, std::uint8_t left, std::uint8_t right) {
  auto c = std::make_unique<Captured>();
  c->image.width = w;
  c->image.height = h;
  c->image.pixels.resize(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      c->image.pixels[static_cast<std::size_t>(y) * w + x] = x < w / 2 ? left : right;
  c->pts_ns = 123;
  return c;
}

}  // namespace

TEST_CASE("preprocess: centre crop to 64x64 in [0,1], any frame size, midway changes too",
          "[preprocess]") {
  PreprocessStage pre(PreprocessConfig{});
  for (auto [w, h] : {std::pair{320, 240}, std::pair{64, 64}, std::pair{33, 97}}) {
    auto f = pre.process(gray_frame(w, h, 0, 255));
    CHECK(f->image.sizes() == torch::IntArrayRef({1, 1, 64, 64}));
    CHECK(torch::equal(f->tiles, f->image));
    CHECK(f->pts_ns == 123);
    CHECK(f->image[0][0][32][0].item<float>() == Approx(0));
    CHECK(f->image[0][0][32][63].item<float>() == Approx(1));
  }
  auto empty = std::make_unique<Captured>();
  CHECK_THROWS_AS(pre.process(std::move(empty)), std::runtime_error);
}

TEST_CASE("preprocess: tiles cover the frame as the grid says", "[preprocess]") {
  TileGrid g;
  g.rows = 2;
  g.cols = 3;
  PreprocessStage pre(PreprocessConfig{g, false});
  auto f = pre.process(gray_frame(640, 480, 40, 200));
  CHECK(f->image.sizes() == torch::IntArrayRef({1, 1, g.height(), g.width()}));
  CHECK(f->tiles.sizes() == torch::IntArrayRef({6, 1, 64, 64}));
  CHECK(torch::allclose(blend_tiles(f->tiles, g), f->image, 1e-5, 1e-6));
}

TEST_CASE("tile grid: RxC parses, anything else is refused", "[preprocess]") {
  CHECK(parse_tile_grid("3x4").rows == 3);
  CHECK(parse_tile_grid("3x4").cols == 4);
  for (const char* bad : {"3by4", "x4", "3x", "0x2", "3x4x5", "33x1", "-1x2", ""})
    CHECK_THROWS_AS(parse_tile_grid(bad), std::invalid_argument);
}

TEST_CASE("compose: side by side of even size; the spike map colours ON and OFF cells",
          "[compose]") {
  ComposeConfig c;
  c.cells = {CellInfo{CellType::on, 10, 10, 1, 3}, CellInfo{CellType::off, 50, 50, 1, 3}};
  c.stage_names = {"capture", "preprocess", "encode", "decode", "compose", "sink"};
  c.stage_index = 4;
  c.scale = 2;
  ComposeStage compose(c);
  CHECK(compose.width() % 2 == 0);
  CHECK(compose.height() % 2 == 0);
  CHECK(compose.width() == 3 * 128 + 2 * 4);
  auto r = std::make_unique<Reconstruction>();
  r->meta.capture_ns = now_ns();
  r->image = torch::full({1, 1, 64, 64}, 0.5);
  r->output = torch::full({1, 1, 64, 64}, 0.6);
  r->counts = torch::tensor({3.f, 3.f}).view({1, 1, 2});
  auto out = compose.process(std::move(r));
  REQUIRE(out->bgr.size() == static_cast<std::size_t>(out->width) * out->height * 3);
  const int bar = out->height - 128;
  auto px = [&](int x, int y) {
    return &out->bgr[(static_cast<std::size_t>(bar + y) * out->width + x) * 3];
  };
  const int map_x = 128 + 4;
  CHECK(px(map_x + 20, 20)[2] > 200);  // ON at (10,10): red
  CHECK(px(map_x + 20, 20)[0] < 60);
  CHECK(px(map_x + 100, 100)[0] > 200);  // OFF at (50,50): blue
  CHECK(px(map_x + 100, 100)[2] < 60);
  CHECK(px(map_x + 60, 20)[0] < 30);                       // no cell: dark
  CHECK(px(20, 20)[1] == 128);                             // the input, gray 0.5
  CHECK(compose.mean_psnr() == Approx(20).epsilon(1e-4));  // MSE 0.01
  // Constant images: SSIM is the luminance term (2·0.5·0.6 + C1)/(0.5² + 0.6² + C1), C1 = 1e-4.
  CHECK(compose.mean_ssim() == Approx(0.6001 / 0.6101).epsilon(1e-4));
  c.view = "mosaic";
  CHECK_THROWS_AS(ComposeStage(c), std::invalid_argument);
}
