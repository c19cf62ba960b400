#pragma once
// SID-lite: a lighter spike-image decoder of our own design, for real time on
// a CPU. The same dense spike-to-image stage as SID (with less dropout; its
// width W, 512 as in SID unless the model file says otherwise), then,
// instead of SID's 0.84 GFLOP autoencoder, a small two-scale residual network
// at 32×32 and 16×16 that sharpens the dense image (about 11 times fewer
// FLOPs in all):
//   dense: Linear(N,W) → BatchNorm → ReLU → Dropout 0.2 → Linear(W,4096)
//          → sigmoid → d, a 64×64 image;
//   e = conv 3×3/32 s2 (d), conv 3×3/32;  f = conv 3×3/64 s2 (e), conv 3×3/64
//   g = conv 3×3/32 (e + upsample(conv 1×1/32 (f)))   (each conv: BN + ReLU)
//   out = d + pixel_shuffle(conv 3×3/4 (g))            [B,1,64,64], not clamped.
// The residual network's size is a setting of the model file (meta "refine":
// {"channels": C, "depth": K}; absent: 32 and 1, as above): C channels at
// 32×32 and 2C at 16×16, and K convolutions 3×3 after each stride and in
// `merge` instead of one.
// Inputs are min-max scaled per cell, as in SID.
// With a ridge path (ridge_path, ours): a fixed linear map from the counts to
// the pixels beside the dense stage, d = ridge(counts) + dense(x) − ½, set to a
// fitted ridge decoder, with the dense stage's last layer and `out` started at
// zero: training starts at the ridge decoder's images and learns what to add
// to them, and the dense stage's 512-unit bottleneck no longer limits detail.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace spikevid {

constexpr int64_t kSidLiteWidth = 512;  // the dense stage's hidden units, by default

// The residual network's size: `channels` at 32×32 (twice that at 16×16),
// `depth` convolutions 3×3 a stage after its first. {32, 1}: SID-lite as
// shipped first.
struct SidLiteRefine {
  int64_t channels = 32;
  int64_t depth = 1;
  bool operator==(const SidLiteRefine& o) const {
    return channels == o.channels && depth == o.depth;
  }
  bool operator!=(const SidLiteRefine& o) const { return !(*this == o); }
};
// From a model file's meta (absent: the defaults); throws std::runtime_error
// naming `path` when it is malformed or out of range (1..256 channels, 1..8 deep).
SidLiteRefine sid_lite_refine_from_meta(const nlohmann::json& meta, const std::string& path);
// The meta "refine" to record.
nlohmann::json sid_lite_refine_meta(const SidLiteRefine& r);
// The name prefixes of the residual network's tensors ("down1.", ..., "out.").
const std::vector<std::string>& sid_lite_refine_parts();

struct LinearDecoderImpl;

struct SidLiteImpl : torch::nn::Module {
  explicit SidLiteImpl(int64_t n_inputs, int64_t width = kSidLiteWidth, bool ridge_path = false,
                       SidLiteRefine refine = {});
  torch::Tensor forward(const torch::Tensor& counts);
  torch::Tensor dense_image(const torch::Tensor& counts);
  // The two-scale residual network on a dense image d [B,1,64,64]: forward = refine(dense_image).
  torch::Tensor refine(const torch::Tensor& d);
  void fit_input_scaling(const torch::Tensor& counts);
  // For inference only, at load (models/inference.h): every BatchNorm folded
  // into the layer before it, no dropout, and with `channels_last` the
  // convolution weights channels-last. Not to be trained after.
  void prepare_for_inference(bool channels_last);
  // The ridge path from a fitted linear decoder (fixed: no gradient).
  void set_ridge(const LinearDecoderImpl& ridge);
  // set_ridge(), and the dense stage's last layer and `out` to zero (the
  // model's images are then the ridge decoder's): training's start.
  void start_from_ridge(const LinearDecoderImpl& ridge);

  int64_t n_inputs, width;
  SidLiteRefine refine_size;
  torch::nn::Linear ridge{nullptr};  // with a ridge path: counts → 64×64 pixels
  torch::nn::Sequential dense{nullptr}, down1{nullptr}, down2{nullptr}, merge{nullptr};
  torch::nn::Conv2d lateral{nullptr}, out{nullptr};
  torch::Tensor input_min, input_range;
};
TORCH_MODULE(SidLite);

// FLOPs (2 × multiply–accumulates) per 64×64 frame.
double sid_lite_flops_per_frame(int64_t n_inputs, int64_t width = kSidLiteWidth,
                                bool ridge_path = false, SidLiteRefine refine = {});

}  // namespace spikevid
