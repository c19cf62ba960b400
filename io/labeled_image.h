#pragma once
// An image with its class, as the classification data sets (MNIST, Fashion-MNIST,
// CIFAR) ship them.
#include "io/gray_image.h"

namespace spikevid {

struct LabeledImage {
  GrayImage image;
  int label = -1;  // -1: no label
};

}  // namespace spikevid
