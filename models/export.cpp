#include "models/export.h"

#include <stdexcept>
#include <utility>

#include <torch/script.h>
#include <torch/torch.h>

#include "io/output_file.h"
#include "models/cnn_encoder.h"
#include "models/inference.h"
#include "models/linear_decoder.h"
#include "models/sid.h"
#include "models/sid_lite.h"

namespace spikevid {
namespace {
namespace nn = torch::nn;

// One TorchScript forward under construction: its lines, and the module that
// holds its tensors (float32 buffers).
class Script {
 public:
  explicit Script(const std::string& name) : module_(name) {}
  std::string tensor(const torch::Tensor& t) {
    const auto name = "t" + std::to_string(count_++);
    module_.register_buffer(name, t.detach().to(torch::kCPU, torch::kFloat32).contiguous().clone());
    return "self." + name;
  }
  void line(const std::string& s) { body_ += "    " + s + "\n"; }
  torch::jit::Module finish() {
    module_.define("def forward(self, x):\n" + body_);
    module_.eval();
    return module_;
  }
  torch::jit::Module& module() { return module_; }

 private:
  torch::jit::Module module_;
  std::string body_;
  int count_ = 0;
};

std::string ints(int64_t a, int64_t b) {
  return "[" + std::to_string(a) + ", " + std::to_string(b) + "]";
}

// `x` := the sequential applied to `x` (eval mode: no dropout).
void emit(Script& s, const nn::Sequential& seq, const std::string& x) {
  const auto n = seq->size();
  for (size_t i = 0; i < n; ++i) {
    const auto m = seq->ptr(i);
    const auto next_bn2d = i + 1 < n ? seq->ptr(i + 1)->as<nn::BatchNorm2dImpl>() : nullptr;
    const auto next_bn1d = i + 1 < n ? seq->ptr(i + 1)->as<nn::BatchNorm1dImpl>() : nullptr;
    if (const auto* conv = m->as<nn::Conv2dImpl>()) {
      auto [w, b] = next_bn2d ? fold_batchnorm(conv->weight, conv->bias, *next_bn2d)
                              : std::make_pair(conv->weight, conv->bias);
      if (next_bn2d) ++i;
      const auto& o = conv->options;
      const auto pad = c10::get<torch::ExpandingArray<2>>(o.padding());
      const bool replicate = c10::holds_alternative<torch::enumtype::kReplicate>(o.padding_mode());
      TORCH_CHECK(c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()) || replicate,
                  "export: a padding mode other than zeros or replicate");
      if (replicate)
        s.line(x + " = torch.replication_pad2d(" + x + ", [" + std::to_string(pad->at(1)) + ", " +
               std::to_string(pad->at(1)) + ", " + std::to_string(pad->at(0)) + ", " +
               std::to_string(pad->at(0)) + "])");
      const auto p = replicate ? ints(0, 0) : ints(pad->at(0), pad->at(1));
      s.line(x + " = torch.conv2d(" + x + ", " + s.tensor(w) + ", " +
             (b.defined() ? s.tensor(b) : std::string("None")) + ", " +
             ints(o.stride()->at(0), o.stride()->at(1)) + ", " + p + ")");
    } else if (const auto* lin = m->as<nn::LinearImpl>()) {
      auto [w, b] = next_bn1d ? fold_batchnorm(lin->weight, lin->bias, *next_bn1d)
                              : std::make_pair(lin->weight, lin->bias);
      if (next_bn1d) ++i;
      s.line(x + " = torch.linear(" + x + ", " + s.tensor(w) + ", " + s.tensor(b) + ")");
    } else if (m->as<nn::ReLUImpl>()) {
      s.line(x + " = torch.relu(" + x + ")");
    } else if (m->as<nn::SigmoidImpl>()) {
      s.line(x + " = torch.sigmoid(" + x + ")");
    } else if (m->as<nn::DropoutImpl>()) {
      // identity at inference
    } else if (const auto* up = m->as<nn::UpsampleImpl>()) {
      TORCH_CHECK(c10::holds_alternative<torch::enumtype::kNearest>(up->options.mode()) &&
                      up->options.scale_factor().has_value(),
                  "export: only nearest upsampling by a scale factor");
      const auto& f = *up->options.scale_factor();
      s.line(x + " = torch.upsample_nearest2d(" + x + ", None, [" + std::to_string(f.at(0)) + ", " +
             std::to_string(f.at(1)) + "])");
    } else {
      throw std::runtime_error("export: no TorchScript for module " + m->name());
    }
  }
}

void emit_scaling(Script& s, const torch::Tensor& min, const torch::Tensor& range) {
  s.line("c = x.flatten(1)");
  s.line("x = (c - " + s.tensor(min) + ") / " + s.tensor(range));
}

}  // namespace

