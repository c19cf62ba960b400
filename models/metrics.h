#pragma once
// Image quality, per image, for images in [0,1] (data range 1).
// Inputs: two [B,1,H,W] tensors. Outputs: [B] float64 on the CPU.
#include <torch/types.h>

namespace spikevid {

torch::Tensor mse_per_image(const torch::Tensor& a, const torch::Tensor& b);
// 10·log10(1/MSE); an MSE of 0 gives +inf.
torch::Tensor psnr_per_image(const torch::Tensor& a, const torch::Tensor& b);
// SSIM with a Gaussian window (σ 1.5, 11×11), K1 0.01, K2 0.03, population
// covariances, averaged over the positions where the window fits inside the
// image: scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5,
// use_sample_covariance=False, data_range=1).
torch::Tensor ssim_per_image(const torch::Tensor& a, const torch::Tensor& b);
// The same SSIM for training: per image [B] in the inputs' dtype and device,
// differentiable (the loss of `train --loss ssim-l1`).
torch::Tensor ssim_differentiable(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace spikevid
