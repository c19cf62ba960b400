#pragma once
// Where frames come from, gray, one at a time: a webcam, a video file, a live
// test pattern, a GStreamer pipeline description, an image or a folder of
// images. Video goes through GStreamer (appsink); images through OpenCV.
//
//   auto src = open_video_source("street.mp4");
//   while (auto f = src->next()) use(f->image);
//
// A live source (webcam, test pattern) is paced by its clock and keeps only the
// newest frame if the reader falls behind; a file is read as fast as next() is
// called and loses nothing.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "io/gray_image.h"

namespace spikevid {

struct SourceInfo {
  std::string description;    // what was opened, for files and logs
  int width = 0, height = 0;  // of the first frame (a stream may change size)
  double fps = 0;             // 0: unknown or variable
  bool live = false;
  std::int64_t frames = -1;  // expected frame count, -1 if unknown (live, or no duration)
};

struct VideoFrame {
  GrayImage image;
  std::int64_t pts_ns = 0;  // presentation time from the stream's start
};

struct SourceOptions {
  double stall_timeout_s = 10;  // no frame for this long: next() throws (a stalled camera)
  int test_width = 320, test_height = 240;
  int test_fps = 30;
};

class VideoSource {
 public:
  virtual ~VideoSource() = default;
  // The next frame, or nullopt at the end of the stream. Throws
  // std::runtime_error ("SOURCE: problem") on a stream error or a stall.
  // Thread-safe: no (one reader). Blocks: until a frame, the end, or the stall timeout.
  virtual std::optional<VideoFrame> next() = 0;
  const SourceInfo& info() const { return info_; }
  // Frames a live source's buffer received and those it dropped because the
  // reader was late (it keeps only the newest); 0 for files and images.
  // Thread-safe: yes. Blocks: no.
  virtual std::uint64_t received() const { return 0; }
  virtual std::uint64_t dropped() const { return 0; }

 protected:
  SourceInfo info_;
};

// spec: "test" (or "test:PATTERN", a videotestsrc pattern such as ball or
// smpte); "webcam" or a device "/dev/videoN"; "gst:DESCRIPTION" ending in
// "videoconvert ! appsink"; a folder of images; an image file; a video file
// (anything GStreamer decodes: mp4, mkv, avi, webm, ...). Throws
// std::runtime_error with one line naming the spec and the problem (no such
// file, not a video, no webcam, ...); the webcam message names the test
// pattern to try instead.
std::unique_ptr<VideoSource> open_video_source(const std::string& spec,
                                               const SourceOptions& options = {});

}  // namespace spikevid
