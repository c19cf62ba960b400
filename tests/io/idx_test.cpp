#include "io/idx.h"

#include <zlib.h>
#include <catch2/catch.hpp>

#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

using Catch::Matchers::Contains;
using test::read_bytes;
using test::runtime_error_message;
using test::TempDir;
using test::write_bytes;

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// Three 4-wide, 2-high images; pixel i of image n is 10 n + i.
std::string images_file() {
  std::string bytes = be32(0x803) + be32(3) + be32(2) + be32(4);
  for (int n = 0; n < 3; ++n) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(10 * n + i));
  }
  return bytes;
}

std::string labels_file() { return be32(0x801) + be32(3) + std::string("\x09\x00\x04", 3); }

void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

void check_images(const std::vector<GrayImage>& images) {
  REQUIRE(images.size() == 3);
  for (int n = 0; n < 3; ++n) {
    CHECK(images[n].width == 4);
    CHECK(images[n].height == 2);
    std::vector<std::uint8_t> expected;
    for (int i = 0; i < 8; ++i) expected.push_back(static_cast<std::uint8_t>(10 * n + i));
    CHECK(images[n].pixels == expected);
  }
}

TEST_CASE("IDX images and labels, plain and gzipped", "[io][idx]") {
  TempDir dir;
  write_bytes(dir.file("images-idx3-ubyte"), images_file());
  write_bytes(dir.file("labels-idx1-ubyte"), labels_file());
  write_gzip(dir.file("images-idx3-ubyte.gz"), images_file());
  write_gzip(dir.file("labels-idx1-ubyte.gz"), labels_file());
  REQUIRE(read_bytes(dir.file("images-idx3-ubyte.gz")).substr(0, 2) == "\x1f\x8b");

  for (const std::string suffix : {"", ".gz"}) {
    INFO("suffix " << suffix);
    check_images(read_idx_images(dir.file("images-idx3-ubyte" + suffix)));
    CHECK(read_idx_labels(dir.file("labels-idx1-ubyte" + suffix)) == std::vector<int>{9, 0, 4});
    const auto pairs = read_idx_dataset(dir.file("images-idx3-ubyte" + suffix),
                                        dir.file("labels-idx1-ubyte" + suffix));
    REQUIRE(pairs.size() == 3);
    CHECK(pairs[2].label == 4);
    CHECK(pairs[2].image.pixels[7] == 27);
  }
}

TEST_CASE("IDX readers reject malformed files naming the file", "[io][idx]") {
  TempDir dir;
  const std::string path = dir.file("bad-idx");
  const std::string good = images_file();
  struct Case {
    const char* what;
    std::string bytes;
    const char* expected;
  };
  const Case cases[] = {
      {"empty", "", "truncated"},
      {"labels file", labels_file(), "not an IDX image file (magic 0x801, expected 0x803)"},
      {"cut in the counts", good.substr(0, 10), "truncated"},
      {"truncated pixels", good.substr(0, good.size() - 1), "truncated"},
      {"trailing bytes", good + "x", "more bytes"},
      {"zero rows", be32(0x803) + be32(1) + be32(0) + be32(4), "size"},
      {"huge size", be32(0x803) + be32(1) + be32(100000) + be32(4), "size"},
      // Claims 2^32 images of 16384x16384: refused before reading.
      {"forged count", be32(0x803) + be32(0xffffffff) + be32(16384) + be32(16384) + "abc",
       "implausibly large"},
      // Claims 1 GB, holds 3 bytes: no 1 GB allocation, only what is there.
      {"forged count under the limit", be32(0x803) + be32(1024) + be32(1024) + be32(1024) + "abc",
       "truncated"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    for (const bool gzipped : {false, true}) {
      if (gzipped) {
        write_gzip(path, c.bytes);
      } else {
        write_bytes(path, c.bytes);
      }
      const std::string message = runtime_error_message([&] { read_idx_images(path); });
      CHECK_THAT(message, Contains(path) && Contains(c.expected));
      CHECK(message.find('\n') == std::string::npos);
    }
  }

  write_bytes(path, images_file());
  CHECK_THAT(runtime_error_message([&] { read_idx_labels(path); }),
             Contains(path) && Contains("magic 0x803, expected 0x801"));
  write_bytes(path, labels_file().substr(0, 9));
  CHECK_THAT(runtime_error_message([&] { read_idx_labels(path); }),
             Contains(path) && Contains("truncated"));

  // A gzip stream cut in half.
  write_gzip(path, images_file());
  const std::string gz = read_bytes(path);
  write_bytes(path, gz.substr(0, gz.size() / 2));
  CHECK_THAT(runtime_error_message([&] { read_idx_images(path); }), Contains(path));
  // Damaged compressed data.
  std::string damaged = gz;
  for (std::size_t i = 12; i < damaged.size() - 8; ++i) damaged[i] = static_cast<char>(0xff);
  write_bytes(path, damaged);
  CHECK_THAT(runtime_error_message([&] { read_idx_images(path); }), Contains(path));

  // Images and labels that do not pair up.
  write_bytes(dir.file("images"), images_file());
  write_bytes(dir.file("labels"), be32(0x801) + be32(2) + "\x01\x02");
  CHECK_THAT(
      runtime_error_message([&] { read_idx_dataset(dir.file("images"), dir.file("labels")); }),
      Contains(dir.file("labels")) && Contains("2 labels"));
  CHECK_THAT(runtime_error_message([&] { read_idx_images(dir.file("missing")); }),
             Contains(dir.file("missing")));
  CHECK_THAT(runtime_error_message([&] { read_idx_images(dir.path()); }), Contains(dir.path()));
}

}  // namespace
}  // namespace spikevid
