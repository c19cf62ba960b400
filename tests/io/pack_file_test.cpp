#include "io/pack_file.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

using Catch::Matchers::Contains;
using test::read_bytes;
using test::runtime_error_message;
using test::TempDir;
using test::write_bytes;

GrayImage pattern(int width, int height, int seed) {
  GrayImage image{width, height, {}};
  for (int i = 0; i < width * height; ++i)
    image.pixels.push_back(static_cast<std::uint8_t>(i * 7 + seed));
  return image;
}

Pack sample_pack() {
  Pack pack;
  pack.kind = "photos";
  pack.name = "natural";
  pack.created_by = "spikevid pack --test";
  pack.images.push_back({"mate-backgrounds-Aqua.jpg", -1, "train", pattern(5, 3, 1)});
  pack.images.push_back({"caf\xc3\xa9.png", 7, "val", pattern(2, 4, 2)});
  pack.images.push_back({"opencv-doc-baboon.jpg", 0, "test", pattern(1, 1, 3)});
  return pack;
}

std::string le(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

// A pack file from its parts, to forge malformed ones.
std::string raw_pack(const std::string& header, const std::string& data,
                     std::uint32_t version = 1) {
  return "SPKVPACK" + le(version, 4) + le(header.size(), 8) + header + data;
}

// A valid header for one 2x2 image at offset, with one field replaced by json.
std::string one_image_header(const char* key = nullptr, const nlohmann::json& value = {}) {
  nlohmann::json image = {{"source", "a.png"}, {"label", 1},  {"split", "train"},
                          {"width", 2},        {"height", 2}, {"offset", 0}};
  if (key != nullptr) image[key] = value;
  return nlohmann::json{{"kind", "images"}, {"name", "n"}, {"created_by", "t"}, {"images", {image}}}
      .dump();
}

TEST_CASE("pack file round trip keeps every field and byte", "[io][pack]") {
  TempDir dir;
  const std::string path = dir.file("natural.spkvpack");
  const Pack pack = sample_pack();
  write_pack(path, pack);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  const Pack back = read_pack(path);
  CHECK(back.kind == pack.kind);
  CHECK(back.name == pack.name);
  CHECK(back.created_by == pack.created_by);
  REQUIRE(back.images.size() == pack.images.size());
  for (std::size_t i = 0; i < pack.images.size(); ++i) {
    CHECK(back.images[i].source == pack.images[i].source);
    CHECK(back.images[i].label == pack.images[i].label);
    CHECK(back.images[i].split == pack.images[i].split);
    CHECK(back.images[i].image.width == pack.images[i].image.width);
    CHECK(back.images[i].image.height == pack.images[i].image.height);
    CHECK(back.images[i].image.pixels == pack.images[i].image.pixels);
  }

  // Writing what was read gives the same bytes.
  const std::string again = dir.file("again.spkvpack");
  write_pack(again, back);
  CHECK(read_bytes(again) == read_bytes(path));
}

TEST_CASE("pack file layout is the documented one", "[io][pack]") {
  TempDir dir;
  const std::string path = dir.file("p.spkvpack");
  write_pack(path, sample_pack());
  const std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() > 20);
  CHECK(bytes.substr(0, 8) == "SPKVPACK");
  CHECK(bytes.substr(8, 4) == std::string("\x01\x00\x00\x00", 4));
  std::uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= std::uint64_t(std::uint8_t(bytes[12 + i])) << (8 * i);
  const auto header = nlohmann::json::parse(bytes.substr(20, header_size));
  CHECK(header["kind"] == "photos");
  CHECK(header["images"].size() == 3);
  CHECK(header["images"][1]["source"] == "caf\xc3\xa9.png");
  CHECK(header["images"][1]["offset"] == 15);  // after the 5x3 image
  CHECK(header["images"][2]["offset"] == 23);
  CHECK(bytes.size() == 20 + header_size + 15 + 8 + 1);
  CHECK(std::uint8_t(bytes[20 + header_size + 15]) == pattern(2, 4, 2).pixels[0]);
}

