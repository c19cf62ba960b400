#pragma once
// Where composed frames go: a video file (H.264 in mp4, or in mkv, by the
// file's extension) or a window (X11 ximagesink, or waylandsink on Wayland),
// through GStreamer's appsrc.
// finish() ends the stream and waits for the muxer, so an mp4 gets its index
// and plays; the destructor calls it, so every exit path (end of stream,
// Ctrl-C, an exception) finalizes the file.
#include <cstdint>
#include <memory>
#include <string>

typedef struct _GstElement GstElement;

namespace spikevid {

class VideoSink {
 public:
  // Throws std::runtime_error ("PATH: problem") if the file cannot be written,
  // its extension is not .mp4/.mkv, or GStreamer cannot build the encoder.
  // `path`'s extension picks the container; the bytes go to `write_to` when
  // given (a temporary name, io/output_file.h). An mp4 is written in
  // fragments of a second, so a file whose writer was killed still plays up
  // to its last fragment.
  static std::unique_ptr<VideoSink> open_file(const std::string& path, int width, int height,
                                              double fps, const std::string& write_to = "");
  // Throws std::runtime_error if no window can be opened (no display).
  static std::unique_ptr<VideoSink> open_window(const std::string& title, int width, int height,
                                                double fps);
  ~VideoSink();  // finish(); never throws
  VideoSink(const VideoSink&) = delete;
  VideoSink& operator=(const VideoSink&) = delete;

  // One frame, width·height·3 bytes of BGR. Throws std::runtime_error on a
  // stream error (a full disk, a closed window).
  // Thread-safe: no (one writer). Blocks: while the encoder catches up.
  void write(const std::uint8_t* bgr);
  // Ends the stream and waits (at most 30 s) for the file to be complete.
  // Idempotent. Throws std::runtime_error if the stream ended in an error.
  void finish();
  std::int64_t frames() const { return frames_; }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  VideoSink(std::string name, const std::string& description, int width, int height, double fps,
            const std::string& location);
  std::string name_;
  int width_, height_;
  double fps_;
  std::int64_t frames_ = 0;
  GstElement* pipeline_ = nullptr;
  GstElement* src_ = nullptr;
  bool finished_ = false;
};

}  // namespace spikevid
