#include "io/pack_file.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "io/file_util.h"
#include "io/json_parse.h"
#include "io/splits.h"

namespace spikevid {

namespace {

constexpr char kMagic[8] = {'S', 'P', 'K', 'V', 'P', 'A', 'C', 'K'};
constexpr std::size_t kPrefixBytes = 20;  // magic, version, header length

bool is_pack_kind(const std::string& kind) { return kind == "photos" || kind == "images"; }

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const char* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return value;
}

// The problem with one image's metadata, or "" if it is fine; shared by the
// writer and the reader so that whatever is written can be read back.
std::string image_problem(int width, int height, const std::string& split, std::int64_t label) {
  if (width < 1 || width > kPackMaxSide || height < 1 || height > kPackMaxSide) {
    return "size " + std::to_string(width) + "x" + std::to_string(height) + " outside 1.." +
           std::to_string(kPackMaxSide);
  }
  if (!is_split_name(split)) return "split \"" + split + "\" is not train, val or test";
  if (label < -1 || label > std::numeric_limits<int>::max()) {
    return "label " + std::to_string(label) + " is neither -1 nor a class index";
  }
  return "";
}

// ---- reading ----

const nlohmann::json& member(const nlohmann::json& object, const char* key,
                             const std::string& where, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end()) throw_file_error(path, "header: " + where + " has no \"" + key + "\"");
  return *it;
}

std::string string_member(const nlohmann::json& object, const char* key, const std::string& where,
                          const std::string& path) {
  const nlohmann::json& value = member(object, key, where, path);
  if (!value.is_string()) {
    throw_file_error(path, "header: " + where + " \"" + key + "\" is not a string");
  }
  return value.get<std::string>();
}

// An integer in [lo, hi]; JSON floats such as 3.0 are rejected.
std::int64_t int_member(const nlohmann::json& object, const char* key, std::int64_t lo,
                        std::int64_t hi, const std::string& where, const std::string& path) {
  const nlohmann::json& value = member(object, key, where, path);
  std::int64_t number = 0;
  bool ok = false;
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    ok = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    number = ok ? static_cast<std::int64_t>(u) : 0;
  } else if (value.is_number_integer()) {
    number = value.get<std::int64_t>();
    ok = true;
  }
  if (!ok || number < lo || number > hi) {
    throw_file_error(path, "header: " + where + " \"" + key + "\" is not an integer in " +
                               std::to_string(lo) + ".." + std::to_string(hi));
  }
  return number;
}

double number_member(const nlohmann::json& object, const char* key, double fallback,
                     const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_number())
    throw_file_error(path, std::string("header: views \"") + key + "\" is not a number");
  return it->get<double>();
}

nlohmann::json view_mix_json(const ViewMix& m) {
  return {{"whole", m.whole},       {"video", m.video}, {"finest", m.finest},
          {"coarsest", m.coarsest}, {"flips", m.flips}, {"brightness", m.brightness},
          {"contrast", m.contrast}};
}

ViewMix read_view_mix(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) throw_file_error(path, "header: \"views\" is not an object");
  ViewMix m;
  m.whole = number_member(j, "whole", m.whole, path);
  m.video = number_member(j, "video", m.video, path);
  m.finest = number_member(j, "finest", m.finest, path);
  m.coarsest = number_member(j, "coarsest", m.coarsest, path);
  m.brightness = number_member(j, "brightness", m.brightness, path);
  m.contrast = number_member(j, "contrast", m.contrast, path);
  if (const auto it = j.find("flips"); it != j.end()) {
    if (!it->is_boolean()) throw_file_error(path, "header: views \"flips\" is not true or false");
    m.flips = it->get<bool>();
  }
  if (const auto problem = view_mix_problem(m); !problem.empty())
    throw_file_error(path, "header: views: " + problem);
  m.recorded = true;
  return m;
}

}  // namespace

std::string view_mix_problem(const ViewMix& m) {
  const auto share = [](double v) { return v >= 0 && v <= 1; };  // false for NaN too
  if (!share(m.whole)) return "whole " + std::to_string(m.whole) + " is not in 0..1";
  if (!share(m.video)) return "video " + std::to_string(m.video) + " is not in 0..1";
  if (!(m.finest > 0 && m.finest <= 1))
    return "finest " + std::to_string(m.finest) + " is not in (0, 1]";
  if (!(m.coarsest >= m.finest && m.coarsest <= 1))
    return "coarsest " + std::to_string(m.coarsest) + " is not in finest..1";
  if (!(m.brightness >= 0 && m.brightness <= 0.5))
    return "brightness " + std::to_string(m.brightness) + " is not in 0..0.5";
  if (!(m.contrast >= 0 && m.contrast < 1))
    return "contrast " + std::to_string(m.contrast) + " is not in 0..1 (excluded)";
  return "";
}

