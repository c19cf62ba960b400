#pragma once
// IDX files (MNIST, Fashion-MNIST): a big-endian magic (0x803: uint8 images,
// 0x801: uint8 labels), big-endian uint32 counts, then the bytes. Plain or
// gzipped: zlib reads both.
#include <string>
#include <vector>

#include "io/gray_image.h"
#include "io/labeled_image.h"

namespace spikevid {

// Every image of an images file (magic 0x803, counts n, rows, cols).
std::vector<GrayImage> read_idx_images(const std::string& path);

// Every label of a labels file (magic 0x801, count n).
std::vector<int> read_idx_labels(const std::string& path);

// Images and labels paired; the two files must hold the same count.
std::vector<LabeledImage> read_idx_dataset(const std::string& images_path,
                                           const std::string& labels_path);

// All throw std::runtime_error ("PATH: problem") on a wrong magic, a truncated
// or over-long file, a damaged gzip stream or an implausible size.

}  // namespace spikevid
