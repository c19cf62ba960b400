#pragma once
// The one image type every reader returns: 8-bit gray, owning its pixels, no
// OpenCV, so the models and the GPU build can use it without OpenCV.
#include <cstdint>
#include <vector>

namespace spikevid {

struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // row-major, width * height bytes
};

}  // namespace spikevid
