#include "models/dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <torch/nn/functional.h>
#include <torch/torch.h>

namespace spikevid {
namespace F = torch::nn::functional;

namespace {

// Validation frames per clip, evenly spaced, each cut into the 3×4 tiles that
// `transcode --tiles 3x4` feeds the decoder (64-pixel tiles overlapping by 16).
constexpr int64_t kValFramesPerClip = 12;
constexpr int64_t kValTileRows = 3, kValTileCols = 4, kValTileStep = 48;

torch::Tensor as_unit_float(const torch::Tensor& t) {
  return t.scalar_type() == torch::kUInt8 ? t.to(torch::kFloat32).div_(255.0)
                                          : t.to(torch::kFloat32);
}

// The window [y0, y0+side) × [x0, x0+side) of `image`, averaged down to 64×64.
torch::Tensor window(const torch::Tensor& image, int64_t y0, int64_t x0, int64_t side) {
  auto crop = as_unit_float(image.narrow(2, y0, side).narrow(3, x0, side));
  return side == kPatchSize
             ? crop
             : F::adaptive_avg_pool2d(crop, F::AdaptiveAvgPool2dFuncOptions(kPatchSize));
}

// The 3×4 tiles of one frame, as the tiled video commands cut them: the
// largest centred crop with the grid's aspect, averaged down to the grid's size.
torch::Tensor tiles_of(const torch::Tensor& frame) {
  const int64_t gh = kValTileRows * kValTileStep + (kPatchSize - kValTileStep);
  const int64_t gw = kValTileCols * kValTileStep + (kPatchSize - kValTileStep);
  const int64_t h = frame.size(2), w = frame.size(3);
  int64_t ch = h, cw = h * gw / gh;
  if (cw > w) {
    cw = w;
    ch = w * gh / gw;
  }
  auto crop = as_unit_float(frame.narrow(2, (h - ch) / 2, ch).narrow(3, (w - cw) / 2, cw));
  auto grid = F::adaptive_avg_pool2d(crop, F::AdaptiveAvgPool2dFuncOptions({gh, gw}));
  std::vector<torch::Tensor> tiles;
  for (int64_t r = 0; r < kValTileRows; ++r)
    for (int64_t c = 0; c < kValTileCols; ++c)
      tiles.push_back(
          grid.narrow(2, r * kValTileStep, kPatchSize).narrow(3, c * kValTileStep, kPatchSize));
  return torch::cat(tiles);
}

torch::Tensor uint8_tensor(const GrayImage& g, torch::Device device) {
  return torch::from_blob(const_cast<std::uint8_t*>(g.pixels.data()), {1, 1, g.height, g.width},
                          torch::kUInt8)
      .clone()
      .to(device);
}

// The square window of side `side` centred near (cy, cx), moved inside `image`.
torch::Tensor window_at(const torch::Tensor& image, double cy, double cx, int64_t side) {
  const int64_t h = image.size(2), w = image.size(3);
  side = std::clamp<int64_t>(side, kPatchSize, std::min(h, w));
  const auto y0 = std::clamp<int64_t>(std::lround(cy - side / 2.0), 0, h - side);
  const auto x0 = std::clamp<int64_t>(std::lround(cx - side / 2.0), 0, w - side);
  return window(image, y0, x0, side);
}

}  // namespace

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

torch::Tensor whole_view(const torch::Tensor& image) {
  const int64_t h = image.size(2), w = image.size(3), side = std::min(h, w);
  return window(image, (h - side) / 2, (w - side) / 2, side);
}

Dataset Dataset::load(const std::string& pack_path, const DatasetOptions& options) {
  const Pack pack = read_pack(pack_path);
  Dataset d;
  d.options_ = options;
  d.path_ = pack_path;
  d.kind_ = pack.kind;
  d.name_ = pack.name;
  d.views_ = pack.views;
  if (!pack.views.recorded) {  // an older pack: the patches of old
    d.views_.finest = options.min_fraction;
    d.views_.coarsest = options.max_fraction;
  }
  std::map<std::string, std::vector<std::string>> photo_names, clip_names;
  std::map<std::string, std::vector<torch::Tensor>> photos, images;
  std::map<std::string, std::map<std::string, std::map<int, const GrayImage*>>> clips;
  std::map<std::string, int64_t> frame_counts;
  for (const auto& p : pack.images) {
    if (pack.kind == "photos" && std::min(p.image.width, p.image.height) < kPatchSize)
      throw std::runtime_error(pack_path + ": " + (p.frame >= 0 ? "a frame of '" : "photo '") +
                               p.source + "' is smaller than 64 pixels");
    if (pack.kind != "photos") {
      auto& names = photo_names[p.split];
      if (names.empty() || names.back() != p.source) names.push_back(p.source);
      images[p.split].push_back(
          to_model_image(p.image.pixels.data(), p.image.width, p.image.height));
    } else if (p.frame >= 0) {
      auto& frames = clips[p.split][p.source];
      if (!frames.emplace(p.frame, &p.image).second)
        throw std::runtime_error(pack_path + ": clip '" + p.source + "' has frame " +
                                 std::to_string(p.frame) + " twice");
      ++frame_counts[p.split];
    } else {
      photo_names[p.split].push_back(p.source);
      photos[p.split].push_back(uint8_tensor(p.image, options.device));
    }
  }
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(pack_path + ": pack has no " + what);
  };
  if (pack.kind == "photos") {
    for (const char* s : {"train", "val", "test"})
      need(!photos[s].empty(), std::string(s) + " photos");
    d.train_photos_ = photos["train"];
    for (const auto& [name, frames] : clips["train"]) {
      Clip c;
      for (const auto& [index, image] : frames)
        c.frames.push_back(uint8_tensor(*image, options.device));
      d.train_clips_.push_back(std::move(c));
    }
    for (const auto& [name, frames] : clips["test"])
      for (const auto& [index, image] : frames) d.test_clips_[name].push_back(*image);
    // Fixed sets: their own generator, so they do not depend on training.
    std::mt19937_64 val_rng(options.seed), test_rng(options.seed + 1);
    d.val_ = d.cut_patches(photos["val"], options.val_count, val_rng, false);
    d.test_ = d.cut_patches(photos["test"], options.test_count, test_rng, false, &d.test_scales_);
    std::vector<torch::Tensor> whole;
    for (const auto& t : photos["test"]) whole.push_back(whole_view(t));
    d.test_whole_ = torch::cat(whole);
    if (pack.views.recorded) {  // validate on every view the mix trains for
      std::vector<torch::Tensor> val{d.val_};
      for (const auto& t : photos["val"]) val.push_back(whole_view(t));
      for (const auto& [name, frames] : clips["val"]) {
        const auto n = static_cast<int64_t>(frames.size());
        std::vector<const GrayImage*> ordered;
        for (const auto& [index, image] : frames) ordered.push_back(image);
        for (int64_t k = 0; k < std::min(n, kValFramesPerClip); ++k)
          val.push_back(tiles_of(uint8_tensor(
              *ordered[static_cast<std::size_t>(k * n / std::min(n, kValFramesPerClip))],
              options.device)));
      }
      d.val_ = torch::cat(val).contiguous();
    }
    // Fixed validation sequences for temporal decoders (packs with a view mix): the
    // validation clips long enough, and every validation photo held still and panned.
    std::vector<torch::Tensor> seqs;
    for (const auto& [name, frames] : clips["val"]) {
      if (static_cast<int64_t>(frames.size()) < kValSequenceFrames) continue;
      std::vector<torch::Tensor> tiles;  // [12,1,64,64] each frame
      for (const auto& [index, image] : frames) {
        tiles.push_back(tiles_of(uint8_tensor(*image, options.device)));
        if (static_cast<int64_t>(tiles.size()) == kValSequenceFrames) break;
      }
      seqs.push_back(torch::stack(tiles, 1));  // [12,L,1,64,64]
    }
    if (pack.views.recorded) {
      for (const auto& t : photos["val"]) {
        const int64_t h = t.size(2), w = t.size(3), side = std::min(h, w);
        std::vector<torch::Tensor> still, pan;
        for (int64_t k = 0; k < kValSequenceFrames; ++k) {
          still.push_back(whole_view(t));
          // A pan across the photo at half the short side, left to right.
          const double f = static_cast<double>(k) / (kValSequenceFrames - 1);
          pan.push_back(window_at(t, h / 2.0, side / 4.0 + f * (w - side / 2.0), side / 2));
        }
        seqs.push_back(torch::stack(still, 1));
        seqs.push_back(torch::stack(pan, 1));
      }
      d.val_sequences_ = torch::cat(seqs).contiguous();
    }
  } else {
    for (const char* s : {"train", "val", "test"})
      need(!images[s].empty(), std::string(s) + " images");
    d.train_images_ = torch::cat(images["train"]).to(options.device);
    d.val_ = torch::cat(images["val"]).to(options.device);
    d.test_ = torch::cat(images["test"]).to(options.device);
  }
  d.splits_ = nlohmann::json::object();
  for (const char* split : {"train", "val", "test"}) {
    auto& s = d.splits_[split];
    s = {{"sources", photo_names[split].size()}};
    if (pack.kind == "photos") {
      s["names"] = photo_names[split];
      std::vector<std::string> names;
      for (const auto& [name, frames] : clips[split]) names.push_back(name);
      if (!names.empty())
        s["clips"] = {{"count", names.size()}, {"frames", frame_counts[split]}, {"names", names}};
    }
  }
  return d;
}

