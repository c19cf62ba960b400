#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>

#include "io/video_sink.h"
#include "io/video_source.h"
#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

using namespace spikevid;
using spikevid::test::runtime_error_message;
using spikevid::test::TempDir;

namespace {

// A bright square that moves right by 2 pixels a frame on a dark ground.
std::vector<std::uint8_t> moving_square(int w, int h, int i) {
  std::vector<std::uint8_t> bgr(static_cast<std::size_t>(w) * h * 3, 30);
  for (int y = h / 4; y < h / 2; ++y)
    for (int x = 2 * i; x < 2 * i + w / 4 && x < w; ++x)
      for (int c = 0; c < 3; ++c) bgr[(static_cast<std::size_t>(y) * w + x) * 3 + c] = 220;
  return bgr;
}

std::string write_video(const std::string& path, int frames, int w = 96, int h = 64) {
  auto sink = VideoSink::open_file(path, w, h, 25);
  for (int i = 0; i < frames; ++i) sink->write(moving_square(w, h, i).data());
  sink->finish();
  return path;
}

}  // namespace

TEST_CASE("video: an mp4 and an mkv written by the sink read back frame for frame", "[video]") {
  TempDir dir;
  for (const char* name : {"a.mp4", "a.mkv"}) {
    const auto path = write_video(dir.file(name), 20);
    auto src = open_video_source(path);
    CHECK(src->info().width == 96);
    CHECK(src->info().height == 64);
    CHECK(src->info().fps == Approx(25));
    CHECK_FALSE(src->info().live);
    int n = 0;
    std::int64_t last_pts = -1;
    while (auto f = src->next()) {
      CHECK(f->image.width == 96);
      CHECK(f->pts_ns > last_pts);
      last_pts = f->pts_ns;
      // The square is where frame n put it (H.264 is lossy: inside, not at the edge).
      const int x = 2 * n + 12, y = 24;
      CHECK(f->image.pixels[static_cast<std::size_t>(y) * 96 + x] > 150);
      CHECK(f->image.pixels[static_cast<std::size_t>(56) * 96 + x] < 80);
      ++n;
    }
    CHECK(n == 20);
  }
}

TEST_CASE("video: the live test pattern reports its size and rate", "[video]") {
  SourceOptions o;
  o.test_width = 160;
  o.test_height = 120;
  auto src = open_video_source("test", o);
  CHECK(src->info().live);
  CHECK(src->info().fps == Approx(30));
  for (int i = 0; i < 3; ++i) {
    auto f = src->next();
    REQUIRE(f);
    CHECK(f->image.width == 160);
    CHECK(f->image.height == 120);
  }
}

TEST_CASE("video: a folder of images and a single image are sources", "[video]") {
  TempDir dir;
  cv::Mat img(40, 50, CV_8UC1, cv::Scalar(77));
  cv::imwrite(dir.file("b.png"), img);
  cv::imwrite(dir.file("a.png"), img * 2);
  std::ofstream(dir.file("notes.txt")) << "not an image";
  auto src = open_video_source(dir.path());
  CHECK(src->info().frames == 2);
  auto f = src->next();
  REQUIRE(f);
  CHECK(f->image.pixels[0] == 154);  // a.png first
  CHECK(src->next());
  CHECK_FALSE(src->next());
  auto one = open_video_source(dir.file("b.png"));
  CHECK(one->next()->image.pixels[0] == 77);
  CHECK_FALSE(one->next());
}

TEST_CASE("video: bad sources fail with one line naming them", "[video]") {
  TempDir dir;
  const auto missing = dir.file("nope.mp4");
  CHECK(runtime_error_message([&] { open_video_source(missing); }) ==
        missing + ": no such file or folder");
  CHECK(runtime_error_message([&] { open_video_source(dir.path()); }).find("no images") !=
        std::string::npos);
  {
    std::ofstream junk(dir.file("junk.mp4"), std::ios::binary);
    for (int i = 0; i < 5000; ++i) junk.put(static_cast<char>((i * 7919) % 251));
  }
  const auto junk_msg = runtime_error_message([&] { open_video_source(dir.file("junk.mp4")); });
  CHECK(junk_msg.rfind(dir.file("junk.mp4") + ": ", 0) == 0);
  CHECK(junk_msg.find('\n') == std::string::npos);
  std::ofstream(dir.file("empty.mp4"));
  CHECK(runtime_error_message([&] {
          open_video_source(dir.file("empty.mp4"));
        }).find("empty file") != std::string::npos);
  CHECK(runtime_error_message([&] {
          open_video_source("/dev/video97");
        }).find("spikevid live test") != std::string::npos);
}

TEST_CASE("video: a truncated mp4 gives its frames or one line, never a crash", "[video]") {
  TempDir dir;
  const auto path = write_video(dir.file("full.mp4"), 30);
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  const auto cut = dir.file("cut.mp4");
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size() / 2));
  // mp4mux writes its index at the end: half a file has no index, so it
  // cannot be read, and says so.
  const auto msg = runtime_error_message([&] {
    auto src = open_video_source(cut);
    while (src->next()) {
    }
    throw std::runtime_error("read to the end");
  });
  CHECK(!msg.empty());
}

TEST_CASE("video sink: bad outputs fail with one line naming them", "[video]") {
  TempDir dir;
  const auto avi = dir.file("x.avi");
  CHECK(runtime_error_message([&] { VideoSink::open_file(avi, 64, 64, 30); }) ==
        avi + ": the video output must end in .mp4 or .mkv");
  const auto nodir = dir.file("no/such/dir/x.mp4");
  CHECK(runtime_error_message([&] {
          VideoSink::open_file(nodir, 64, 64, 30);
        }).rfind(nodir + ": cannot write", 0) == 0);
  CHECK(runtime_error_message([&] {
          VideoSink::open_file(dir.file("odd.mp4"), 63, 64, 30);
        }).find("even") != std::string::npos);
}