torch::jit::Module to_torchscript(const SidImpl& net) {
  Script s("spikevid_sid");
  emit_scaling(s, net.input_min, net.input_range);
  emit(s, net.dense, "x");
  s.line("x = x.view([-1, 1, 64, 64])");
  emit(s, net.autoencoder, "x");
  s.line("return torch.clamp(x, 0.0, 1.0)");
  return s.finish();
}

torch::jit::Module to_torchscript(const SidLiteImpl& net) {
  Script s("spikevid_sid_lite");
  emit_scaling(s, net.input_min, net.input_range);
  emit(s, net.dense, "x");
  if (!net.ridge.is_empty())
    s.line("x = torch.linear(c, " + s.tensor(net.ridge->weight) + ", " + s.tensor(net.ridge->bias) +
           ") + (x - 0.5)");
  s.line("d = x.view([-1, 1, 64, 64])");
  s.line("e = d");
  emit(s, net.down1, "e");
  s.line("f = e");
  emit(s, net.down2, "f");
  s.line("f = torch.conv2d(f, " + s.tensor(net.lateral->weight) + ", " +
         s.tensor(net.lateral->bias) + ")");
  s.line("g = e + torch.upsample_nearest2d(f, [e.size(2), e.size(3)], None)");
  emit(s, net.merge, "g");
  s.line("g = torch.conv2d(g, " + s.tensor(net.out->weight) + ", " + s.tensor(net.out->bias) +
         ", [1, 1], [1, 1])");
  s.line("return torch.clamp(d + torch.pixel_shuffle(g, 2), 0.0, 1.0)");
  return s.finish();
}

torch::jit::Module to_torchscript(const LinearDecoderImpl& net) {
  Script s("spikevid_linear");
  const auto side = std::to_string(net.image_size);
  s.line("x = torch.addmm(" + s.tensor(net.output_mean) + ", x.flatten(1) - " +
         s.tensor(net.input_mean) + ", " + s.tensor(net.weight) + ")");
  s.line("return torch.clamp(x.view([-1, 1, " + side + ", " + side + "]), 0.0, 1.0)");
  return s.finish();
}

torch::jit::Module to_torchscript(const CnnEncoderImpl& net, double window_s, int bins) {
  Script s("spikevid_cnn_encoder");
  const auto k1 = net.conv1->options.kernel_size()->at(0) / 2;
  const auto k2 = net.conv2->options.kernel_size()->at(0) / 2;
  const auto pad = [](int64_t p) {
    const auto q = std::to_string(p);
    return "[" + q + ", " + q + ", " + q + ", " + q + "]";
  };
  // Replicate padding in float32: LibTorch 1.13 has no bfloat16 kernel for it
  // on the CPU (as models/cnn_encoder.cpp), so a module moved to bfloat16 runs.
  s.line("dt = x.dtype");
  s.line("x = torch.replication_pad2d(x.float() - 0.5, " + pad(k1) + ").to(dt)");
  s.line("x = torch.elu(torch.conv2d(x, " + s.tensor(net.conv1->weight) + ", " +
         s.tensor(net.conv1->bias) + "))");
  s.line("x = torch.replication_pad2d(x.float(), " + pad(k2) + ").to(dt)");
  s.line("x = torch.elu(torch.conv2d(x, " + s.tensor(net.conv2->weight) + ", " +
         s.tensor(net.conv2->bias) + ", [2, 2]))");
  s.line("x = x.flatten(2).matmul(" + s.tensor(net.mask.t()) + ")");
  s.line("x = (x * " + s.tensor(net.features.t().unsqueeze(0)) + ").sum(1) + " +
         s.tensor(net.bias));
  s.line("return " + std::to_string(kCnnRateScale) + " * torch.softplus(x)");
  s.module().register_attribute("window_s", c10::FloatType::get(), window_s);
  s.module().register_attribute("bins", c10::IntType::get(), static_cast<int64_t>(bins));
  return s.finish();
}

void save_torchscript(torch::jit::Module& module, const std::string& path) {
  OutputFile file(path, {});  // NAME.part-PID under a lock, renamed into place when whole
  try {
    module.save(file.part_path());
  } catch (const std::exception&) {
    file.discard();
    throw std::runtime_error(path + ": write failed (disk full?)");
  }
  file.commit();
}

}  // namespace spikevid
