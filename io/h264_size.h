#pragma once
// What H.264 needs for a video's frames: the yardstick of the spike stream's
// bytes a second (spikevid bench --mode network).
#include <cstdint>
#include <string>

namespace spikevid {

// Mean bytes a frame of H.264 (x264: veryfast, zerolatency, constant quality
// 23, a key frame every `key_interval` frames) for the first `frames` frames
// of the video `path`, scaled to width x height in gray. Throws
// std::runtime_error ("PATH: ...") when it cannot be read or gives no frame.
double h264_bytes_per_frame(const std::string& path, int width, int height, std::int64_t frames,
                            int key_interval);

}  // namespace spikevid
