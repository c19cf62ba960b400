#pragma once
// The packed data file: many gray images with their source, label and split in
// one file that a training machine reads with the C++ standard library alone.
//
//   bytes 0..7    magic "SPKVPACK"
//   bytes 8..11   uint32 little-endian format version (1)
//   bytes 12..19  uint64 little-endian length L of the JSON header
//   L bytes       UTF-8 JSON: {"kind": "photos" | "images", "name", "created_by",
//                 "views": {...} (optional, photos: the training view mix, ViewMix),
//                 "images": [{"source", "label", "split", "width", "height",
//                             "offset", "frame" (optional: index in its clip)}, ...]}
//   data block    each image's width*height gray bytes, row-major, at its offset
#include <cstdint>
#include <string>
#include <vector>

#include "io/gray_image.h"

namespace spikevid {

constexpr std::uint32_t kPackVersion = 1;
constexpr int kPackMaxSide = 16384;  // larger sides are taken as corruption

struct PackedImage {
  std::string source;  // the file it came from (a photo or a clip); splits are by source
  int label = -1;      // -1: no label
  std::string split;   // "train", "val" or "test"
  GrayImage image;
  int frame = -1;  // a video frame: its index in the clip `source`; -1: a photo or image
};

// How training views are drawn from a "photos" pack (pack-data records it; the
// training data reader follows it). A view is a square window of a photo or
// video frame, averaged down to 64×64. Without a "views" entry in the file
// (packs made before it existed) these defaults give the patches of old.
struct ViewMix {
  double whole = 0;  // share of whole-image views: a square of the short side, random position
  double video = 0;  // share of views cut from video frames (when the pack has clips)
  // Other views are patches whose side is log-uniform between these fractions
  // of the long side, clamped to 64 pixels and to the short side (1: up to whole).
  double finest = 0.05, coarsest = 0.3;
  bool flips = true;      // mirror half of the views left to right
  double brightness = 0;  // add a uniform offset in ±brightness (pixel values 0..1)
  double contrast = 0;    // scale about the view's mean by a factor in 1 ± contrast
  bool recorded = false;  // read from the file (false: the defaults above)
};

// Whether the mix makes sense (shares and fractions in range, finest ≤ coarsest):
// "" if so, else the problem.
std::string view_mix_problem(const ViewMix& mix);

struct Pack {
  std::string kind;  // "photos" (natural scenes) or "images" (labelled sets)
  std::string name;
  std::string created_by;  // the command that made it
  std::vector<PackedImage> images;
  ViewMix views;  // written when views.recorded
};

// Writes path + ".tmp", then renames it to path, so a crash never leaves a half
// file. Throws std::runtime_error ("PATH: problem") on invalid content or I/O error.
void write_pack(const std::string& path, const Pack& pack);

// One line of counts: "N images: a train, b val, c test" and, for packs with
// clips, the photos and the clips with their frames per split.
std::string describe_pack_counts(const Pack& pack);

// The view mix in words, e.g. "35 % whole-image views, 25 % from clip frames, ...";
// "patches of 5-30 % of the long side (the defaults: none recorded)" for older packs.
std::string describe_view_mix(const ViewMix& mix);

// Reads and validates everything (magic, version, lengths, every image inside
// the data block, sizes, splits, JSON types); throws std::runtime_error
// ("PATH: problem") on the first problem.
Pack read_pack(const std::string& path);

}  // namespace spikevid
