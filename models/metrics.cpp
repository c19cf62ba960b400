#include "models/metrics.h"

#include <torch/nn/functional.h>
#include <torch/torch.h>

namespace spikevid {
namespace F = torch::nn::functional;

namespace {

void check_pair(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.dim() == 4 && a.size(1) == 1 && a.sizes() == b.sizes(),
              "metrics: expected two [B,1,H,W] tensors of one shape, got ", a.sizes(), " and ",
              b.sizes());
}

}  // namespace

torch::Tensor mse_per_image(const torch::Tensor& a, const torch::Tensor& b) {
  check_pair(a, b);
  auto d =
      a.detach().to(torch::kCPU, torch::kFloat64) - b.detach().to(torch::kCPU, torch::kFloat64);
  return d.pow(2).flatten(1).mean(1);
}

torch::Tensor psnr_per_image(const torch::Tensor& a, const torch::Tensor& b) {
  return -10.0 * torch::log10(mse_per_image(a, b));
}

torch::Tensor ssim_per_image(const torch::Tensor& a, const torch::Tensor& b) {
  check_pair(a, b);
  constexpr double kSigma = 1.5;
  constexpr int kRadius = 5;  // scikit-image: truncate 3.5 → int(3.5·1.5 + 0.5)
  constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;
  TORCH_CHECK(a.size(2) > 2 * kRadius && a.size(3) > 2 * kRadius,
              "ssim: image smaller than the window");
  auto x = a.detach().to(torch::kCPU, torch::kFloat64);
  auto y = b.detach().to(torch::kCPU, torch::kFloat64);
  auto r = torch::arange(-kRadius, kRadius + 1, torch::kFloat64);
  auto g = torch::exp(-(r * r) / (2 * kSigma * kSigma));
  g = g / g.sum();
  auto w = torch::outer(g, g).view({1, 1, 2 * kRadius + 1, 2 * kRadius + 1});
  // A valid convolution = filtering the whole image, then cropping the border.
  auto filt = [&](const torch::Tensor& t) { return F::conv2d(t, w); };
  auto ux = filt(x), uy = filt(y);
  auto vx = filt(x * x) - ux * ux;
  auto vy = filt(y * y) - uy * uy;
  auto vxy = filt(x * y) - ux * uy;
  auto s = ((2 * ux * uy + kC1) * (2 * vxy + kC2)) / ((ux * ux + uy * uy + kC1) * (vx + vy + kC2));
  return s.flatten(1).mean(1);
}

}  // namespace spikevid
