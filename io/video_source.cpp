#include "io/video_source.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <opencv2/imgcodecs.hpp>

#include "io/gst_util.h"

namespace spikevid {
namespace fs = std::filesystem;

namespace {

// The frame rate of the folder and single-image sources.
constexpr double kImageFps = 10;

bool is_image_path(const fs::path& p) {
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const char* e : {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm", ".webp"})
    if (ext == e) return true;
  return false;
}

class ImageSource final : public VideoSource {
 public:
  ImageSource(std::vector<fs::path> files, std::string description) : files_(std::move(files)) {
    info_.description = std::move(description);
    info_.fps = kImageFps;
    info_.frames = static_cast<std::int64_t>(files_.size());
    const auto first = read(files_.front());
    info_.width = first.cols;
    info_.height = first.rows;
  }

  std::optional<VideoFrame> next() override {
    if (index_ >= files_.size()) return std::nullopt;
    const auto m = read(files_[index_]);
    VideoFrame f;
    f.image.width = m.cols;
    f.image.height = m.rows;
    f.image.pixels.assign(m.datastart, m.dataend);
    f.pts_ns = static_cast<std::int64_t>(1e9 * static_cast<double>(index_) / kImageFps);
    ++index_;
    return f;
  }

 private:
  static cv::Mat read(const fs::path& p) {
    auto m = cv::imread(p.string(), cv::IMREAD_GRAYSCALE);
    if (m.empty()) throw std::runtime_error(p.string() + ": not an image OpenCV can read");
    return m.isContinuous() ? m : m.clone();
  }
  std::vector<fs::path> files_;
  std::size_t index_ = 0;
};

class GstSource final : public VideoSource {
 public:
  GstSource(const std::string& description, const std::string& name, bool live,
            const SourceOptions& options, const std::string& location, const std::string& device)
      : name_(name), stall_timeout_s_(options.stall_timeout_s) {
    pipeline_ = parse_pipeline(description, name);
    if (!location.empty() || !device.empty()) {
      GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline_), "src");
      if (src) {
        if (!location.empty()) g_object_set(src, "location", location.c_str(), nullptr);
        if (!device.empty()) g_object_set(src, "device", device.c_str(), nullptr);
        gst_object_unref(src);
      }
    }
    sink_ = find_appsink();
    if (!sink_) {
      close();
      throw std::runtime_error(name +
                               ": the pipeline has no appsink (end it in '! videoconvert ! "
                               "appsink')");
    }
    GstCaps* caps = gst_caps_from_string("video/x-raw,format=GRAY8");
    gst_app_sink_set_caps(GST_APP_SINK(sink_), caps);
    gst_caps_unref(caps);
    g_object_set(sink_, "sync", FALSE, nullptr);
    // Live: keep the newest frame only. A file: lossless, the decoder waits.
    gst_app_sink_set_max_buffers(GST_APP_SINK(sink_), live ? 1 : 4);
    gst_app_sink_set_drop(GST_APP_SINK(sink_), live ? TRUE : FALSE);
    if (live) {  // every buffer that reaches the appsink, so its drops can be counted
      GstPad* pad = gst_element_get_static_pad(sink_, "sink");
      gst_pad_add_probe(
          pad, GST_PAD_PROBE_TYPE_BUFFER,
          [](GstPad*, GstPadProbeInfo*, gpointer count) {
            static_cast<std::atomic<std::uint64_t>*>(count)->fetch_add(1);
            return GST_PAD_PROBE_OK;
          },
          &received_, nullptr);
      gst_object_unref(pad);
    }
    info_.description = name;
    info_.live = live;
    start();
  }

  ~GstSource() override { close(); }

  std::uint64_t received() const override { return received_.load(); }
  // What reached the appsink and was never pulled: dropped for a newer frame
  // (or, at a stop, the one frame still waiting).
  std::uint64_t dropped() const override {
    const auto got = received_.load(), pulled = pulled_.load();
    return got > pulled ? got - pulled : 0;
  }

  std::optional<VideoFrame> next() override {
    if (pending_) {
      auto f = std::move(*pending_);
      pending_.reset();
      return f;
    }
    return pull();
  }