torch::Tensor Dataset::cut_patches(const std::vector<torch::Tensor>& photos, int64_t n,
                                   std::mt19937_64& rng, bool flips,
                                   std::vector<double>* scales) const {
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
    auto patch = window(photo, std::min(y0, h - side), std::min(x0, w - side), side);
    if (scales) scales->push_back(static_cast<double>(side) / static_cast<double>(std::min(h, w)));
    if (flips && unit(rng) < 0.5) patch = patch.flip({3});
    out.push_back(patch);
  }
  return torch::cat(out).contiguous();
}

torch::Tensor Dataset::cut_view(const torch::Tensor& source, std::mt19937_64& rng) const {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int64_t h = source.size(2), w = source.size(3), short_side = std::min(h, w);
  int64_t side = short_side;
  if (unit(rng) >= views_.whole) {  // a patch, log-uniform between the finest and coarsest scales
    const double log_lo = std::log(views_.finest), log_hi = std::log(views_.coarsest);
    const double frac = std::exp(log_lo + (log_hi - log_lo) * unit(rng));
    side = std::clamp<int64_t>(std::lround(frac * static_cast<double>(std::max(h, w))), kPatchSize,
                               short_side);
  }
  const auto y0 =
      std::min(h - side, static_cast<int64_t>(unit(rng) * static_cast<double>(h - side + 1)));
  const auto x0 =
      std::min(w - side, static_cast<int64_t>(unit(rng) * static_cast<double>(w - side + 1)));
  auto view = window(source, y0, x0, side);
  if (views_.flips && unit(rng) < 0.5) view = view.flip({3});
  if (views_.brightness > 0 || views_.contrast > 0) {
    const double gain = 1 + views_.contrast * (2 * unit(rng) - 1);
    const double offset = views_.brightness * (2 * unit(rng) - 1);
    const auto mean = view.mean();
    view = ((view - mean) * gain + mean + offset).clamp(0, 1);
  }
  return view;
}

