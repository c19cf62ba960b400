#pragma once
// Clips for data sets and evaluation: a clip is a video file (read whole with
// OpenCV, io/video_frames.h) or a folder of its frames in name order.
#include <string>
#include <utility>
#include <vector>

#include "io/gray_image.h"

namespace spikevid {

// The clip's frames, 8-bit gray. Throws std::runtime_error ("PATH: problem")
// when it cannot be read or holds no frame. Frames of a folder that cannot be
// decoded are skipped and named in `skipped` (when given).
std::vector<GrayImage> read_clip(const std::string& path,
                                 std::vector<std::string>* skipped = nullptr);

struct FolderClips {
  std::vector<std::pair<std::string, std::vector<GrayImage>>> clips;  // by name, sorted
  std::vector<std::string> skipped;  // "PATH: problem", one per clip or frame not read
};

// Every clip in `path` (each non-hidden entry: a video file or a frame folder),
// or `path` itself when it is a video file. Throws std::runtime_error when
// `path` does not exist.
FolderClips read_clip_folder(const std::string& path);

}  // namespace spikevid
