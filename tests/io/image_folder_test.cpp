#include "io/image_folder.h"

#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

using Catch::Matchers::Contains;
using test::runtime_error_message;
using test::TempDir;
using test::write_bytes;

TEST_CASE("read_image_folder reads the images sorted by name, gray, skipping the rest",
          "[io][folder]") {
  TempDir dir;
  // A 3x2 gray ramp, a 2x2 red colour image, a 1x1 gray image, and non-images.
  cv::Mat ramp(2, 3, CV_8UC1);
  for (int i = 0; i < 6; ++i) ramp.data[i] = static_cast<std::uint8_t>(40 * i);
  REQUIRE(cv::imwrite(dir.file("b-ramp.png"), ramp));
  REQUIRE(cv::imwrite(dir.file("a-red.png"), cv::Mat(2, 2, CV_8UC3, cv::Scalar(0, 0, 255))));
  REQUIRE(cv::imwrite(dir.file("c-dot.png"), cv::Mat(1, 1, CV_8UC1, cv::Scalar(200))));
  write_bytes(dir.file("notes.txt"), "not an image");
  write_bytes(dir.file("broken.png"), "\x89PNG\r\n\x1a\n but cut short");
  write_bytes(dir.file(".manifest"), "hidden files are not data");
  std::filesystem::create_directory(dir.file("sub.png"));

  const FolderImages folder = read_image_folder(dir.path());
  REQUIRE(folder.images.size() == 3);
  CHECK(folder.images[0].name == "a-red.png");
  CHECK(folder.images[1].name == "b-ramp.png");
  CHECK(folder.images[2].name == "c-dot.png");
  CHECK(folder.skipped == std::vector<std::string>{"broken.png", "notes.txt"});

  const GrayImage& red = folder.images[0].image;
  CHECK(red.width == 2);
  CHECK(red.height == 2);
  CHECK(red.pixels == std::vector<std::uint8_t>(4, 76));  // 0.299 * 255
  const GrayImage& gray = folder.images[1].image;
  CHECK(gray.width == 3);
  CHECK(gray.height == 2);
  CHECK(gray.pixels == std::vector<std::uint8_t>{0, 40, 80, 120, 160, 200});
  CHECK(folder.images[2].image.pixels == std::vector<std::uint8_t>{200});
}

TEST_CASE("read_image_folder of an empty folder and of a non-folder", "[io][folder]") {
  TempDir dir;
  const FolderImages empty = read_image_folder(dir.path());
  CHECK(empty.images.empty());
  CHECK(empty.skipped.empty());
  CHECK_THAT(runtime_error_message([&] { read_image_folder(dir.file("missing")); }),
             Contains(dir.file("missing")) && Contains("not a directory"));
  write_bytes(dir.file("file"), "x");
  CHECK_THAT(runtime_error_message([&] { read_image_folder(dir.file("file")); }),
             Contains(dir.file("file")));
}

}  // namespace
}  // namespace spikevid
