#include <chrono>
#include <thread>

#include <torch/torch.h>

#include "stages/capture.h"
#include "stages/synthetic_source.h"

namespace spikevid {
namespace {

constexpr int kDistinctFrames = 64;

class SyntheticCapture final : public CaptureSource {
 public:
  explicit SyntheticCapture(const SyntheticCaptureConfig& c)
      : config_(c), pool_(synthetic_frames(c.grid, c.seed)) {
    info_.description = "synthetic scene";
    info_.width = c.grid.width();
    info_.height = c.grid.height();
    info_.fps = c.pace_fps > 0 ? c.pace_fps : 30;
    info_.live = c.pace_fps > 0;
    info_.frames = c.frames;
  }

  std::optional<CapturedPtr> next() override {
    if (emitted_ >= config_.frames) return std::nullopt;
    if (config_.pace_fps > 0) {
      if (emitted_ == 0) start_ = std::chrono::steady_clock::now();
      if (emitted_ == 1 && delivered_ != nullptr) {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (delivered_->load() == 0 && std::chrono::steady_clock::now() < give_up)
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        start_ = std::chrono::steady_clock::now() -
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(1 / config_.pace_fps));
      }
      // Paced like a camera: frame i is due at i/fps.
      std::this_thread::sleep_until(
          start_ +
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              std::chrono::duration<double>(static_cast<double>(emitted_) / config_.pace_fps)));
    }
    auto c = std::make_unique<Captured>();
    c->image = pool_[static_cast<std::size_t>(emitted_ % kDistinctFrames)];
    c->pts_ns = static_cast<std::int64_t>(1e9 * static_cast<double>(emitted_) / info_.fps);
    ++emitted_;
    return c;
  }

 private:
  SyntheticCaptureConfig config_;
  std::vector<GrayImage> pool_;
  std::int64_t emitted_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

std::vector<GrayImage> synthetic_frames(const TileGrid& grid, std::uint64_t seed) {
  const int h = grid.height(), w = grid.width(), side = std::max(h, w);
  SyntheticSource src(SyntheticConfig{side, kDistinctFrames, seed});
  std::vector<GrayImage> out;
  while (auto f = src.next()) {
    auto t = f->image.squeeze()
                 .narrow(0, (side - h) / 2, h)
                 .narrow(1, (side - w) / 2, w)
                 .mul(255)
                 .round()
                 .clamp(0, 255)
                 .to(torch::kUInt8)
                 .contiguous();
    GrayImage g;
    g.width = w;
    g.height = h;
    g.pixels.assign(t.data_ptr<std::uint8_t>(), t.data_ptr<std::uint8_t>() + t.numel());
    out.push_back(std::move(g));
  }
  return out;
}

std::unique_ptr<CaptureSource> make_synthetic_capture(const SyntheticCaptureConfig& config) {
  return std::make_unique<SyntheticCapture>(config);
}

}  // namespace spikevid
