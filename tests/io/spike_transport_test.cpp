// The spike stream over GStreamer's SRT and RTP on the loopback interface:
// every message arrives whole and in order, the URI is checked, and a port
// in use is one line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "io/spike_stream.h"
#include "io/spike_transport.h"

using namespace spikevid::stream;

namespace {

// A UDP port nobody holds now, the kernel's choice (a port made from the
// process id could meet another test's running beside it under ctest -j).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(a.sin_port);
}

StreamHeader tiled_header() {
  StreamHeader h;
  h.encoder_id = "cnn-0123456789ab";
  h.encoder_hash = "0123456789abcdef";
  h.tile_rows = 3;
  h.tile_cols = 4;
  h.cells = 2048;
  return h;
}

// Sends a header, `frames` frames of 3x4 tiles (several kB each: several
// packets) and the end; receives them; returns the sequence numbers of the
// frames that arrived, in arrival order, and whether the end came.
std::pair<std::vector<std::uint64_t>, bool> round_trip(const std::string& rx_uri,
                                                       const std::string& tx_uri, int frames) {
  const auto h = tiled_header();
  auto rx = std::make_unique<MessageReceiver>(parse_stream_uri(rx_uri, true));
  std::vector<std::uint64_t> seqs;
  bool ended = false;
  std::thread sender([&] {
    MessageSender tx(parse_stream_uri(tx_uri, false));
    std::vector<float> counts(h.counts_per_frame());
    tx.send(header_message(h, 3, 0));
    for (int i = 0; i < frames; ++i) {
      for (std::size_t k = 0; k < counts.size(); ++k)
        counts[k] = static_cast<float>((k * 31 + static_cast<std::size_t>(i)) % 7 == 0);
      tx.send(frame_message(3, static_cast<std::uint64_t>(i), i, counts.data(), counts.size()));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    tx.send(end_message(3, static_cast<std::uint64_t>(frames)));
    tx.finish();
  });
  while (!ended) {
    const auto m = rx->next(5.0);
    if (!m) break;
    const auto msg = parse_message(reinterpret_cast<const std::uint8_t*>(m->data()), m->size(), &h);
    if (msg.type == MessageType::frame) seqs.push_back(msg.seq);
    if (msg.type == MessageType::end) ended = true;
  }
  rx.reset();  // as a receiver does at the end: an SRT sender waits for it
  sender.join();
  return {seqs, ended};
}

}  // namespace

TEST_CASE("stream URIs: what each part means, and one line for a wrong one", "[transport]") {
  auto u = parse_stream_uri("srt://127.0.0.1:7001", false);
  CHECK(u.kind == StreamUri::Kind::srt);
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 7001);
  CHECK_FALSE(u.listener);  // the sender calls
  u = parse_stream_uri("srt://:7001", true);
  CHECK(u.listener);  // the receiver listens
  CHECK(u.host == "0.0.0.0");
  u = parse_stream_uri("srt://host-a:9?mode=caller&latency=200&passphrase=abcdefghij1", true);
  CHECK_FALSE(u.listener);
  CHECK(u.latency_ms == 200);
  CHECK(u.passphrase == "abcdefghij1");
  u = parse_stream_uri("rtp://10.0.0.2:5004", false);
  CHECK(u.kind == StreamUri::Kind::rtp);
  const auto wrong = [](const std::string& uri, const std::string& why) {
    CHECK_THROWS_WITH(parse_stream_uri(uri, false), Catch::Contains(uri) && Catch::Contains(why));
  };
  wrong("udp://1.2.3.4:5", "not a stream URI");
  wrong("srt://1.2.3.4", "no port");
  wrong("srt://1.2.3.4:0", "from 1 to 65535");
  wrong("srt://1.2.3.4:99999", "from 1 to 65535");
  wrong("srt://1.2.3.4:12ab", "from 1 to 65535");
  wrong("srt://:5000", "no host to send to");
  wrong("srt://a;b:5000", "letters, digits");
  wrong("srt://h:5000?mode=both", "unknown option 'mode=both'");
  wrong("srt://h:5000?passphrase=short", "10 to 79");
  wrong("rtp://h:5000?latency=3", "takes no options");
}

