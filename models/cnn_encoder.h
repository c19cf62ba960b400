#pragma once
// The pretrained CNN encoder, the kind of model fitted to recorded ganglion
// cells: two convolution layers, then a read-out to every cell, a softplus to
// rates in Hz. The read-out is dense over the feature map but factorized per
// cell into a spatial mask and feature weights (Klindt et al. 2017), which keeps
// a 2,048-cell model at 2 M parameters instead of 33 M.
// Inputs: [B,1,S,S] in [0,1]. Outputs: [B,N] rates in Hz.
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include "models/cell_table.h"

namespace spikevid {

struct CnnEncoderConfig {
  int image_size = 64;
  int channels = 16;  // feature maps per layer
  int n_cells = 2048;
};

struct CnnEncoderImpl : torch::nn::Module {
  // When cells carry positions, each mask starts as a bump there: fitting then
  // refines it instead of searching the whole field.
  CnnEncoderImpl(CnnEncoderConfig config, const CellTable& cells);
  torch::Tensor forward(const torch::Tensor& images);

  CnnEncoderConfig config;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::Tensor mask;      // [N, (S/2)²] spatial read-out
  torch::Tensor features;  // [N, C] feature read-out
  torch::Tensor bias;      // [N]
};
TORCH_MODULE(CnnEncoder);

// Rates are softplus outputs times this, so the net works near unit scale.
constexpr double kCnnRateScale = 10.0;

// FLOPs (2 × multiply–accumulates) per image: the 9×9 convolution at full
// size, the 5×5 one at half size, the factorized read-out and its sum.
double cnn_encoder_flops_per_frame(const CnnEncoderConfig& config);

}  // namespace spikevid
