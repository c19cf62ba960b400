#include "io/clip_folder.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "io/file_util.h"
#include "io/image_folder.h"
#include "io/video_frames.h"

namespace spikevid {
namespace fs = std::filesystem;

std::vector<GrayImage> read_clip(const std::string& path, std::vector<std::string>* skipped) {
  std::error_code ec;
  std::vector<GrayImage> frames;
  if (fs::is_directory(path, ec)) {
    auto folder = read_image_folder(path);
    for (auto& f : folder.images) frames.push_back(std::move(f.image));
    if (skipped != nullptr)
      for (const auto& name : folder.skipped)
        skipped->push_back((fs::path(path) / name).string() + ": cannot be decoded");
  } else {
    frames = read_video_frames(path);
  }
  if (frames.empty()) throw_file_error(path, "no frame could be decoded");
  return frames;
}

FolderClips read_clip_folder(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw_file_error(path, "no such file or folder");
  FolderClips out;
  std::vector<fs::path> entries;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().filename().string()[0] != '.') entries.push_back(e.path());
    if (ec) throw_file_error(path, "cannot list: " + ec.message());
    std::sort(entries.begin(), entries.end());
  } else {
    entries.emplace_back(path);
  }
  for (const auto& entry : entries) {
    try {
      out.clips.emplace_back(entry.filename().string(), read_clip(entry.string(), &out.skipped));
    } catch (const std::runtime_error& e) {
      out.skipped.emplace_back(e.what());
    }
  }
  return out;
}

}  // namespace spikevid
