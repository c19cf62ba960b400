#pragma once
// Training data as tensors on the training device, from a packed data file.
// Photos ("photos" packs) give fresh random 64×64 patches every epoch, cut at
// random scales so a patch looks like a scene, not a texture; labelled sets
// ("images" packs: MNIST, Fashion-MNIST) are resized to 64×64 once. The split
// is the pack's, by source file; validation and test sets are fixed.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

namespace spikevid {

constexpr int kPatchSize = 64;

struct DatasetOptions {
  int64_t val_count = 1000;   // fixed validation patches (photos)
  int64_t test_count = 2000;  // fixed test patches (photos)
  std::uint64_t seed = 7;     // where the fixed patches are cut
  // A patch is a square window whose side is this fraction of the photo's
  // long side (log-uniform), averaged down to 64×64: the photos at 0.1× to
  // 0.5× of their size, cropped (see shared/DATA.md).
  double min_fraction = 0.05;
  double max_fraction = 0.3;
  torch::Device device = torch::kCPU;
};

class Dataset {
 public:
  static Dataset load(const std::string& pack_path, const DatasetOptions& options);

  // Fresh training images for one epoch, [n,1,64,64] in [0,1] on the device:
  // n new patches, or (labelled sets) n images drawn without replacement.
  torch::Tensor train_epoch(int64_t n, std::mt19937_64& rng) const;
  const torch::Tensor& val() const { return val_; }
  const torch::Tensor& test() const { return test_; }
  int64_t train_size() const;  // photos: patches per epoch is the caller's choice
  const std::string& kind() const { return kind_; }
  const std::string& name() const { return name_; }
  nlohmann::json describe() const;  // pack, kind, sources of each split, counts

 private:
  torch::Tensor cut_patches(const std::vector<torch::Tensor>& photos, int64_t n,
                            std::mt19937_64& rng, bool flips) const;

  DatasetOptions options_;
  std::string path_, kind_, name_;
  std::vector<torch::Tensor> train_photos_;  // photos: [1,1,H,W] each
  torch::Tensor train_images_;               // images: [M,1,64,64]
  torch::Tensor val_, test_;
  nlohmann::json splits_;
};

// A 64×64 gray image tensor [1,1,64,64] in [0,1] from 8-bit pixels, resized
// with bilinear interpolation when it is not 64×64 (MNIST's 28×28).
torch::Tensor to_model_image(const std::uint8_t* pixels, int width, int height);
// Images [B,1,H,W] in [0,1] at 64×64, bilinear (returned as they are when already 64×64).
torch::Tensor resize_to_patch(const torch::Tensor& images);

}  // namespace spikevid
