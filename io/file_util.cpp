#include "io/file_util.h"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace spikevid {

namespace {
// Messages quote parser errors that quote the file: keep the line short.
constexpr std::size_t kMaxMessage = 400;
}  // namespace

void throw_file_error(const std::string& path, const std::string& problem) {
  std::string message = path + ": " + problem;
  if (message.size() > kMaxMessage) message = message.substr(0, kMaxMessage - 3) + "...";
  for (char& c : message) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  throw std::runtime_error(message);
}

std::string read_file_bytes(const std::string& path, std::uint64_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_file_error(path, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_file_error(path, "cannot open for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw_file_error(path, "cannot determine the file size");
  if (static_cast<std::uint64_t>(size) > max_bytes) {
    throw_file_error(path, "file too large (" + std::to_string(size) + " bytes, at most " +
                               std::to_string(max_bytes) + " expected)");
  }
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.seekg(0, std::ios::beg);
  if (!in.read(bytes.data(), size)) throw_file_error(path, "read error");
  return bytes;
}

}  // namespace spikevid