std::string describe_pack_counts(const Pack& pack) {
  std::map<std::string, int> images, frames;
  std::map<std::string, std::set<std::string>> clips;
  for (const auto& im : pack.images) {
    ++images[im.split];
    if (im.frame >= 0) {
      ++frames[im.split];
      clips[im.split].insert(im.source);
    }
  }
  std::ostringstream out;
  out << pack.images.size() << " images: " << images["train"] << " train, " << images["val"]
      << " val, " << images["test"] << " test";
  if (!clips.empty()) {
    out << "; photos " << images["train"] - frames["train"] << " / "
        << images["val"] - frames["val"] << " / " << images["test"] - frames["test"]
        << ", clips (frames) " << clips["train"].size() << " (" << frames["train"] << ") / "
        << clips["val"].size() << " (" << frames["val"] << ") / " << clips["test"].size() << " ("
        << frames["test"] << ") in train / val / test";
  }
  return out.str();
}

std::string describe_view_mix(const ViewMix& m) {
  std::ostringstream out;
  const auto pct = [](double v) { return static_cast<int>(std::lround(v * 100)); };
  out << pct(m.whole) << " % whole-image views, the rest patches of " << pct(m.finest) << "-"
      << pct(m.coarsest) << " % of the long side; " << pct(m.video) << " % from clip frames; "
      << (m.flips ? "flips" : "no flips") << ", brightness +-" << m.brightness << ", contrast 1 +- "
      << m.contrast;
  if (!m.recorded) out << " (the defaults: the pack records no view mix)";
  return out.str();
}

void write_pack(const std::string& path, const Pack& pack) {
  if (!is_pack_kind(pack.kind)) {
    throw_file_error(path, "cannot write: kind \"" + pack.kind + "\" is not photos or images");
  }
  nlohmann::json images = nlohmann::json::array();
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < pack.images.size(); ++i) {
    const PackedImage& image = pack.images[i];
    const GrayImage& gray = image.image;
    const std::string problem = image_problem(gray.width, gray.height, image.split, image.label);
    if (!problem.empty()) {
      throw_file_error(path, "cannot write: image " + std::to_string(i) + ": " + problem);
    }
    if (gray.pixels.size() != static_cast<std::size_t>(gray.width) * gray.height) {
      throw_file_error(path, "cannot write: image " + std::to_string(i) + " has " +
                                 std::to_string(gray.pixels.size()) + " pixels, not " +
                                 std::to_string(gray.width) + "x" + std::to_string(gray.height));
    }
    if (image.frame < -1)
      throw_file_error(path, "cannot write: image " + std::to_string(i) + ": frame " +
                                 std::to_string(image.frame) + " is negative");
    images.push_back({{"source", image.source},
                      {"label", image.label},
                      {"split", image.split},
                      {"width", gray.width},
                      {"height", gray.height},
                      {"offset", offset}});
    if (image.frame >= 0) images.back()["frame"] = image.frame;
    offset += gray.pixels.size();
  }
  nlohmann::json header_json = {{"kind", pack.kind},
                                {"name", pack.name},
                                {"created_by", pack.created_by},
                                {"images", std::move(images)}};
  if (pack.views.recorded) {
    if (const auto problem = view_mix_problem(pack.views); !problem.empty())
      throw_file_error(path, "cannot write: views: " + problem);
    header_json["views"] = view_mix_json(pack.views);
  }
  std::string header;
  try {
    header = header_json.dump();
  } catch (const nlohmann::json::exception& e) {  // a string that is not UTF-8
    throw_file_error(path, std::string("cannot write: ") + e.what());
  }

  std::string prefix(kMagic, sizeof kMagic);
  put_le(prefix, kPackVersion, 4);
  put_le(prefix, header.size(), 8);

  const std::string tmp = path + ".tmp";
  errno = 0;
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr) throw_file_error(tmp, std::string("cannot create: ") + std::strerror(errno));
  bool ok = std::fwrite(prefix.data(), 1, prefix.size(), file) == prefix.size() &&
            std::fwrite(header.data(), 1, header.size(), file) == header.size();
  for (const PackedImage& image : pack.images) {
    const auto& pixels = image.image.pixels;
    ok = ok && std::fwrite(pixels.data(), 1, pixels.size(), file) == pixels.size();
  }
  ok = ok && std::fflush(file) == 0;
#if defined(__unix__) || defined(__APPLE__)
  // On disk before the rename, so a power cut leaves the old file or the new one.
  ok = ok && ::fsync(fileno(file)) == 0;
#endif
  const int write_errno = errno;
  ok = std::fclose(file) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw_file_error(tmp, std::string("write failed: ") +
                              (write_errno != 0 ? std::strerror(write_errno) : "I/O error"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    throw_file_error(path, std::string("cannot rename the .tmp file into place: ") +
                               std::strerror(rename_errno));
  }
}

