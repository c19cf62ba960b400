#include "io/video_frames.h"

#include <catch2/catch.hpp>
#include <opencv2/videoio.hpp>

#include <numeric>
#include <stdexcept>

#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

using Catch::Matchers::Contains;
using test::runtime_error_message;
using test::TempDir;
using test::write_bytes;

constexpr int kFrames = 10;
constexpr int kWidth = 64;
constexpr int kHeight = 48;

// Frame n is uniformly gray at level 20 n + 10, so a frame can be told by its mean.
std::string write_test_video(const TempDir& dir) {
  const std::string path = dir.file("test.avi");
  // OpenCV's own MJPEG writer: present in every build, unlike the FFmpeg one.
  cv::VideoWriter writer(path, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'),
                         10.0, cv::Size(kWidth, kHeight), true);
  REQUIRE(writer.isOpened());
  for (int n = 0; n < kFrames; ++n) {
    writer.write(cv::Mat(kHeight, kWidth, CV_8UC3, cv::Scalar::all(20 * n + 10)));
  }
  writer.release();
  return path;
}

int level(const GrayImage& frame) {
  const double sum = std::accumulate(frame.pixels.begin(), frame.pixels.end(), 0.0);
  return static_cast<int>(sum / frame.pixels.size() + 0.5);
}

// The frame numbers the frames came from, by their gray level (JPEG is lossy: +-3).
std::vector<int> frame_numbers(const std::vector<GrayImage>& frames) {
  std::vector<int> numbers;
  for (const GrayImage& frame : frames) {
    const int n = level(frame) / 20;
    CHECK(std::abs(level(frame) - (20 * n + 10)) <= 3);
    numbers.push_back(n);
  }
  return numbers;
}

TEST_CASE("read_video_frames reads every frame gray", "[io][video]") {
  TempDir dir;
  const std::string path = write_test_video(dir);
  const auto frames = read_video_frames(path);
  REQUIRE(frames.size() == kFrames);
  for (const GrayImage& frame : frames) {
    CHECK(frame.width == kWidth);
    CHECK(frame.height == kHeight);
    CHECK(frame.pixels.size() == std::size_t{kWidth * kHeight});
  }
  CHECK(frame_numbers(frames) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("read_video_frames with stride and max frames", "[io][video]") {
  TempDir dir;
  const std::string path = write_test_video(dir);
  CHECK(frame_numbers(read_video_frames(path, {0, 3})) == std::vector<int>{0, 3, 6, 9});
  CHECK(frame_numbers(read_video_frames(path, {2, 1})) == std::vector<int>{0, 1});
  CHECK(frame_numbers(read_video_frames(path, {3, 4})) == std::vector<int>{0, 4, 8});
  CHECK(frame_numbers(read_video_frames(path, {100, 1})).size() == kFrames);
  CHECK_THROWS_AS(read_video_frames(path, {0, 0}), std::invalid_argument);
  CHECK_THROWS_AS(read_video_frames(path, {-1, 1}), std::invalid_argument);
}

TEST_CASE("read_video_frames names the file it cannot open", "[io][video]") {
  TempDir dir;
  CHECK_THAT(runtime_error_message([&] { read_video_frames(dir.file("missing.avi")); }),
             Contains(dir.file("missing.avi")));
  write_bytes(dir.file("text.avi"), "this is not a video");
  CHECK_THAT(runtime_error_message([&] { read_video_frames(dir.file("text.avi")); }),
             Contains(dir.file("text.avi")));
}

}  // namespace
}  // namespace spikevid
