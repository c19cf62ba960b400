#include "models/sid_lite.h"

#include <stdexcept>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "models/inference.h"
#include "models/linear_decoder.h"
#include "models/sid.h"

namespace spikevid {
namespace nn = torch::nn;

namespace {

void add_cbr(nn::Sequential& seq, int64_t in, int64_t out, int64_t stride) {
  seq->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  seq->push_back(nn::BatchNorm2d(out));
  seq->push_back(nn::ReLU());
}

}  // namespace

SidLiteRefine sid_lite_refine_from_meta(const nlohmann::json& meta, const std::string& path) {
  SidLiteRefine r;
  const auto it = meta.find("refine");
  if (it == meta.end()) return r;
  try {
    r.channels = it->at("channels").get<int64_t>();
    r.depth = it->at("depth").get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(path + ": sid-lite meta \"refine\" needs integer channels and depth");
  }
  if (r.channels < 1 || r.channels > 256 || r.depth < 1 || r.depth > 8)
    throw std::runtime_error(path + ": sid-lite refine channels " + std::to_string(r.channels) +
                             " or depth " + std::to_string(r.depth) +
                             " out of range (1..256, 1..8)");
  return r;
}

nlohmann::json sid_lite_refine_meta(const SidLiteRefine& r) {
  return {{"channels", r.channels}, {"depth", r.depth}};
}

const std::vector<std::string>& sid_lite_refine_parts() {
  static const std::vector<std::string> parts = {"down1.", "down2.", "merge.", "lateral.", "out."};
  return parts;
}

SidLiteImpl::SidLiteImpl(int64_t n, int64_t w, bool ridge_path, SidLiteRefine r)
    : n_inputs(n), width(w), refine_size(r) {
  TORCH_CHECK(n > 0, "sid-lite: the number of inputs must be positive");
  TORCH_CHECK(w > 0 && w <= 16384, "sid-lite: the width must be 1 to 16384, got ", w);
  TORCH_CHECK(r.channels > 0 && r.channels <= 256 && r.depth > 0 && r.depth <= 8,
              "sid-lite: refine channels must be 1 to 256 and depth 1 to 8, got ", r.channels,
              " and ", r.depth);
  const int64_t c = r.channels;
  dense = register_module(
      "dense", nn::Sequential(nn::Linear(n, w), nn::BatchNorm1d(w), nn::ReLU(), nn::Dropout(0.2),
                              nn::Linear(w, 4096), nn::Sigmoid()));
  nn::Sequential d1, d2, m;
  add_cbr(d1, 1, c, 2);
  add_cbr(d2, c, 2 * c, 2);
  for (int64_t k = 0; k < r.depth; ++k) {
    add_cbr(d1, c, c, 1);
    add_cbr(d2, 2 * c, 2 * c, 1);
    add_cbr(m, c, c, 1);
  }
  down1 = register_module("down1", d1);
  down2 = register_module("down2", d2);
  merge = register_module("merge", m);
  lateral = register_module("lateral", nn::Conv2d(nn::Conv2dOptions(2 * c, c, 1)));
  out = register_module("out", nn::Conv2d(nn::Conv2dOptions(c, 4, 3).padding(1)));
  input_min = register_buffer("input_min", torch::zeros({n}));
  input_range = register_buffer("input_range", torch::ones({n}));
  if (ridge_path) {
    ridge = register_module("ridge", nn::Linear(n, kSidImageSize * kSidImageSize));
    ridge->weight.requires_grad_(false);  // set by start_from_ridge() or a model file
    ridge->bias.requires_grad_(false);
  }
}

void SidLiteImpl::set_ridge(const LinearDecoderImpl& r) {
  TORCH_CHECK(!ridge.is_empty(), "sid-lite: no ridge path to set");
  TORCH_CHECK(r.n_inputs == n_inputs && r.image_size == kSidImageSize,
              "sid-lite: the ridge decoder has ", r.n_inputs, " inputs and ", r.image_size,
              " pixels a side, not ", n_inputs, " and ", kSidImageSize);
  torch::NoGradGuard no_grad;
  // ridge: y = (c − mean) W + out_mean = c Wᵀᵀ + (out_mean − mean W)
  ridge->weight.copy_(r.weight.t());
  ridge->bias.copy_(r.output_mean - r.input_mean.matmul(r.weight));
  // Fixed: Adam's steps of about the learning rate on every weight undo a
  // ridge solution whose weights are that small within a few hundred steps.
  ridge->weight.requires_grad_(false);
  ridge->bias.requires_grad_(false);
}

void SidLiteImpl::start_from_ridge(const LinearDecoderImpl& r) {
  set_ridge(r);
  torch::NoGradGuard no_grad;
  auto last = dense->ptr<nn::LinearImpl>(4);
  last->weight.zero_();
  last->bias.zero_();
  out->weight.zero_();
  out->bias.zero_();
}

void SidLiteImpl::fit_input_scaling(const torch::Tensor& counts) {
  fit_min_max(counts, input_min, input_range);
}

void SidLiteImpl::prepare_for_inference(bool channels_last) {
  dense = nn::Sequential(replace_module("dense", fold_for_inference(dense)));
  down1 = nn::Sequential(replace_module("down1", fold_for_inference(down1)));
  down2 = nn::Sequential(replace_module("down2", fold_for_inference(down2)));
  merge = nn::Sequential(replace_module("merge", fold_for_inference(merge)));
  if (channels_last) conv_weights_channels_last(*this);
}

torch::Tensor SidLiteImpl::dense_image(const torch::Tensor& counts) {
  TORCH_CHECK(counts.dim() == 2 && counts.size(1) == n_inputs, "sid-lite: expected counts [B,",
              n_inputs, "], got ", counts.sizes());
  auto d = dense->forward((counts - input_min) / input_range);
  if (!ridge.is_empty()) d = ridge->forward(counts) + (d - 0.5);
  return d.view({-1, 1, kSidImageSize, kSidImageSize});
}

torch::Tensor SidLiteImpl::forward(const torch::Tensor& counts) {
  return refine(dense_image(counts));
}

torch::Tensor SidLiteImpl::refine(const torch::Tensor& d) {
  auto e = down1->forward(d);
  auto f = down2->forward(e);
  auto up = torch::upsample_nearest2d(lateral->forward(f), {e.size(2), e.size(3)});
  auto g = merge->forward(e + up);
  return d + torch::pixel_shuffle(out->forward(g), 2);
}

double sid_lite_flops_per_frame(int64_t n, int64_t w, bool ridge_path, SidLiteRefine r) {
  const double dense = static_cast<double>(n) * w + static_cast<double>(w) * 4096 +
                       (ridge_path ? static_cast<double>(n) * 4096 : 0);
  const double c = static_cast<double>(r.channels), k = static_cast<double>(r.depth);
  const double convs = 32.0 * 32 * 9 * (1 * c + k * c * c) +
                       16.0 * 16 * 9 * (c * 2 * c + k * 4 * c * c) + 16.0 * 16 * 2 * c * c +
                       32.0 * 32 * 9 * (k * c * c + c * 4);
  return 2 * (dense + convs);
}

}  // namespace spikevid
