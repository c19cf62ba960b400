#pragma once
// JSON parsing for the readers: one-line errors naming the file, and a nesting
// limit, because a fuzzed "[[[[..." must fail cleanly rather than exhaust the stack.
#include <string>

#include <nlohmann/json.hpp>

namespace spikevid {

// Parses text read from path; throws std::runtime_error("PATH: ...") if it is not
// valid UTF-8 JSON or nests deeper than max_depth.
nlohmann::json parse_json(const std::string& text, const std::string& path, int max_depth = 16);

}  // namespace spikevid
