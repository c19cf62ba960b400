#include "models/inference.h"

#include <vector>

#include <torch/torch.h>

namespace spikevid {
namespace nn = torch::nn;
namespace {

template <class BatchNorm>
std::pair<torch::Tensor, torch::Tensor> fold(const torch::Tensor& w, const torch::Tensor& b,
                                             const BatchNorm& bn) {
  torch::NoGradGuard no_grad;
  const auto f32 = [](const torch::Tensor& t) { return t.detach().to(torch::kFloat32); };
  auto scale = f32(bn.weight) / torch::sqrt(f32(bn.running_var) + bn.options.eps());
  std::vector<int64_t> shape(w.dim(), 1);
  shape[0] = -1;
  auto bias = b.defined() ? f32(b) : torch::zeros_like(scale);
  return {f32(w) * scale.view(shape), (bias - f32(bn.running_mean)) * scale + f32(bn.bias)};
}

// `layer`'s parameters := `w`, `b` (cast to the dtype and device it had).
template <class Layer>
void set_weights(Layer& layer, const torch::Tensor& like, const torch::Tensor& w,
                 const torch::Tensor& b) {
  torch::NoGradGuard no_grad;
  layer->weight.set_data(w.to(like.options()).contiguous());
  layer->bias.set_data(b.to(like.options()).contiguous());
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> fold_batchnorm(const torch::Tensor& w,
                                                       const torch::Tensor& b,
                                                       const nn::BatchNorm1dImpl& bn) {
  return fold(w, b, bn);
}

std::pair<torch::Tensor, torch::Tensor> fold_batchnorm(const torch::Tensor& w,
                                                       const torch::Tensor& b,
                                                       const nn::BatchNorm2dImpl& bn) {
  return fold(w, b, bn);
}

nn::Sequential fold_for_inference(const nn::Sequential& seq) {
  nn::Sequential out;
  const auto n = seq->size();
  for (size_t i = 0; i < n; ++i) {
    const auto m = seq->ptr(i);
    const auto* bn2d = i + 1 < n ? seq->ptr(i + 1)->as<nn::BatchNorm2dImpl>() : nullptr;
    const auto* bn1d = i + 1 < n ? seq->ptr(i + 1)->as<nn::BatchNorm1dImpl>() : nullptr;
    if (const auto* conv = m->as<nn::Conv2dImpl>(); conv && bn2d) {
      const auto& o = conv->options;
      nn::Conv2d folded(nn::Conv2dOptions(o.in_channels(), o.out_channels(), o.kernel_size())
                            .stride(o.stride())
                            .padding(o.padding())
                            .dilation(o.dilation())
                            .groups(o.groups())
                            .padding_mode(o.padding_mode())
                            .bias(true));
      const auto [w, b] = fold(conv->weight, conv->bias, *bn2d);
      set_weights(folded, conv->weight, w, b);
      out->push_back(folded);
      ++i;
    } else if (const auto* lin = m->as<nn::LinearImpl>(); lin && bn1d) {
      auto options = lin->options;
      nn::Linear folded(options.bias(true));
      const auto [w, b] = fold(lin->weight, lin->bias, *bn1d);
      set_weights(folded, lin->weight, w, b);
      out->push_back(folded);
      ++i;
    } else if (!m->as<nn::DropoutImpl>()) {
      out->push_back(
          *(seq->begin() + static_cast<std::ptrdiff_t>(i)));  // shared: ReLU, Sigmoid, ...
    }
  }
  out->eval();
  return out;
}

void conv_weights_channels_last(nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules()) {
    if (auto* conv = m->as<nn::Conv2dImpl>())
      conv->weight.set_data(conv->weight.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

}  // namespace spikevid
