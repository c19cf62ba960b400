#include "models/torchscript.h"

#include <fstream>
#include <sstream>

#include <torch/script.h>

#include "models/decoder.h"
#include "models/encoder.h"
#include "models/model_file.h"

namespace spikevid {
namespace {

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  return fnv1a_hex(bytes.data(), bytes.size());
}

torch::jit::Module load_module(const std::string& path, torch::Device device) {
  try {
    auto m = torch::jit::load(path, device);
    m.eval();
    return m;
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": not a TorchScript file torch::jit::load can read");
  }
}

torch::Tensor run(torch::jit::Module& m, const torch::Tensor& x, const std::string& path) {
  try {
    return m.forward({x}).toTensor();
  } catch (const std::exception&) {
    std::ostringstream msg;
    msg << path << ": TorchScript module failed on input of shape " << x.sizes();
    throw std::runtime_error(msg.str());
  }
}

class ScriptEncoder final : public Encoder {
 public:
  ScriptEncoder(const std::string& path, torch::Device device)
      : module_(load_module(path, device)), path_(path) {
    torch::NoGradGuard no_grad;
    auto probe =
        run(module_, torch::zeros({1, 1, 64, 64}, torch::TensorOptions().device(device)), path);
    if (probe.dim() != 2 || probe.size(0) != 1)
      throw std::runtime_error(path + ": TorchScript encoder must map [B,1,64,64] to [B,N]");
    info_.architecture = "torchscript";
    info_.id = "torchscript-" + file_hash(path).substr(0, 12);
    info_.path = path;
    info_.n_cells = static_cast<int>(probe.size(1));
    info_.meta = {{"kind", "encoder"}, {"architecture", "torchscript"}, {"path", path}};
  }
  torch::Tensor rates(const torch::Tensor& images) override {
    torch::NoGradGuard no_grad;
    auto r = run(module_, images.to(dtype_), path_);
    return dtype_ == torch::kFloat32 ? r : r.to(torch::kFloat32);
  }
  void to(torch::Device device) override { module_.to(device); }
  void set_precision(torch::ScalarType dtype) override {
    module_.to(dtype);
    dtype_ = dtype;
  }

 private:
  torch::jit::Module module_;
  std::string path_;
  torch::ScalarType dtype_ = torch::kFloat32;
};

class ScriptDecoder final : public Decoder {
 public:
  ScriptDecoder(const std::string& path, int n_inputs, int image_size, torch::Device device)
      : module_(load_module(path, device)), path_(path) {
    torch::NoGradGuard no_grad;
    auto probe =
        run(module_, torch::zeros({1, n_inputs}, torch::TensorOptions().device(device)), path);
    if (probe.dim() != 4 || probe.size(0) != 1 || probe.size(1) != 1 ||
        probe.size(2) != image_size || probe.size(3) != image_size)
      throw std::runtime_error(path + ": TorchScript decoder must map [B," +
                               std::to_string(n_inputs) + "] to [B,1," +
                               std::to_string(image_size) + "," + std::to_string(image_size) + "]");
    info_.architecture = "torchscript";
    info_.path = path;
    info_.n_inputs = n_inputs;
    info_.image_size = image_size;
    info_.meta = {{"kind", "decoder"}, {"architecture", "torchscript"}, {"path", path}};
  }
  torch::Tensor decode(const torch::Tensor& counts) override {
    torch::NoGradGuard no_grad;
    return run(module_, counts.flatten(1).to(dtype_), path_).clamp(0, 1).to(torch::kFloat32);
  }
  void to(torch::Device device) override { module_.to(device); }
  void set_precision(torch::ScalarType dtype) override {
    module_.to(dtype);
    dtype_ = dtype;
  }

 private:
  torch::jit::Module module_;
  std::string path_;
  torch::ScalarType dtype_ = torch::kFloat32;
};

}  // namespace

std::unique_ptr<Encoder> load_torchscript_encoder(const std::string& path, torch::Device device) {
  return std::make_unique<ScriptEncoder>(path, device);
}

std::unique_ptr<Decoder> load_torchscript_decoder(const std::string& path, int n_inputs,
                                                  int image_size, torch::Device device) {
  return std::make_unique<ScriptDecoder>(path, n_inputs, image_size, device);
}

}  // namespace spikevid
