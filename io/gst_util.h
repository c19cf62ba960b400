#pragma once
// Small GStreamer helpers shared by the sources and sinks.
#include <string>

typedef struct _GstElement GstElement;

namespace spikevid {

// gst_init once per process; throws std::runtime_error if GStreamer cannot start.
// Thread-safe: yes. Blocks: the first call, briefly. Allocates: the first call.
void gst_init_once();

// gst_parse_launch, or std::runtime_error ("NAME: GStreamer's reason").
// Thread-safe: yes. Blocks: no. Allocates: yes (the caller unrefs the result).
GstElement* parse_pipeline(const std::string& description, const std::string& name);

// The first error message waiting on the pipeline's bus ("" if none), popped.
// Thread-safe: yes (GstBus is). Blocks: no. Allocates: yes.
std::string bus_error(GstElement* pipeline);

}  // namespace spikevid
