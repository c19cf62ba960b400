#include "stages/preprocess.h"

#include <stdexcept>

#include <string>

#include <torch/torch.h>
#ifdef SPIKEVID_HAVE_OPENCV
#include <opencv2/imgproc.hpp>
#endif

namespace spikevid {

PreprocessStage::PreprocessStage(PreprocessConfig config) : config_(std::move(config)) {
  check_tile_grid(config_.tiles);
}

FramePtr PreprocessStage::process(CapturedPtr c) {
  const auto& g = c->image;
  if (g.width < 1 || g.height < 1 ||
      g.pixels.size() != static_cast<std::size_t>(g.width) * g.height)
    throw std::runtime_error("preprocess: an empty or malformed frame");
  const int out_w = config_.tiles.width(), out_h = config_.tiles.height();
  FramePtr f;
  if (g.width == out_w && g.height == out_h) {  // already the model's size: nothing to crop
    f = frame_from_pixels(g.pixels.data(), out_w, out_h, config_.tiles, config_.pinned);
  } else {
#ifdef SPIKEVID_HAVE_OPENCV
    f = crop_and_resize(g, out_w, out_h);
#else
    throw std::runtime_error("preprocess: a " + std::to_string(g.width) + "x" +
                             std::to_string(g.height) +
                             " frame, and this build (no OpenCV) "
                             "cannot resize it to " +
                             std::to_string(out_w) + "x" + std::to_string(out_h));
#endif
  }
  f->meta = c->meta;
  f->pts_ns = c->pts_ns;
  return f;
}

#ifdef SPIKEVID_HAVE_OPENCV
FramePtr PreprocessStage::crop_and_resize(const GrayImage& g, int out_w, int out_h) const {
  // The largest centred crop with the output's aspect.
  int crop_w = g.width, crop_h = static_cast<int>(static_cast<long long>(g.width) * out_h / out_w);
  if (crop_h > g.height) {
    crop_h = g.height;
    crop_w = static_cast<int>(static_cast<long long>(g.height) * out_w / out_h);
  }
  const cv::Mat whole(g.height, g.width, CV_8UC1, const_cast<std::uint8_t*>(g.pixels.data()));
  const cv::Mat crop =
      whole(cv::Rect((g.width - crop_w) / 2, (g.height - crop_h) / 2, crop_w, crop_h));
  cv::Mat small;
  cv::resize(crop, small, cv::Size(out_w, out_h), 0, 0, cv::INTER_AREA);
  return frame_from_pixels(small.data, out_w, out_h, config_.tiles, config_.pinned);
}
#endif

}  // namespace spikevid
