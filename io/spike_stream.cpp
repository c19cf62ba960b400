#include "io/spike_stream.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <zlib.h>
#include <nlohmann/json.hpp>

namespace spikevid::stream {
namespace {

constexpr char kMagic[4] = {'S', 'V', 'S', '1'};
constexpr const char* kFormat = "spikevid-stream-1";

void put_u16(std::string& s, std::uint16_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>(v >> 8));
}
void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
void put_leb(std::string& s, std::uint32_t v) {
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
}
// A LEB128 value of at most 3 bytes (kMaxCount fits in 17 bits) at data[pos].
std::uint32_t get_leb(const std::uint8_t* data, std::size_t size, std::size_t& pos) {
  std::uint32_t v = 0;
  for (int i = 0; i < 3; ++i) {
    if (pos >= size) throw StreamError("frame: counts end inside an escaped count");
    const std::uint8_t b = data[pos++];
    v |= static_cast<std::uint32_t>(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return v;
  }
  throw StreamError("frame: an escaped count longer than 3 bytes");
}

// The checksum of a message: CRC-32 of its first 28 bytes and its payload
// (everything but the checksum field itself), so that neither a damaged
// prefix nor bytes that merely look like one pass.
std::uint32_t checksum(const std::uint8_t* message, std::size_t payload) {
  auto crc = crc32(0, message, 28);
  crc = crc32(crc, message + kPrefixBytes, static_cast<uInt>(payload));
  return static_cast<std::uint32_t>(crc);
}

std::uint16_t to_count(float c) {
  if (!(c > 0)) return 0;  // also NaN
  return static_cast<std::uint16_t>(std::min<double>(std::lround(c), kMaxCount));
}

std::string deflate(const std::string& in) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                reinterpret_cast<const Bytef*>(in.data()), static_cast<uLong>(in.size()),
                Z_BEST_SPEED) != Z_OK)
    throw StreamError("frame: deflate failed");
  out.resize(size);
  return out;
}

// Inflates at most `limit` bytes; more, or a damaged stream, is an error.
std::string inflate_bounded(const std::uint8_t* data, std::size_t size, std::size_t limit) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) throw StreamError("frame: inflate failed to start");
  std::string out(limit + 1, '\0');  // one byte more: output past the limit is seen
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const std::size_t produced = out.size() - z.avail_out;
  const bool used_all = z.avail_in == 0;
  inflateEnd(&z);
  if (rc != Z_STREAM_END) throw StreamError("frame: deflated counts are damaged or too large");
  if (!used_all) throw StreamError("frame: bytes after the deflated counts");
  if (produced > limit) throw StreamError("frame: deflated counts are too large");
  out.resize(produced);
  return out;
}

std::string bytes_code(const float* counts, std::size_t n) {
  std::string s;
  s.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = to_count(counts[i]);
    if (c < 255) {
      s.push_back(static_cast<char>(c));
    } else {
      s.push_back(static_cast<char>(255));
      put_leb(s, c - 255u);
    }
  }
  return s;
}

std::string crumbs_code(const float* counts, std::size_t n) {
  std::string s((n + 3) / 4, '\0');
  std::string escapes;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = to_count(counts[i]);
    const unsigned crumb = c < 3 ? c : 3;
    s[i / 4] = static_cast<char>(static_cast<std::uint8_t>(s[i / 4]) | (crumb << (2 * (i % 4))));
    if (crumb == 3) put_leb(escapes, c - 3u);
  }
  return s + escapes;
}

std::vector<std::uint16_t> bytes_decode(const std::uint8_t* d, std::size_t size, std::size_t n) {
  std::vector<std::uint16_t> out(n);
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (pos >= size) throw StreamError("frame: fewer counts than the header says");
    const std::uint8_t b = d[pos++];
    std::uint32_t c = b;
    if (b == 255) c = 255 + get_leb(d, size, pos);
    if (c > kMaxCount) throw StreamError("frame: a count above " + std::to_string(kMaxCount));
    out[i] = static_cast<std::uint16_t>(c);
  }
  if (pos != size) throw StreamError("frame: more counts than the header says");
  return out;
}

std::vector<std::uint16_t> crumbs_decode(const std::uint8_t* d, std::size_t size, std::size_t n) {
  const std::size_t packed = (n + 3) / 4;
  if (size < packed) throw StreamError("frame: fewer counts than the header says");
  if (n % 4 != 0 && (d[packed - 1] >> (2 * (n % 4))) != 0)
    throw StreamError("frame: bits set past the last count");
  std::vector<std::uint16_t> out(n);
  std::size_t pos = packed;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t c = (d[i / 4] >> (2 * (i % 4))) & 3u;
    if (c == 3) c = 3 + get_leb(d, size, pos);
    if (c > kMaxCount) throw StreamError("frame: a count above " + std::to_string(kMaxCount));
    out[i] = static_cast<std::uint16_t>(c);
  }
  if (pos != size) throw StreamError("frame: bytes after the escaped counts");
  return out;
}

