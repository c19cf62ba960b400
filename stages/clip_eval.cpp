#include "stages/clip_eval.h"

#include <torch/torch.h>

#include "models/encoder.h"
#include "models/metrics.h"
#include "stages/preprocess.h"

namespace spikevid {
namespace {

// The frames at model resolution, [F,1,H,W], and their tiles [F·T,1,64,64].
std::pair<torch::Tensor, torch::Tensor> model_frames(const std::vector<GrayImage>& frames,
                                                     std::size_t first, std::size_t count,
                                                     const TileGrid& grid) {
  PreprocessStage preprocess({grid, false});
  std::vector<torch::Tensor> images, tiles;
  for (std::size_t i = first; i < first + count; ++i) {
    auto c = std::make_unique<Captured>();
    c->image = frames[i];
    auto f = preprocess.process(std::move(c));
    images.push_back(f->image);
    tiles.push_back(f->tiles);
  }
  return {torch::cat(images), torch::cat(tiles)};
}

void add_scores(Scores& s, const torch::Tensor& y, const torch::Tensor& x) {
  s.mse += mse_per_image(y, x).sum().item<double>();
  s.psnr += psnr_per_image(y, x).clamp_max(100).sum().item<double>();
  s.ssim += ssim_per_image(y, x).sum().item<double>();
  s.n += x.size(0);
}

Scores mean_of(Scores s) {
  if (s.n > 0) {
    s.mse /= static_cast<double>(s.n);
    s.psnr /= static_cast<double>(s.n);
    s.ssim /= static_cast<double>(s.n);
  }
  return s;
}

}  // namespace

Scores evaluate_clip(Encoder& encoder,
                     const std::function<torch::Tensor(const torch::Tensor&)>& decode,
                     const std::vector<GrayImage>& frames, const TileGrid& grid,
                     torch::Device device, std::uint64_t seed, int frames_per_batch) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  const auto n_tiles = static_cast<int64_t>(grid.rows) * grid.cols;
  const auto batch = static_cast<std::size_t>(std::max(1, frames_per_batch));
  Scores s;
  for (std::size_t first = 0; first < frames.size(); first += batch) {
    const auto count = std::min(batch, frames.size() - first);
    auto [images, tiles] = model_frames(frames, first, count, grid);
    // The spikes of the batch in one draw (every decoder sees the same), decoded frame by frame
    // in order (a temporal decoder carries its state from one call to the next).
    const auto counts = encoder.spikes(tiles.to(device)).flatten(1);
    std::vector<torch::Tensor> blended;
    for (std::size_t f = 0; f < count; ++f) {
      auto out = decode(counts.narrow(0, static_cast<int64_t>(f) * n_tiles, n_tiles))
                     .to(torch::kCPU, torch::kFloat32);
      blended.push_back(blend_tiles(out, grid));
    }
    add_scores(s, torch::cat(blended).clamp(0, 1), images);
  }
  return mean_of(s);
}

Scores evaluate_clip_flat(const std::vector<GrayImage>& frames, const TileGrid& grid,
                          double level) {
  torch::NoGradGuard no_grad;
  Scores s;
  for (std::size_t first = 0; first < frames.size(); first += 32) {
    const auto count = std::min<std::size_t>(32, frames.size() - first);
    auto images = model_frames(frames, first, count, grid).first;
    add_scores(s, torch::full_like(images, level), images);
  }
  return mean_of(s);
}

}  // namespace spikevid
