#include "io/cifar.h"

#include <catch2/catch.hpp>

#include <cmath>

#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

using Catch::Matchers::Contains;
using test::runtime_error_message;
using test::TempDir;
using test::write_bytes;

constexpr int kPlane = 32 * 32;

// Pixel i of record r: a different R, G, B for every pixel and record.
std::uint8_t red(int r, int i) { return static_cast<std::uint8_t>(i + 11 * r); }
std::uint8_t green(int r, int i) { return static_cast<std::uint8_t>(3 * i + 5 + r); }
std::uint8_t blue(int r, int i) { return static_cast<std::uint8_t>(255 - i - r); }

std::string record(const std::string& labels, int r) {
  std::string bytes = labels;
  for (int i = 0; i < kPlane; ++i) bytes.push_back(static_cast<char>(red(r, i)));
  for (int i = 0; i < kPlane; ++i) bytes.push_back(static_cast<char>(green(r, i)));
  for (int i = 0; i < kPlane; ++i) bytes.push_back(static_cast<char>(blue(r, i)));
  return bytes;
}

// The 601 luma computed independently, in floating point (exact: the numerator
// is an integer and k.5 is representable, so ties round up as in the reader).
int expected_gray(int r, int i) {
  const double weighted = 299.0 * red(r, i) + 587.0 * green(r, i) + 114.0 * blue(r, i);
  return static_cast<int>(std::floor(weighted / 1000.0 + 0.5));
}

TEST_CASE("luma_601 on known colours", "[io][cifar]") {
  CHECK(luma_601(0, 0, 0) == 0);
  CHECK(luma_601(255, 255, 255) == 255);
  CHECK(luma_601(255, 0, 0) == 76);     // 76.245
  CHECK(luma_601(0, 255, 0) == 150);    // 149.685
  CHECK(luma_601(0, 0, 255) == 29);     // 29.07
  CHECK(luma_601(10, 200, 30) == 124);  // 123.81
  CHECK(luma_601(128, 128, 128) == 128);
}

TEST_CASE("read_cifar10 reads label and gray pixels of every record", "[io][cifar]") {
  TempDir dir;
  const std::string path = dir.file("data_batch_1.bin");
  write_bytes(path, record("\x07", 0) + record(std::string(1, '\0'), 1) + record("\x09", 2));
  const auto images = read_cifar10(path);
  REQUIRE(images.size() == 3);
  CHECK(images[0].label == 7);
  CHECK(images[1].label == 0);
  CHECK(images[2].label == 9);
  for (int r = 0; r < 3; ++r) {
    CHECK(images[r].image.width == 32);
    CHECK(images[r].image.height == 32);
    REQUIRE(images[r].image.pixels.size() == kPlane);
    int mismatches = 0;
    for (int i = 0; i < kPlane; ++i) mismatches += images[r].image.pixels[i] != expected_gray(r, i);
    CHECK(mismatches == 0);
  }
  // Row-major: pixel (x 5, y 2) is plane index 69.
  CHECK(images[0].image.pixels[2 * 32 + 5] == luma_601(69, 212, 186));
}

TEST_CASE("read_cifar100 keeps the fine or the coarse label", "[io][cifar]") {
  TempDir dir;
  const std::string path = dir.file("train.bin");
  write_bytes(path, record(std::string("\x03\x2a", 2), 0) + record(std::string("\x13\x63", 2), 1));
  const auto fine = read_cifar100(path);
  REQUIRE(fine.size() == 2);
  CHECK(fine[0].label == 42);
  CHECK(fine[1].label == 99);
  CHECK(fine[1].image.pixels[100] == expected_gray(1, 100));
  const auto coarse = read_cifar100(path, Cifar100Label::kCoarse);
  CHECK(coarse[0].label == 3);
  CHECK(coarse[1].label == 19);
}

TEST_CASE("CIFAR readers reject malformed files naming the file", "[io][cifar]") {
  TempDir dir;
  const std::string path = dir.file("bad.bin");
  const std::string one10 = record("\x01", 0);
  const std::string one100 = record(std::string("\x01\x02", 2), 0);

  write_bytes(path, one10 + one10 + "x");
  CHECK_THAT(runtime_error_message([&] { read_cifar10(path); }),
             Contains(path) && Contains("multiple of the record size 3073"));
  write_bytes(path, one10.substr(0, 3000));
  CHECK_THAT(runtime_error_message([&] { read_cifar10(path); }),
             Contains(path) && Contains("multiple"));
  write_bytes(path, one100 + one100);  // 6148 bytes: not CIFAR-10
  CHECK_THAT(runtime_error_message([&] { read_cifar10(path); }),
             Contains(path) && Contains("multiple"));
  write_bytes(path, one10 + one10);  // 6146 bytes: not CIFAR-100
  CHECK_THAT(runtime_error_message([&] { read_cifar100(path); }),
             Contains(path) && Contains("3074"));
  write_bytes(path, "");
  CHECK_THAT(runtime_error_message([&] { read_cifar10(path); }),
             Contains(path) && Contains("empty"));
  write_bytes(path, record("\x0a", 0));
  CHECK_THAT(runtime_error_message([&] { read_cifar10(path); }),
             Contains(path) && Contains("label 10"));
  write_bytes(path, record(std::string("\x14\x00", 2), 0));
  CHECK_THAT(runtime_error_message([&] { read_cifar100(path); }),
             Contains(path) && Contains("label 20"));
  write_bytes(path, record(std::string("\x00\x64", 2), 0));
  CHECK_THAT(runtime_error_message([&] { read_cifar100(path); }),
             Contains(path) && Contains("label 100"));
  CHECK_THAT(runtime_error_message([&] { read_cifar10(dir.file("missing.bin")); }),
             Contains(dir.file("missing.bin")));
}

}  // namespace
}  // namespace spikevid
