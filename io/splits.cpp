#include "io/splits.h"

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>

namespace spikevid {

namespace {

// Uniform in [0, n) without modulo bias. Not std::uniform_int_distribution or
// std::shuffle: their algorithms differ between standard libraries, and a split
// must be the same wherever it is recomputed. std::mt19937_64 is fully specified.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % n;
  std::uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

}  // namespace

bool is_split_name(const std::string& name) {
  return name == "train" || name == "val" || name == "test";
}

std::vector<std::string> assign_splits(const std::vector<std::string>& sources, int n_val,
                                       int n_test, std::uint64_t seed) {
  std::vector<std::string> distinct(sources);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (n_val < 0 || n_test < 0 ||
      static_cast<std::uint64_t>(n_val) + static_cast<std::uint64_t>(n_test) > distinct.size()) {
    throw std::invalid_argument("assign_splits: cannot take " + std::to_string(n_val) +
                                " validation and " + std::to_string(n_test) +
                                " test sources from " + std::to_string(distinct.size()) +
                                " distinct sources");
  }

  // Fisher-Yates on the sorted names, so the input order does not matter.
  std::mt19937_64 rng(seed);
  for (std::size_t i = distinct.size(); i > 1; --i) {
    std::swap(distinct[i - 1], distinct[uniform_below(rng, i)]);
  }
  std::map<std::string, const char*> split_of;
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    const std::size_t test_end = static_cast<std::size_t>(n_test);
    const std::size_t val_end = test_end + static_cast<std::size_t>(n_val);
    split_of[distinct[i]] = i < test_end ? "test" : i < val_end ? "val" : "train";
  }

  std::vector<std::string> splits;
  splits.reserve(sources.size());
  for (const std::string& source : sources) splits.emplace_back(split_of.at(source));
  return splits;
}

}  // namespace spikevid
