// The spike stream's messages (io/spike_stream.h): every coding gives back
// the counts it was given, and a damaged or hostile message is refused with
// one line, never read past its end.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <zlib.h>
#include <catch2/catch.hpp>

#include "io/spike_stream.h"

using namespace spikevid::stream;

namespace {

const std::uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

StreamHeader header() {
  StreamHeader h;
  h.encoder_id = "cnn-0123456789ab";
  h.encoder_hash = "0123456789abcdef";
  h.tile_rows = 2;
  h.tile_cols = 3;
  h.tile_overlap = 16;
  h.cells = 50;
  h.bins = 2;
  h.fps = 25;
  return h;
}

// Poisson-like counts, mostly 0 to 2, with escapes of every length.
std::vector<float> counts(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::poisson_distribution<int> poisson(0.6);
  std::vector<float> c(n);
  for (auto& v : c) v = static_cast<float>(poisson(rng));
  if (n > 10) {
    c[1] = 3;
    c[2] = 254;
    c[3] = 255;
    c[4] = 256;
    c[5] = 3 + 127;
    c[6] = 3 + 128;
    c[7] = 65535;
    c[8] = 1e6f;  // written as the largest count
    c[9] = -2;    // and a negative one as 0
  }
  if (n > 20)  // the arithmetic coding's escape and Elias gamma lengths
    for (int i = 0; i < 10; ++i) c[10 + i] = static_cast<float>(13 + i * (i + 1) / 2);
  return c;
}

// `m` with its checksum made right again after an edit.
std::string resealed(std::string m) {
  auto crc = crc32(0, bytes(m), 28);
  crc = crc32(crc, bytes(m) + kPrefixBytes, static_cast<uInt>(m.size() - kPrefixBytes));
  for (int i = 0; i < 4; ++i) m[28 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return m;
}

std::string with_payload(std::string m, const std::string& payload) {
  m.resize(kPrefixBytes);
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) m[24 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return resealed(m + payload);
}

}  // namespace

TEST_CASE("spike stream: every coding gives back the counts", "[stream]") {
  const auto h = header();
  const auto c = counts(h.counts_per_frame(), 3);
  for (auto coding : kAllCodings) {
    INFO(to_string(coding));
    const auto m = frame_message(77, 12, -5, c.data(), c.size(), coding);
    const auto got = parse_message(bytes(m), m.size(), &h);
    CHECK(got.type == MessageType::frame);
    CHECK(got.coding == coding);
    CHECK(got.stream_id == 77);
    CHECK(got.seq == 12);
    CHECK(got.timestamp_ns == -5);
    REQUIRE(got.counts.size() == c.size());
    for (std::size_t i = 0; i < c.size(); ++i) {
      const float want = c[i] < 0 ? 0 : std::min(c[i], 65535.0f);
      if (got.counts[i] != want) FAIL("count " << i << ": " << got.counts[i] << " not " << want);
    }
    CHECK(parse_coding(to_string(coding)) == coding);
  }
  // Sizes that do not fill the last crumb byte, and none at all.
  for (std::size_t n : {0, 1, 5, 7}) {
    const auto small = counts(n, 4);
    const auto m = frame_message(1, 0, 0, small.data(), n, Coding::crumbs);
    CHECK(parse_message(bytes(m), m.size()).counts.size() == n);
  }
  CHECK_THROWS_WITH(parse_coding("zip"), Catch::Contains("unknown count coding 'zip'"));
}

TEST_CASE("spike stream: arithmetic coding, every count and damage", "[stream]") {
  // Every count from 0 to 65,535 once (each Elias gamma length), shuffled into
  // Poisson counts, then sizes of 0 to 3 counts.
  std::vector<float> c = counts(70000, 11);
  for (int v = 0; v <= 65535; ++v) c[static_cast<std::size_t>(v) * 70000 / 65536] = v;
  for (std::size_t n : {c.size(), std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
    INFO(n << " counts");
    const auto m = frame_message(1, 0, 0, c.data(), n, Coding::arith);
    const auto got = parse_message(bytes(m), m.size());
    REQUIRE(got.counts.size() == n);
    for (std::size_t i = 0; i < n; ++i)
      if (got.counts[i] != c[i]) FAIL("count " << i << ": " << got.counts[i] << " not " << c[i]);
  }
  // Poisson counts of mean 0.6 take about their entropy (1.5 bits), not 2.
  const auto p = counts(24576, 12);
  const auto coded = encode_counts(p.data(), p.size(), Coding::arith);
  CHECK(coded.size() * 8.0 / p.size() < 1.65);
  // Damage: cut short, a byte more, a first byte that is not 0.
  const auto h = header();
  const auto six = counts(h.counts_per_frame(), 5);
  const auto frame = frame_message(1, 2, 3, six.data(), six.size(), Coding::arith);
  const auto payload = frame.substr(kPrefixBytes);
  const auto refused = [&](const std::string& pay, const std::string& why) {
    INFO(why);
    const auto m = with_payload(frame, pay);
    CHECK_THROWS_WITH(parse_message(bytes(m), m.size(), &h), Catch::Contains(why));
  };
  refused(payload.substr(0, payload.size() - 1), "end too soon");
  refused(payload.substr(0, 12 + 4), "damaged");
  refused(payload + '\x00', "bytes after the arithmetic-coded counts");
  auto first = payload;
  first[12] = 1;
  refused(first, "damaged");
  // Random payloads never read past their end nor give a count above the largest.
  std::mt19937 rng(3);
  for (int t = 0; t < 2000; ++t) {
    std::string junk = payload.substr(0, 12) + '\0';
    const auto len = rng() % 200;
    for (unsigned i = 0; i < len; ++i) junk.push_back(static_cast<char>(rng() & 0xff));
    const auto m = with_payload(frame, junk);
    try {
      (void)parse_message(bytes(m), m.size(), &h);
    } catch (const StreamError&) {
    }
  }
}

TEST_CASE("spike stream: header and end of stream", "[stream]") {
  const auto h = header();
  const auto m = header_message(h, 9, 40);
  const auto got = parse_message(bytes(m), m.size());
  CHECK(got.type == MessageType::header);
  CHECK(got.seq == 40);
  CHECK(got.header.encoder_id == h.encoder_id);
  CHECK(got.header.encoder_hash == h.encoder_hash);
  CHECK(got.header.tile_rows == 2);
  CHECK(got.header.tile_cols == 3);
  CHECK(got.header.tile_overlap == 16);
  CHECK(got.header.cells == 50);
  CHECK(got.header.bins == 2);
  CHECK(got.header.fps == 25);
  CHECK(got.header.counts_per_frame() == 600);
  const auto e = end_message(9, 41);
  CHECK(parse_message(bytes(e), e.size()).type == MessageType::end);
  CHECK(e.size() == kPrefixBytes);
}

TEST_CASE("spike stream: a damaged or hostile message is refused with one line", "[stream]") {
  const auto h = header();
  const auto c = counts(h.counts_per_frame(), 5);
  const auto frame = frame_message(1, 2, 3, c.data(), c.size(), Coding::crumbs);
  const auto refused = [&](const std::string& m, const std::string& why) {
    INFO(why);
    CHECK_THROWS_WITH(parse_message(bytes(m), m.size(), &h), Catch::Contains(why));
  };
  refused(frame.substr(0, 31), "shorter than its prefix");
  refused(frame.substr(0, frame.size() - 1), "payload of");
  refused(frame + "x", "payload of");
  refused("XVS1" + frame.substr(4), "magic");
  auto t = frame;
  t[4] = 9;
  refused(resealed(t), "unknown message type 9");
  t = frame;
  t[6] = 1;
  refused(resealed(t), "reserved");
  t = frame;
  t[kPrefixBytes + 20] ^= 0x10;
  refused(t, "checksum");
  t = frame;
  t[16] ^= 0x01;  // the sequence number: the prefix is covered too
  refused(t, "checksum");
  t = frame;
  t[5] = 7;
  refused(resealed(t), "unknown count coding 7");
  const auto e = end_message(1, 2);
  t = e;
  t[5] = 1;
  refused(resealed(t), "not a frame");
  refused(with_payload(e, "x"), "end of stream with a payload");

  // Frames whose counts do not fit the header, or run short or long.
  const auto fewer = counts(h.counts_per_frame() - 1, 5);
  refused(frame_message(1, 2, 3, fewer.data(), fewer.size()), "the stream's header says 600");
  std::string payload = frame.substr(kPrefixBytes);
  refused(with_payload(frame, payload.substr(0, 10)), "shorter than its timestamp");
  refused(with_payload(frame, payload.substr(0, payload.size() - 1)), "escaped count");
  refused(with_payload(frame, payload + '\x01'), "bytes after the escaped counts");
  std::string huge = payload;
  huge[8] = huge[9] = huge[10] = huge[11] = '\xff';
  CHECK_THROWS_WITH(parse_message(bytes(with_payload(frame, huge)), frame.size()),
                    Catch::Contains("too many"));
  // Padding bits of the last crumb byte set (4 counts, 3 used).
  const auto three = counts(3, 6);
  auto m3 = frame_message(1, 2, 3, three.data(), 3, Coding::crumbs);
  m3[kPrefixBytes + 12] =
      static_cast<char>(static_cast<std::uint8_t>(m3[kPrefixBytes + 12]) | 0xc0);
  CHECK_THROWS_WITH(parse_message(bytes(resealed(m3)), m3.size()),
                    Catch::Contains("past the last count"));
  // An escape of more than 3 bytes, and an escaped count above the largest.
  std::string bad = payload.substr(0, 12) + '\x03' + std::string(149, '\0') + "\xff\xff\xff\x01";
  refused(with_payload(frame, bad), "longer than 3 bytes");
  bad = payload.substr(0, 12) + std::string(149, '\0') + '\x03' + "\xff\xff\x7f";
  refused(with_payload(frame, bad), "above 65535");

  // A deflate bomb: a megabyte of zeros behind a 600-count frame.
  const auto zeros = std::string(1 << 20, '\0');
  uLongf size = compressBound(zeros.size());
  std::string packed(size, '\0');
  REQUIRE(compress2(reinterpret_cast<Bytef*>(packed.data()), &size, bytes(zeros), zeros.size(),
                    1) == Z_OK);
  packed.resize(size);
  auto bomb = frame_message(1, 2, 3, c.data(), c.size(), Coding::crumbs_deflate);
  refused(with_payload(bomb, bomb.substr(kPrefixBytes, 12) + packed), "too large");
  refused(with_payload(bomb, bomb.substr(kPrefixBytes, 12) + "garbage"), "damaged");

  // Headers: not JSON, fields missing or out of range, too long.
  const auto hm = header_message(h, 1, 0);
  refused(with_payload(hm, "{not json"), "not a JSON object");
  refused(with_payload(hm, "{\"format\":\"spikevid-stream-1\"}"), "missing or of the wrong type");
  auto out_of_range = [&](const std::string& from, const std::string& to, const std::string& why) {
    auto text = hm.substr(kPrefixBytes);
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    refused(with_payload(hm, text), why);
  };
  out_of_range("\"tiles\":\"2x3\"", "\"tiles\":\"2x\"", "is not RxC");
  out_of_range("\"tiles\":\"2x3\"", "\"tiles\":\"0x3\"", "tile grid");
  out_of_range("\"cells\":50", "\"cells\":-1", "cells or bins");
  out_of_range("\"cells\":50", "\"cells\":100000000", "largest frame");
  out_of_range("\"fps\":25.0", "\"fps\":0", "window or rate");
  out_of_range("\"spikevid-stream-1\"", "\"other\"", "format is not");
  refused(with_payload(hm, std::string(5000, ' ')), "more than 4096");
}

namespace {

// Frames 0..n-1 of `h`, each a message, and all of them as one byte stream.
std::vector<std::string> frame_messages(const StreamHeader& h, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const auto c = counts(h.counts_per_frame(), 10 + i);
    out.push_back(frame_message(5, i, i, c.data(), c.size(), Coding::bytes));
  }
  return out;
}

// Feeds `bytes` in `chunk`-byte pieces; the sequence numbers it gives back.
std::vector<std::uint64_t> assemble(MessageAssembler& a, const std::string& stream,
                                    std::size_t chunk) {
  std::vector<std::uint64_t> seqs;
  std::string m;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    a.feed(bytes(stream) + at, std::min(chunk, stream.size() - at));
    while (a.next(m)) seqs.push_back(parse_message(bytes(m), m.size()).seq);
  }
  return seqs;
}

}  // namespace

