#pragma once
// Small data for the models' tests, written by the tests themselves.
#include <cmath>
#include <filesystem>
#include <random>
#include <string>

#include <unistd.h>

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "io/pack_file.h"
#include "models/linear_decoder.h"

namespace spikevid::testing {

// A fresh empty folder under the system temp dir, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    path = std::filesystem::temp_directory_path() /
           ("spikevid-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

// Weights and BatchNorm statistics away from their starting values, so that
// folding is put to the test.
inline void perturb(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.add_(torch::randn_like(p) * 0.05);
  for (auto& b : m.named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.2);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
  }
}

// A fitted-looking ridge decoder: means and small weights at random.
inline void randomize(LinearDecoderImpl& ridge) {
  torch::NoGradGuard no_grad;
  ridge.input_mean.uniform_(0, 3);
  ridge.weight.normal_(0, 0.01);
  ridge.output_mean.uniform_(0, 1);
}

// A photo pack: smooth random scenes (sums of blobs), two per split. With
// `clips`, a view mix and a 5-frame clip in each split too (frames of the same
// kind of scene, 120×96).
inline std::string write_photo_pack(const TempDir& dir, bool clips = false) {
  Pack p{"photos", "test-photos", "test", {}};
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  const char* splits[] = {"train", "train", "val", "val", "test", "test"};
  const int n = clips ? 21 : 6;
  for (int k = 0; k < n; ++k) {
    GrayImage im{160, 128, std::vector<std::uint8_t>(160 * 128)};
    double cx[4], cy[4], a[4];
    for (int b = 0; b < 4; ++b) cx[b] = u(rng) * 160, cy[b] = u(rng) * 128, a[b] = u(rng) - 0.5;
    for (int y = 0; y < 128; ++y)
      for (int x = 0; x < 160; ++x) {
        double v = 0.5;
        for (int b = 0; b < 4; ++b)
          v += a[b] * std::exp(-((x - cx[b]) * (x - cx[b]) + (y - cy[b]) * (y - cy[b])) / 900.0);
        im.pixels[y * 160 + x] =
            static_cast<std::uint8_t>(std::lround(255 * std::min(1.0, std::max(0.0, v))));
      }
    if (k < 6) {
      p.images.push_back({"photo" + std::to_string(k), -1, splits[k], im});
      continue;
    }
    const int clip = (k - 6) / 5;  // frames 120x96 cut from the scene
    GrayImage f{120, 96, {}};
    for (int y = 0; y < 96; ++y)
      for (int x = 0; x < 120; ++x) f.pixels.push_back(im.pixels[y * 160 + x + (k - 6) % 5]);
    p.images.push_back({"clip" + std::to_string(clip), -1, splits[2 * clip], f, (k - 6) % 5});
  }
  if (clips) p.views = ViewMix{0.5, 0.5, 0.05, 1.0, true, 0.1, 0.3, true};
  const auto path = dir / (clips ? "scenes.pack" : "photos.pack");
  write_pack(path, p);
  return path;
}

}  // namespace spikevid::testing
