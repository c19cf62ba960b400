#include "models/encoder.h"

#include <torch/torch.h>

#include "models/cnn_encoder.h"
#include "models/export.h"
#include "models/model_file.h"
#include "models/retina.h"
#include "models/spikes.h"
#include "models/torchscript.h"

namespace spikevid {
namespace {

// An Encoder over a LibTorch module held in eval mode.
template <class Net>
class ModuleEncoder : public Encoder {
 public:
  explicit ModuleEncoder(Net net) : net_(std::move(net)) {
    if (!net_.is_empty()) net_->eval();
  }
  torch::Tensor rates(const torch::Tensor& images) override {
    torch::NoGradGuard no_grad;
    auto r = net_->forward(images.to(dtype_));
    return dtype_ == torch::kFloat32 ? r : r.to(torch::kFloat32);
  }
  void to(torch::Device device) override { net_->to(device); }
  void set_precision(torch::ScalarType dtype) override {
    net_->to(dtype);
    dtype_ = dtype;
  }

 protected:
  Net net_;
  torch::ScalarType dtype_ = torch::kFloat32;
};

class RetinaEncoder final : public ModuleEncoder<Retina> {
 public:
  explicit RetinaEncoder(const RetinaConfig& config) : ModuleEncoder(Retina(config)) {
    const auto cfg = to_json(config);
    const auto text = cfg.dump();
    info_.architecture = "retina-dog";
    info_.id = "retina-dog-" + fnv1a_hex(text.data(), text.size()).substr(0, 12);
    info_.image_size = config.image_size;
    info_.cells = net_->cells;
    info_.n_cells = static_cast<int>(info_.cells.size());
    info_.meta = {{"kind", "encoder"}, {"architecture", info_.architecture}, {"config", cfg}};
  }
  // The retina stays float32: LibTorch 1.13 has no bfloat16 grid sampling on
  // the CPU, and one small convolution has little to gain.
  void set_precision(torch::ScalarType) override {}
};

class CnnFileEncoder final : public ModuleEncoder<CnnEncoder> {
 public:
  CnnFileEncoder(const ModelFile& file, const std::string& path, torch::Device device)
      : ModuleEncoder(nullptr) {
    const auto& meta = file.meta;
    CnnEncoderConfig c;
    c.image_size = meta.at("image_size").get<int>();
    c.channels = meta.at("config").at("channels").get<int>();
    c.n_cells = meta.at("n_cells").get<int>();
    info_.cells = cells_from_json(meta.at("cells"));
    net_ = CnnEncoder(c, CellTable{});
    load_module_state(*net_, file, path);
    net_->eval();
    net_->to(device);
    info_.architecture = "cnn";
    info_.id = "cnn-" + file.content_hash.substr(0, 12);
    info_.path = path;
    info_.image_size = c.image_size;
    info_.n_cells = c.n_cells;
    info_.window_s = meta.value("window_s", kDefaultWindowS);
    info_.bins = meta.value("bins", 1);
    info_.meta = meta;
  }
  void save_torchscript(const std::string& path) const override {
    auto m = to_torchscript(*net_, info_.window_s, info_.bins);
    spikevid::save_torchscript(m, path);
  }
};

RetinaConfig parse_retina_spec(const std::string& spec) {
  RetinaConfig c;
  if (spec == "retina") return c;
  const std::string prefix = "retina:grid=";
  if (spec.rfind(prefix, 0) == 0) {
    try {
      std::size_t used = 0;
      c.grid = std::stoi(spec.substr(prefix.size()), &used);
      if (used == spec.size() - prefix.size() && c.grid >= 1 && c.grid <= c.image_size) return c;
    } catch (const std::exception&) {
    }
  }
  throw std::runtime_error(spec +
                           ": not an encoder spec (use 'retina', 'retina:grid=G' with G in 1..64, "
                           "a .svm model file or a TorchScript .pt file)");
}

}  // namespace

void Encoder::save_torchscript(const std::string&) const {
  throw std::runtime_error(info_.id + ": this encoder kind (" + info_.architecture +
                           ") has no TorchScript export");
}

torch::Tensor Encoder::spikes(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  return draw_spikes(rates(images), info_.window_s, info_.bins);
}

std::unique_ptr<Encoder> make_retina_encoder(const RetinaConfig& config) {
  return std::make_unique<RetinaEncoder>(config);
}

std::unique_ptr<Encoder> load_encoder(const std::string& spec, torch::Device device) {
  if (spec.rfind("retina", 0) == 0) {
    auto e = make_retina_encoder(parse_retina_spec(spec));
    e->to(device);
    return e;
  }
  if (spec.size() > 3 && spec.compare(spec.size() - 3, 3, ".pt") == 0)
    return load_torchscript_encoder(spec, device);
  const ModelFile file = read_model_file(spec);
  const auto kind = file.meta.value("kind", std::string());
  const auto arch = file.meta.value("architecture", std::string());
  if (kind != "encoder")
    throw std::runtime_error(spec + ": is a " + (kind.empty() ? "model" : kind) + " file (" + arch +
                             "), not an encoder");
  if (arch == "cnn") {
    try {
      return std::make_unique<CnnFileEncoder>(file, spec, device);
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(spec +
                               ": encoder metadata lacks a field or has one of the wrong type");
    }
  }
  if (arch == "retina-dog") {
    try {
      auto e = make_retina_encoder(retina_config_from_json(file.meta.at("config")));
      e->to(device);
      return e;
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(spec +
                               ": retina configuration lacks a field or has one of the wrong type");
    }
  }
  throw std::runtime_error(spec + ": unknown encoder architecture '" + arch + "'");
}

torch::ScalarType parse_precision(const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float16") return torch::kHalf;
  if (name == "bfloat16") return torch::kBFloat16;
  throw std::invalid_argument("precision: expected float32, float16 or bfloat16, got '" + name +
                              "'");
}

}  // namespace spikevid
