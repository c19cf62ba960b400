#pragma once
// Training data as tensors on the training device, from a packed data file.
// "photos" packs (photos, and video frames by clip) give fresh random 64×64
// views every epoch, drawn as the pack's view mix says (io/pack_file.h
// ViewMix): whole-image views, patches at random scales, video frames, with
// flips and brightness and contrast jitter. Labelled sets ("images" packs:
// MNIST, Fashion-MNIST) are resized to 64×64 once. The split is the pack's, by
// source file; validation and test sets are fixed by a seed.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "io/gray_image.h"
#include "io/pack_file.h"

namespace spikevid {

constexpr int kPatchSize = 64;
constexpr int64_t kValSequenceFrames = 24;

struct DatasetOptions {
  int64_t val_count = 1000;   // fixed validation patches (photos)
  int64_t test_count = 2000;  // fixed test patches (photos)
  std::uint64_t seed = 7;     // where the fixed patches are cut
  // The test and validation patches: square windows whose side is this
  // fraction of the photo's long side (log-uniform), averaged down to 64×64:
  // the photos at 0.1× to 0.5× of their size, cropped (see shared/DATA.md).
  // A pack without a view mix trains on these patches too.
  double min_fraction = 0.05;
  double max_fraction = 0.3;
  torch::Device device = torch::kCPU;
};

class Dataset {
 public:
  static Dataset load(const std::string& pack_path, const DatasetOptions& options);

  // Fresh training images for one epoch, [n,1,64,64] in [0,1] on the device:
  // n new views, or (labelled sets) n images drawn without replacement.
  torch::Tensor train_epoch(int64_t n, std::mt19937_64& rng) const;
  // Fresh training sequences for a temporal decoder, [n,length,1,64,64] in
  // [0,1]: a share (the view mix's video share, at least a quarter) are runs of
  // consecutive frames of a training clip through one fixed window; the rest
  // are views of a photo that move as eyes and cameras do: held still with
  // fixational jitter, panned, zoomed, a saccade-like jump to another place,
  // or a cut to another photo partway. Windows as the view mix draws them,
  // flips and brightness and contrast jitter fixed over a sequence.
  torch::Tensor train_sequences(int64_t n, int64_t length, std::mt19937_64& rng) const;
  // Fixed validation sequences of kValSequenceFrames frames [S,L,1,64,64]: the
  // 3×4 tiles of each validation clip's first frames (one sequence a tile), and
  // each validation photo's whole view held still and panned. Empty for
  // labelled sets and packs without a view mix.
  const torch::Tensor& val_sequences() const { return val_sequences_; }
  // Validation images: patches; with a view mix also whole-image views of the
  // validation photos and the 3×4 tiles of frames of the validation clips.
  const torch::Tensor& val() const { return val_; }
  const torch::Tensor& test() const { return test_; }  // test patches, as always
  // Each test patch's window side over its photo's short side (1: the whole
  // short side), for scores by scale.
  const std::vector<double>& test_scales() const { return test_scales_; }
  // One centred whole-image view of every test photo (the short side resized
  // to 64, the centre cropped); empty for labelled sets.
  const torch::Tensor& test_whole() const { return test_whole_; }
  // The test clips' frames in order, as packed (8-bit gray), by clip name.
  const std::map<std::string, std::vector<GrayImage>>& test_clips() const { return test_clips_; }
  int64_t train_size() const;  // photos and frames: views per epoch is the caller's choice
  int64_t train_clips() const { return static_cast<int64_t>(train_clips_.size()); }
  const std::string& kind() const { return kind_; }
  const std::string& name() const { return name_; }
  const ViewMix& views() const { return views_; }
  nlohmann::json describe() const;  // pack, kind, view mix, sources of each split, counts

 private:
  struct Clip {
    std::vector<torch::Tensor> frames;  // [1,1,H,W] uint8 each, in order
  };
  torch::Tensor cut_patches(const std::vector<torch::Tensor>& photos, int64_t n,
                            std::mt19937_64& rng, bool flips,
                            std::vector<double>* scales = nullptr) const;
  torch::Tensor cut_view(const torch::Tensor& source, std::mt19937_64& rng) const;
  torch::Tensor photo_sequence(int64_t length, std::mt19937_64& rng) const;
  torch::Tensor clip_sequence(int64_t length, std::mt19937_64& rng) const;

  DatasetOptions options_;
  ViewMix views_;
  std::string path_, kind_, name_;
  std::vector<torch::Tensor> train_photos_;  // photos: [1,1,H,W] uint8 each, on the device
  std::vector<Clip> train_clips_;
  torch::Tensor train_images_;  // images: [M,1,64,64]
  torch::Tensor val_, test_, test_whole_, val_sequences_;
  std::vector<double> test_scales_;
  std::map<std::string, std::vector<GrayImage>> test_clips_;
  nlohmann::json splits_;
};

// A 64×64 gray image tensor [1,1,64,64] in [0,1] from 8-bit pixels, resized
// with bilinear interpolation when it is not 64×64 (MNIST's 28×28).
torch::Tensor to_model_image(const std::uint8_t* pixels, int width, int height);
// Images [B,1,H,W] in [0,1] at 64×64, bilinear (returned as they are when already 64×64).
torch::Tensor resize_to_patch(const torch::Tensor& images);
// The centred square of the short side of `image` ([1,1,H,W], any dtype),
// averaged down to [1,1,64,64] float in [0,1] (uint8 input is scaled by 1/255).
torch::Tensor whole_view(const torch::Tensor& image);

}  // namespace spikevid
