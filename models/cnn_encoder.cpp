#include "models/cnn_encoder.h"

#include <cmath>

#include <torch/nn/functional.h>
#include <torch/torch.h>

namespace spikevid {
namespace F = torch::nn::functional;
namespace nn = torch::nn;

CnnEncoderImpl::CnnEncoderImpl(CnnEncoderConfig c, const CellTable& cells) : config(c) {
  TORCH_CHECK(c.image_size % 2 == 0, "cnn encoder: image size must be even");
  TORCH_CHECK(cells.empty() || static_cast<int>(cells.size()) == c.n_cells,
              "cnn encoder: cell table has ", cells.size(), " cells, config says ", c.n_cells);
  conv1 = register_module(
      "conv1",
      nn::Conv2d(nn::Conv2dOptions(1, c.channels, 9).padding(4).padding_mode(torch::kReplicate)));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(c.channels, c.channels, 5)
                                                  .stride(2)
                                                  .padding(2)
                                                  .padding_mode(torch::kReplicate)));
  const int64_t side = c.image_size / 2;
  auto m = torch::full({c.n_cells, side * side}, 1.0 / static_cast<double>(side * side));
  if (!cells.empty()) {
    auto coord = torch::arange(side, torch::kFloat32) * 2.0 + 1.0;  // feature pixel centres
    for (int64_t i = 0; i < c.n_cells; ++i) {
      const auto& cell = cells[i];
      const double s = std::max(1.0, static_cast<double>(cell.center_sigma));
      auto gx = torch::exp(-(coord - cell.x).pow(2) / (2 * s * s));
      auto gy = torch::exp(-(coord - cell.y).pow(2) / (2 * s * s));
      auto bump = torch::outer(gy, gx).flatten();
      m[i] = bump / bump.sum();
    }
  }
  mask = register_parameter("mask", m);
  features = register_parameter("features", torch::randn({c.n_cells, c.channels}) * 0.1);
  bias = register_parameter("bias", torch::zeros({c.n_cells}));
}

namespace {

// conv(x) with its replicate padding. LibTorch 1.13 has no bfloat16 kernel for
// replicate padding on the CPU, so in bfloat16 the padding (a copy of edge
// pixels, exact in any precision) is done in float32 and the convolution in
// bfloat16.
torch::Tensor conv_replicate(nn::Conv2d& conv, const torch::Tensor& x, int64_t pad,
                             int64_t stride) {
  if (x.scalar_type() != torch::kBFloat16) return conv->forward(x);
  auto padded =
      F::pad(x.to(torch::kFloat32), F::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReplicate))
          .to(torch::kBFloat16);
  return F::conv2d(padded, conv->weight, F::Conv2dFuncOptions().bias(conv->bias).stride(stride));
}

}  // namespace

torch::Tensor CnnEncoderImpl::forward(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 1 && images.size(2) == config.image_size &&
                  images.size(3) == config.image_size,
              "cnn encoder: expected images [B,1,", config.image_size, ",", config.image_size,
              "], got ", images.sizes());
  auto f = F::elu(conv_replicate(conv1, images - 0.5, 4, 1));
  f = F::elu(conv_replicate(conv2, f, 2, 2));    // [B,C,S/2,S/2]
  auto spatial = f.flatten(2).matmul(mask.t());  // [B,C,N]
  auto drive = (spatial * features.t().unsqueeze(0)).sum(1) + bias;
  return kCnnRateScale * F::softplus(drive);
}

double cnn_encoder_flops_per_frame(const CnnEncoderConfig& c) {
  const double ch = c.channels, s = c.image_size, n = c.n_cells, half = (s / 2) * (s / 2);
  return 2 * (s * s * 81 * ch + half * 25 * ch * ch + ch * half * n + n * ch);
}

}  // namespace spikevid
