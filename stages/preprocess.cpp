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
  auto image = torch::from_blob(small.data, {1, 1, out_h, out_w}, torch::kUInt8)
                   .to(torch::Device(config_.device), torch::kFloat32)
                   .div_(255.0);
  auto f = std::make_unique<Frame>();
  f->meta = c->meta;
  f->pts_ns = c->pts_ns;
  f->tiles = config_.tiles.rows * config_.tiles.cols == 1 ? image : cut_tiles(image, config_.tiles);
  f->image = std::move(image);
  return f;
}

TileGrid parse_tile_grid(const std::string& text) {
  const auto x = text.find('x');
  TileGrid g;
  try {
    std::size_t used_r = 0, used_c = 0;
    if (x == std::string::npos) throw std::invalid_argument("");
    g.rows = std::stoi(text.substr(0, x), &used_r);
    g.cols = std::stoi(text.substr(x + 1), &used_c);
    if (used_r != x || used_c != text.size() - x - 1) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw std::invalid_argument("--tiles: expected ROWSxCOLS such as 3x4, got '" + text + "'");
  }
  if (g.rows < 1 || g.cols < 1 || g.rows > 32 || g.cols > 32)
    throw std::invalid_argument("--tiles: rows and columns must be 1 to 32, got '" + text + "'");
  return g;
}

}  // namespace spikevid
