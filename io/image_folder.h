#pragma once
// A folder of photos (data/natural/), read gray with OpenCV.
#include <string>
#include <vector>

#include "io/gray_image.h"

namespace spikevid {

struct NamedImage {
  std::string name;  // file name without the folder: the source for splits
  GrayImage image;
};

struct FolderImages {
  std::vector<NamedImage> images;    // sorted by name
  std::vector<std::string> skipped;  // files OpenCV could not read, sorted
};

// Every regular file of folder (not recursive; hidden files ignored) that
// cv::imread can decode, as 8-bit gray. Throws std::runtime_error
// ("PATH: problem") if folder is not a readable directory.
FolderImages read_image_folder(const std::string& folder);

}  // namespace spikevid