// The arith coding (Coding::arith): LZMA's range coder, as Igor Pavlov
// published it, on bits with adaptive 11-bit probabilities.
constexpr int kProbBits = 11, kMoveBits = 5;
constexpr std::uint32_t kTop = 1u << 24;
constexpr int kUnary = 15;     // bits "c > k" for k < kUnary; then the escape
constexpr int kGammaMax = 16;  // v = c - kUnary + 1 < 2^16 (kMaxCount = 65535)

struct ArithModel {
  std::uint16_t unary[3][kUnary];
  std::uint16_t gamma[kGammaMax];
  ArithModel() {
    for (auto& set : unary)
      for (auto& p : set) p = 1u << (kProbBits - 1);
    for (auto& p : gamma) p = 1u << (kProbBits - 1);
  }
};

class RangeEncoder {
 public:
  void bit(std::uint16_t& p, unsigned b) {
    const std::uint32_t bound = (range_ >> kProbBits) * p;
    if (!b) {
      range_ = bound;
      p = static_cast<std::uint16_t>(p + (((1u << kProbBits) - p) >> kMoveBits));
    } else {
      low_ += bound;
      range_ -= bound;
      p = static_cast<std::uint16_t>(p - (p >> kMoveBits));
    }
    normalize();
  }
  void direct(std::uint32_t v, int bits) {  // the top bit first, each at one half
    for (int i = bits - 1; i >= 0; --i) {
      range_ >>= 1;
      if ((v >> i) & 1u) low_ += range_;
      normalize();
    }
  }
  std::string finish() {
    for (int i = 0; i < 5; ++i) shift_low();
    return std::move(out_);
  }

 private:
  void normalize() {
    while (range_ < kTop) {
      range_ <<= 8;
      shift_low();
    }
  }
  void shift_low() {
    if (static_cast<std::uint32_t>(low_) < 0xFF000000u || (low_ >> 32) != 0) {
      const auto carry = static_cast<std::uint8_t>(low_ >> 32);
      std::uint8_t b = cache_;
      do {
        out_.push_back(static_cast<char>(static_cast<std::uint8_t>(b + carry)));
        b = 0xFF;
      } while (--pending_ != 0);
      cache_ = static_cast<std::uint8_t>(low_ >> 24);
    }
    ++pending_;
    low_ = (low_ & 0x00FFFFFFu) << 8;
  }
  std::uint64_t low_ = 0;
  std::uint32_t range_ = 0xFFFFFFFFu;
  std::uint8_t cache_ = 0;
  std::uint64_t pending_ = 1;
  std::string out_;
};

// Reads exactly the bytes its encoder wrote; a byte wanted past the end, or a
// first byte that is not 0, is a damaged frame.
class RangeDecoder {
 public:
  RangeDecoder(const std::uint8_t* d, std::size_t size) : d_(d), size_(size) {
    if (size_ < 5 || d_[0] != 0) throw StreamError("frame: arithmetic-coded counts are damaged");
    for (int i = 0; i < 5; ++i) code_ = (code_ << 8) | d_[pos_++];
  }
  unsigned bit(std::uint16_t& p) {
    const std::uint32_t bound = (range_ >> kProbBits) * p;
    unsigned b;
    if (code_ < bound) {
      range_ = bound;
      p = static_cast<std::uint16_t>(p + (((1u << kProbBits) - p) >> kMoveBits));
      b = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      p = static_cast<std::uint16_t>(p - (p >> kMoveBits));
      b = 1;
    }
    normalize();
    return b;
  }
  std::uint32_t direct(int bits) {
    std::uint32_t v = 0;
    for (int i = 0; i < bits; ++i) {
      range_ >>= 1;
      const unsigned b = code_ >= range_ ? 1u : 0u;
      if (b) code_ -= range_;
      v = (v << 1) | b;
      normalize();
    }
    return v;
  }
  bool at_end() const { return pos_ == size_; }

 private:
  void normalize() {
    while (range_ < kTop) {
      if (pos_ >= size_) throw StreamError("frame: arithmetic-coded counts end too soon");
      range_ <<= 8;
      code_ = (code_ << 8) | d_[pos_++];
    }
  }
  const std::uint8_t* d_;
  std::size_t size_, pos_ = 0;
  std::uint32_t code_ = 0, range_ = 0xFFFFFFFFu;
};

