#include "io/crop_resize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "io/gray_mat.h"

namespace spikevid {

namespace {

void check_image(const GrayImage& image, const char* function) {
  if (image.width < 1 || image.height < 1 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height) {
    throw std::invalid_argument(std::string(function) + ": empty or inconsistent image");
  }
}

}  // namespace

GrayImage center_crop_resize(const GrayImage& image, int size) {
  check_image(image, "center_crop_resize");
  if (size < 1) throw std::invalid_argument("center_crop_resize: size must be at least 1");
  const int side = std::min(image.width, image.height);
  const cv::Rect square((image.width - side) / 2, (image.height - side) / 2, side, side);
  cv::Mat out;
  cv::resize(as_mat(image)(square), out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  return to_gray_image(out);
}

GrayImage resize_long_side(const GrayImage& image, int max_long_side) {
  check_image(image, "resize_long_side");
  if (max_long_side < 1) {
    throw std::invalid_argument("resize_long_side: max_long_side must be at least 1");
  }
  const int long_side = std::max(image.width, image.height);
  if (long_side <= max_long_side) return image;
  const double scale = static_cast<double>(max_long_side) / long_side;
  const auto scaled = [&](int length) {
    return length == long_side ? max_long_side
                               : std::max(1, static_cast<int>(std::lround(length * scale)));
  };
  cv::Mat out;
  cv::resize(as_mat(image), out, cv::Size(scaled(image.width), scaled(image.height)), 0, 0,
             cv::INTER_AREA);
  return to_gray_image(out);
}

}  // namespace spikevid
