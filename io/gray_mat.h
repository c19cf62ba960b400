#pragma once
// Between GrayImage (no OpenCV, for the models) and cv::Mat (for OpenCV calls).
#include <opencv2/core.hpp>

#include "io/gray_image.h"

namespace spikevid {

// A CV_8UC1 Mat that shares image's pixels: valid while image lives, unchanged.
cv::Mat as_mat(const GrayImage& image);

// A copy of a CV_8UC1 Mat (any step); throws std::invalid_argument on another type.
GrayImage to_gray_image(const cv::Mat& mat);

}  // namespace spikevid