TEST_CASE("spike stream over RTP on loopback: every message, in order", "[transport]") {
  const int port = free_port();
  const auto [seqs, ended] = round_trip("rtp://127.0.0.1:" + std::to_string(port),
                                        "rtp://127.0.0.1:" + std::to_string(port), 30);
  CHECK(ended);
  REQUIRE(seqs.size() == 30);
  for (std::uint64_t i = 0; i < 30; ++i) CHECK(seqs[i] == i);
}

TEST_CASE("spike stream over SRT on loopback: every message, in order", "[transport]") {
  const int port = free_port();
  const auto [seqs, ended] =
      round_trip("srt://:" + std::to_string(port), "srt://127.0.0.1:" + std::to_string(port), 30);
  CHECK(ended);
  REQUIRE(seqs.size() == 30);
  for (std::uint64_t i = 0; i < 30; ++i) CHECK(seqs[i] == i);
}

TEST_CASE("a receiver on a port in use fails with one line naming it", "[transport]") {
  for (const std::string scheme : {"rtp://127.0.0.1:", "srt://:"}) {
    const auto uri = scheme + std::to_string(free_port());
    MessageReceiver first(parse_stream_uri(uri, true));
    CHECK_THROWS_WITH(MessageReceiver(parse_stream_uri(uri, true)), Catch::Contains(uri));
  }
}

TEST_CASE("garbage on the wire is skipped and counted; the messages around it arrive",
          "[transport]") {
  const auto h = tiled_header();
  for (const std::string scheme : {"rtp://127.0.0.1:", "srt://"}) {
    const int port = free_port();
    const auto rx_uri =
        scheme == "srt://" ? "srt://:" + std::to_string(port) : scheme + std::to_string(port);
    MessageReceiver rx(parse_stream_uri(rx_uri, true));
    MessageSender tx(parse_stream_uri(
        scheme == "srt://" ? "srt://127.0.0.1:" + std::to_string(port) : rx_uri, false));
    const std::string junk(700, 'x');
    tx.send(header_message(h, 3, 0));
    tx.send(junk);
    tx.send(end_message(3, 0));
    std::vector<MessageType> got;
    while (auto m = rx.next(5.0)) {
      got.push_back(
          parse_message(reinterpret_cast<const std::uint8_t*>(m->data()), m->size()).type);
      if (got.back() == MessageType::end) break;
    }
    INFO(scheme);
    CHECK(got == std::vector<MessageType>{MessageType::header, MessageType::end});
    CHECK(rx.skipped_bytes() == junk.size());
    tx.finish(0.1, false);  // not waiting for rx, which is still open
  }
}

