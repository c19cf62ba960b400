#pragma once
// An encoder turns images into firing rates and spike counts, whatever model
// is behind it: the parametric retina, the fitted CNN, or a user's TorchScript.
// Threading: one caller at a time. rates()/spikes() run under NoGradGuard.
#include <memory>
#include <string>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "models/cell_table.h"

namespace spikevid {

constexpr double kDefaultWindowS = 1.0 / 30;  // one video frame

struct EncoderInfo {
  std::string id;            // architecture + content hash: what a decoder was trained with
  std::string architecture;  // "retina-dog", "cnn", "torchscript"
  std::string path;          // the file it came from ("" for the built-in retina)
  int image_size = 64;
  int n_cells = 0;
  CellTable cells;  // may be empty for TorchScript encoders
  double window_s = kDefaultWindowS;
  int bins = 1;
  nlohmann::json meta;  // the model file's metadata
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  // images [B,1,S,S] in [0,1] on the encoder's device → rates [B,N] in Hz.
  virtual torch::Tensor rates(const torch::Tensor& images) = 0;
  virtual void to(torch::Device device) = 0;
  // Weights and arithmetic in `dtype` (torch::kBFloat16: bfloat16, which
  // oneDNN runs on AMX tiles where the CPU has them); the rates come back
  // float32. float32 by default. The parametric retina stays float32.
  virtual void set_precision(torch::ScalarType dtype) = 0;
  // The encoder as a TorchScript file (models/export.h); throws
  // std::runtime_error for a kind that has no export.
  virtual void save_torchscript(const std::string& path) const;
  // Poisson counts [B,bins,N] for one window per image.
  torch::Tensor spikes(const torch::Tensor& images);
  const EncoderInfo& info() const { return info_; }
  EncoderInfo& mutable_info() { return info_; }

 protected:
  EncoderInfo info_;
};

struct RetinaConfig;
std::unique_ptr<Encoder> make_retina_encoder(const RetinaConfig& config);

// `spec` is "retina" (the default parametric retina), "retina:grid=G", a
// spikevid model file (.svm) or a TorchScript file (.pt). Throws
// std::runtime_error with one line naming the file and the problem.
std::unique_ptr<Encoder> load_encoder(const std::string& spec, torch::Device device);

// "float32", "float16" or "bfloat16" as a dtype; throws std::invalid_argument
// on anything else.
torch::ScalarType parse_precision(const std::string& name);

}  // namespace spikevid
