#pragma once
// How a decoder's network is loaded (models/decoder.h). optimized: for
// inference (models/inference.h: BatchNorm folded, no dropout, channels-last
// convolutions on the CPU); as_trained: the modules as the file holds them,
// for the bench's comparison (`bench --modules as-trained`). Both give the
// same images within float rounding.

namespace spikevid {

enum class Modules { optimized, as_trained };

}  // namespace spikevid
