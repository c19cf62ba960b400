#include "models/decoder.h"

#include <type_traits>

#include <torch/torch.h>

#include "models/encoder.h"
#include "models/export.h"
#include "models/linear_decoder.h"
#include "models/model_file.h"
#include "models/ridge_path.h"
#include "models/sid.h"
#include "models/sid_lite.h"
#include "models/sid_lite_gru.h"
#include "models/torchscript.h"

namespace spikevid {

torch::Tensor OutputFilter::apply(const torch::Tensor& previous, const torch::Tensor& y) const {
  const auto change = torch::avg_pool2d(y - previous, 5, 1, 2, false, false).abs();
  const auto rate = ((change - lo) / (hi - lo)).clamp(0, 1) * (1 - alpha_min) + alpha_min;
  return previous + rate * (y - previous);
}

torch::Tensor OutputFilter::scene_cut(const torch::Tensor& previous,
                                      const torch::Tensor& estimate) const {
  const auto diff = estimate.to(torch::kFloat32).clamp(0, 1) - previous.to(torch::kFloat32);
  const auto change = torch::avg_pool2d(diff, 8, 8).abs().flatten(1).mean(1);
  return cut > 0 ? change > cut : torch::zeros_like(change, torch::kBool);
}

OutputFilter output_filter_from_meta(const nlohmann::json& meta, const std::string& path) {
  OutputFilter f;
  const auto t = meta.find("temporal");
  if (t == meta.end() || !t->is_object()) return f;
  const auto j = t->find("output_filter");
  if (j == t->end() || j->is_null()) return f;
  try {
    f = OutputFilter{j->at("alpha_min").get<double>(), j->at("lo").get<double>(),
                     j->at("hi").get<double>(), j->value("cut", 0.0)};
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(path + ": temporal.output_filter needs alpha_min, lo and hi");
  }
  if (const auto why = f.invalid(); !why.empty())
    throw std::runtime_error(path + ": temporal.output_filter: " + why);
  return f;
}

std::string OutputFilter::invalid() const {
  if (!(alpha_min > 0 && alpha_min <= 1)) return "alpha_min must be in (0, 1]";
  if (!(lo >= 0 && hi > lo && hi <= 1)) return "lo and hi must have 0 <= lo < hi <= 1";
  if (!(cut >= 0 && cut < 1)) return "cut must be in [0, 1) (0: no reset on a scene cut)";
  return "";
}

nlohmann::json OutputFilter::to_json() const {
  if (!on()) return nullptr;
  nlohmann::json j = {{"alpha_min", alpha_min}, {"lo", lo}, {"hi", hi}, {"window", 5}};
  if (cut > 0) j["cut"] = cut;
  return j;
}

namespace {

template <class Net>
class ModuleDecoder final : public Decoder {
 public:
  ModuleDecoder(Net net, DecoderInfo info, Modules modules, torch::Device device)
      : net_(std::move(net)) {
    info_ = std::move(info);
    net_->eval();
    if constexpr (!std::is_same_v<Net, LinearDecoder>) {
      if (modules == Modules::optimized) net_->prepare_for_inference(device.is_cpu());
    }
  }
  torch::Tensor decode(const torch::Tensor& counts) override {
    torch::NoGradGuard no_grad;
    return net_->forward(counts.flatten(1).to(dtype_)).clamp(0, 1).to(torch::kFloat32).contiguous();
  }
  bool temporal() const override { return std::is_same_v<Net, SidLiteGru>; }
  torch::Tensor decode_step(const torch::Tensor& counts, torch::Tensor& state) override {
    if constexpr (std::is_same_v<Net, SidLiteGru>) {
      torch::NoGradGuard no_grad;
      const auto x = counts.flatten(1).to(dtype_);
      if (!filter_.on()) return net_->step(x, state).clamp(0, 1).to(torch::kFloat32).contiguous();
      // With the output filter the state is [B, hidden + 4, 32, 32] in float32:
      // the GRU's state, then the filtered image folded 2×2 (float32: in
      // bfloat16 the filter's small steps would round away).
      const int64_t hidden = net_->hidden;
      const bool fresh = !state.defined() || state.size(0) != x.size(0);
      torch::Tensor h = fresh ? torch::Tensor() : state.narrow(1, 0, hidden);
      torch::Tensor previous, reset;
      const auto d = net_->dense_image(x);
      if (!fresh) {
        previous = torch::pixel_shuffle(state.narrow(1, hidden, 4), 2);
        if (filter_.cut > 0) reset = filter_.scene_cut(previous, d);
      }
      auto y = net_->step_dense(d, h, reset).clamp(0, 1).to(torch::kFloat32);
      if (!fresh) {
        const auto filtered = filter_.apply(previous, y);
        // A tile at a scene cut starts afresh: its new image whole.
        y = reset.defined() ? torch::where(reset.view({-1, 1, 1, 1}), y, filtered) : filtered;
      }
      state = torch::cat({h.to(torch::kFloat32), torch::pixel_unshuffle(y, 2)}, 1);
      return y.contiguous();
    } else {
      return decode(counts);
    }
  }
  OutputFilter output_filter() const override { return filter_; }
  void set_output_filter(const OutputFilter& f) override {
    if constexpr (std::is_same_v<Net, SidLiteGru>)
      filter_ = f;
    else
      Decoder::set_output_filter(f);
  }
  void to(torch::Device device) override { net_->to(device); }
  void set_precision(torch::ScalarType dtype) override {
    net_->to(dtype);
    dtype_ = dtype;
  }
  void save_torchscript(const std::string& path) const override {
    if constexpr (std::is_same_v<Net, SidLiteGru>) {
      // Not the SID-lite inside it alone: that would decode without the state.
      Decoder::save_torchscript(path);
      return;
    }
    auto m = to_torchscript(*net_);
    spikevid::save_torchscript(m, path);
  }