torch::Tensor Dataset::train_epoch(int64_t n, std::mt19937_64& rng) const {
  if (kind_ != "photos") {
    const int64_t m = train_images_.size(0);
    std::vector<int64_t> idx(static_cast<std::size_t>(m));
    std::iota(idx.begin(), idx.end(), 0);
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(static_cast<std::size_t>(std::min(n, m)));
    auto index = torch::tensor(idx, torch::kLong).to(train_images_.device());
    return train_images_.index_select(0, index);
  }
  torch::NoGradGuard no_grad;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    // Clips are drawn evenly, whatever their length, then a frame of the clip.
    const bool from_video = !train_clips_.empty() && unit(rng) < views_.video;
    const auto pick = [&](std::size_t count) {
      return std::min(count - 1, static_cast<std::size_t>(unit(rng) * static_cast<double>(count)));
    };
    const torch::Tensor* source = nullptr;
    if (from_video) {
      const auto& clip = train_clips_[pick(train_clips_.size())];
      source = &clip.frames[pick(clip.frames.size())];
    } else {
      source = &train_photos_[pick(train_photos_.size())];
    }
    out.push_back(cut_view(*source, rng));
  }
  return torch::cat(out).contiguous();
}

torch::Tensor Dataset::photo_sequence(int64_t length, std::mt19937_64& rng) const {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  const auto pick = [&](std::size_t count) {
    return std::min(count - 1, static_cast<std::size_t>(unit(rng) * static_cast<double>(count)));
  };
  // A window as the view mix draws it: side and centre in the photo's pixels.
  struct View {
    const torch::Tensor* photo;
    double cy, cx, side;
  };
  const auto draw = [&]() {
    View v{&train_photos_[pick(train_photos_.size())], 0, 0, 0};
    const int64_t h = v.photo->size(2), w = v.photo->size(3), short_side = std::min(h, w);
    double side = static_cast<double>(short_side);
    if (unit(rng) >= views_.whole) {
      const double log_lo = std::log(views_.finest), log_hi = std::log(views_.coarsest);
      side = std::clamp(std::exp(log_lo + (log_hi - log_lo) * unit(rng)) * std::max(h, w),
                        static_cast<double>(kPatchSize), static_cast<double>(short_side));
    }
    v.side = side;
    v.cy = side / 2 + unit(rng) * (h - side);
    v.cx = side / 2 + unit(rng) * (w - side);
    return v;
  };
  View v = draw();
  // 0 still with fixational jitter, 1 pan, 2 zoom, 3 saccade, 4 cut.
  const int kind = static_cast<int>(pick(5));
  const auto change_at = static_cast<int64_t>(1 + pick(static_cast<std::size_t>(length - 1)));
  const double angle = 2 * M_PI * unit(rng), speed = 0.005 + 0.035 * unit(rng);
  const double zoom = std::exp((2 * unit(rng) - 1) * 0.03);
  std::vector<torch::Tensor> frames;
  frames.reserve(static_cast<std::size_t>(length));
  for (int64_t k = 0; k < length; ++k) {
    if (k > 0) {
      const double jitter = 0.004 * v.side;
      v.cy += jitter * normal(rng);
      v.cx += jitter * normal(rng);
      if (kind == 1) {
        v.cy += speed * v.side * std::sin(angle);
        v.cx += speed * v.side * std::cos(angle);
      } else if (kind == 2) {
        v.side = std::clamp(v.side * zoom, static_cast<double>(kPatchSize),
                            static_cast<double>(std::min(v.photo->size(2), v.photo->size(3))));
      } else if (kind == 3 && k == change_at) {
        const auto* photo = v.photo;
        const double side = v.side;
        v = draw();
        v.photo = photo;
        const int64_t h = photo->size(2), w = photo->size(3);
        v.side = std::min(side, static_cast<double>(std::min(h, w)));
        v.cy = v.side / 2 + unit(rng) * (h - v.side);
        v.cx = v.side / 2 + unit(rng) * (w - v.side);
      } else if (kind == 4 && k == change_at) {
        v = draw();
      }
      // Keep the window inside the photo (window_at moves it there too).
      const double h = static_cast<double>(v.photo->size(2)),
                   w = static_cast<double>(v.photo->size(3));
      v.cy = std::clamp(v.cy, v.side / 2, h - v.side / 2);
      v.cx = std::clamp(v.cx, v.side / 2, w - v.side / 2);
    }
    frames.push_back(window_at(*v.photo, v.cy, v.cx, std::lround(v.side)));
  }
  return torch::stack(frames, 1);  // [1,L,1,64,64]
}

