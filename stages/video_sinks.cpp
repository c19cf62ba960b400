#include "stages/video_sinks.h"

#include "io/output_file.h"
#include "io/video_sink.h"

namespace spikevid {
namespace {

class VideoFileSink final : public FrameSink {
 public:
  VideoFileSink(const std::string& path, int width, int height, double fps,
                const std::vector<std::string>& inputs)
      : file_(path, inputs),
        sink_(VideoSink::open_file(path, width, height, fps, file_.part_path())) {}
  ~VideoFileSink() override {
    try {
      finish();
    } catch (...) {  // the caller saw it through finish()
    }
  }

  void write(const Composed& frame) override {
    sink_->write(frame.bgr.data());
    ++frames_;
  }

  void finish() override {
    if (finished_) return;
    finished_ = true;
    try {
      sink_->finish();
    } catch (...) {
      keep_or_discard();
      throw;
    }
    keep_or_discard();
  }

 private:
  // A file with frames is the user's, even after an error: into place. One
  // without leaves an older file of that name as it was.
  void keep_or_discard() {
    if (frames_ > 0)
      file_.commit();
    else
      file_.discard();
  }

  OutputFile file_;
  std::unique_ptr<VideoSink> sink_;
  bool finished_ = false;
};

class WindowSink final : public FrameSink {
 public:
  WindowSink(const std::string& title, int width, int height, double fps)
      : sink_(VideoSink::open_window(title, width, height, fps)) {}
  void write(const Composed& frame) override {
    sink_->write(frame.bgr.data());
    ++frames_;
  }
  void finish() override { sink_->finish(); }

 private:
  std::unique_ptr<VideoSink> sink_;
};

}  // namespace

std::unique_ptr<FrameSink> open_video_file_sink(const std::string& path, int width, int height,
                                                double fps,
                                                const std::vector<std::string>& inputs) {
  return std::make_unique<VideoFileSink>(path, width, height, fps, inputs);
}

std::unique_ptr<FrameSink> open_window_sink(const std::string& title, int width, int height,
                                            double fps) {
  return std::make_unique<WindowSink>(title, width, height, fps);
}

}  // namespace spikevid
