#pragma once
// A CaptureSource (stages/capture.h) over io's video sources: a video file, a
// webcam, the live test pattern, a gst: pipeline, images. A live source's
// own buffer keeps the newest frame; what it dropped is counted.
#include <memory>
#include <string>

#include "io/video_source.h"
#include "stages/capture.h"

namespace spikevid {

// Throws std::runtime_error with one line naming the source and the problem.
std::unique_ptr<CaptureSource> open_video_capture(const std::string& spec,
                                                  const SourceOptions& options = {});

}  // namespace spikevid
