#include "io/video_sink.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include "io/gst_util.h"

namespace spikevid {

namespace {

std::string lower_extension(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// H.264 for files: every 30th frame a keyframe; one encoder thread, since with
// more x264 gave slightly different frames from run to run (same input).
constexpr const char* kEncoder =
    "videoconvert ! x264enc speed-preset=veryfast tune=zerolatency key-int-max=30 threads=1 ! "
    "h264parse";

}  // namespace

std::unique_ptr<VideoSink> VideoSink::open_file(const std::string& path, int width, int height,
                                                double fps, const std::string& write_to) {
  const auto ext = lower_extension(path);
  const std::string& location = write_to.empty() ? path : write_to;
  std::string mux;
  if (ext == ".mp4")
    mux = "mp4mux fragment-duration=1000";
  else if (ext == ".mkv")
    mux = "matroskamux";
  else
    throw std::runtime_error(path + ": the video output must end in .mp4 or .mkv");
  {  // A clear message now rather than a GStreamer error later.
    std::ofstream probe(location, std::ios::binary | std::ios::trunc);
    if (!probe) throw std::runtime_error(path + ": cannot write (" + std::strerror(errno) + ")");
  }
  return std::unique_ptr<VideoSink>(new VideoSink(
      path, std::string("appsrc name=src ! ") + kEncoder + " ! " + mux + " ! filesink name=out",
      width, height, fps, location));
}

std::unique_ptr<VideoSink> VideoSink::open_window(const std::string& title, int width, int height,
                                                  double fps) {
  // Not autovideosink: without a usable X display it falls back to DirectFB,
  // whose sink crashed the process here. X (ximagesink: Xvfb too) or Wayland.
  gst_init_once();
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  std::string sink = "ximagesink";
  if (wayland && *wayland) {
    if (GstElementFactory* f = gst_element_factory_find("waylandsink")) {
      sink = "waylandsink";
      gst_object_unref(f);
    }
  }
  return std::unique_ptr<VideoSink>(new VideoSink(
      title, "appsrc name=src ! videoconvert ! " + sink + " sync=false", width, height, fps, ""));
}

VideoSink::VideoSink(std::string name, const std::string& description, int width, int height,
                     double fps, const std::string& location)
    : name_(std::move(name)), width_(width), height_(height), fps_(fps > 0 ? fps : 30) {
  if (width < 2 || height < 2 || width % 2 || height % 2)
    throw std::runtime_error(name_ + ": frame size must be even, got " + std::to_string(width) +
                             "x" + std::to_string(height));
  pipeline_ = parse_pipeline(description, name_);
  if (!location.empty()) {
    GstElement* out = gst_bin_get_by_name(GST_BIN(pipeline_), "out");
    g_object_set(out, "location", location.c_str(), nullptr);
    gst_object_unref(out);
  }
  src_ = gst_bin_get_by_name(GST_BIN(pipeline_), "src");
  // fps as a fraction with a millisecond's precision (29.97 → 29970/1000).
  const int fps_n = static_cast<int>(std::lround(fps_ * 1000)), fps_d = 1000;
  GstCaps* caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "BGR", "width",
                                      G_TYPE_INT, width, "height", G_TYPE_INT, height, "framerate",
                                      GST_TYPE_FRACTION, fps_n, fps_d, nullptr);
  // block FALSE: write() waits for room itself, watching the bus (see there).
  g_object_set(src_, "caps", caps, "format", GST_FORMAT_TIME, "block", FALSE, "max-bytes",
               static_cast<guint64>(4) * width * height * 3, nullptr);
  gst_caps_unref(caps);
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    const auto why = bus_error(pipeline_);
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(src_);
    gst_object_unref(pipeline_);
    pipeline_ = nullptr;
    throw std::runtime_error(name_ + ": " + (why.empty() ? "cannot start" : why));
  }
}

VideoSink::~VideoSink() {
  try {
    finish();
  } catch (...) {  // the error was the caller's to see through finish()
  }
  if (pipeline_) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(src_);
    gst_object_unref(pipeline_);
  }
}

void VideoSink::write(const std::uint8_t* bgr) {
  if (finished_) throw std::logic_error(name_ + ": write after finish");
  // Room for four frames in appsrc's queue, waited for here and not by
  // appsrc's own block=TRUE: a push blocked on a full queue waited forever
  // when the encoder or the file sink failed meanwhile (the disk filled up),
  // since nothing drained the queue again (cli.video hung once in its
  // disk-full check). Here an error on the bus ends the wait.
  for (;;) {
    const auto why = bus_error(pipeline_);
    if (!why.empty()) throw std::runtime_error(name_ + ": " + why);
    if (gst_app_src_get_current_level_bytes(GST_APP_SRC(src_)) <
        gst_app_src_get_max_bytes(GST_APP_SRC(src_)))
      break;
    g_usleep(1000);  // 1 ms; only while the encoder is behind
  }
  const gsize size = static_cast<gsize>(width_) * height_ * 3;
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, size, nullptr);
  gst_buffer_fill(buf, 0, bgr, size);
  const auto step = static_cast<GstClockTime>(1e9 / fps_);
  GST_BUFFER_PTS(buf) = static_cast<GstClockTime>(frames_) * step;
  GST_BUFFER_DURATION(buf) = step;
  if (gst_app_src_push_buffer(GST_APP_SRC(src_), buf) != GST_FLOW_OK) {
    const auto err = bus_error(pipeline_);
    throw std::runtime_error(name_ + ": " + (err.empty() ? "the stream stopped" : err));
  }
  ++frames_;
}

void VideoSink::finish() {
  if (finished_ || !pipeline_) return;
  finished_ = true;
  gst_app_src_end_of_stream(GST_APP_SRC(src_));
  GstBus* bus = gst_element_get_bus(pipeline_);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string why;
  if (!msg) {
    why = "the encoder did not finish within 30 s";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    why = err ? err->message : "stream error";
    if (err) g_error_free(err);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  if (!why.empty()) throw std::runtime_error(name_ + ": " + why);
}

}  // namespace spikevid
