#include "io/mnist_json.h"

#include <catch2/catch.hpp>

#include <cmath>

#include "tests/io/error_message.h"
#include "tests/io/temp_dir.h"

namespace spikevid {
namespace {

using Catch::Matchers::Contains;
using test::runtime_error_message;
using test::TempDir;
using test::write_bytes;

// {"data": [...]} with the values as the package writes them (3 decimals).
std::string mnist_json(const std::vector<double>& values) {
  std::string text = "{ \"data\": [";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ",";
    char number[32];
    std::snprintf(number, sizeof number, "%g", values[i]);
    text += number;
  }
  return text + "]}";
}

TEST_CASE("read_mnist_json reads every digit of a file, labelled by its name", "[io][mnist]") {
  TempDir dir;
  std::vector<double> values(2 * 784, 0.0);
  values[0] = 1.0;
  values[29] = 0.624;   // row 1, column 1 of digit 0: round(159.12)
  values[783] = 0.002;  // round(0.51) = 1
  values[784] = 0.5;    // first pixel of digit 1: round(127.5) = 128
  values[784 + 27] = 0.992;
  const std::string path = dir.file("3.json");
  write_bytes(path, mnist_json(values));

  const auto digits = read_mnist_json(path);
  REQUIRE(digits.size() == 2);
  for (const auto& digit : digits) {
    CHECK(digit.label == 3);
    CHECK(digit.image.width == 28);
    CHECK(digit.image.height == 28);
    CHECK(digit.image.pixels.size() == 784);
  }
  CHECK(digits[0].image.pixels[0] == 255);
  CHECK(digits[0].image.pixels[29] == 159);
  CHECK(digits[0].image.pixels[783] == 1);
  CHECK(digits[0].image.pixels[1] == 0);
  CHECK(digits[1].image.pixels[0] == 128);
  CHECK(digits[1].image.pixels[27] == 253);  // round(252.96)
}

TEST_CASE("read_mnist_json rejects malformed files naming the file", "[io][mnist]") {
  TempDir dir;
  const std::vector<double> digit(784, 0.25);
  struct Case {
    const char* what;
    std::string name;
    std::string text;
    const char* expected;
  };
  const Case cases[] = {
      {"name is not a digit", "x.json", mnist_json(digit), "file name"},
      {"name has two digits", "12.json", mnist_json(digit), "file name"},
      {"not JSON", "1.json", "{\"data\": [0,\n0,", "JSON"},
      {"not an object", "1.json", "[0, 1]", "object"},
      {"no data", "1.json", "{\"pixels\": []}", "data"},
      {"data not an array", "1.json", "{\"data\": 3}", "data"},
      {"empty data", "1.json", "{\"data\": []}", "784"},
      {"not a multiple of 784", "1.json", mnist_json(std::vector<double>(785, 0.0)), "784"},
      {"value above 1", "1.json", mnist_json([] {
         std::vector<double> v(784, 0.0);
         v[5] = 1.5;
         return v;
       }()),
       "[5]"},
      {"negative value", "1.json", mnist_json([] {
         std::vector<double> v(784, 0.0);
         v[9] = -0.1;
         return v;
       }()),
       "[9]"},
      {"nested too deep", "1.json", std::string(5000, '[') + std::string(5000, ']'), "deep"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string path = dir.file(c.name);
    write_bytes(path, c.text);
    const std::string message = runtime_error_message([&] { read_mnist_json(path); });
    CHECK_THAT(message, Contains(path) && Contains(c.expected));
    CHECK(message.find('\n') == std::string::npos);
  }

  std::string strings = "{\"data\": [\"a\"";
  for (int i = 1; i < 784; ++i) strings += ",0";
  const std::string path = dir.file("2.json");
  write_bytes(path, strings + "]}");
  CHECK_THAT(runtime_error_message([&] { read_mnist_json(path); }),
             Contains(path) && Contains("[0] is not a number"));
  CHECK_THAT(runtime_error_message([&] { read_mnist_json(dir.file("4.json")); }),
             Contains(dir.file("4.json")));
}

}  // namespace
}  // namespace spikevid
