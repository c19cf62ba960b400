#include "io/image_folder.h"

#include <algorithm>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>

#include "io/file_util.h"
#include "io/gray_mat.h"

namespace spikevid {

FolderImages read_image_folder(const std::string& folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw_file_error(folder, "not a directory");

  std::vector<std::string> names;
  fs::directory_iterator it(folder, ec);
  if (ec) throw_file_error(folder, "cannot list: " + ec.message());
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] != '.' && entry.is_regular_file(ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());

  FolderImages result;
  for (const std::string& name : names) {
    const std::string path = (fs::path(folder) / name).string();
    cv::Mat gray;
    try {
      gray = cv::imread(path, cv::IMREAD_GRAYSCALE);
    } catch (const cv::Exception&) {
      // A damaged or oversized file is skipped like one OpenCV does not know.
    }
    if (gray.empty() || gray.type() != CV_8UC1) {
      result.skipped.push_back(name);
      continue;
    }
    result.images.push_back({name, to_gray_image(gray)});
  }
  return result;
}

}  // namespace spikevid