torch::Tensor Dataset::clip_sequence(int64_t length, std::mt19937_64& rng) const {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<const Clip*> long_enough;
  for (const auto& c : train_clips_)
    if (static_cast<int64_t>(c.frames.size()) >= length) long_enough.push_back(&c);
  if (long_enough.empty()) return photo_sequence(length, rng);
  const auto& clip = *long_enough[std::min(
      long_enough.size() - 1, static_cast<std::size_t>(unit(rng) * long_enough.size()))];
  const auto n = static_cast<int64_t>(clip.frames.size());
  const auto first = std::min(n - length, static_cast<int64_t>(unit(rng) * (n - length + 1)));
  const auto& f0 = clip.frames[static_cast<std::size_t>(first)];
  const int64_t h = f0.size(2), w = f0.size(3), short_side = std::min(h, w);
  double side = static_cast<double>(short_side);
  if (unit(rng) >= 0.5) {
    const double log_lo = std::log(views_.finest), log_hi = std::log(views_.coarsest);
    side = std::clamp(std::exp(log_lo + (log_hi - log_lo) * unit(rng)) * std::max(h, w),
                      static_cast<double>(kPatchSize), static_cast<double>(short_side));
  }
  const double cy = side / 2 + unit(rng) * (h - side), cx = side / 2 + unit(rng) * (w - side);
  std::vector<torch::Tensor> frames;
  for (int64_t k = 0; k < length; ++k)
    frames.push_back(
        window_at(clip.frames[static_cast<std::size_t>(first + k)], cy, cx, std::lround(side)));
  return torch::stack(frames, 1);
}