std::string arith_code(const float* counts, std::size_t n) {
  ArithModel m;
  RangeEncoder e;
  unsigned prev = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned c = to_count(counts[i]);
    auto& set = m.unary[prev];
    int k = 0;
    for (; k < kUnary; ++k) {
      e.bit(set[k], c > static_cast<unsigned>(k) ? 1u : 0u);
      if (c <= static_cast<unsigned>(k)) break;
    }
    if (k == kUnary) {  // c >= kUnary: Elias gamma of v = c - kUnary + 1
      const std::uint32_t v = c - kUnary + 1;
      int len = 0;
      while ((v >> (len + 1)) != 0) ++len;  // v's top bit
      for (int j = 0; j < len; ++j) e.bit(m.gamma[j], 1);
      if (len < kGammaMax - 1) e.bit(m.gamma[len], 0);
      e.direct(v & ((1u << len) - 1), len);
    }
    prev = std::min(c, 2u);
  }
  return e.finish();
}

std::vector<std::uint16_t> arith_decode(const std::uint8_t* d, std::size_t size, std::size_t n) {
  ArithModel m;
  RangeDecoder r(d, size);
  std::vector<std::uint16_t> out(n);
  unsigned prev = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto& set = m.unary[prev];
    std::uint32_t c = 0;
    while (c < kUnary && r.bit(set[c])) ++c;
    if (c == kUnary) {
      int len = 0;
      while (len < kGammaMax - 1 && r.bit(m.gamma[len])) ++len;
      const std::uint32_t v = (1u << len) | r.direct(len);
      c = v + kUnary - 1;
      if (c > kMaxCount) throw StreamError("frame: a count above " + std::to_string(kMaxCount));
    }
    out[i] = static_cast<std::uint16_t>(c);
    prev = std::min<std::uint32_t>(c, 2);
  }
  if (!r.at_end()) throw StreamError("frame: bytes after the arithmetic-coded counts");
  return out;
}