 private:
  Net net_;
  torch::ScalarType dtype_ = torch::kFloat32;
  OutputFilter filter_;
};

// The multi-window ridge decoder: the state holds the counts of the last K − 1
// windows; a fresh state takes the scene as still (the first window repeated).
class LinearMultiDecoder final : public Decoder {
 public:
  LinearMultiDecoder(LinearDecoder net, DecoderInfo info, int64_t windows)
      : net_(std::move(net)), windows_(windows) {
    info_ = std::move(info);
    net_->eval();
  }
  torch::Tensor decode(const torch::Tensor& counts) override {
    torch::Tensor fresh;
    return decode_step(counts, fresh);
  }
  bool temporal() const override { return true; }
  torch::Tensor decode_step(const torch::Tensor& counts, torch::Tensor& state) override {
    torch::NoGradGuard no_grad;
    auto x = counts.flatten(1).to(torch::kFloat32);
    const int64_t n = x.size(1);
    if (!state.defined() || state.size(0) != x.size(0)) state = x.repeat({1, windows_ - 1});
    auto all = torch::cat({state.to(torch::kFloat32), x}, 1);
    state = all.narrow(1, n, (windows_ - 1) * n).contiguous();
    return net_->forward(all).clamp(0, 1).contiguous();
  }
  void to(torch::Device device) override { net_->to(device); }
  void set_precision(torch::ScalarType) override {}  // ridge regression: float32 always

