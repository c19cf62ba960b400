// libFuzzer target: the spike stream's message parser (io/spike_stream.h), as
// a receiver meets it: with the stream's header known and without. A message
// that parses must hold what its header says, and its counts must survive
// being written again.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "io/spike_stream.h"

namespace {

using namespace spikevid::stream;

StreamHeader seed_header() {
  StreamHeader h;
  h.encoder_id = "cnn-0123456789ab";
  h.encoder_hash = "0123456789abcdef";
  h.tile_rows = 1;
  h.tile_cols = 2;
  h.cells = 40;
  h.bins = 1;
  return h;
}

}  // namespace

// SPIKEVID_FUZZ_SEED=DIR: write valid messages there first (the seed corpus).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SPIKEVID_FUZZ_SEED")) {
    const auto h = seed_header();
    std::vector<float> counts(h.counts_per_frame());
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = static_cast<float>((i * 7) % 5);
    counts[3] = 300;
    const auto write = [&](const std::string& name, const std::string& bytes) {
      std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << bytes;
    };
    write("header", header_message(h, 1, 0));
    write("end", end_message(1, 5));
    for (auto c : kAllCodings)
      write(std::string("frame-") + to_string(c),
            frame_message(1, 4, 123, counts.data(), counts.size(), c));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const StreamHeader expect = seed_header();
  // The input as a byte stream in packets of its first byte's size: whatever
  // the assembler cuts out must be whole and its checksum right.
  if (size > 0) {
    MessageAssembler assembler;
    const std::size_t chunk = 1 + data[0];
    std::string m;
    std::size_t out = 0;
    for (std::size_t at = 1; at < size; at += chunk) {
      assembler.feed(data + at, std::min(chunk, size - at));
      while (assembler.next(m)) {
        out += m.size();
        try {
          (void)parse_message(reinterpret_cast<const std::uint8_t*>(m.data()), m.size(), &expect);
        } catch (const StreamError& e) {
          if (std::string(e.what()).find("checksum") != std::string::npos) std::abort();
        }
      }
    }
    if (out + assembler.skipped_bytes() + assembler.buffered() != size - 1) std::abort();
  }
  for (const StreamHeader* e : {&expect, static_cast<const StreamHeader*>(nullptr)}) {
    Message m;
    try {
      m = parse_message(data, size, e);
    } catch (const StreamError&) {
      continue;
    }
    if (m.type == MessageType::header && m.header.counts_per_frame() == 0) std::abort();
    if (m.type != MessageType::frame) continue;
    if (e && m.counts.size() != e->counts_per_frame()) std::abort();
    std::vector<float> again(m.counts.begin(), m.counts.end());
    const auto bytes =
        frame_message(m.stream_id, m.seq, m.timestamp_ns, again.data(), again.size(), m.coding);
    const auto back =
        parse_message(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), e);
    if (back.counts != m.counts || back.seq != m.seq || back.timestamp_ns != m.timestamp_ns)
      std::abort();
  }
  return 0;
}