std::string message(MessageType type, Coding coding, std::uint64_t stream_id, std::uint64_t seq,
                    const std::string& payload) {
  std::string s(kMagic, 4);
  s.push_back(static_cast<char>(type));
  s.push_back(
      static_cast<char>(type == MessageType::frame ? static_cast<std::uint8_t>(coding) : 0));
  put_u16(s, 0);
  put_u64(s, stream_id);
  put_u64(s, seq);
  put_u32(s, static_cast<std::uint32_t>(payload.size()));
  put_u32(s, 0);  // the checksum, below
  s += payload;
  const auto crc = checksum(reinterpret_cast<const std::uint8_t*>(s.data()), payload.size());
  for (int i = 0; i < 4; ++i) s[28 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return s;
}

StreamHeader parse_header(const std::uint8_t* p, std::size_t size) {
  if (size > kMaxHeaderBytes)
    throw StreamError("header: " + std::to_string(size) + " bytes, more than " +
                      std::to_string(kMaxHeaderBytes));
  const auto j = nlohmann::json::parse(p, p + size, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw StreamError("header: not a JSON object");
  StreamHeader h;
  try {
    if (j.at("format").get<std::string>() != kFormat)
      throw StreamError("header: format is not " + std::string(kFormat));
    h.encoder_id = j.at("encoder_id").get<std::string>();
    h.encoder_hash = j.at("encoder_hash").get<std::string>();
    const auto tiles = j.at("tiles").get<std::string>();
    char x = 0, extra = 0;
    if (std::sscanf(tiles.c_str(), "%d%c%d%c", &h.tile_rows, &x, &h.tile_cols, &extra) != 3 ||
        x != 'x')
      throw StreamError("header: tiles '" + tiles + "' is not RxC");
    h.tile_overlap = j.at("tile_overlap").get<int>();
    h.cells = j.at("cells").get<int>();
    h.bins = j.at("bins").get<int>();
    h.window_s = j.at("window_s").get<double>();
    h.fps = j.at("fps").get<double>();
  } catch (const nlohmann::json::exception&) {
    throw StreamError("header: a field is missing or of the wrong type");
  }
  if (h.encoder_id.empty() || h.encoder_id.size() > 256 || h.encoder_hash.size() > 256)
    throw StreamError("header: encoder id or hash empty or too long");
  if (h.tile_rows < 1 || h.tile_rows > 64 || h.tile_cols < 1 || h.tile_cols > 64 ||
      h.tile_overlap < 0 || h.tile_overlap > 1024)
    throw StreamError("header: tile grid out of range");
  if (h.cells < 1 || h.bins < 1 || h.bins > 1024)
    throw StreamError("header: cells or bins out of range");
  if (h.counts_per_frame() == 0) throw StreamError("header: more than the largest frame's counts");
  if (!(h.window_s > 0 && h.window_s <= 10) || !(h.fps > 0 && h.fps <= 10000))
    throw StreamError("header: window or rate out of range");
  return h;
}

}  // namespace

const char* to_string(Coding c) {
  switch (c) {
    case Coding::bytes:
      return "bytes";
    case Coding::bytes_deflate:
      return "bytes-deflate";
    case Coding::crumbs:
      return "crumbs";
    case Coding::crumbs_deflate:
      return "crumbs-deflate";
    case Coding::arith:
      return "arith";
  }
  return "?";
}

Coding parse_coding(const std::string& name) {
  for (auto c : kAllCodings)
    if (name == to_string(c)) return c;
  throw StreamError("unknown count coding '" + name +
                    "' (bytes, bytes-deflate, crumbs, crumbs-deflate, arith)");
}

std::uint32_t StreamHeader::counts_per_frame() const {
  const std::uint64_t n = static_cast<std::uint64_t>(std::max(0, tile_rows)) *
                          static_cast<std::uint64_t>(std::max(0, tile_cols)) *
                          static_cast<std::uint64_t>(std::max(0, bins)) *
                          static_cast<std::uint64_t>(std::max(0, cells));
  return n > kMaxCounts ? 0 : static_cast<std::uint32_t>(n);
}

std::string encode_counts(const float* counts, std::size_t n, Coding coding) {
  switch (coding) {
    case Coding::bytes:
      return bytes_code(counts, n);
    case Coding::bytes_deflate:
      return deflate(bytes_code(counts, n));
    case Coding::crumbs:
      return crumbs_code(counts, n);
    case Coding::crumbs_deflate:
      return deflate(crumbs_code(counts, n));
    case Coding::arith:
      return arith_code(counts, n);
  }
  throw StreamError("unknown count coding");
}

std::vector<std::uint16_t> decode_counts(const std::uint8_t* data, std::size_t size, std::size_t n,
                                         Coding coding) {
  // The most bytes n counts can take: a count escapes in at most 1 + 3 bytes.
  const std::size_t bytes_limit = 4 * n, crumbs_limit = (n + 3) / 4 + 3 * n;
  switch (coding) {
    case Coding::bytes:
      return bytes_decode(data, size, n);
    case Coding::crumbs:
      return crumbs_decode(data, size, n);
    case Coding::bytes_deflate: {
      const auto raw = inflate_bounded(data, size, bytes_limit);
      return bytes_decode(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size(), n);
    }
    case Coding::crumbs_deflate: {
      const auto raw = inflate_bounded(data, size, crumbs_limit);
      return crumbs_decode(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size(), n);
    }
    case Coding::arith:
      return arith_decode(data, size, n);
  }
  throw StreamError("frame: unknown count coding " +
                    std::to_string(static_cast<int>(static_cast<std::uint8_t>(coding))));
}

std::string header_message(const StreamHeader& h, std::uint64_t stream_id, std::uint64_t next_seq) {
  const nlohmann::json j = {
      {"format", kFormat},
      {"encoder_id", h.encoder_id},
      {"encoder_hash", h.encoder_hash},
      {"tiles", std::to_string(h.tile_rows) + "x" + std::to_string(h.tile_cols)},
      {"tile_overlap", h.tile_overlap},
      {"cells", h.cells},
      {"bins", h.bins},
      {"window_s", h.window_s},
      {"fps", h.fps}};
  return message(MessageType::header, Coding::bytes, stream_id, next_seq, j.dump());
}

std::string frame_message(std::uint64_t stream_id, std::uint64_t seq, std::int64_t timestamp_ns,
                          const float* counts, std::size_t n, Coding coding) {
  if (n > kMaxCounts)
    throw StreamError("frame: more than " + std::to_string(kMaxCounts) + " counts");
  std::string payload;
  put_u64(payload, static_cast<std::uint64_t>(timestamp_ns));
  put_u32(payload, static_cast<std::uint32_t>(n));
  payload += encode_counts(counts, n, coding);
  return message(MessageType::frame, coding, stream_id, seq, payload);
}

std::string end_message(std::uint64_t stream_id, std::uint64_t next_seq) {
  return message(MessageType::end, Coding::bytes, stream_id, next_seq, std::string());
}

void MessageAssembler::feed(const std::uint8_t* data, std::size_t size) {
  if (start_ > 0 && start_ >= buffer_.size() / 2) {  // drop what was consumed
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(reinterpret_cast<const char*>(data), size);
}

// Where the next magic after the current start begins (npos: none).
std::size_t MessageAssembler::next_magic() const {
  return buffer_.find(std::string(kMagic, 4), start_ + 1);
}

void MessageAssembler::skip_to(std::size_t at) {
  // No magic: keep a tail that may be the start of one cut by a packet boundary.
  const std::size_t end =
      at != std::string::npos
          ? at
          : std::max(start_, buffer_.size() - std::min<std::size_t>(buffer_.size(), 3));
  skipped_ += end - start_;
  start_ = end;
}

// At `at`: 1 a whole message with a valid checksum (its size in `whole`), 0
// not yet decidable (too few bytes), -1 not a message.
int MessageAssembler::message_at(std::size_t at, std::size_t& whole) const {
  const std::size_t have = buffer_.size() - at;
  const auto* p = reinterpret_cast<const std::uint8_t*>(buffer_.data()) + at;
  if (have < 4) return 0;
  if (std::memcmp(p, kMagic, 4) != 0) return -1;
  if (have < kPrefixBytes) return 0;
  const std::uint64_t payload = get_le(p + 24, 4);
  if (kPrefixBytes + payload > kMaxMessageBytes) return -1;
  whole = kPrefixBytes + static_cast<std::size_t>(payload);
  if (have < whole) return 0;
  return checksum(p, static_cast<std::size_t>(payload)) == get_le(p + 28, 4) ? 1 : -1;
}

bool MessageAssembler::next(std::string& message) {
  for (;;) {
    std::size_t whole = 0;
    const int here = message_at(start_, whole);
    if (here > 0) {
      message.assign(buffer_, start_, whole);
      start_ += whole;
      return true;
    }
    if (here < 0) {
      skip_to(next_magic());
      continue;
    }
    // Not enough bytes yet for the message that starts here. If it lost
    // bytes, a whole valid message may already follow it: then skip to that
    // one instead of waiting (a lost packet costs one message, not a stall).
    bool later = false;
    for (std::size_t at = next_magic(); at != std::string::npos;
         at = buffer_.find(std::string(kMagic, 4), at + 1)) {
      std::size_t w = 0;
      if (message_at(at, w) > 0) {
        skip_to(at);
        later = true;
        break;
      }
    }
    if (!later) return false;
  }
}

Message parse_message(const std::uint8_t* data, std::size_t size, const StreamHeader* expect) {
  if (size < kPrefixBytes)
    throw StreamError("message of " + std::to_string(size) + " bytes, shorter than its prefix");
  if (std::memcmp(data, kMagic, 4) != 0) throw StreamError("not a spike stream message (magic)");
  Message m;
  const std::uint8_t type = data[4], coding = data[5];
  if (type < 1 || type > 3) throw StreamError("unknown message type " + std::to_string(type));
  m.type = static_cast<MessageType>(type);
  if (get_le(data + 6, 2) != 0) throw StreamError("reserved bytes set");
  m.stream_id = get_le(data + 8, 8);
  m.seq = get_le(data + 16, 8);
  const std::uint64_t payload = get_le(data + 24, 4);
  if (payload != size - kPrefixBytes)
    throw StreamError("payload of " + std::to_string(payload) + " bytes in a message of " +
                      std::to_string(size));
  const std::uint8_t* p = data + kPrefixBytes;
  if (checksum(data, static_cast<std::size_t>(payload)) != get_le(data + 28, 4))
    throw StreamError("checksum mismatch");
  if (m.type != MessageType::frame && coding != 0)
    throw StreamError("a count coding on a message that is not a frame");
  switch (m.type) {
    case MessageType::header:
      m.header = parse_header(p, payload);
      break;
    case MessageType::end:
      if (payload != 0) throw StreamError("end of stream with a payload");
      break;
    case MessageType::frame: {
      if (coding > 4) throw StreamError("frame: unknown count coding " + std::to_string(coding));
      m.coding = static_cast<Coding>(coding);
      if (payload < 12) throw StreamError("frame: payload shorter than its timestamp and size");
      m.timestamp_ns = static_cast<std::int64_t>(get_le(p, 8));
      const std::uint64_t n = get_le(p + 8, 4);
      if (n > kMaxCounts) throw StreamError("frame: " + std::to_string(n) + " counts, too many");
      if (expect && n != expect->counts_per_frame())
        throw StreamError("frame: " + std::to_string(n) + " counts, the stream's header says " +
                          std::to_string(expect->counts_per_frame()));
      m.counts = decode_counts(p + 12, payload - 12, n, m.coding);
      break;
    }
  }
  return m;
}

}  // namespace spikevid::stream