Pack read_pack(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_file_error(path, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_file_error(path, "cannot open for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff file_size_signed = in.tellg();
  if (file_size_signed < 0) throw_file_error(path, "cannot determine the file size");
  const auto file_size = static_cast<std::uint64_t>(file_size_signed);
  in.seekg(0, std::ios::beg);

  char prefix[kPrefixBytes];
  if (file_size < kPrefixBytes || !in.read(prefix, kPrefixBytes)) {
    throw_file_error(path, "not a spikevid pack file (shorter than its 20-byte prefix)");
  }
  if (std::memcmp(prefix, kMagic, sizeof kMagic) != 0) {
    throw_file_error(path, "not a spikevid pack file (magic is not \"SPKVPACK\")");
  }
  const std::uint64_t version = get_le(prefix + 8, 4);
  if (version != kPackVersion) {
    throw_file_error(path, "unsupported pack format version " + std::to_string(version) +
                               " (this build reads version " + std::to_string(kPackVersion) + ")");
  }
  const std::uint64_t header_size = get_le(prefix + 12, 8);
  if (header_size > file_size - kPrefixBytes) {
    throw_file_error(path, "truncated: JSON header of " + std::to_string(header_size) +
                               " bytes runs past the end of the " + std::to_string(file_size) +
                               "-byte file");
  }
  std::string header(static_cast<std::size_t>(header_size), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_size))) {
    throw_file_error(path, "read error in the JSON header");
  }
  const std::uint64_t data_size = file_size - kPrefixBytes - header_size;
  const std::uint64_t data_start = kPrefixBytes + header_size;

  const nlohmann::json json = parse_json(header, path);
  if (!json.is_object()) throw_file_error(path, "header: not a JSON object");
  Pack pack;
  pack.kind = string_member(json, "kind", "the pack", path);
  if (!is_pack_kind(pack.kind)) {
    throw_file_error(path, "header: kind \"" + pack.kind + "\" is not photos or images");
  }
  pack.name = string_member(json, "name", "the pack", path);
  pack.created_by = string_member(json, "created_by", "the pack", path);
  if (const auto it = json.find("views"); it != json.end()) pack.views = read_view_mix(*it, path);
  const nlohmann::json& images = member(json, "images", "the pack", path);
  if (!images.is_array()) throw_file_error(path, "header: \"images\" is not an array");

  // First validate every entry, so a bad file allocates nothing big.
  struct Entry {
    std::uint64_t offset;
    std::uint64_t bytes;
  };
  std::vector<Entry> entries;
  entries.reserve(images.size());
  pack.images.resize(images.size());
  std::uint64_t total_bytes = 0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const nlohmann::json& entry = images[i];
    const std::string where = "image " + std::to_string(i);
    if (!entry.is_object()) throw_file_error(path, "header: " + where + " is not an object");
    PackedImage& image = pack.images[i];
    image.source = string_member(entry, "source", where, path);
    image.split = string_member(entry, "split", where, path);
    const std::int64_t label =
        int_member(entry, "label", -1, std::numeric_limits<int>::max(), where, path);
    const std::int64_t width = int_member(entry, "width", 1, kPackMaxSide, where, path);
    const std::int64_t height = int_member(entry, "height", 1, kPackMaxSide, where, path);
    const std::int64_t offset =
        int_member(entry, "offset", 0, std::numeric_limits<std::int64_t>::max(), where, path);
    const std::string problem =
        image_problem(static_cast<int>(width), static_cast<int>(height), image.split, label);
    if (!problem.empty()) throw_file_error(path, "header: " + where + ": " + problem);
    image.label = static_cast<int>(label);
    if (entry.contains("frame"))
      image.frame = static_cast<int>(
          int_member(entry, "frame", 0, std::numeric_limits<int>::max(), where, path));
    image.image.width = static_cast<int>(width);
    image.image.height = static_cast<int>(height);

    const auto bytes = static_cast<std::uint64_t>(width * height);
    const auto start = static_cast<std::uint64_t>(offset);
    if (start > data_size || bytes > data_size - start) {
      throw_file_error(path, "truncated: " + where + " (bytes " + std::to_string(start) + ".." +
                                 std::to_string(start + bytes) + ") runs past the end of the " +
                                 std::to_string(data_size) + "-byte data block");
    }
    // Images never share bytes, so together they fit in the data block; checking
    // that bounds the memory a forged header can make us allocate.
    total_bytes += bytes;
    if (total_bytes > data_size) {
      throw_file_error(path, "header: images overlap (together more than the " +
                                 std::to_string(data_size) + "-byte data block)");
    }
    entries.push_back({start, bytes});
  }

  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto& pixels = pack.images[i].image.pixels;
    pixels.resize(static_cast<std::size_t>(entries[i].bytes));
    in.seekg(static_cast<std::streamoff>(data_start + entries[i].offset));
    if (!in.read(reinterpret_cast<char*>(pixels.data()),
                 static_cast<std::streamsize>(entries[i].bytes))) {
      throw_file_error(path, "read error in image " + std::to_string(i));
    }
  }
  return pack;
}

}  // namespace spikevid