 private:
  GstElement* find_appsink() {
    GstElement* found = nullptr;
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline_));
    GValue v = G_VALUE_INIT;
    while (!found && gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
      auto* e = GST_ELEMENT(g_value_get_object(&v));
      if (GST_IS_APP_SINK(e)) found = GST_ELEMENT(gst_object_ref(e));
      g_value_reset(&v);
    }
    g_value_unset(&v);
    gst_iterator_free(it);
    return found;
  }

  void start() {
    if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      const auto why = bus_error(pipeline_);
      close();
      throw std::runtime_error(name_ + ": " + (why.empty() ? "cannot start" : why));
    }
    // The first frame tells the size and rate; an error before it is the
    // file's or the device's (not a video, busy, ...).
    auto first = pull();
    if (first) {
      info_.width = first->image.width;
      info_.height = first->image.height;
      gint64 duration = 0;
      if (!info_.live && info_.fps > 0 &&
          gst_element_query_duration(pipeline_, GST_FORMAT_TIME, &duration) && duration > 0)
        info_.frames =
            static_cast<std::int64_t>(static_cast<double>(duration) * 1e-9 * info_.fps + 0.5);
      pending_ = std::move(first);
    } else {
      info_.frames = 0;
    }
  }

  std::optional<VideoFrame> pull() {
    if (!pipeline_) return std::nullopt;
    const auto t0 = std::chrono::steady_clock::now();
    while (true) {
      const auto why = bus_error(pipeline_);
      if (!why.empty()) throw std::runtime_error(name_ + ": " + why);
      GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink_), 100 * GST_MSECOND);
      if (sample) return to_frame(sample);
      if (gst_app_sink_is_eos(GST_APP_SINK(sink_))) {
        // An error can end the stream too (a format that cannot be converted).
        const auto late = bus_error(pipeline_);
        if (!late.empty()) throw std::runtime_error(name_ + ": " + late);
        return std::nullopt;
      }
      const double waited =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (stall_timeout_s_ > 0 && waited > stall_timeout_s_)
        throw std::runtime_error(name_ + ": no frame for " + std::to_string(int(waited)) +
                                 " s (stalled source)");
    }
  }

  VideoFrame to_frame(GstSample* sample) {
    GstVideoInfo vi;
    GstCaps* caps = gst_sample_get_caps(sample);
    if (!caps || !gst_video_info_from_caps(&vi, caps)) {
      gst_sample_unref(sample);
      throw std::runtime_error(name_ + ": a frame without video caps");
    }
    if (info_.fps == 0 && GST_VIDEO_INFO_FPS_N(&vi) > 0)
      info_.fps = static_cast<double>(GST_VIDEO_INFO_FPS_N(&vi)) / GST_VIDEO_INFO_FPS_D(&vi);
    GstBuffer* buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (!buf || !gst_buffer_map(buf, &map, GST_MAP_READ)) {
      gst_sample_unref(sample);
      throw std::runtime_error(name_ + ": cannot read a frame's buffer");
    }
    VideoFrame f;
    const int w = GST_VIDEO_INFO_WIDTH(&vi), h = GST_VIDEO_INFO_HEIGHT(&vi);
    const int stride = GST_VIDEO_INFO_PLANE_STRIDE(&vi, 0);
    f.image.width = w;
    f.image.height = h;
    f.image.pixels.resize(static_cast<std::size_t>(w) * h);
    if (map.size >= static_cast<gsize>(stride) * (h - 1) + w)
      for (int y = 0; y < h; ++y)
        std::memcpy(&f.image.pixels[static_cast<std::size_t>(y) * w],
                    map.data + std::size_t(y) * stride, w);
    const auto pts = GST_BUFFER_PTS(buf);
    f.pts_ns = GST_CLOCK_TIME_IS_VALID(pts)
                   ? static_cast<std::int64_t>(pts)
                   : static_cast<std::int64_t>(frames_ * 1e9 / std::max(1.0, info_.fps));
    ++frames_;
    pulled_.fetch_add(1);
    gst_buffer_unmap(buf, &map);
    gst_sample_unref(sample);
    return f;
  }

  void close() {
    if (sink_) gst_object_unref(sink_);
    sink_ = nullptr;
    if (pipeline_) {
      gst_element_set_state(pipeline_, GST_STATE_NULL);
      gst_object_unref(pipeline_);
    }
    pipeline_ = nullptr;
  }

  std::string name_;
  double stall_timeout_s_;
  GstElement* pipeline_ = nullptr;
  GstElement* sink_ = nullptr;
  std::optional<VideoFrame> pending_;
  std::int64_t frames_ = 0;
  std::atomic<std::uint64_t> received_{0}, pulled_{0};
};

constexpr const char* kToAppsink = " ! videoconvert ! appsink name=spikevid_sink";

}  // namespace

std::unique_ptr<VideoSource> open_video_source(const std::string& spec,
                                               const SourceOptions& options) {
  if (spec.empty()) throw std::runtime_error("source: empty name (try a file, 'webcam' or 'test')");
  if (spec == "test" || spec.rfind("test:", 0) == 0) {
    const std::string pattern = spec == "test" ? "ball" : spec.substr(5);
    const auto d = "videotestsrc is-live=true pattern=" + pattern +
                   " ! video/x-raw,width=" + std::to_string(options.test_width) +
                   ",height=" + std::to_string(options.test_height) +
                   ",framerate=" + std::to_string(options.test_fps) + "/1" + kToAppsink;
    return std::make_unique<GstSource>(d, spec, true, options, "", "");
  }
  if (spec.rfind("gst:", 0) == 0)
    return std::make_unique<GstSource>(spec.substr(4), spec, false, options, "", "");
  if (spec == "webcam" || spec.rfind("/dev/video", 0) == 0) {
    const std::string dev = spec == "webcam" ? "/dev/video0" : spec;
    if (!fs::exists(dev))
      throw std::runtime_error("webcam " + dev +
                               ": no such device (no webcam here?); try the test pattern: "
                               "spikevid live test");
    return std::make_unique<GstSource>(std::string("v4l2src name=src") + kToAppsink, dev, true,
                                       options, "", dev);
  }
  std::error_code ec;
  const fs::path p(spec);
  if (!fs::exists(p, ec)) throw std::runtime_error(spec + ": no such file or folder");
  if (fs::is_directory(p, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(p, ec))
      if (e.is_regular_file() && is_image_path(e.path())) files.push_back(e.path());
    if (files.empty()) throw std::runtime_error(spec + ": a folder with no images in it");
    std::sort(files.begin(), files.end());
    return std::make_unique<ImageSource>(std::move(files), spec);
  }
  if (!fs::is_regular_file(p, ec)) throw std::runtime_error(spec + ": not a regular file");
  if (fs::file_size(p, ec) == 0) throw std::runtime_error(spec + ": empty file");
  if (is_image_path(p)) return std::make_unique<ImageSource>(std::vector<fs::path>{p}, spec);
  return std::make_unique<GstSource>(std::string("filesrc name=src ! decodebin") + kToAppsink, spec,
                                     false, options, spec, "");
}

}  // namespace spikevid
