#pragma once
// The two pieces of JSON text the recorder writes by hand (pipeline/ takes no
// JSON library): a quoted, escaped string and a number that is valid JSON.
#include <string>
#include <string_view>

namespace spikevid {

// `text` in double quotes, with ", \ and control characters escaped (UTF-8 passes through).
// Thread-safe: yes. Blocks: no. Allocates: the result.
std::string json_string(std::string_view text);

// The shortest text that reads back as `value`, independent of the locale;
// "null" for NaN and infinities, which JSON cannot hold.
// Thread-safe: yes. Blocks: no. Allocates: the result.
std::string json_number(double value);

}  // namespace spikevid