TEST_CASE("an SRT sender with nobody listening fails with one line, no hang", "[transport]") {
  const auto uri = "srt://127.0.0.1:" + std::to_string(free_port());
  const auto t0 = std::chrono::steady_clock::now();
  std::string why;
  try {
    MessageSender tx(parse_stream_uri(uri, false), 2.0);
    for (int i = 0; i < 200 && why.empty(); ++i) {
      tx.send(end_message(1, 0));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } catch (const std::runtime_error& e) {
    why = e.what();
  }
  INFO(why);
  CHECK(why.find(uri) == 0);
  CHECK(why.find("nobody answered within 2 s") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("an SRT receiver that starts after its sender misses nothing", "[transport]") {
  const auto h = tiled_header();
  const int port = free_port();
  std::vector<std::uint64_t> seqs;
  std::thread receiver([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    MessageReceiver rx(parse_stream_uri("srt://:" + std::to_string(port), true));
    while (const auto m = rx.next(5.0)) {
      const auto msg =
          parse_message(reinterpret_cast<const std::uint8_t*>(m->data()), m->size(), &h);
      if (msg.type == MessageType::frame) seqs.push_back(msg.seq);
      if (msg.type == MessageType::end) break;
    }
  });
  {
    MessageSender tx(parse_stream_uri("srt://127.0.0.1:" + std::to_string(port), false));
    std::vector<float> counts(h.counts_per_frame(), 1.0f);
    tx.send(header_message(h, 3, 0));
    for (int i = 0; i < 30; ++i) {  // one second of frames, all before the receiver is there
      tx.send(frame_message(3, static_cast<std::uint64_t>(i), i, counts.data(), counts.size()));
      std::this_thread::sleep_for(std::chrono::milliseconds(33));
    }
    tx.send(end_message(3, 30));
    tx.finish();
  }
  receiver.join();
  CHECK(seqs.size() == 30);
}

TEST_CASE("an SRT receiver that goes and comes back misses nothing: the sender holds and resends",
          "[transport]") {
  const auto h = tiled_header();
  const int port = free_port();
  const auto listen = parse_stream_uri("srt://:" + std::to_string(port), true);
  std::set<std::uint64_t> seqs;
  std::vector<std::uint64_t> first, second;
  auto read = [&](MessageReceiver& rx, std::vector<std::uint64_t>& got, std::uint64_t until) {
    while (const auto m = rx.next(5.0)) {
      const auto msg =
          parse_message(reinterpret_cast<const std::uint8_t*>(m->data()), m->size(), &h);
      if (msg.type == MessageType::frame) got.push_back(msg.seq);
      if (msg.type == MessageType::end || (msg.type == MessageType::frame && msg.seq >= until))
        return;
    }
  };
  std::thread receiver([&] {
    {
      MessageReceiver rx(listen);
      read(rx, first, 14);
    }  // gone, with frames on their way
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    MessageReceiver rx(listen);
    read(rx, second, ~std::uint64_t{0});
  });
  {
    MessageSender tx(parse_stream_uri("srt://127.0.0.1:" + std::to_string(port), false));
    std::vector<float> counts(h.counts_per_frame(), 1.0f);
    for (int i = 0; i < 60; ++i) {  // two seconds of frames, a header every half second
      if (i % 15 == 0) tx.send(header_message(h, 3, static_cast<std::uint64_t>(i)));
      tx.send(frame_message(3, static_cast<std::uint64_t>(i), i, counts.data(), counts.size()));
      std::this_thread::sleep_for(std::chrono::milliseconds(33));
    }
    tx.send(end_message(3, 60));
    tx.finish();
    CHECK(tx.stalls() >= 1);
  }
  receiver.join();
  seqs.insert(first.begin(), first.end());
  seqs.insert(second.begin(), second.end());
  CHECK(seqs.size() == 60);
  CHECK(std::is_sorted(second.begin(), second.end()));
}

TEST_CASE("an SRT sender ends only once its receiver has read everything: a slow one loses nothing",
          "[transport]") {
  // 150 frames of 3x4 tiles (several packets each) sent at once, to a
  // receiver that reads nothing for 3 s: more than its queue holds, so the
  // rest waits in SRT's socket, which srtsrc throws away once the sender
  // closes. Before the sender waited for the receiver to close: 0 of 150 (a
  // run here), with the end of stream gone too.
  const auto h = tiled_header();
  const int port = free_port();
  std::vector<std::uint64_t> seqs;
  bool ended = false;
  std::atomic<bool> closed{false};
  std::thread receiver([&] {
    auto rx =
        std::make_unique<MessageReceiver>(parse_stream_uri("srt://:" + std::to_string(port), true));
    std::this_thread::sleep_for(std::chrono::seconds(3));
    while (const auto m = rx->next(5.0)) {
      const auto msg =
          parse_message(reinterpret_cast<const std::uint8_t*>(m->data()), m->size(), &h);
      if (msg.type == MessageType::frame) seqs.push_back(msg.seq);
      if (msg.type == MessageType::end) {
        ended = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slow decoder
    }
    closed = true;
    rx.reset();
  });
  MessageSender::Ending ending{};
  {
    MessageSender tx(parse_stream_uri("srt://127.0.0.1:" + std::to_string(port), false));
    std::vector<float> counts(h.counts_per_frame());
    tx.send(header_message(h, 3, 0));
    for (int i = 0; i < 150; ++i) {
      for (std::size_t k = 0; k < counts.size(); ++k)
        counts[k] = static_cast<float>((k * 7 + static_cast<std::size_t>(i)) % 3 == 0);
      tx.send(frame_message(3, static_cast<std::uint64_t>(i), i, counts.data(), counts.size()));
    }
    tx.send(end_message(3, 150));
    ending = tx.finish();
    CHECK(closed);  // it returned after the receiver closed, not before
  }
  receiver.join();
  CHECK(ending == MessageSender::Ending::read);
  CHECK(ended);
  CHECK(seqs.size() == 150);
}
