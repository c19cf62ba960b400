#include "stages/clip_eval.h"

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "models/encoder.h"

namespace spikevid {
namespace {

std::vector<GrayImage> ramp_frames(int n, int width, int height) {
  std::vector<GrayImage> frames;
  for (int k = 0; k < n; ++k) {
    GrayImage g{width, height, {}};
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        g.pixels.push_back(static_cast<std::uint8_t>((x * 255 / width + 10 * k) % 256));
    frames.push_back(std::move(g));
  }
  return frames;
}

TEST_CASE("clip evaluation: tiles, decoded and blended, scored per frame at model size",
          "[stages]") {
  auto enc = load_encoder("retina:grid=8", torch::kCPU);
  const auto grid = parse_tile_grid("2x3");
  const auto frames = ramp_frames(5, 320, 240);
  int calls = 0;
  // A decoder that outputs a flat 0.4 whatever the spikes: the clip's scores
  // are those of the flat image, exactly, and every tile went through it.
  const auto flat = [&](const torch::Tensor& counts) {
    ++calls;
    CHECK(counts.size(0) == 6);  // one frame's tiles a call, in order
    return torch::full({counts.size(0), 1, 64, 64}, 0.4);
  };
  const auto s = evaluate_clip(*enc, flat, frames, grid, torch::kCPU, 1, 2);
  const auto f = evaluate_clip_flat(frames, grid, 0.4);
  CHECK(calls == 5);  // 5 frames, spikes drawn 2 at a time, decoded frame by frame
  CHECK(s.n == 5);
  CHECK(f.n == 5);
  CHECK(s.mse == Approx(f.mse).epsilon(1e-6));
  CHECK(s.ssim == Approx(f.ssim).epsilon(1e-6));
  CHECK(s.psnr == Approx(f.psnr).epsilon(1e-6));
  CHECK(f.mse > 0.01);
}

}  // namespace
}  // namespace spikevid
