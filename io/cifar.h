#pragma once
// CIFAR-10 and CIFAR-100 binary files, as the official archives ship them
// (data_batch_1.bin ..., train.bin, test.bin). A CIFAR-10 record is 1 label byte
// + 3072 pixel bytes; a CIFAR-100 record is 2 label bytes (coarse, fine) + 3072.
// The pixels are three 32x32 row-major planes: red, green, blue.
#include <string>
#include <vector>

#include "io/labeled_image.h"

namespace spikevid {

constexpr int kCifarSide = 32;

// Which of a CIFAR-100 record's two labels to keep.
enum class Cifar100Label { kFine, kCoarse };

// ITU-R BT.601 luma of an RGB pixel, rounded: (299 R + 587 G + 114 B) / 1000.
std::uint8_t luma_601(std::uint8_t r, std::uint8_t g, std::uint8_t b);

// Every record of the file as gray (luma_601) + label. Throws std::runtime_error
// ("PATH: problem") if the file is empty, its size is not a multiple of the
// record size, or a label is out of range.
std::vector<LabeledImage> read_cifar10(const std::string& path);
std::vector<LabeledImage> read_cifar100(const std::string& path,
                                        Cifar100Label which = Cifar100Label::kFine);

}  // namespace spikevid
