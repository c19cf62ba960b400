#pragma once
// Geometry for data sets: square model inputs from photos of any shape.
#include "io/gray_image.h"

namespace spikevid {

// The largest centred square of image, resized to size x size with area
// interpolation (averaging, so no aliasing when shrinking).
// Throws std::invalid_argument if image is empty or size < 1.
GrayImage center_crop_resize(const GrayImage& image, int size);

// image shrunk (area interpolation, aspect kept) so that its longer side is at
// most max_long_side; never enlarged. Throws std::invalid_argument if
// image is empty or max_long_side < 1.
GrayImage resize_long_side(const GrayImage& image, int max_long_side);

}  // namespace spikevid
