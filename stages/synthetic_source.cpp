#include "stages/synthetic_source.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace spikevid {

SyntheticSource::SyntheticSource(SyntheticConfig c) : config_(c) {
  auto gen = at::detail::createCPUGenerator(c.seed);
  // Texture: white noise smoothed twice, a cheap stand-in for natural 1/f.
  auto noise = torch::randn({1, 1, c.size, c.size}, gen);
  auto k = torch::ones({1, 1, 5, 5}) / 25.0;
  namespace F = torch::nn::functional;
  const auto same = F::Conv2dFuncOptions().padding(2);
  noise = F::conv2d(F::conv2d(noise, k, same), k, same);
  texture_ = noise / noise.std() * 0.08;
  auto r = torch::arange(c.size, torch::kFloat32);
  ys_ = r.view({c.size, 1}).expand({c.size, c.size});
  xs_ = r.view({1, c.size}).expand({c.size, c.size});
}

FramePtr SyntheticSource::next() {
  if (index_ >= config_.frames) return nullptr;
  const double t = static_cast<double>(index_++);
  const double s = config_.size;
  auto grating = 0.25 * torch::sin(0.35 * xs_ + 0.2 * ys_ - 0.3 * t);
  const double cx = s / 2 + s / 4 * std::cos(t / 20), cy = s / 2 + s / 4 * std::sin(t / 20);
  auto disc = torch::sigmoid(((s / 6) - ((xs_ - cx).pow(2) + (ys_ - cy).pow(2)).sqrt()) * 0.8);
  auto img =
      (0.45 + grating * (1 - disc) + 0.35 * disc + texture_.view({config_.size, config_.size}))
          .clamp(0, 1);
  auto f = std::make_unique<Frame>();
  f->image = img.view({1, 1, config_.size, config_.size}).contiguous();
  return f;
}

}  // namespace spikevid