TEST_CASE("write_pack replaces a file and refuses invalid content", "[io][pack]") {
  TempDir dir;
  const std::string path = dir.file("p.spkvpack");
  write_pack(path, sample_pack());
  Pack empty;
  empty.kind = "images";
  write_pack(path, empty);
  CHECK(read_pack(path).images.empty());

  Pack bad = sample_pack();
  bad.images[0].split = "validation";
  CHECK_THAT(runtime_error_message([&] { write_pack(dir.file("bad"), bad); }),
             Contains(dir.file("bad")) && Contains("validation"));
  bad = sample_pack();
  bad.images[1].image.pixels.pop_back();
  CHECK_THAT(runtime_error_message([&] { write_pack(dir.file("bad"), bad); }), Contains("image 1"));
  bad = sample_pack();
  bad.kind = "video";
  CHECK_THAT(runtime_error_message([&] { write_pack(dir.file("bad"), bad); }), Contains("kind"));
  bad = sample_pack();
  bad.name = "\xff\xfe";  // not UTF-8
  CHECK_THAT(runtime_error_message([&] { write_pack(dir.file("bad"), bad); }),
             Contains(dir.file("bad")));
  CHECK_FALSE(std::filesystem::exists(dir.file("bad")));
  CHECK_FALSE(std::filesystem::exists(dir.file("bad.tmp")));
}

TEST_CASE("read_pack rejects malformed files with a one-line message naming the file",
          "[io][pack]") {
  TempDir dir;
  const std::string path = dir.file("bad.spkvpack");
  const std::string pixels(4, '\x10');
  struct Case {
    const char* what;
    std::string bytes;
    const char* expected;
  };
  std::string good_file;
  {
    write_pack(path, sample_pack());
    good_file = read_bytes(path);
  }
  std::string wrong_magic = good_file;
  wrong_magic[0] = 'X';
  std::string long_header = good_file;
  long_header.replace(12, 8, le(1u << 30, 8));
  const Case cases[] = {
      {"empty file", "", "prefix"},
      {"cut inside the prefix", good_file.substr(0, 10), "prefix"},
      {"wrong magic", wrong_magic, "magic"},
      {"truncated data block", good_file.substr(0, good_file.size() - 1), "truncated"},
      {"header length past the end", long_header, "header"},
      {"version 2", raw_pack(one_image_header(), pixels, 2), "version 2"},
      {"offset past the end", raw_pack(one_image_header("offset", 1), pixels), "data block"},
      {"huge offset", raw_pack(one_image_header("offset", std::uint64_t(-1)), pixels), "offset"},
      {"negative offset", raw_pack(one_image_header("offset", -4), pixels), "offset"},
      {"bad split name", raw_pack(one_image_header("split", "validation"), pixels), "split"},
      {"zero width", raw_pack(one_image_header("width", 0), pixels), "width"},
      {"too wide", raw_pack(one_image_header("width", 16385), pixels), "width"},
      {"float height", raw_pack(one_image_header("height", 2.0), pixels), "height"},
      {"label is a string", raw_pack(one_image_header("label", "cat"), pixels), "label"},
      {"label below -1", raw_pack(one_image_header("label", -2), pixels), "label"},
      {"source is a number", raw_pack(one_image_header("source", 3), pixels), "source"},
      {"header not JSON", raw_pack("{\"kind\":\n", pixels), "JSON"},
      {"header not an object", raw_pack("[1,2]", pixels), "object"},
      {"missing images", raw_pack(R"({"kind":"images","name":"n","created_by":"t"})", ""),
       "images"},
      {"bad kind", raw_pack(R"({"kind":"x","name":"n","created_by":"t","images":[]})", ""), "kind"},
      {"deep nesting", raw_pack(std::string(100000, '[') + std::string(100000, ']'), ""), "deep"},
      {"overlapping images",
       raw_pack(nlohmann::json{{"kind", "images"},
                               {"name", "n"},
                               {"created_by", "t"},
                               {"images",
                                {nlohmann::json::parse(one_image_header())["images"][0],
                                 nlohmann::json::parse(one_image_header())["images"][0]}}}
                    .dump(),
                pixels),
       "overlap"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    write_bytes(path, c.bytes);
    const std::string message = runtime_error_message([&] { read_pack(path); });
    CHECK_THAT(message, Contains(path) && Contains(c.expected));
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK_THAT(runtime_error_message([&] { read_pack(dir.file("missing")); }),
             Contains(dir.file("missing")));
  CHECK_THAT(runtime_error_message([&] { read_pack(dir.path()); }), Contains(dir.path()));
}

}  // namespace
}  // namespace spikevid

