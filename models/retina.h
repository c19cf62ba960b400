#pragma once
// The parametric retina: ON and OFF ganglion cells on two jittered square
// mosaics, difference-of-Gaussians receptive fields, a logistic rate function
// (rectifying below, saturating near max_rate_hz). Runs as one convolution and
// a bilinear sample at each cell, on whatever device the module is on.
// Inputs: [B,1,S,S] images in [0,1]. Outputs: [B,N] rates in Hz (ON cells first).
#include <torch/nn/module.h>

#include "models/cell_table.h"
#include "models/retina_config.h"

namespace spikevid {

// The mosaic: deterministic for a config (its seed).
CellTable make_retina_cells(const RetinaConfig& config);

struct RetinaImpl : torch::nn::Module {
  explicit RetinaImpl(RetinaConfig config);

  torch::Tensor forward(const torch::Tensor& images);
  // The generator signal (DoG response) at each cell, before the rate function.
  torch::Tensor generator(const torch::Tensor& images);

  RetinaConfig config;
  CellTable cells;
  torch::Tensor kernels;  // [2,1,K,K]: ON DoG, OFF DoG (both as ON: sign applied after)
  torch::Tensor grid;     // [1,N,1,2] sample positions in grid_sample coordinates
  torch::Tensor sign;     // [N]: +1 ON, −1 OFF
  torch::Tensor channel;  // [N]: 0 ON, 1 OFF (which kernel's map to read)
};
TORCH_MODULE(Retina);

}  // namespace spikevid
