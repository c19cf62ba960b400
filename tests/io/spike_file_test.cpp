#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include "io/recording.h"
#include "io/spike_file.h"
#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

using namespace spikevid;

namespace {

SpikeFileHeader header() {
  SpikeFileHeader h;
  h.cells = 5;
  h.bins = 2;
  h.window_s = 0.04;
  h.encoder_id = "cnn-0123456789ab";
  h.encoder_json = R"({"architecture":"cnn"})";
  h.source = "test pattern";
  h.cell_type = {0, 0, 1, 1, 0};
  h.cell_x = {1, 2, 3, 4, 5};
  h.cell_y = {5, 4, 3, 2, 1};
  h.center_sigma = {1, 1, 1, 1, 1};
  h.surround_sigma = {3, 3, 3, 3, 3};
  return h;
}

std::vector<float> frame(int i) {  // bins·cells = 10 values, distinct per frame
  std::vector<float> v(10);
  for (int k = 0; k < 10; ++k) v[k] = static_cast<float>((i * 7 + k) % 4);
  return v;
}

}  // namespace

TEST_CASE("spike file: written as a stream, read back whole", "[spike_file]") {
  test::TempDir dir;
  const auto path = dir.file("s.h5");
  {
    SpikeFileWriter w(path, header(), 4);
    for (int i = 0; i < 10; ++i) w.append(frame(i).data(), 1000 * i);
    CHECK(w.frames() == 10);
  }
  const auto s = read_spike_file(path);
  CHECK(s.frames == 10);
  CHECK(s.header.cells == 5);
  CHECK(s.header.bins == 2);
  CHECK(s.header.window_s == 0.04);
  CHECK(s.header.encoder_id == "cnn-0123456789ab");
  CHECK(s.header.encoder_json == R"({"architecture":"cnn"})");
  CHECK(s.header.source == "test pattern");
  CHECK(s.header.cell_type == header().cell_type);
  CHECK(s.header.cell_x == header().cell_x);
  CHECK(s.timestamps_ns[9] == 9000);
  for (int i = 0; i < 10; ++i)
    CHECK(std::vector<float>(s.counts.begin() + 10 * i, s.counts.begin() + 10 * (i + 1)) ==
          frame(i));
}

TEST_CASE("spike file: a writer killed mid-stream leaves every flushed frame readable",
          "[spike_file]") {
  test::TempDir dir;
  const auto path = dir.file("crash.h5");
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // the "crash": no close, no destructors, no flush at exit
    SpikeFileWriter w(path, header(), 8);
    for (int i = 0; i < 37; ++i) w.append(frame(i).data(), i);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  const auto s = read_spike_file(path);
  CHECK(s.frames >= 32);  // the last flush came after frame 32
  CHECK(s.frames <= 37);
  for (int i = 0; i < s.frames; ++i)
    CHECK(std::vector<float>(s.counts.begin() + 10 * i, s.counts.begin() + 10 * (i + 1)) ==
          frame(i));
}

TEST_CASE("spike file: other files and unwritable paths fail with one line", "[spike_file]") {
  test::TempDir dir;
  Recording r;
  r.frames = 2;
  r.height = r.width = 2;
  r.cells = 1;
  r.stimulus.assign(8, 0.5f);
  r.counts = {1, 2};
  r.split = {0, 2};
  const auto rec = dir.file("rec.h5");
  write_recording(rec, r);
  CHECK_THAT(test::runtime_error_message([&] { read_spike_file(rec); }),
             Catch::StartsWith(rec) && Catch::Contains("not a spikevid spike file"));
  const auto junk = dir.file("junk.h5");
  test::write_bytes(junk, "random bytes, not HDF5");
  CHECK_THAT(test::runtime_error_message([&] { read_spike_file(junk); }),
             Catch::Contains("not an HDF5 file"));
  const std::string bad = dir.file("no/such/folder/s.h5");
  CHECK_THAT(test::runtime_error_message([&] { SpikeFileWriter w(bad, header()); }),
             Catch::StartsWith(bad) && Catch::Contains("cannot create"));
}

TEST_CASE("spike file: a file on which libhdf5 crashes gives one line, the crash stays in a child",
          "[spike_file]") {
  // Found by fuzzing: a chunk dimension of 0 makes libhdf5 1.10.8 divide by
  // zero inside H5Dopen2 (SIGFPE).
  const std::string crash =
      SPIKEVID_SOURCE_DIR "/tests/fuzz/regressions/spike_file/chunk-dimension-zero";
  CHECK(detail::probe_read_in_child(crash) == detail::ReadProbe::fault);
  CHECK_THAT(test::runtime_error_message([&] { read_spike_file(crash); }),
             Catch::StartsWith(crash) && Catch::Contains("HDF5 library crashed"));
  // A good file, and one that is refused with an exception, read fine in the child.
  test::TempDir dir;
  const auto good = dir.file("good.h5");
  {
    SpikeFileWriter w(good, header());
    w.close();
  }
  CHECK(detail::probe_read_in_child(good) == detail::ReadProbe::ok);
  const auto junk = dir.file("junk.h5");
  test::write_bytes(junk, "random bytes, not HDF5");
  CHECK(detail::probe_read_in_child(junk) == detail::ReadProbe::ok);
}

TEST_CASE("spike file: the same spikes give the same bytes, a second later too", "[spike_file]") {
  test::TempDir dir;
  auto write = [&](const std::string& path) {
    SpikeFileWriter w(path, header());
    for (int i = 0; i < 3; ++i) w.append(frame(i).data(), i * 33'000'000LL);
    w.close();
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const auto a = write(dir.file("a.h5"));
  usleep(1'100'000);  // HDF5 keeps times in whole seconds
  const auto b = write(dir.file("b.h5"));
  REQUIRE(!a.empty());
  CHECK(a == b);
}
