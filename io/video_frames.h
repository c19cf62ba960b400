#pragma once
// Frames of a video file, gray, read whole with OpenCV: for data sets and tests.
// (Live and streaming input goes through the GStreamer sources instead.)
#include <string>
#include <vector>

#include "io/gray_image.h"

namespace spikevid {

struct VideoFrameOptions {
  int max_frames = 0;  // frames to return at most; 0: all
  int stride = 1;      // keep frames 0, stride, 2*stride, ...
};

// The kept frames, 8-bit gray, in order, decoded by OpenCV's FFmpeg backend (any
// backend if OpenCV was built without FFmpeg). Throws std::runtime_error ("PATH:
// problem") if the file cannot be opened as a video, and std::invalid_argument
// on negative max_frames or stride < 1.
std::vector<GrayImage> read_video_frames(const std::string& path,
                                         const VideoFrameOptions& options = {});

}  // namespace spikevid
