#pragma once
// A trained network prepared for inference only, at load time (never for
// training): every BatchNorm folded into the convolution or linear layer
// before it, no dropout modules, and on the CPU convolution weights in
// channels-last memory format, which oneDNN runs fastest (bench/RESULTS.md,
// "Modules for inference"). The results equal the eval-mode network's within
// float rounding (tests/models/inference_test.cpp).
#include <utility>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>

namespace spikevid {

// A layer's weight `w` [out,...] and bias `b` (may be undefined) with the
// BatchNorm after it folded in, float32:
// bn(W x + b) = (s W) x + s (b − mean) + β, s = γ / √(var + ε), per channel.
std::pair<torch::Tensor, torch::Tensor> fold_batchnorm(const torch::Tensor& w,
                                                       const torch::Tensor& b,
                                                       const torch::nn::BatchNorm1dImpl& bn);
std::pair<torch::Tensor, torch::Tensor> fold_batchnorm(const torch::Tensor& w,
                                                       const torch::Tensor& b,
                                                       const torch::nn::BatchNorm2dImpl& bn);

// A new sequential that computes what `seq` computes in eval mode: each
// Conv2d or Linear followed by a BatchNorm becomes one layer with the
// BatchNorm folded in (new modules; `seq` is not changed), Dropout is left
// out, every other module is shared with `seq`.
torch::nn::Sequential fold_for_inference(const torch::nn::Sequential& seq);

// Every Conv2d weight under `module` in channels-last memory format (in
// place; the values are unchanged). A later .to(dtype or device) keeps it.
void conv_weights_channels_last(torch::nn::Module& module);

}  // namespace spikevid
