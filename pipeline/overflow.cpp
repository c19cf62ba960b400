#include "pipeline/overflow.h"

#include <stdexcept>
#include <string>

namespace spikevid {

Overflow parse_overflow(std::string_view text) {
  if (text == "block") return Overflow::block;
  if (text == "keep_latest") return Overflow::keep_latest;
  if (text == "drop_newest") return Overflow::drop_newest;
  throw std::invalid_argument("unknown overflow policy '" + std::string(text) +
                              "': expected block, keep_latest or drop_newest");
}

const char* to_string(Overflow overflow) {
  switch (overflow) {
    case Overflow::block:
      return "block";
    case Overflow::keep_latest:
      return "keep_latest";
    case Overflow::drop_newest:
      return "drop_newest";
  }
  return "?";
}

}  // namespace spikevid
