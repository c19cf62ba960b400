// libFuzzer target: the packed data file reader.
#include <cstdlib>
#include <exception>
#include <string>

#include "io/pack_file.h"
#include "tests/fuzz/fuzz_common.h"

// SPIKEVID_FUZZ_SEED=DIR: write a valid input there first (the seed corpus).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SPIKEVID_FUZZ_SEED")) {
    spikevid::Pack p;
    p.kind = "images";
    p.name = "seed";
    p.created_by = "fuzz";
    for (int i = 0; i < 3; ++i) {
      spikevid::PackedImage im;
      im.source = "s" + std::to_string(i);
      im.label = i;
      im.split = i == 0 ? "train" : i == 1 ? "val" : "test";
      im.image.width = im.image.height = 4;
      im.image.pixels.assign(16, static_cast<std::uint8_t>(40 * i));
      p.images.push_back(im);
    }
    spikevid::write_pack(std::string(dir) + "/seed.pack", p);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = spikevid::fuzz::input_file(data, size, ".pack");
  try {
    (void)spikevid::read_pack(path);
  } catch (const std::exception&) {
  }
  return 0;
}
