#pragma once
// A decoder turns spike counts back into images: SID, the linear (ridge)
// decoder, or a user's TorchScript. Threading: one caller at a time.
#include <memory>
#include <stdexcept>
#include <string>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "models/modules.h"

namespace spikevid {

struct EncoderInfo;

struct DecoderInfo {
  std::string architecture;  // "sid", "sid-lite", "sid-lite-gru", "linear", "torchscript"
  std::string path;
  std::string encoder_id;  // the encoder it was trained with ("" if unknown)
  int n_inputs = 0;        // bins × cells
  int image_size = 64;
  nlohmann::json meta;
};

// The output filter of a temporal decoder (sid-lite-gru; temporal.output_filter
// in its model file, set by `spikevid set-filter`): a motion-gated running
// average of its images, as video denoisers filter recursively. Per pixel,
//   c = |mean over 5×5 of (yₜ − ȳₜ₋₁)|,  a = alpha_min + (1 − alpha_min)·clamp((c − lo)/(hi − lo), 0, 1)
//   ȳₜ = ȳₜ₋₁ + a·(yₜ − ȳₜ₋₁)
// so where the image holds still the noise left is averaged away (a small
// rate), and where it changes (motion, a cut) the new image is taken whole.
// The first frame of a fresh state is taken as it is.
// With `cut` > 0 it also resets on a scene cut: where a tile's new frame-by-frame
// estimate (the dense image dₜ before the GRU) differs from the filtered image
// by more than `cut` on average over its 8×8 blocks,
//   mean over blocks of |mean over the block of (dₜ − ȳₜ₋₁)| > cut,
// that tile starts afresh (GRU state and filter, as a new stream): a cut is
// a new scene, and the state of the old one only holds the output back.
struct OutputFilter {
  double alpha_min = 1, lo = 0, hi = 1;  // alpha_min 1: off
  double cut = 0;                        // 0: no reset on a cut
  bool on() const { return alpha_min < 1; }
  torch::Tensor apply(const torch::Tensor& previous, const torch::Tensor& y) const;
  // The rows [B] (bool) of a scene cut between `previous` (the filtered images)
  // and `estimate` (the new dense images), both [B,1,S,S]; all false when cut is 0.
  torch::Tensor scene_cut(const torch::Tensor& previous, const torch::Tensor& estimate) const;
  std::string invalid() const;  // why the settings are out of range, "" when fine
  nlohmann::json to_json() const;  // null when off
};
OutputFilter output_filter_from_meta(const nlohmann::json& meta, const std::string& path);

class Decoder {
 public:
  virtual ~Decoder() = default;
  // counts [B,bins,N] (or [B,N]) on the decoder's device → images [B,1,S,S],
  // float32, clamped to [0,1]. Runs in eval mode under NoGradGuard, in the
  // decoder's precision (the counts are cast to it).
  // A temporal decoder decodes each row from a fresh state here (one window alone).
  virtual torch::Tensor decode(const torch::Tensor& counts) = 0;
  // Whether the decoder keeps a state from frame to frame (sid-lite-gru).
  virtual bool temporal() const { return false; }
  // One frame of B parallel sequences (tiles, streams): as decode(), reading
  // `state` (undefined: fresh) and replacing it by the state after this frame,
  // on the decoder's device and in its precision. A frame-by-frame decoder
  // leaves `state` alone.
  virtual torch::Tensor decode_step(const torch::Tensor& counts, torch::Tensor& state) {
    return decode(counts);
  }
  // A temporal decoder's output filter (from its model file; OutputFilter{}:
  // none). Setting it on a decoder that has none throws std::logic_error.
  virtual OutputFilter output_filter() const { return {}; }
  virtual void set_output_filter(const OutputFilter& f) {
    if (f.on()) throw std::logic_error(info_.path + ": only sid-lite-gru has an output filter");
  }
  virtual void to(torch::Device device) = 0;
  // Weights and arithmetic in `dtype` (torch::kHalf: half precision, for a
  // GPU); float32 by default.
  virtual void set_precision(torch::ScalarType dtype) = 0;
  // The decoder as a TorchScript file (models/export.h); throws
  // std::runtime_error for a kind that has no export.
  virtual void save_torchscript(const std::string& path) const;
  const DecoderInfo& info() const { return info_; }

 protected:
  DecoderInfo info_;
};

// Loads a decoder file (.svm) or TorchScript (.pt) and checks that it fits
// `encoder`: a decoder trained with another encoder fails with one line
// naming both.
std::unique_ptr<Decoder> load_decoder(const std::string& path, const EncoderInfo& encoder,
                                      torch::Device device, Modules modules = Modules::optimized);

}  // namespace spikevid
