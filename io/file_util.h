#pragma once
// File access shared by the readers. Every error is one line "PATH: PROBLEM",
// so a command can print it as is and a fuzzer's findings stay readable.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace spikevid {

// Throws std::runtime_error("PATH: PROBLEM"), control characters made spaces.
[[noreturn]] void throw_file_error(const std::string& path, const std::string& problem);

// The whole file; throws if it cannot be opened or is larger than max_bytes.
std::string read_file_bytes(const std::string& path, std::uint64_t max_bytes);

}  // namespace spikevid
