#include "stages/video_capture.h"

namespace spikevid {
namespace {

class VideoCapture final : public CaptureSource {
 public:
  explicit VideoCapture(std::unique_ptr<VideoSource> source) : source_(std::move(source)) {
    const auto& i = source_->info();
    info_ = CaptureInfo{i.description, i.width, i.height, i.fps, i.live, i.frames};
  }

  std::optional<CapturedPtr> next() override {
    auto f = source_->next();
    if (!f) return std::nullopt;
    auto c = std::make_unique<Captured>();
    c->image = std::move(f->image);
    c->pts_ns = f->pts_ns;
    return c;
  }

  std::uint64_t received() const override { return source_->received(); }
  std::uint64_t dropped() const override { return source_->dropped(); }

 private:
  std::unique_ptr<VideoSource> source_;
};

}  // namespace

std::unique_ptr<CaptureSource> open_video_capture(const std::string& spec,
                                                  const SourceOptions& options) {
  return std::make_unique<VideoCapture>(open_video_source(spec, options));
}

}  // namespace spikevid
