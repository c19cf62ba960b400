#include "io/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "io/file_util.h"

namespace spikevid {

namespace {

constexpr std::uint32_t kImagesMagic = 0x803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x801;  // unsigned byte, 1 dimension
constexpr std::uint32_t kMaxSide = 16384;
// EMNIST, the largest IDX set, holds 0.55 GB; a larger claim is a forged header
// or a gzip bomb.
constexpr std::uint64_t kMaxBodyBytes = 2ull << 30;
// Read in chunks and grow as data arrives, never by the header's claim, so a
// forged count cannot make us allocate more than the file really holds.
constexpr unsigned kChunk = 1u << 20;

std::string hex(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%x", value);
  return text;
}

class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw_file_error(path, "is a directory, not a file");
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) throw_file_error(path, "cannot open for reading");
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Appends up to n bytes to out; returns how many came (fewer only at the end).
  std::size_t read(std::vector<std::uint8_t>& out, std::uint64_t n) {
    std::size_t got = 0;
    while (got < n) {
      const auto want = static_cast<unsigned>(std::min<std::uint64_t>(n - got, kChunk));
      const std::size_t old_size = out.size();
      out.resize(old_size + want);
      const int r = gzread(file_, out.data() + old_size, want);
      if (r < 0) fail();
      out.resize(old_size + static_cast<std::size_t>(r));
      got += static_cast<std::size_t>(r);
      if (r == 0) break;
    }
    // A truncated gzip stream reads short with an error set rather than r < 0.
    if (got < n) fail_if_error();
    return got;
  }

  std::uint32_t read_be32(const char* what) {
    std::vector<std::uint8_t> b;
    if (read(b, 4) != 4) throw_file_error(path_, std::string("truncated: ends inside the ") + what);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
  }

  // Throws if anything follows: a longer file is not the file the header describes.
  void expect_end() {
    std::uint8_t extra;
    const int r = gzread(file_, &extra, 1);
    if (r < 0) fail();
    if (r > 0) throw_file_error(path_, "more bytes than the header's counts describe");
    fail_if_error();
  }

 private:
  void fail_if_error() {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (code != Z_OK && code != Z_STREAM_END) fail(message);
  }
  [[noreturn]] void fail(const char* message = nullptr) {
    int code = Z_OK;
    if (message == nullptr) message = gzerror(file_, &code);
    throw_file_error(path_, std::string("damaged gzip data (") + message + ")");
  }

  std::string path_;
  gzFile file_ = nullptr;
};

void read_magic(GzFile& file, const std::string& path, std::uint32_t expected, const char* what) {
  const std::uint32_t magic = file.read_be32("magic number");
  if (magic != expected) {
    throw_file_error(path, std::string("not an IDX ") + what + " file (magic " + hex(magic) +
                               ", expected " + hex(expected) + ")");
  }
}

std::vector<std::uint8_t> read_body(GzFile& file, const std::string& path, std::uint64_t bytes,
                                    const char* what) {
  if (bytes > kMaxBodyBytes) {
    throw_file_error(path, "implausibly large: the header promises " + std::to_string(bytes) +
                               " bytes of " + what);
  }
  std::vector<std::uint8_t> body;
  if (file.read(body, bytes) != bytes) {
    throw_file_error(path, "truncated: the header promises " + std::to_string(bytes) +
                               " bytes of " + what + ", the file holds " +
                               std::to_string(body.size()));
  }
  file.expect_end();
  return body;
}

}  // namespace

std::vector<GrayImage> read_idx_images(const std::string& path) {
  GzFile file(path);
  read_magic(file, path, kImagesMagic, "image");
  const std::uint32_t n = file.read_be32("image count");
  const std::uint32_t rows = file.read_be32("row count");
  const std::uint32_t cols = file.read_be32("column count");
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide) {
    throw_file_error(path,
                     "implausible image size " + std::to_string(cols) + "x" + std::to_string(rows));
  }
  const std::uint64_t image_bytes = std::uint64_t{rows} * cols;
  const std::vector<std::uint8_t> body = read_body(file, path, n * image_bytes, "pixels");

  std::vector<GrayImage> images(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    images[i].width = static_cast<int>(cols);
    images[i].height = static_cast<int>(rows);
    const auto first = body.begin() + static_cast<std::ptrdiff_t>(i * image_bytes);
    images[i].pixels.assign(first, first + static_cast<std::ptrdiff_t>(image_bytes));
  }
  return images;
}

std::vector<int> read_idx_labels(const std::string& path) {
  GzFile file(path);
  read_magic(file, path, kLabelsMagic, "label");
  const std::uint32_t n = file.read_be32("label count");
  const std::vector<std::uint8_t> body = read_body(file, path, n, "labels");
  return std::vector<int>(body.begin(), body.end());
}

std::vector<LabeledImage> read_idx_dataset(const std::string& images_path,
                                           const std::string& labels_path) {
  std::vector<GrayImage> images = read_idx_images(images_path);
  const std::vector<int> labels = read_idx_labels(labels_path);
  if (labels.size() != images.size()) {
    throw_file_error(labels_path, "holds " + std::to_string(labels.size()) + " labels but " +
                                      images_path + " holds " + std::to_string(images.size()) +
                                      " images");
  }
  std::vector<LabeledImage> out(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    out[i].image = std::move(images[i]);
    out[i].label = labels[i];
  }
  return out;
}

}  // namespace spikevid
