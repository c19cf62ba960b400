#include "io/gst_util.h"

#include <cstring>
#include <mutex>
#include <stdexcept>

#include <gst/gst.h>

namespace spikevid {

void gst_init_once() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    GError* err = nullptr;
    if (!gst_init_check(nullptr, nullptr, &err)) {
      failure = err ? err->message : "gst_init failed";
      if (err) g_error_free(err);
    }
  });
  if (!failure.empty()) throw std::runtime_error("GStreamer: " + failure);
}

GstElement* parse_pipeline(const std::string& description, const std::string& name) {
  gst_init_once();
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (!pipeline || err) {
    const std::string why = err ? err->message : "cannot build the pipeline";
    if (err) g_error_free(err);
    if (pipeline) gst_object_unref(pipeline);
    throw std::runtime_error(name + ": " + why);
  }
  return pipeline;
}

std::string bus_error(GstElement* pipeline) {
  GstBus* bus = gst_element_get_bus(pipeline);
  if (!bus) return {};
  std::string why;
  if (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    GError* err = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(msg, &err, &debug);
    why = err ? err->message : "stream error";
    // GStreamer says "Internal data stream error." and hides the reason in
    // the debug text; the common one deserves words.
    if (debug && std::strstr(debug, "not-negotiated"))
      why +=
          " (not-negotiated: the stream's format cannot be converted to gray; an unsupported "
          "pixel format?)";
    // A resource's error ("Could not open resource for reading.") keeps the
    // cause (a port in use, a host not found) on its debug text's last line.
    if (err && err->domain == GST_RESOURCE_ERROR && debug) {
      std::string cause = debug;
      cause = cause.substr(cause.find_last_of('\n') + 1);
      if (!cause.empty() && cause.size() < 300) {
        if (!why.empty() && why.back() == '.') why.pop_back();
        why += " (" + cause + ")";
      }
    }
    if (err) g_error_free(err);
    g_free(debug);
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  return why;
}

}  // namespace spikevid
