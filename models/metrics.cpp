#include "models/metrics.h"

#include <cmath>

#include <torch/torch.h>

namespace spikevid {

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

namespace {

// SSIM per image of x and y, [B,1,H,W], in their dtype; differentiable.
torch::Tensor ssim_of(const torch::Tensor& x, const torch::Tensor& y) {
  constexpr double kSigma = 1.5;
  constexpr int kRadius = 5;  // scikit-image: truncate 3.5 → int(3.5·1.5 + 0.5)
  constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;
  TORCH_CHECK(x.size(2) > 2 * kRadius && x.size(3) > 2 * kRadius,
              "ssim: image smaller than the window");
  double g[2 * kRadius + 1], g_sum = 0;
  for (int k = -kRadius; k <= kRadius; ++k)
    g_sum += g[k + kRadius] = std::exp(-(k * k) / (2 * kSigma * kSigma));
  // A valid convolution = filtering the whole image, then cropping the border.
  // The Gaussian is separable: a pass along the rows, then along the columns,
  // each 11 shifted multiply-adds (22 products a pixel instead of 121), over
  // the five images at once. (Faster here than conv2d, whose float64 path
  // unrolls every window.)
  const auto pass = [&](const torch::Tensor& t, int64_t dim) {
    const int64_t len = t.size(dim) - 2 * kRadius;
    auto out = t.narrow(dim, 0, len) * (g[0] / g_sum);
    for (int k = 1; k <= 2 * kRadius; ++k) out.add_(t.narrow(dim, k, len), g[k] / g_sum);
    return out;
  };
  const int64_t n = x.size(0);
  auto all = pass(pass(torch::cat({x, y, x * x, y * y, x * y}), 3), 2);
  auto ux = all.narrow(0, 0, n), uy = all.narrow(0, n, n);
  auto vx = all.narrow(0, 2 * n, n) - ux * ux;
  auto vy = all.narrow(0, 3 * n, n) - uy * uy;
  auto vxy = all.narrow(0, 4 * n, n) - ux * uy;
  auto s = ((2 * ux * uy + kC1) * (2 * vxy + kC2)) / ((ux * ux + uy * uy + kC1) * (vx + vy + kC2));
  return s.flatten(1).mean(1);
}

}  // namespace

torch::Tensor ssim_per_image(const torch::Tensor& a, const torch::Tensor& b) {
  check_pair(a, b);
  torch::NoGradGuard no_grad;
  return ssim_of(a.detach().to(torch::kCPU, torch::kFloat64),
                 b.detach().to(torch::kCPU, torch::kFloat64));
}

torch::Tensor ssim_differentiable(const torch::Tensor& a, const torch::Tensor& b) {
  check_pair(a, b);
  return ssim_of(a, b);
}

}  // namespace spikevid
