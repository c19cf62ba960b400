#pragma once
// SID, the spike-image decoder of Zhang et al. (2020), layer for layer as the
// authors' reference code (jiankliu/Spike-Image-Decoder, SID.py):
//   dense: Linear(N,512) → BatchNorm → ReLU → Dropout 0.5 → Linear(512,4096)
//          → sigmoid → 64×64 image;
//   autoencoder: conv 7×7/64 s2, 5×5/128 s2, 3×3/256 s2, 3×3/256 s2 (each
//          BatchNorm + ReLU, dropout 0.25 after all but the first), then
//          upsample ×2 + conv 3×3/256, 3×3/128, 5×5/64 (BatchNorm, ReLU,
//          dropout 0.25), then upsample ×2 + conv 7×7/1 + BatchNorm.
// The inputs are min-max scaled per cell as the reference does (MinMaxScaler
// fitted on the training spikes), kept as buffers so the file carries them.
// Inputs: [B,N] spike counts. Outputs: [B,1,64,64] (not clamped).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

namespace spikevid {

constexpr int kSidImageSize = 64;

struct SidImpl : torch::nn::Module {
  explicit SidImpl(int64_t n_inputs);
  torch::Tensor forward(const torch::Tensor& counts);
  // The dense stage alone (the paper's "spike-to-image" output), [B,1,64,64].
  torch::Tensor dense_image(const torch::Tensor& counts);
  // Sets the min-max scaling from training counts [M,N].
  void fit_input_scaling(const torch::Tensor& counts);
  // For inference only, at load (models/inference.h): every BatchNorm folded
  // into the layer before it, no dropout, and with `channels_last` the
  // convolution weights channels-last. Not to be trained after.
  void prepare_for_inference(bool channels_last);

  int64_t n_inputs;
  torch::nn::Sequential dense{nullptr}, autoencoder{nullptr};
  torch::Tensor input_min, input_range;
};
TORCH_MODULE(Sid);

// The per-cell min-max scaling of SID and SID-lite, fitted on training counts
// [M,N]: min ← each cell's smallest count, range ← its span (at least 1).
void fit_min_max(const torch::Tensor& counts, torch::Tensor& min, torch::Tensor& range);

// Multiply–accumulates per 64×64 frame ×2, for the FLOP figures.
double sid_flops_per_frame(int64_t n_inputs);

}  // namespace spikevid
