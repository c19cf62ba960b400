#pragma once
// The packed data file: many gray images with their source, label and split in
// one file that a training machine reads with the C++ standard library alone.
//
//   bytes 0..7    magic "SPKVPACK"
//   bytes 8..11   uint32 little-endian format version (1)
//   bytes 12..19  uint64 little-endian length L of the JSON header
//   L bytes       UTF-8 JSON: {"kind": "photos" | "images", "name", "created_by",
//                 "images": [{"source", "label", "split", "width", "height",
//                             "offset"}, ...]}
//   data block    each image's width*height gray bytes, row-major, at its offset
#include <cstdint>
#include <string>
#include <vector>

#include "io/gray_image.h"

namespace spikevid {

constexpr std::uint32_t kPackVersion = 1;
constexpr int kPackMaxSide = 16384;  // larger sides are taken as corruption

struct PackedImage {
  std::string source;  // the file it came from; splits are by source
  int label = -1;      // -1: no label
  std::string split;   // "train", "val" or "test"
  GrayImage image;
};

struct Pack {
  std::string kind;  // "photos" (natural scenes) or "images" (labelled sets)
  std::string name;
  std::string created_by;  // the command that made it
  std::vector<PackedImage> images;
};

// Writes path + ".tmp", then renames it to path, so a crash never leaves a half
// file. Throws std::runtime_error ("PATH: problem") on invalid content or I/O error.
void write_pack(const std::string& path, const Pack& pack);

// Reads and validates everything (magic, version, lengths, every image inside
// the data block, sizes, splits, JSON types); throws std::runtime_error
// ("PATH: problem") on the first problem.
Pack read_pack(const std::string& path);

}  // namespace spikevid