 private:
  LinearDecoder net_;
  int64_t windows_;
};

}  // namespace

void Decoder::save_torchscript(const std::string&) const {
  throw std::runtime_error(info_.path + ": a " + info_.architecture +
                           " decoder has no TorchScript export");
}

std::unique_ptr<Decoder> load_decoder(const std::string& path, const EncoderInfo& encoder,
                                      torch::Device device, Modules modules) {
  const int expected_inputs = encoder.n_cells * encoder.bins;
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".pt") == 0)
    return load_torchscript_decoder(path, expected_inputs, encoder.image_size, device);
  const ModelFile file = read_model_file(path);
  DecoderInfo info;
  try {
    const auto kind = file.meta.value("kind", std::string());
    info.architecture = file.meta.value("architecture", std::string());
    if (kind != "decoder")
      throw std::runtime_error(path + ": is " + (kind == "encoder" ? "an " : "a ") +
                               (kind.empty() ? "model" : kind) + " file (" + info.architecture +
                               "), not a decoder");
    info.path = path;
    info.encoder_id = file.meta.at("encoder").at("id").get<std::string>();
    info.n_inputs = file.meta.at("n_inputs").get<int>();
    info.image_size = file.meta.at("image_size").get<int>();
    info.meta = file.meta;
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(path +
                             ": decoder metadata lacks a field or has one of the wrong type");
  }
  if (info.encoder_id != encoder.id)
    throw std::runtime_error(path + ": decoder was trained with encoder " + info.encoder_id +
                             ", not with " + encoder.id +
                             (encoder.path.empty() ? std::string() : " (" + encoder.path + ")"));
  if (info.n_inputs != expected_inputs)
    throw std::runtime_error(path + ": decoder takes " + std::to_string(info.n_inputs) +
                             " inputs, encoder " + encoder.id + " gives " +
                             std::to_string(expected_inputs));
  std::unique_ptr<Decoder> decoder;
  if (info.architecture == "sid") {
    Sid net(info.n_inputs);
    load_module_state(*net, file, path);
    decoder = std::make_unique<ModuleDecoder<Sid>>(net, info, modules, device);
  } else if (info.architecture == "sid-lite") {
    const auto width = info.meta.value("width", kSidLiteWidth);
    if (width < 1 || width > 16384)
      throw std::runtime_error(path + ": sid-lite width " + std::to_string(width) +
                               " out of range");
    SidLite net(info.n_inputs, width, has_ridge_path(info.meta),
                sid_lite_refine_from_meta(info.meta, path));
    load_sid_lite_state(*net, file, path);
    decoder = std::make_unique<ModuleDecoder<SidLite>>(net, info, modules, device);
  } else if (info.architecture == "sid-lite-gru") {
    const auto width = info.meta.value("width", kSidLiteWidth);
    int64_t hidden = 0;
    try {
      hidden = info.meta.at("temporal").at("hidden").get<int64_t>();
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(path + ": sid-lite-gru decoder without temporal.hidden");
    }
    if (width < 1 || width > 16384 || hidden < 1 || hidden > 256)
      throw std::runtime_error(path + ": sid-lite-gru width " + std::to_string(width) +
                               " or hidden " + std::to_string(hidden) + " out of range");
    SidLiteGru net(info.n_inputs, width, has_ridge_path(info.meta), hidden,
                   sid_lite_refine_from_meta(info.meta, path));
    load_sid_lite_state(*net, file, path);
    auto d = std::make_unique<ModuleDecoder<SidLiteGru>>(net, info, modules, device);
    d->set_output_filter(output_filter_from_meta(info.meta, path));
    decoder = std::move(d);
  } else if (info.architecture == "linear-multi") {
    int64_t windows = 0;
    try {
      windows = info.meta.at("temporal").at("windows").get<int64_t>();
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(path + ": linear-multi decoder without temporal.windows");
    }
    if (windows < 2 || windows > 16)
      throw std::runtime_error(path + ": linear-multi windows " + std::to_string(windows) +
                               " out of range");
    LinearDecoder net(info.n_inputs * windows, info.image_size);
    load_module_state(*net, file, path);
    decoder = std::make_unique<LinearMultiDecoder>(net, info, windows);
  } else if (info.architecture == "linear") {
    LinearDecoder net(info.n_inputs, info.image_size);
    load_module_state(*net, file, path);
    decoder = std::make_unique<ModuleDecoder<LinearDecoder>>(net, info, modules, device);
  } else {
    throw std::runtime_error(path + ": unknown decoder architecture '" + info.architecture + "'");
  }
  decoder->to(device);
  return decoder;
}

}  // namespace spikevid
