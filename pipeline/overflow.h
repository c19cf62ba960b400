#pragma once
// What a channel does when it is full; one policy per edge (DESIGN.md,
// "Channels and overload"), named as on the command line.
#include <cstddef>
#include <string_view>

namespace spikevid {

enum class Overflow {
  block,        // the producer waits: lossless, the offline default
  keep_latest,  // the waiting item is replaced by the newest: the live default
  drop_newest,  // the incoming item is dropped
};

// "block", "keep_latest" or "drop_newest"; throws std::invalid_argument otherwise.
// Thread-safe: yes. Blocks: no. Allocates: only the exception.
Overflow parse_overflow(std::string_view text);

// The name parse_overflow() accepts.
// Thread-safe: yes. Blocks: no. Allocates: no.
const char* to_string(Overflow overflow);

// The capacity and policy of one edge; a pipeline has a default, each edge may override it.
struct ChannelConfig {
  std::size_t capacity = 4;  // items; keep_latest always holds one (see channel.h)
  Overflow overflow = Overflow::block;
};

}  // namespace spikevid
