#pragma once
// What every fuzz target shares: the input written to a file of this process
// (the readers take paths), and the rule that a reader may throw
// std::exception on bad input (that is its documented error path) but must
// not crash, hang, leak or touch memory it does not own.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace spikevid::fuzz {

inline std::string input_file(const std::uint8_t* data, std::size_t size, const char* ext) {
  static const std::string path =
      "/tmp/spikevid-fuzz-" + std::to_string(::getpid()) + std::string(ext);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return path;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

}  // namespace spikevid::fuzz
