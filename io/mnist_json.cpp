#include "io/mnist_json.h"

#include <cmath>
#include <filesystem>

#include "io/file_util.h"
#include "io/json_parse.h"

namespace spikevid {

namespace {
// The package's largest file is 2.3 MB; anything far larger is not one of them.
constexpr std::uint64_t kMaxFileBytes = 256ull << 20;
constexpr std::size_t kDigitPixels = kMnistSide * kMnistSide;
}  // namespace

std::vector<LabeledImage> read_mnist_json(const std::string& path) {
  const std::string stem = std::filesystem::path(path).stem().string();
  if (stem.size() != 1 || stem[0] < '0' || stem[0] > '9') {
    throw_file_error(path, "file name must be D.json with D the digit 0-9 (it gives the label)");
  }
  const int label = stem[0] - '0';

  const nlohmann::json json = parse_json(read_file_bytes(path, kMaxFileBytes), path);
  if (!json.is_object()) throw_file_error(path, "expected a JSON object {\"data\": [...]}");
  const auto data = json.find("data");
  if (data == json.end() || !data->is_array()) {
    throw_file_error(path, "expected a JSON array under the key \"data\"");
  }
  if (data->empty() || data->size() % kDigitPixels != 0) {
    throw_file_error(path, "\"data\" holds " + std::to_string(data->size()) +
                               " values, not a positive multiple of 784 (28x28 per digit)");
  }

  std::vector<LabeledImage> digits(data->size() / kDigitPixels);
  for (std::size_t d = 0; d < digits.size(); ++d) {
    LabeledImage& digit = digits[d];
    digit.label = label;
    digit.image.width = kMnistSide;
    digit.image.height = kMnistSide;
    digit.image.pixels.resize(kDigitPixels);
    for (std::size_t i = 0; i < kDigitPixels; ++i) {
      const nlohmann::json& value = (*data)[d * kDigitPixels + i];
      const double v = value.is_number() ? value.get<double>() : -1.0;
      if (!(v >= 0.0 && v <= 1.0)) {  // also catches non-numbers
        throw_file_error(path, "\"data\"[" + std::to_string(d * kDigitPixels + i) +
                                   "] is not a number in [0, 1]");
      }
      digit.image.pixels[i] = static_cast<std::uint8_t>(std::lround(v * 255.0));
    }
  }
  return digits;
}

}  // namespace spikevid
