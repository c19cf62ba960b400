#include "stages/synthetic_source.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace spikevid {

SyntheticSource::SyntheticSource(SyntheticConfig c) : config_(c) {
  namespace F = torch::nn::functional;
  auto gen = at::detail::createCPUGenerator(c.seed);
  // A scene three frames wide: white noise smoothed at two scales, a cheap
  // stand-in for the 1/f spectrum of natural images, at their mean and contrast.
  const int64_t side = 3 * c.size;
  auto noise = torch::randn({1, 1, side, side}, gen);
  auto blur = [&](const torch::Tensor& x, int64_t k) {
    return F::avg_pool2d(F::pad(x, F::PadFuncOptions({k / 2, k / 2, k / 2, k / 2}).mode(torch::kReflect)),
                         F::AvgPool2dFuncOptions(k).stride(1));
  };
  auto fine = blur(blur(noise, 3), 3), coarse = blur(blur(noise, 15), 15);
  auto scene = fine / fine.std() * 0.3 + coarse / coarse.std();
  texture_ = (0.48 + 0.2 * scene / scene.std()).clamp(0, 1);
  auto r = torch::arange(c.size, torch::kFloat32);
  ys_ = r.view({c.size, 1}).expand({c.size, c.size});
  xs_ = r.view({1, c.size}).expand({c.size, c.size});
}

FramePtr SyntheticSource::next() {
  if (index_ >= config_.frames) return nullptr;
  const double t = static_cast<double>(index_++);
  const double s = config_.size;
  // The camera pans slowly over the scene while a dark disc crosses it.
  const auto x0 = static_cast<int64_t>(s + 0.9 * s * std::cos(t / 60));
  const auto y0 = static_cast<int64_t>(s + 0.9 * s * std::sin(t / 80));
  auto view = texture_.narrow(2, y0, config_.size).narrow(3, x0, config_.size).squeeze();
  const double cx = s / 2 + s / 3 * std::cos(t / 25), cy = s / 2 + s / 4 * std::sin(t / 25);
  auto disc = torch::sigmoid((s / 8 - ((xs_ - cx).pow(2) + (ys_ - cy).pow(2)).sqrt()) * 0.8);
  auto img = view * (1 - disc) + 0.15 * disc;
  auto f = std::make_unique<Frame>();
  f->image = img.view({1, 1, config_.size, config_.size}).contiguous();
  return f;
}

}  // namespace spikevid
