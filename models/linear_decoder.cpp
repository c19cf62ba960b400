#include "models/linear_decoder.h"

#include <limits>

#include <torch/torch.h>

namespace spikevid {

LinearDecoderImpl::LinearDecoderImpl(int64_t n, int64_t s) : n_inputs(n), image_size(s) {
  input_mean = register_buffer("input_mean", torch::zeros({n}));
  weight = register_buffer("weight", torch::zeros({n, s * s}));
  output_mean = register_buffer("output_mean", torch::full({s * s}, 0.5));
  lambda = register_buffer("lambda", torch::zeros({}));
}

torch::Tensor LinearDecoderImpl::forward(const torch::Tensor& counts) {
  TORCH_CHECK(counts.dim() == 2 && counts.size(1) == n_inputs,
              "linear decoder: expected counts [B,", n_inputs, "], got ", counts.sizes());
  auto y = torch::addmm(output_mean, counts - input_mean, weight);
  return y.view({-1, 1, image_size, image_size});
}

RidgeAccumulator::RidgeAccumulator(int64_t n_in, int64_t n_out) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  sxx_ = torch::zeros({n_in, n_in}, f64);
  sxy_ = torch::zeros({n_in, n_out}, f64);
  sx_ = torch::zeros({n_in}, f64);
  sy_ = torch::zeros({n_out}, f64);
}

void RidgeAccumulator::add(const torch::Tensor& counts, const torch::Tensor& images) {
  auto x = counts.detach().to(torch::kCPU, torch::kFloat64);
  auto y = images.detach().flatten(1).to(torch::kCPU, torch::kFloat64);
  TORCH_CHECK(x.size(0) == y.size(0) && x.size(1) == sx_.size(0) && y.size(1) == sy_.size(0),
              "ridge: batch shapes do not match the accumulator");
  sxx_.addmm_(x.t(), x);
  sxy_.addmm_(x.t(), y);
  sx_ += x.sum(0);
  sy_ += y.sum(0);
  n_ += x.size(0);
}

std::vector<double> RidgeAccumulator::solve(LinearDecoderImpl& decoder,
                                            const std::vector<double>& lambdas,
                                            const torch::Tensor& val_counts,
                                            const torch::Tensor& val_images) const {
  TORCH_CHECK(n_ > 1, "ridge: no training samples");
  const double n = static_cast<double>(n_);
  auto mx = sx_ / n;
  auto my = sy_ / n;
  auto cxx = sxx_ - n * torch::outer(mx, mx);  // centred XᵀX
  auto cxy = sxy_ - n * torch::outer(mx, my);  // centred XᵀY
  // One eigendecomposition serves every penalty: W(λ) = Q (Λ+λ)⁻¹ Qᵀ XᵀY.
  auto [evals, q] = torch::linalg_eigh(cxx, "L");
  auto qt_xy = q.t().mm(cxy);
  const double scale = evals.clamp_min(0).mean().item<double>();
  auto xv = val_counts.detach().to(torch::kCPU, torch::kFloat64) - mx;
  auto yv = val_images.detach().flatten(1).to(torch::kCPU, torch::kFloat64);
  std::vector<double> mses;
  double best = std::numeric_limits<double>::infinity();
  torch::Tensor best_w;
  double best_lambda = 0;
  for (double rel : lambdas) {
    const double lam = rel * scale;
    auto w = q.mm(qt_xy / (evals.clamp_min(0) + lam).unsqueeze(1));
    const double mse = (xv.mm(w) + my - yv).pow(2).mean().item<double>();
    mses.push_back(mse);
    if (mse < best) {
      best = mse;
      best_w = w;
      best_lambda = lam;
    }
  }
  torch::NoGradGuard no_grad;
  decoder.input_mean.copy_(mx.to(torch::kFloat32));
  decoder.weight.copy_(best_w.to(torch::kFloat32));
  decoder.output_mean.copy_(my.to(torch::kFloat32));
  decoder.lambda.fill_(best_lambda);
  return mses;
}

}  // namespace spikevid
