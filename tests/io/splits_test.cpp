#include "io/splits.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace spikevid {
namespace {

std::vector<std::string> photo_names(int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back("photo" + std::to_string(i) + ".jpg");
  return names;
}

std::map<std::string, int> count(const std::vector<std::string>& splits) {
  std::map<std::string, int> counts;
  for (const auto& s : splits) ++counts[s];
  return counts;
}

TEST_CASE("assign_splits gives exact counts", "[io][splits]") {
  const auto splits = assign_splits(photo_names(20), 3, 4, 42);
  REQUIRE(splits.size() == 20);
  CHECK(count(splits) == std::map<std::string, int>{{"test", 4}, {"train", 13}, {"val", 3}});
  CHECK(count(assign_splits(photo_names(5), 0, 0, 1)) == std::map<std::string, int>{{"train", 5}});
  CHECK(count(assign_splits(photo_names(5), 2, 3, 1)) ==
        std::map<std::string, int>{{"test", 3}, {"val", 2}});
  CHECK(assign_splits({}, 0, 0, 1).empty());
}

TEST_CASE("assign_splits is deterministic for a seed and independent of order", "[io][splits]") {
  const auto names = photo_names(20);
  const auto first = assign_splits(names, 3, 4, 42);
  CHECK(assign_splits(names, 3, 4, 42) == first);
  CHECK(assign_splits(names, 3, 4, 43) != first);

  auto reversed = names;
  std::reverse(reversed.begin(), reversed.end());
  auto reversed_splits = assign_splits(reversed, 3, 4, 42);
  std::reverse(reversed_splits.begin(), reversed_splits.end());
  CHECK(reversed_splits == first);

  // Pinned: a split must not change between builds, or test photos leak into training.
  CHECK(assign_splits(photo_names(6), 1, 2, 7) ==
        std::vector<std::string>{"train", "test", "train", "train", "val", "test"});
}

TEST_CASE("assign_splits splits by source, not by entry", "[io][splits]") {
  // Four patches of each of 10 photos, interleaved.
  std::vector<std::string> sources;
  for (int patch = 0; patch < 4; ++patch) {
    for (const auto& name : photo_names(10)) sources.push_back(name);
  }
  const auto splits = assign_splits(sources, 2, 3, 5);
  std::map<std::string, std::string> split_of;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto [it, inserted] = split_of.emplace(sources[i], splits[i]);
    CHECK(it->second == splits[i]);  // every patch of a photo in the same split
  }
  std::map<std::string, int> photos_per_split;
  for (const auto& [source, split] : split_of) ++photos_per_split[split];
  CHECK(photos_per_split == std::map<std::string, int>{{"test", 3}, {"train", 5}, {"val", 2}});
  // The photos' splits are the same as when each photo is passed once.
  const auto once = assign_splits(photo_names(10), 2, 3, 5);
  for (int i = 0; i < 10; ++i) CHECK(split_of.at(photo_names(10)[i]) == once[i]);
}

TEST_CASE("assign_splits rejects impossible counts", "[io][splits]") {
  CHECK_THROWS_AS(assign_splits(photo_names(5), 3, 3, 1), std::invalid_argument);
  CHECK_THROWS_AS(assign_splits({"a", "a", "b"}, 2, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(assign_splits(photo_names(5), -1, 0, 1), std::invalid_argument);
  CHECK(is_split_name("val"));
  CHECK_FALSE(is_split_name("validation"));
}

}  // namespace
}  // namespace spikevid
