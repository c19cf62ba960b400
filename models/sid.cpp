#include "models/sid.h"

#include <torch/torch.h>

#include "models/inference.h"

namespace spikevid {
namespace nn = torch::nn;

namespace {

// conv (same padding) → BatchNorm → ReLU [→ Dropout 0.25]
void add_conv_block(nn::Sequential& seq, int64_t in, int64_t out, int64_t k, int64_t stride,
                    bool dropout) {
  seq->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2)));
  seq->push_back(nn::BatchNorm2d(out));
  seq->push_back(nn::ReLU());
  if (dropout) seq->push_back(nn::Dropout(0.25));  // Keras Dropout: element-wise
}

void add_upsample(nn::Sequential& seq) {
  seq->push_back(nn::Upsample(
      nn::UpsampleOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest)));
}

}  // namespace

SidImpl::SidImpl(int64_t n) : n_inputs(n) {
  TORCH_CHECK(n > 0, "sid: the number of inputs must be positive");
  dense = register_module("dense",
                          nn::Sequential(nn::Linear(n, 512), nn::BatchNorm1d(512), nn::ReLU(),
                                         nn::Dropout(0.5), nn::Linear(512, 4096), nn::Sigmoid()));
  nn::Sequential ae;
  add_conv_block(ae, 1, 64, 7, 2, false);
  add_conv_block(ae, 64, 128, 5, 2, true);
  add_conv_block(ae, 128, 256, 3, 2, true);
  add_conv_block(ae, 256, 256, 3, 2, true);
  add_upsample(ae);
  add_conv_block(ae, 256, 256, 3, 1, true);
  add_upsample(ae);
  add_conv_block(ae, 256, 128, 3, 1, true);
  add_upsample(ae);
  add_conv_block(ae, 128, 64, 5, 1, true);
  add_upsample(ae);
  ae->push_back(nn::Conv2d(nn::Conv2dOptions(64, 1, 7).padding(3)));
  ae->push_back(nn::BatchNorm2d(1));
  autoencoder = register_module("autoencoder", ae);
  input_min = register_buffer("input_min", torch::zeros({n}));
  input_range = register_buffer("input_range", torch::ones({n}));
}

void fit_min_max(const torch::Tensor& counts, torch::Tensor& min, torch::Tensor& range) {
  torch::NoGradGuard no_grad;
  auto lo = std::get<0>(counts.min(0));
  auto hi = std::get<0>(counts.max(0));
  min.copy_(lo);
  range.copy_((hi - lo).clamp_min(1.0));
}

void SidImpl::fit_input_scaling(const torch::Tensor& counts) {
  fit_min_max(counts, input_min, input_range);
}

void SidImpl::prepare_for_inference(bool channels_last) {
  dense = nn::Sequential(replace_module("dense", fold_for_inference(dense)));
  autoencoder = nn::Sequential(replace_module("autoencoder", fold_for_inference(autoencoder)));
  if (channels_last) conv_weights_channels_last(*this);
}

torch::Tensor SidImpl::dense_image(const torch::Tensor& counts) {
  TORCH_CHECK(counts.dim() == 2 && counts.size(1) == n_inputs, "sid: expected counts [B,", n_inputs,
              "], got ", counts.sizes());
  auto x = (counts - input_min) / input_range;
  return dense->forward(x).view({-1, 1, kSidImageSize, kSidImageSize});
}

torch::Tensor SidImpl::forward(const torch::Tensor& counts) {
  return autoencoder->forward(dense_image(counts));
}

double sid_flops_per_frame(int64_t n) {
  const double dense = static_cast<double>(n) * 512 + 512.0 * 4096;
  const double convs = 32.0 * 32 * 64 * 1 * 49 + 16.0 * 16 * 128 * 64 * 25 +
                       8.0 * 8 * 256 * 128 * 9 + 4.0 * 4 * 256 * 256 * 9 + 8.0 * 8 * 256 * 256 * 9 +
                       16.0 * 16 * 128 * 256 * 9 + 32.0 * 32 * 64 * 128 * 25 +
                       64.0 * 64 * 1 * 64 * 49;
  return 2 * (dense + convs);
}

}  // namespace spikevid