torch::Tensor Dataset::train_sequences(int64_t n, int64_t length, std::mt19937_64& rng) const {
  if (kind_ != "photos")
    throw std::runtime_error(path_ + ": sequences need a pack of photos and clips, not " + kind_);
  if (length < 1) throw std::invalid_argument("train_sequences: length must be at least 1");
  torch::NoGradGuard no_grad;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double video_share = train_clips_.empty() ? 0.0 : std::max(0.25, views_.video);
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto seq = unit(rng) < video_share ? clip_sequence(length, rng) : photo_sequence(length, rng);
    if (views_.flips && unit(rng) < 0.5) seq = seq.flip({4});
    if (views_.brightness > 0 || views_.contrast > 0) {
      const double gain = 1 + views_.contrast * (2 * unit(rng) - 1);
      const double offset = views_.brightness * (2 * unit(rng) - 1);
      const auto mean = seq.mean();
      seq = ((seq - mean) * gain + mean + offset).clamp(0, 1);
    }
    out.push_back(seq);
  }
  return torch::cat(out).contiguous();
}

int64_t Dataset::train_size() const {
  if (kind_ != "photos") return train_images_.size(0);
  int64_t n = static_cast<int64_t>(train_photos_.size());
  for (const auto& c : train_clips_) n += static_cast<int64_t>(c.frames.size());
  return n;
}

nlohmann::json Dataset::describe() const {
  nlohmann::json j = {{"pack", path_},
                      {"name", name_},
                      {"kind", kind_},
                      {"splits", splits_},
                      {"val_count", val_.size(0)},
                      {"test_count", test_.size(0)}};
  if (kind_ != "photos") {
    j["patch"] = {{"resized_to", kPatchSize}};
    return j;
  }
  j["patch"] = {{"size", kPatchSize},
                {"min_fraction", options_.min_fraction},
                {"max_fraction", options_.max_fraction},
                {"seed", options_.seed}};
  j["views"] = {{"whole", views_.whole},       {"video", views_.video},
                {"finest", views_.finest},     {"coarsest", views_.coarsest},
                {"flips", views_.flips},       {"brightness", views_.brightness},
                {"contrast", views_.contrast}, {"from_pack", views_.recorded}};
  return j;
}

}  // namespace spikevid
