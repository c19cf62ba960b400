#include "io/cifar.h"

#include "io/file_util.h"

namespace spikevid {

namespace {

constexpr std::size_t kPlane = kCifarSide * kCifarSide;
constexpr std::size_t kPixelBytes = 3 * kPlane;
// The largest official file (CIFAR-100 train.bin) is 154 MB.
constexpr std::uint64_t kMaxFileBytes = 1ull << 30;

struct RecordLayout {
  const char* format;
  std::size_t label_bytes;  // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  int n_classes[2];         // each label byte's exclusive upper bound
};

// keep: which label byte becomes the image's label.
std::vector<LabeledImage> read_records(const std::string& path, const RecordLayout& layout,
                                       std::size_t keep) {
  const std::string format = layout.format;
  const std::size_t label_bytes = layout.label_bytes;
  const std::string bytes = read_file_bytes(path, kMaxFileBytes);
  const std::size_t record = label_bytes + kPixelBytes;
  if (bytes.empty()) throw_file_error(path, "empty file, not a " + format + " file");
  if (bytes.size() % record != 0) {
    throw_file_error(path, "not a " + format + " file (size " + std::to_string(bytes.size()) +
                               " is not a multiple of the record size " + std::to_string(record) +
                               ")");
  }
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::vector<LabeledImage> images(bytes.size() / record);
  for (std::size_t n = 0; n < images.size(); ++n) {
    const std::uint8_t* rec = data + n * record;
    for (std::size_t l = 0; l < label_bytes; ++l) {
      if (rec[l] >= layout.n_classes[l]) {
        throw_file_error(path, "not a " + format + " file (record " + std::to_string(n) +
                                   " has label " + std::to_string(rec[l]) + ", out of range)");
      }
    }
    LabeledImage& out = images[n];
    out.label = rec[keep];
    out.image.width = kCifarSide;
    out.image.height = kCifarSide;
    out.image.pixels.resize(kPlane);
    const std::uint8_t* red = rec + label_bytes;
    for (std::size_t i = 0; i < kPlane; ++i) {
      out.image.pixels[i] = luma_601(red[i], red[i + kPlane], red[i + 2 * kPlane]);
    }
  }
  return images;
}

}  // namespace

std::uint8_t luma_601(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((299u * r + 587u * g + 114u * b + 500u) / 1000u);
}

std::vector<LabeledImage> read_cifar10(const std::string& path) {
  return read_records(path, {"CIFAR-10", 1, {10, 0}}, 0);
}

std::vector<LabeledImage> read_cifar100(const std::string& path, Cifar100Label which) {
  // 20 coarse superclasses, 100 fine classes.
  return read_records(path, {"CIFAR-100", 2, {20, 100}}, which == Cifar100Label::kCoarse ? 0 : 1);
}

}  // namespace spikevid
