#include "models/sid_lite_gru.h"

#include <torch/torch.h>

namespace spikevid {
namespace nn = torch::nn;

SidLiteGruImpl::SidLiteGruImpl(int64_t n, int64_t w, bool ridge_path, int64_t hid,
                               SidLiteRefine refine)
    : SidLiteImpl(n, w, ridge_path, refine), hidden(hid) {
  TORCH_CHECK(hid > 0 && hid <= 256, "sid-lite-gru: hidden channels must be 1 to 256, got ", hid);
  gru_zr = register_module("gru_zr", nn::Conv2d(nn::Conv2dOptions(4 + hid, 2 * hid, 3).padding(1)));
  gru_n = register_module("gru_n", nn::Conv2d(nn::Conv2dOptions(4 + hid, hid, 3).padding(1)));
  gru_out = register_module("gru_out", nn::Conv2d(nn::Conv2dOptions(hid + 4, 4, 3).padding(1)));
  torch::NoGradGuard no_grad;
  gru_out->weight.zero_();
  gru_out->bias.zero_();
}

torch::Tensor SidLiteGruImpl::step_dense(const torch::Tensor& d, torch::Tensor& state,
                                         const torch::Tensor& reset) {
  auto x = torch::pixel_unshuffle(d, 2);
  const bool fresh = !state.defined() || state.size(0) != x.size(0);
  auto h = fresh ? torch::zeros(state_shape(x.size(0)), x.options()) : state.to(x.scalar_type());
  // Rows that start afresh: their state zero and their update gate 1 below,
  // exactly what a fresh state gives them (no host sync: CUDA graphs keep it).
  torch::Tensor keep;
  if (!fresh && reset.defined()) {
    keep = reset.logical_not().view({-1, 1, 1, 1}).to(x.scalar_type());
    h = h * keep;
  }
  auto zr = torch::sigmoid(gru_zr->forward(torch::cat({x, h}, 1))).chunk(2, 1);
  auto n = torch::tanh(gru_n->forward(torch::cat({x, zr[1] * h}, 1)));
  // A fresh state takes the first frame whole (update gate 1): no average of
  // it with zeros, which would bias the first frames towards black.
  if (fresh)
    h = n;
  else if (keep.defined())
    h = h + (1 - keep * (1 - zr[0])) * (n - h);
  else
    h = h + zr[0] * (n - h);
  state = h;
  auto correction = torch::pixel_shuffle(gru_out->forward(torch::cat({h, x}, 1)), 2);
  return refine(d + correction);
}

torch::Tensor SidLiteGruImpl::step(const torch::Tensor& counts, torch::Tensor& state) {
  return step_dense(dense_image(counts), state);
}

torch::Tensor SidLiteGruImpl::forward(const torch::Tensor& counts) {
  torch::Tensor fresh;
  return step(counts, fresh);
}

double sid_lite_gru_flops_per_frame(int64_t n, int64_t w, bool ridge_path, int64_t hid,
                                    SidLiteRefine refine) {
  const double gru = 32.0 * 32 * 9 * ((4 + hid) * 2 * hid + (4 + hid) * hid + (hid + 4) * 4);
  return sid_lite_flops_per_frame(n, w, ridge_path, refine) + 2 * gru;
}

}  // namespace spikevid
