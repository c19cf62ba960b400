// libFuzzer target: the spike stream's message parser (io/spike_stream.h), as
// a receiver meets it: with the stream's header known and without. A message
// that parses must hold what its header says, and its counts must survive
// being written again.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <zlib.h>

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

namespace {

// The input with its prefix made consistent (magic, payload size, checksum):
// random bytes almost never carry a right CRC-32, and without this the
// mutations stop at the checksum and never reach the header's JSON or the
// count decoders (libFuzzer ran 20,000 inputs in under a second).
std::string repaired(const std::uint8_t* data, std::size_t size) {
  std::string m(reinterpret_cast<const char*>(data), size);
  if (m.size() < 32) m.resize(32, '\0');
  m.replace(0, 4, "SVS1");
  const auto payload = static_cast<std::uint32_t>(m.size() - 32);
  for (int i = 0; i < 4; ++i) m[24 + i] = static_cast<char>((payload >> (8 * i)) & 0xff);
  const auto* b = reinterpret_cast<const Bytef*>(m.data());
  auto crc = crc32(0, b, 28);
  crc = crc32(crc, b + 32, static_cast<uInt>(payload));
  for (int i = 0; i < 4; ++i) m[28 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const StreamHeader expect = seed_header();
  const std::string fixed = repaired(data, size);
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
  const auto* fixed_data = reinterpret_cast<const std::uint8_t*>(fixed.data());
  for (const auto& [bytes, n] : {std::pair{data, size}, std::pair{fixed_data, fixed.size()}}) {
    for (const StreamHeader* e : {&expect, static_cast<const StreamHeader*>(nullptr)}) {
      Message m;
      try {
        m = parse_message(bytes, n, e);
      } catch (const StreamError& err) {
        // The repaired input's prefix is right: a checksum error there is a bug.
        if (bytes == fixed_data && std::string(err.what()).find("checksum") != std::string::npos)
          std::abort();
        continue;
      }
      if (m.type == MessageType::header && m.header.counts_per_frame() == 0) std::abort();
      if (m.type != MessageType::frame) continue;
      if (e && m.counts.size() != e->counts_per_frame()) std::abort();
      std::vector<float> again(m.counts.begin(), m.counts.end());
      const auto bytes_again =
          frame_message(m.stream_id, m.seq, m.timestamp_ns, again.data(), again.size(), m.coding);
      const auto back = parse_message(reinterpret_cast<const std::uint8_t*>(bytes_again.data()),
                                      bytes_again.size(), e);
      if (back.counts != m.counts || back.seq != m.seq || back.timestamp_ns != m.timestamp_ns)
        std::abort();
    }
  }
  return 0;
}