namespace spikevid {
namespace {

TEST_CASE("pack file keeps video frame indices and the view mix", "[io][pack]") {
  test::TempDir dir;
  const std::string path = dir.file("scenes.pack");
  Pack pack;
  pack.kind = "photos";
  pack.name = "scenes";
  pack.created_by = "test";
  pack.images.push_back({"a.jpg", -1, "train", {2, 2, {1, 2, 3, 4}}});
  pack.images.push_back({"clip.mp4", -1, "test", {2, 2, {5, 6, 7, 8}}, 0});
  pack.images.push_back({"clip.mp4", -1, "test", {2, 2, {9, 10, 11, 12}}, 1});
  pack.views = ViewMix{0.4, 0.2, 0.05, 1.0, false, 0.1, 0.3, true};
  write_pack(path, pack);
  const Pack back = read_pack(path);
  REQUIRE(back.images.size() == 3);
  CHECK(back.images[0].frame == -1);
  CHECK(back.images[1].frame == 0);
  CHECK(back.images[2].frame == 1);
  CHECK(back.views.recorded);
  CHECK(back.views.whole == 0.4);
  CHECK(back.views.video == 0.2);
  CHECK(back.views.coarsest == 1.0);
  CHECK_FALSE(back.views.flips);
  CHECK(back.views.contrast == 0.3);
  CHECK_THAT(describe_pack_counts(back),
             Catch::Matchers::Contains("clips (frames) 0 (0) / 0 (0) / 1 (2)"));
  CHECK_THAT(describe_view_mix(back.views), Catch::Matchers::Contains("40 % whole-image views"));

  // A pack without views reads as the defaults, not recorded.
  pack.views = ViewMix{};
  write_pack(path, pack);
  CHECK_FALSE(read_pack(path).views.recorded);
  CHECK(read_pack(path).views.coarsest == 0.3);
}

TEST_CASE("pack file rejects a view mix or frame index that makes no sense", "[io][pack]") {
  CHECK(view_mix_problem(ViewMix{}).empty());
  CHECK_FALSE(view_mix_problem(ViewMix{1.5, 0, 0.05, 0.3}).empty());
  CHECK_FALSE(view_mix_problem(ViewMix{0, -0.1, 0.05, 0.3}).empty());
  CHECK_FALSE(view_mix_problem(ViewMix{0, 0, 0.5, 0.3}).empty());  // finest above coarsest
  CHECK_FALSE(view_mix_problem(ViewMix{0, 0, 0.05, 0.3, true, 0.9}).empty());
  CHECK_FALSE(view_mix_problem(ViewMix{0, 0, 0.05, 0.3, true, 0, 1.0}).empty());

  test::TempDir dir;
  const std::string path = dir.file("bad.pack");
  auto header = nlohmann::json::parse(one_image_header());
  header["views"] = {{"whole", 2.0}};
  test::write_bytes(path, raw_pack(header.dump(), "abcd"));
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::Contains("views: whole"));
  header["views"] = {{"flips", 1}};
  test::write_bytes(path, raw_pack(header.dump(), "abcd"));
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::Contains("flips"));
  header["views"] = "all";
  test::write_bytes(path, raw_pack(header.dump(), "abcd"));
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::Contains("not an object"));
  test::write_bytes(path, raw_pack(one_image_header("frame", -2), "abcd"));
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::Contains("frame"));
}

}  // namespace
}  // namespace spikevid
