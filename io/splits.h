#pragma once
// Train / validation / test split by source, never by patch: patches of one photo
// look alike, so a photo split across sets would leak test data into training.
#include <cstdint>
#include <string>
#include <vector>

namespace spikevid {

// The split name ("train", "val" or "test") of each entry of sources. Entries
// with the same source get the same split; exactly n_val distinct sources go to
// "val" and n_test to "test", the rest to "train". Depends only on the set of
// sources and the seed (not their order), the same on every platform.
// Throws std::invalid_argument if n_val or n_test is negative or together they
// exceed the number of distinct sources.
std::vector<std::string> assign_splits(const std::vector<std::string>& sources, int n_val,
                                       int n_test, std::uint64_t seed);

// Whether name is "train", "val" or "test".
bool is_split_name(const std::string& name);

}  // namespace spikevid
