#include "io/scenes_pack.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "io/clip_folder.h"
#include "io/crop_resize.h"
#include "io/image_folder.h"
#include "io/splits.h"

namespace spikevid {
namespace fs = std::filesystem;

std::map<std::string, std::string> read_split_groups(const std::string& folder) {
  std::map<std::string, std::string> groups;
  const auto path = (fs::path(folder) / ".groups").string();
  std::ifstream in(path);
  if (!in) return groups;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos || tab == 0 || tab + 1 == line.size())
      throw std::runtime_error(path + ": line " + std::to_string(number) +
                               " is not NAME<TAB>GROUP");
    groups[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return groups;
}

void add_folder_photos(Pack& pack, const std::string& folder, const SplitSizes& sizes,
                       std::uint64_t seed, int long_side,
                       const std::map<std::string, std::string>& groups,
                       std::vector<std::string>& skipped) {
  const auto photos = read_image_folder(folder);
  for (const auto& name : photos.skipped)
    skipped.push_back((fs::path(folder) / name).string() + ": cannot be decoded");
  std::vector<std::string> keys;
  for (const auto& n : photos.images) {
    const auto g = groups.find(n.name);
    keys.push_back(g == groups.end() ? n.name : g->second);
  }
  const auto groups_count = std::set<std::string>(keys.begin(), keys.end()).size();
  const auto size = [&](int count, double share) {
    return share < 0
               ? count
               : static_cast<int>(std::ceil(share * static_cast<double>(groups_count) - 1e-9));
  };
  const auto splits = assign_splits(keys, size(sizes.val, sizes.val_share),
                                    size(sizes.test, sizes.test_share), seed);
  for (std::size_t i = 0; i < keys.size(); ++i)
    pack.images.push_back({photos.images[i].name, -1, splits[i],
                           resize_long_side(photos.images[i].image, long_side)});
}

Pack make_scenes_pack(const ScenesPackOptions& o, std::vector<std::string>& skipped) {
  Pack p{"photos", "scenes", o.created_by, {}};
  p.views = o.views;
  p.views.recorded = true;
  if (const auto problem = view_mix_problem(p.views); !problem.empty())
    throw std::invalid_argument("views: " + problem);
  add_folder_photos(p, o.natural_dir, {o.natural_val, o.natural_test}, o.seed, o.long_side, {},
                    skipped);
  add_folder_photos(p, o.photos_dir, {0, 0, o.val_share, o.test_share}, o.seed, o.long_side,
                    read_split_groups(o.photos_dir), skipped);

  auto clips = read_clip_folder(o.clips_dir);
  skipped.insert(skipped.end(), clips.skipped.begin(), clips.skipped.end());
  const auto clip_groups = read_split_groups(o.clips_dir);
  std::vector<std::string> names, keys;
  for (const auto& [name, frames] : clips.clips) {
    names.push_back(name);
    const auto g = clip_groups.find(name);
    keys.push_back(g == clip_groups.end() ? name : g->second);
  }
  const auto splits = assign_splits(keys, o.clip_val, o.clip_test, o.seed);
  for (std::size_t c = 0; c < names.size(); ++c) {
    const auto& frames = clips.clips[c].second;
    for (std::size_t f = 0; f < frames.size(); ++f)
      p.images.push_back(
          {names[c], -1, splits[c], resize_long_side(frames[f], o.long_side), static_cast<int>(f)});
  }
  return p;
}

}  // namespace spikevid
