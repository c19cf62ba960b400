#include "io/crop_resize.h"

#include <catch2/catch.hpp>

#include <stdexcept>

#include "io/gray_mat.h"

namespace spikevid {
namespace {

// Pixel (x, y) = 10 y + x.
GrayImage grid(int width, int height) {
  GrayImage image{width, height, {}};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) image.pixels.push_back(static_cast<std::uint8_t>(10 * y + x));
  }
  return image;
}

GrayImage constant(int width, int height, std::uint8_t value) {
  return GrayImage{width, height, std::vector<std::uint8_t>(width * height, value)};
}

TEST_CASE("center_crop_resize takes the centred square", "[io][crop]") {
  // 6x4: the square is columns 1..4.
  const GrayImage wide = center_crop_resize(grid(6, 4), 4);
  CHECK(wide.width == 4);
  CHECK(wide.height == 4);
  CHECK(wide.pixels ==
        std::vector<std::uint8_t>{1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24, 31, 32, 33, 34});
  // 3x7 (tall, odd margin): rows 2..4.
  CHECK(center_crop_resize(grid(3, 7), 3).pixels ==
        std::vector<std::uint8_t>{20, 21, 22, 30, 31, 32, 40, 41, 42});
}

TEST_CASE("center_crop_resize averages when shrinking", "[io][crop]") {
  // 8x4: square = columns 2..5; halving averages 2x2 blocks.
  GrayImage image = constant(8, 4, 0);
  const std::uint8_t block[4][4] = {
      {10, 30, 100, 100}, {30, 10, 100, 100}, {0, 0, 255, 255}, {4, 8, 255, 255}};
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) image.pixels[y * 8 + x + 2] = block[y][x];
  }
  const GrayImage half = center_crop_resize(image, 2);
  CHECK(half.width == 2);
  CHECK(half.pixels == std::vector<std::uint8_t>{20, 100, 3, 255});
  // 64x64 from a photo-sized image keeps a constant image constant.
  CHECK(center_crop_resize(constant(640, 480, 77), 64).pixels ==
        std::vector<std::uint8_t>(64 * 64, 77));
}

TEST_CASE("resize_long_side shrinks to the long side and never enlarges", "[io][crop]") {
  const GrayImage wide = resize_long_side(constant(100, 50, 9), 50);
  CHECK(wide.width == 50);
  CHECK(wide.height == 25);
  CHECK(wide.pixels == std::vector<std::uint8_t>(50 * 25, 9));
  const GrayImage tall = resize_long_side(constant(30, 1000, 200), 10);
  CHECK(tall.width == 1);  // 0.3 rounds to 0: kept at least 1
  CHECK(tall.height == 10);
  const GrayImage odd = resize_long_side(constant(2560, 1600, 1), 1000);
  CHECK(odd.width == 1000);
  CHECK(odd.height == 625);
  const GrayImage small = grid(6, 4);
  CHECK(resize_long_side(small, 6).pixels == small.pixels);
  const GrayImage same = resize_long_side(small, 1000);
  CHECK(same.width == 6);
  CHECK(same.height == 4);
  CHECK(same.pixels == small.pixels);
}

TEST_CASE("crop and resize reject empty images and sizes", "[io][crop]") {
  CHECK_THROWS_AS(center_crop_resize(GrayImage{}, 64), std::invalid_argument);
  CHECK_THROWS_AS(center_crop_resize(grid(4, 4), 0), std::invalid_argument);
  CHECK_THROWS_AS(resize_long_side(GrayImage{}, 64), std::invalid_argument);
  CHECK_THROWS_AS(resize_long_side(grid(4, 4), 0), std::invalid_argument);
  CHECK_THROWS_AS(center_crop_resize(GrayImage{4, 4, {1, 2}}, 2), std::invalid_argument);
}

TEST_CASE("GrayImage and cv::Mat convert both ways", "[io][crop]") {
  const GrayImage image = grid(5, 3);
  const cv::Mat mat = as_mat(image);
  CHECK(mat.cols == 5);
  CHECK(mat.rows == 3);
  CHECK(mat.at<std::uint8_t>(2, 4) == 24);
  const GrayImage back = to_gray_image(mat(cv::Rect(1, 1, 3, 2)));  // a non-contiguous view
  CHECK(back.width == 3);
  CHECK(back.height == 2);
  CHECK(back.pixels == std::vector<std::uint8_t>{11, 12, 13, 21, 22, 23});
  CHECK_THROWS_AS(to_gray_image(cv::Mat(2, 2, CV_8UC3)), std::invalid_argument);
}

}  // namespace
}  // namespace spikevid