TEST_CASE("spike stream: messages cut into packets come back whole", "[stream]") {
  const auto h = header();  // 600 counts: messages of about 650 bytes
  const auto ms = frame_messages(h, 12);
  std::string all = header_message(h, 5, 0);
  for (const auto& m : ms) all += m;
  all += end_message(5, 12);
  for (std::size_t chunk : {1, 7, 100, 1316, 100000}) {
    MessageAssembler a;
    const auto seqs = assemble(a, all, chunk);
    INFO("packets of " << chunk << " bytes");
    REQUIRE(seqs.size() == 14);
    for (std::uint64_t i = 0; i < 12; ++i) CHECK(seqs[i + 1] == i);
    CHECK(a.skipped_bytes() == 0);
    CHECK(a.buffered() == 0);
  }
}

TEST_CASE("spike stream: garbage and lost packets cost their messages, never a stall", "[stream]") {
  const auto h = header();
  const auto ms = frame_messages(h, 10);
  SECTION("garbage between messages is skipped and counted") {
    const std::string junk = "junk SVS1 and more";  // a false magic among it
    std::string all = junk + ms[0] + junk + ms[1] + ms[2];
    MessageAssembler a;
    CHECK(assemble(a, all, 1316) == std::vector<std::uint64_t>{0, 1, 2});
    CHECK(a.skipped_bytes() == 2 * junk.size());
  }
  SECTION("a packet lost inside a message: the next whole message is found") {
    std::string all;
    for (const auto& m : ms) all += m;
    // Lose 300 bytes from the middle of message 3.
    const std::size_t at = ms[0].size() * 3 + 200;
    const auto damaged = all.substr(0, at) + all.substr(at + 300);
    MessageAssembler a;
    const auto seqs = assemble(a, damaged, 1316);
    CHECK(seqs == std::vector<std::uint64_t>{0, 1, 2, 4, 5, 6, 7, 8, 9});
    CHECK(a.skipped_bytes() == ms[3].size() - 300);
  }
  SECTION("a false prefix that claims megabytes does not hold back what follows") {
    std::string fake = ms[0].substr(0, kPrefixBytes);
    fake[24] = fake[25] = '\0';
    fake[26] = '\x40';  // 4 MiB of payload claimed
    MessageAssembler a;
    const auto seqs = assemble(a, fake + ms[1] + ms[2], 1316);
    CHECK(seqs == std::vector<std::uint64_t>{1, 2});
    CHECK(a.skipped_bytes() == kPrefixBytes);
  }
}
