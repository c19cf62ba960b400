#include <fstream>

#include <catch2/catch.hpp>

#include "io/recording.h"
#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

using namespace spikevid;

namespace {

Recording small_recording() {
  Recording r;
  r.frames = 20;
  r.height = r.width = 8;
  r.cells = 3;
  for (int i = 0; i < r.frames * 64; ++i)
    r.stimulus.push_back(static_cast<float>(i % 256) / 255.0f);
  for (int i = 0; i < r.frames * r.cells; ++i) r.counts.push_back(static_cast<float>(i % 5));
  r.window_s = 0.05;
  for (int i = 0; i < r.frames; ++i)
    r.split.push_back(static_cast<std::uint8_t>(i < 14 ? 0 : i < 17 ? 1 : 2));
  r.cell_x = {1.5f, 4.0f, 6.5f};
  r.cell_y = {2.0f, 4.0f, 6.0f};
  r.cell_type = {0, 1, 0};
  return r;
}

}  // namespace

TEST_CASE("recording: HDF5 round trip keeps every field", "[recording]") {
  test::TempDir dir;
  const auto path = dir.file("rec.h5");
  const auto r = small_recording();
  write_recording(path, r);
  const auto back = read_recording(path);
  CHECK(back.frames == 20);
  CHECK(back.width == 8);
  CHECK(back.cells == 3);
  CHECK(back.window_s == 0.05);
  CHECK(back.counts == r.counts);
  CHECK(back.split == r.split);
  CHECK(back.cell_x == r.cell_x);
  CHECK(back.cell_type == r.cell_type);
  REQUIRE(back.stimulus.size() == r.stimulus.size());
  for (std::size_t i = 0; i < r.stimulus.size(); ++i)
    CHECK(back.stimulus[i] == Approx(r.stimulus[i]).margin(0.5 / 255));
}

TEST_CASE("recording: bad files fail with one line naming the file", "[recording]") {
  test::TempDir dir;
  const auto junk = dir.file("junk.h5");
  std::ofstream(junk) << "not hdf5 at all";
  CHECK_THAT(test::runtime_error_message([&] { read_recording(junk); }),
             Catch::StartsWith(junk) && Catch::Contains("not an HDF5 file"));
  CHECK_THAT(test::runtime_error_message([&] { read_recording(dir.file("missing.h5")); }),
             Catch::Contains("missing.h5"));
  // Truncated: the first half of a valid file.
  const auto good = dir.file("good.h5");
  write_recording(good, small_recording());
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cut = dir.file("cut.h5");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const auto msg = test::runtime_error_message([&] { read_recording(cut); });
  CHECK_THAT(msg, Catch::StartsWith(cut));
  CHECK(msg.find('\n') == std::string::npos);
  // A split entry out of range.
  auto r = small_recording();
  r.split[3] = 7;
  const auto bad_split = dir.file("split.h5");
  write_recording(bad_split, r);
  CHECK_THAT(test::runtime_error_message([&] { read_recording(bad_split); }),
             Catch::Contains("split entries"));
  // Negative counts.
  r = small_recording();
  r.counts[2] = -1;
  const auto neg = dir.file("neg.h5");
  write_recording(neg, r);
  CHECK_THAT(test::runtime_error_message([&] { read_recording(neg); }),
             Catch::Contains("non-negative"));
}
