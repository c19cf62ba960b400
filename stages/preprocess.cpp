#include "stages/preprocess.h"

#include <stdexcept>

#include <torch/torch.h>
#include <opencv2/imgproc.hpp>

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
  auto f = frame_from_pixels(small.data, out_w, out_h, config_.tiles, config_.pinned);
  f->meta = c->meta;
  f->pts_ns = c->pts_ns;
  return f;
}

}  // namespace spikevid
