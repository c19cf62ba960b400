#pragma once
// The spike stream: what `encode --to URI` will send and `decode URI` read,
// one message per transport packet (README, "Spike streams"). Every message:
//
//   offset size  field (little-endian)
//        0    4  magic "SVS1"
//        4    1  type: 1 header, 2 frame, 3 end of stream
//        5    1  count coding (frames; 0 otherwise)
//        6    2  reserved, 0
//        8    8  stream id: random per sender start (a restart is a new stream)
//       16    8  sequence number: the frame's (header: the next frame's; end: the
//                one after the last frame sent, so a receiver counts a lost tail)
//       24    4  payload bytes
//       28    4  CRC-32 (zlib's) of bytes 0-27 and the payload
//       32       payload
//
// Header payload: JSON, at most kMaxHeaderBytes: {"format":"spikevid-stream-1",
// "encoder_id", "encoder_hash", "tiles":"RxC", "tile_overlap", "cells" (per
// tile), "bins", "window_s", "fps"}. The cell layout comes from the model
// file, not the stream. Sent first and then repeated (every second), so a
// receiver that joins late starts within one second.
// Frame payload: int64 timestamp (ns), uint32 number of counts (tiles × bins ×
// cells, the header's), then the counts in the message's coding.
// End payload: empty.
//
// Parsing is for hostile input: every field is checked, a message that does
// not parse throws StreamError with one line and nothing else happens.
// Thread-safe: yes (no state).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikevid::stream {

struct StreamError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::size_t kPrefixBytes = 32;
constexpr std::size_t kMaxHeaderBytes = 4096;
constexpr std::uint32_t kMaxCounts = 1u << 22;  // 4,194,304 counts a frame
constexpr std::uint32_t kMaxCount = 65535;      // spikes of one cell in one bin

enum class MessageType : std::uint8_t { header = 1, frame = 2, end = 3 };

// How a frame's counts are written (bench/stream_format_bench measures them):
//   bytes:          one byte a count; 255 escapes: 255, then LEB128 (count − 255)
//   bytes_deflate:  bytes, deflated (zlib, level 1)
//   crumbs:         2 bits a count (0, 1, 2; 3 escapes), packed 4 to a byte,
//                   then LEB128 (count − 3) of every escaped count in order
//   crumbs_deflate: crumbs, deflated
//   arith:          adaptive binary arithmetic coding (LZMA's range coder, 11-bit
//                   probabilities): a count c is the bits "c > 0", "c > 1", ...
//                   "c > 14" up to its first 0, each with its own probability,
//                   learned as the frame goes, in three sets chosen by the
//                   previous count (0, 1, 2 or more); a count of 15 or more
//                   then codes v = c − 14 as Elias gamma (the length in unary,
//                   adaptive; the bits below the top one as they are)
enum class Coding : std::uint8_t {
  bytes = 0,
  bytes_deflate = 1,
  crumbs = 2,
  crumbs_deflate = 3,
  arith = 4
};
constexpr Coding kAllCodings[] = {Coding::bytes, Coding::bytes_deflate, Coding::crumbs,
                                  Coding::crumbs_deflate, Coding::arith};
constexpr Coding kDefaultCoding = Coding::arith;
const char* to_string(Coding c);
// "bytes", "bytes-deflate", "crumbs", "crumbs-deflate", "arith"; throws StreamError.
Coding parse_coding(const std::string& name);

struct StreamHeader {
  std::string encoder_id;    // e.g. "cnn-3f2a6c0d1e4b"
  std::string encoder_hash;  // the encoder file's content hash
  int tile_rows = 1, tile_cols = 1, tile_overlap = 0;
  int cells = 0;  // per tile
  int bins = 1;
  double window_s = 1.0 / 30;
  double fps = 30;
  std::uint32_t counts_per_frame() const;  // tiles × bins × cells
};

struct Message {
  MessageType type = MessageType::header;
  Coding coding = Coding::bytes;
  std::uint64_t stream_id = 0;
  std::uint64_t seq = 0;
  StreamHeader header;                // type header
  std::int64_t timestamp_ns = 0;      // type frame
  std::vector<std::uint16_t> counts;  // type frame: tiles × bins × cells
};

std::string header_message(const StreamHeader& h, std::uint64_t stream_id, std::uint64_t next_seq);
// counts: n non-negative integer values (float, as the encoder emits them);
// a count above kMaxCount is written as kMaxCount.
std::string frame_message(std::uint64_t stream_id, std::uint64_t seq, std::int64_t timestamp_ns,
                          const float* counts, std::size_t n, Coding coding = kDefaultCoding);
std::string end_message(std::uint64_t stream_id, std::uint64_t next_seq);

// One message. `expect`: the stream's header, whose counts_per_frame a frame
// must hold (null: a frame's counts are checked against kMaxCounts only).
// Throws StreamError naming what is wrong.
Message parse_message(const std::uint8_t* data, std::size_t size,
                      const StreamHeader* expect = nullptr);

// Messages out of a byte stream. SRT's GStreamer sink sends a buffer larger
// than its 1,316-byte payload as several packets, and the source hands them
// on one by one (measured: 6,000-byte buffers arrived as 1,316 + ... bytes),
// so a receiver reads the stream's bytes and cuts messages out of them by
// their prefix. Bytes that are not a whole, valid message (a packet lost in
// between, garbage) are skipped up to the next magic and counted; a message
// whose prefix claims more than kMaxMessageBytes is skipped the same way.
// Thread-safe: no (one receiver thread).
constexpr std::size_t kMaxMessageBytes = kPrefixBytes + 12 + 4 * std::size_t{kMaxCounts};

class MessageAssembler {
 public:
  // Appends bytes; then next() returns the messages they complete.
  void feed(const std::uint8_t* data, std::size_t size);
  // The next whole message whose checksum holds (not parsed: parse_message
  // checks the rest), or false when more bytes are needed.
  bool next(std::string& message);
  std::uint64_t skipped_bytes() const { return skipped_; }
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::size_t next_magic() const;
  void skip_to(std::size_t at);
  int message_at(std::size_t at, std::size_t& whole) const;
  std::string buffer_;
  std::size_t start_ = 0;
  std::uint64_t skipped_ = 0;
};

// The counts' payload alone, for the bench: bytes of `coding` for n counts.
std::string encode_counts(const float* counts, std::size_t n, Coding coding);
std::vector<std::uint16_t> decode_counts(const std::uint8_t* data, std::size_t size, std::size_t n,
                                         Coding coding);

}  // namespace spikevid::stream
