#include "models/dataset.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <torch/nn/functional.h>
#include <torch/torch.h>

#include "io/pack_file.h"

namespace spikevid {
namespace F = torch::nn::functional;

torch::Tensor resize_to_patch(const torch::Tensor& images) {
  if (images.size(2) == kPatchSize && images.size(3) == kPatchSize) return images;
  return F::interpolate(images, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{kPatchSize, kPatchSize})
                                    .mode(torch::kBilinear)
                                    .align_corners(false))
      .clamp(0, 1);
}

torch::Tensor to_model_image(const std::uint8_t* pixels, int width, int height) {
  return resize_to_patch(
      torch::from_blob(const_cast<std::uint8_t*>(pixels), {1, 1, height, width}, torch::kUInt8)
          .to(torch::kFloat32)
          .div_(255.0));
}

Dataset Dataset::load(const std::string& pack_path, const DatasetOptions& options) {
  const Pack pack = read_pack(pack_path);
  Dataset d;
  d.options_ = options;
  d.path_ = pack_path;
  d.kind_ = pack.kind;
  d.name_ = pack.name;
  std::map<std::string, std::vector<std::string>> sources;
  std::map<std::string, std::vector<torch::Tensor>> photos, images;
  for (const auto& p : pack.images) {
    if (sources[p.split].empty() || sources[p.split].back() != p.source)
      sources[p.split].push_back(p.source);
    const auto* px = p.image.pixels.data();
    if (pack.kind == "photos") {
      auto t = torch::from_blob(const_cast<std::uint8_t*>(px),
                                {1, 1, p.image.height, p.image.width}, torch::kUInt8)
                   .to(torch::kFloat32)
                   .div_(255.0);
      if (std::min(p.image.width, p.image.height) < kPatchSize)
        throw std::runtime_error(pack_path + ": photo '" + p.source +
                                 "' is smaller than 64 pixels");
      photos[p.split].push_back(t.to(options.device));
    } else {
      images[p.split].push_back(to_model_image(px, p.image.width, p.image.height));
    }
  }
  auto need = [&](bool ok, const std::string& split) {
    if (!ok) throw std::runtime_error(pack_path + ": pack has no '" + split + "' images");
  };
  if (pack.kind == "photos") {
    for (const char* s : {"train", "val", "test"}) need(!photos[s].empty(), s);
    d.train_photos_ = photos["train"];
    // Fixed sets: their own generator, so they do not depend on training.
    std::mt19937_64 val_rng(options.seed), test_rng(options.seed + 1);
    d.val_ = d.cut_patches(photos["val"], options.val_count, val_rng, false);
    d.test_ = d.cut_patches(photos["test"], options.test_count, test_rng, false);
  } else {
    for (const char* s : {"train", "val", "test"}) need(!images[s].empty(), s);
    d.train_images_ = torch::cat(images["train"]).to(options.device);
    d.val_ = torch::cat(images["val"]).to(options.device);
    d.test_ = torch::cat(images["test"]).to(options.device);
  }
  d.splits_ = nlohmann::json::object();
  for (const auto& [split, names] : sources)
    d.splits_[split] = {{"sources", names.size()}, {"names", names}};
  if (pack.kind != "photos")  // thousands of digits: the counts say enough
    for (auto& [split, v] : d.splits_.items()) v.erase("names");
  return d;
}

torch::Tensor Dataset::cut_patches(const std::vector<torch::Tensor>& photos, int64_t n,
                                   std::mt19937_64& rng, bool flips) const {
  std::uniform_int_distribution<std::size_t> pick(0, photos.size() - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double log_lo = std::log(options_.min_fraction), log_hi = std::log(options_.max_fraction);
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto& photo = photos[pick(rng)];
    const int64_t h = photo.size(2), w = photo.size(3);
    const double frac = std::exp(log_lo + (log_hi - log_lo) * unit(rng));
    // Never upsample: a window under 64 pixels would blur the patch.
    int64_t side = static_cast<int64_t>(std::lround(frac * static_cast<double>(std::max(h, w))));
    side = std::clamp<int64_t>(side, kPatchSize, std::min(h, w));
    const auto y0 = static_cast<int64_t>(unit(rng) * static_cast<double>(h - side + 1));
    const auto x0 = static_cast<int64_t>(unit(rng) * static_cast<double>(w - side + 1));
    auto crop =
        photo.narrow(2, std::min(y0, h - side), side).narrow(3, std::min(x0, w - side), side);
    auto patch = side == kPatchSize
                     ? crop
                     : F::adaptive_avg_pool2d(crop, F::AdaptiveAvgPool2dFuncOptions(kPatchSize));
    if (flips && unit(rng) < 0.5) patch = patch.flip({3});
    out.push_back(patch);
  }
  return torch::cat(out).contiguous();
}

torch::Tensor Dataset::train_epoch(int64_t n, std::mt19937_64& rng) const {
  if (kind_ == "photos") return cut_patches(train_photos_, n, rng, true);
  const int64_t m = train_images_.size(0);
  std::vector<int64_t> idx(static_cast<std::size_t>(m));
  std::iota(idx.begin(), idx.end(), 0);
  std::shuffle(idx.begin(), idx.end(), rng);
  idx.resize(static_cast<std::size_t>(std::min(n, m)));
  auto index = torch::tensor(idx, torch::kLong).to(train_images_.device());
  return train_images_.index_select(0, index);
}

int64_t Dataset::train_size() const {
  return kind_ == "photos" ? static_cast<int64_t>(train_photos_.size()) : train_images_.size(0);
}

nlohmann::json Dataset::describe() const {
  return {{"pack", path_},
          {"name", name_},
          {"kind", kind_},
          {"splits", splits_},
          {"val_count", val_.size(0)},
          {"test_count", test_.size(0)},
          {"patch", kind_ == "photos" ? nlohmann::json{{"size", kPatchSize},
                                                       {"min_fraction", options_.min_fraction},
                                                       {"max_fraction", options_.max_fraction},
                                                       {"seed", options_.seed}}
                                      : nlohmann::json{{"resized_to", kPatchSize}}}};
}

}  // namespace spikevid
