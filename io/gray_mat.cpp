#include "io/gray_mat.h"

#include <stdexcept>

namespace spikevid {

cv::Mat as_mat(const GrayImage& image) {
  if (image.pixels.size() != static_cast<std::size_t>(image.width) * image.height) {
    throw std::invalid_argument("as_mat: GrayImage pixel count does not match its size");
  }
  // OpenCV takes a non-const pointer; callers only read through this Mat.
  return cv::Mat(image.height, image.width, CV_8UC1,
                 const_cast<std::uint8_t*>(image.pixels.data()));
}

GrayImage to_gray_image(const cv::Mat& mat) {
  if (mat.type() != CV_8UC1) throw std::invalid_argument("to_gray_image: Mat is not CV_8UC1");
  GrayImage image;
  image.width = mat.cols;
  image.height = mat.rows;
  image.pixels.resize(static_cast<std::size_t>(mat.cols) * mat.rows);
  for (int y = 0; y < mat.rows; ++y) {
    const std::uint8_t* row = mat.ptr<std::uint8_t>(y);
    std::copy(row, row + mat.cols,
              image.pixels.begin() + static_cast<std::ptrdiff_t>(y) * mat.cols);
  }
  return image;
}

}  // namespace spikevid
