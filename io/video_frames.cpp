#include "io/video_frames.h"

#include <filesystem>
#include <stdexcept>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <opencv2/videoio/registry.hpp>

#include "io/file_util.h"
#include "io/gray_mat.h"

namespace spikevid {

std::vector<GrayImage> read_video_frames(const std::string& path,
                                         const VideoFrameOptions& options) {
  if (options.max_frames < 0 || options.stride < 1) {
    throw std::invalid_argument("read_video_frames: max_frames must be >= 0 and stride >= 1");
  }
  // VideoCapture also opens camera URLs and image sequences: insist on a file.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw_file_error(path, "no such file");
  // FFmpeg when OpenCV has it: the same decoding on every machine, and a file
  // FFmpeg rejects is not handed on to GStreamer, whose plugin scan is slow and
  // leaks (which fails the AddressSanitizer run).
  const cv::VideoCaptureAPIs api =
      cv::videoio_registry::hasBackend(cv::CAP_FFMPEG) ? cv::CAP_FFMPEG : cv::CAP_ANY;
  cv::VideoCapture capture;
  try {
    capture.open(path, api);
  } catch (const cv::Exception&) {
  }
  if (!capture.isOpened()) throw_file_error(path, "cannot open as a video");

  std::vector<GrayImage> frames;
  cv::Mat frame;
  cv::Mat gray;
  for (long index = 0;; ++index) {
    if (options.max_frames > 0 && frames.size() >= static_cast<std::size_t>(options.max_frames)) {
      break;
    }
    if (index % options.stride != 0) {
      if (!capture.grab()) break;  // skipped frames are not decoded to BGR
      continue;
    }
    if (!capture.read(frame) || frame.empty()) break;
    if (frame.channels() == 1) {
      frame.convertTo(gray, CV_8U);
    } else {
      cv::cvtColor(frame, gray, frame.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    }
    frames.push_back(to_gray_image(gray));
  }
  return frames;
}

}  // namespace spikevid
