#include "io/h264_size.h"

#include <algorithm>
#include <stdexcept>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "io/gst_util.h"

namespace spikevid {

double h264_bytes_per_frame(const std::string& path, int width, int height, std::int64_t frames,
                            int key_interval) {
  gst_init_once();
  auto* p = parse_pipeline(
      "filesrc location=\"" + path +
          "\" ! decodebin ! videoconvert ! videoscale ! video/x-raw,format=GRAY8,width=" +
          std::to_string(width) + ",height=" + std::to_string(height) +
          " ! videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=veryfast "
          "tune=zerolatency pass=qual quantizer=23 key-int-max=" +
          std::to_string(std::max(1, key_interval)) + " ! appsink name=sink sync=false",
      path);
  auto* sink = gst_bin_get_by_name(GST_BIN(p), "sink");
  gst_element_set_state(p, GST_STATE_PLAYING);
  std::int64_t n = 0;
  double bytes = 0;
  while (n < frames) {
    GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
    if (!s) break;
    bytes += static_cast<double>(gst_buffer_get_size(gst_sample_get_buffer(s)));
    ++n;
    gst_sample_unref(s);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  if (n == 0) throw std::runtime_error(path + ": x264 gave no frames");
  return bytes / static_cast<double>(n);
}

}  // namespace spikevid
