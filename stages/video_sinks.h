#pragma once
// FrameSinks (stages/sink.h) over io's GStreamer sinks: a video file (H.264
// in .mp4 or .mkv) written safely (io/output_file.h: never the input, one
// writer, a .part file renamed into place when finalized), and a window.
#include <memory>
#include <string>
#include <vector>

#include "stages/sink.h"

namespace spikevid {

// Throws std::runtime_error ("PATH: problem") when the file cannot be written,
// is one of `inputs`, or another process writes it.
std::unique_ptr<FrameSink> open_video_file_sink(const std::string& path, int width, int height,
                                                double fps, const std::vector<std::string>& inputs);
// Throws std::runtime_error when no window can be opened (no display).
std::unique_ptr<FrameSink> open_window_sink(const std::string& title, int width, int height,
                                            double fps);

}  // namespace spikevid
