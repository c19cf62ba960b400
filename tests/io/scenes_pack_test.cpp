#include "io/scenes_pack.h"

#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "io/splits.h"
#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

void write_photo(const std::string& path, int seed) {
  cv::Mat m(96, 128, CV_8UC1);
  cv::randu(m, cv::Scalar(seed % 50), cv::Scalar(200 + seed % 50));
  REQUIRE(cv::imwrite(path, m));
}

void write_clip(const std::string& path, int frames) {
  cv::VideoWriter writer(path, cv::CAP_OPENCV_MJPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'),
                         10.0, cv::Size(96, 80), true);
  REQUIRE(writer.isOpened());
  for (int n = 0; n < frames; ++n) writer.write(cv::Mat(80, 96, CV_8UC3, cv::Scalar::all(10 * n)));
}

// data/natural, data/photos with near-duplicate groups, data/clips with video
// files and a folder of frames; one photo that cannot be decoded.
ScenesPackOptions write_scenes(const TempDir& dir) {
  ScenesPackOptions o;
  o.natural_dir = dir.file("natural");
  o.photos_dir = dir.file("photos");
  o.clips_dir = dir.file("clips");
  for (const auto& d : {o.natural_dir, o.photos_dir, o.clips_dir, dir.file("clips/frames")})
    fs::create_directories(d);
  for (int i = 0; i < 12; ++i) write_photo(o.natural_dir + "/n" + std::to_string(i) + ".png", i);
  std::ofstream groups(o.photos_dir + "/.groups");
  for (int i = 0; i < 30; ++i) {
    const auto name = "p" + std::to_string(i) + ".png";
    write_photo(o.photos_dir + "/" + name, 100 + i);
    if (i < 12) groups << name << "\tpair" << i / 2 << "\n";  // six pairs
  }
  test::write_bytes(o.photos_dir + "/broken.jpg", "not a jpeg");
  for (int i = 0; i < 7; ++i) write_clip(o.clips_dir + "/c" + std::to_string(i) + ".avi", 3 + i);
  std::ofstream(o.clips_dir + "/.groups") << "c0.avi\tscene\nc1.avi\tscene\n";
  for (int f = 0; f < 4; ++f)
    write_photo(o.clips_dir + "/frames/f" + std::to_string(f) + ".png", f);
  o.natural_val = 2;
  o.natural_test = 3;
  o.val_share = 0.1;
  o.test_share = 0.2;
  o.clip_val = 2;
  o.clip_test = 3;
  return o;
}

TEST_CASE("scenes pack: no photo, group or clip lands in two splits", "[io][pack]") {
  TempDir dir;
  const auto o = write_scenes(dir);
  std::vector<std::string> skipped;
  const Pack p = make_scenes_pack(o, skipped);
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].find("broken.jpg") != std::string::npos);
  CHECK(p.views.recorded);

  std::map<std::string, std::set<std::string>> splits_of;  // source -> splits
  std::map<std::string, std::set<int>> frames_of;
  for (const auto& im : p.images) {
    splits_of[im.source].insert(im.split);
    if (im.frame >= 0) CHECK(frames_of[im.source].insert(im.frame).second);  // each frame once
  }
  for (const auto& [source, splits] : splits_of) {
    INFO(source);
    CHECK(splits.size() == 1);
  }
  // Near-duplicates share a split.
  for (int g = 0; g < 6; ++g)
    CHECK(splits_of["p" + std::to_string(2 * g) + ".png"] ==
          splits_of["p" + std::to_string(2 * g + 1) + ".png"]);
  // 8 clips (7 files and the frame folder), each whole, its frames in order.
  CHECK(frames_of.size() == 8);
  CHECK(frames_of["frames"] == std::set<int>{0, 1, 2, 3});
  CHECK(frames_of["c6.avi"].size() == 9);
  CHECK(splits_of["c0.avi"] == splits_of["c1.avi"]);  // one scene: one split
  std::map<std::string, int> clip_splits;             // in groups: c0 and c1 count once
  for (const auto& [source, frames] : frames_of)
    if (source != "c1.avi") ++clip_splits[*splits_of[source].begin()];
  CHECK(clip_splits["test"] == 3);
  CHECK(clip_splits["val"] == 2);
  // The natural photos keep the natural pack's split.
  std::vector<std::string> natural;
  for (int i = 0; i < 12; ++i) natural.push_back("n" + std::to_string(i) + ".png");
  std::sort(natural.begin(), natural.end());
  const auto expected = assign_splits(natural, 2, 3, o.seed);
  for (std::size_t i = 0; i < natural.size(); ++i)
    CHECK(*splits_of[natural[i]].begin() == expected[i]);
  // 30 extra photos in 24 groups: 10 % (3) and 20 % (5) of the groups, rounded up.
  std::set<std::string> val_groups, test_groups;
  for (int i = 0; i < 30; ++i) {
    const auto name = "p" + std::to_string(i) + ".png";
    const auto group = i < 12 ? "pair" + std::to_string(i / 2) : name;
    const auto split = *splits_of[name].begin();
    if (split == "val") val_groups.insert(group);
    if (split == "test") test_groups.insert(group);
  }
  CHECK(val_groups.size() == 3);
  CHECK(test_groups.size() == 5);
}

TEST_CASE("scenes pack: a malformed .groups line and missing folders are errors", "[io][pack]") {
  TempDir dir;
  auto o = write_scenes(dir);
  std::vector<std::string> skipped;
  { std::ofstream(o.photos_dir + "/.groups", std::ios::app) << "no-tab-here\n"; }
  CHECK_THROWS_WITH(make_scenes_pack(o, skipped), Catch::Matchers::Contains(".groups: line 13"));
  o.clips_dir = dir.file("nowhere");
  fs::remove(o.photos_dir + "/.groups");
  CHECK_THROWS_WITH(make_scenes_pack(o, skipped), Catch::Matchers::Contains("nowhere"));
  o.clips_dir = dir.file("clips");
  o.clip_test = 100;
  CHECK_THROWS_AS(make_scenes_pack(o, skipped), std::invalid_argument);
}

}  // namespace
}  // namespace spikevid
