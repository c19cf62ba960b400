// serve (stages/spike_server.h): the output pattern, and several senders
// into one batched decoder on loopback RTP; a stream's end counts the frames
// that never came.
#include "stages/spike_server.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/spike_stream.h"
#include "io/spike_transport.h"
#include "models/encoder.h"

using namespace spikevid;

namespace {

// A free UDP port and the next `n - 1` after it, the kernel's choice.
int free_ports(int n) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::vector<int> fds;
    int first = 0;
    bool ok = true;
    for (int k = 0; k < n && ok; ++k) {
      const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<std::uint16_t>(k == 0 ? 0 : first + k));
      socklen_t size = sizeof a;
      ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
           ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0;
      if (k == 0 && ok) first = ntohs(a.sin_port);
      if (fd >= 0) fds.push_back(fd);
    }
    for (int fd : fds) ::close(fd);
    if (ok) return first;
  }
  FAIL("no free ports");
  return 0;
}

const std::string kEncoder = std::string(SPIKEVID_WEIGHTS_DIR) + "/encoder-cnn.svm";
const std::string kDecoder = std::string(SPIKEVID_WEIGHTS_DIR) + "/sid-lite-natural.svm";

}  // namespace

TEST_CASE("serve: an output pattern takes one integer conversion", "[serve]") {
  CHECK(stream_output_name("out/s-%02d.mp4", 3) == "out/s-03.mp4");
  CHECK(stream_output_name("%d.mkv", 12) == "12.mkv");
  CHECK(stream_output_name("100%%-%d.mp4", 1) == "100%-1.mp4");
  CHECK_THROWS_AS(stream_output_name("out/same.mp4", 0), std::invalid_argument);
  CHECK_THROWS_AS(stream_output_name("%d-%d.mp4", 0), std::invalid_argument);
  CHECK_THROWS_AS(stream_output_name("%s.mp4", 0), std::invalid_argument);
  CHECK_THROWS_AS(stream_output_name("%n.mp4", 0), std::invalid_argument);
  CHECK_THROWS_AS(stream_output_name("%.mp4", 0), std::invalid_argument);
}

TEST_CASE("serve: three senders, one decoder; every frame of each stream written", "[serve]") {
  const int port = free_ports(3);
  ServeConfig c;
  c.listen = "rtp://127.0.0.1:" + std::to_string(port);
  c.streams = 3;
  c.encoder = kEncoder;
  c.decoder.decoder = kDecoder;
  c.idle_timeout_s = 3;
  c.warmup = 0;
  SpikeServer server(c);
  std::vector<ServedStream> result;
  std::thread run([&] { result = server.run(); });
  const auto encoder = load_encoder(kEncoder, torch::kCPU)->info();
  torch::manual_seed(3);
  // Streams 0 and 1 send 20 and 12 frames, all at once (so frames of both
  // wait together); stream 2 stays silent and ends after the idle timeout.
  std::vector<std::unique_ptr<SpikeSender>> senders;
  for (int k = 0; k < 2; ++k)
    senders.push_back(std::make_unique<SpikeSender>("rtp://127.0.0.1:" + std::to_string(port + k),
                                                    encoder, TileGrid{}, 30));
  for (int i = 0; i < 20; ++i)
    for (int k = 0; k < 2; ++k) {
      if (k == 1 && i >= 12) continue;
      auto s = std::make_unique<Spikes>();
      s->counts = torch::poisson(torch::full({1, 1, encoder.n_cells}, 0.3));
      s->meta.seq = static_cast<std::uint64_t>(i);
      senders[static_cast<std::size_t>(k)]->process(std::move(s));
    }
  for (auto& s : senders) s->finish();
  run.join();
  REQUIRE(result.size() == 3);
  CHECK(result[0].started);
  CHECK(result[0].counts.frames == 20);
  CHECK(result[0].written == 20);
  CHECK(result[1].counts.frames == 12);
  CHECK(result[1].written == 12);
  CHECK(result[0].counts.lost == 0);
  CHECK_FALSE(result[2].started);
  CHECK(result[2].written == 0);
  CHECK(result[0].p99_ms > 0);
  CHECK(result[0].refused.empty());
  // The frames came faster than one decoder call: calls took several.
  CHECK(server.frames_decoded() == 32);
  CHECK(server.largest_batch() > 1);
  CHECK(server.decoder_calls() < 32);
}

TEST_CASE(
    "a stream's end says how many frames it sent: missing ones at the end are lost, not "
    "silent",
    "[serve]") {
  const auto encoder = load_encoder(kEncoder, torch::kCPU)->info();
  const auto header = stream_header_of(encoder, TileGrid{}, 30);
  const std::vector<float> counts(static_cast<std::size_t>(encoder.n_cells), 1.0f);
  SECTION("frames 0 to 4 arrive, the end says 10 were sent") {
    const auto uri = "rtp://127.0.0.1:" + std::to_string(free_ports(1));
    SpikeStreamSource source(uri, encoder, kEncoder, 5, nullptr, false);
    stream::MessageSender tx(stream::parse_stream_uri(uri, false));
    tx.send(stream::header_message(header, 9, 0));
    for (std::uint64_t i = 0; i < 5; ++i)
      tx.send(stream::frame_message(9, i, 0, counts.data(), counts.size()));
    tx.send(stream::end_message(9, 10));
    while (source.next(1.0)) {
    }
    CHECK(source.counts().frames == 5);
    CHECK(source.counts().lost == 5);
    tx.finish(0);
  }
  SECTION("a number far ahead (forged or corrupt) is dropped as malformed, not a gap") {
    const auto uri = "rtp://127.0.0.1:" + std::to_string(free_ports(1));
    SpikeStreamSource source(uri, encoder, kEncoder, 5, nullptr, false);
    stream::MessageSender tx(stream::parse_stream_uri(uri, false));
    tx.send(stream::header_message(header, 9, 0));
    for (std::uint64_t i : {0, 1, 2})
      tx.send(stream::frame_message(9, i, 0, counts.data(), counts.size()));
    tx.send(stream::frame_message(9, std::uint64_t{1} << 62, 0, counts.data(), counts.size()));
    tx.send(stream::frame_message(9, ~std::uint64_t{0}, 0, counts.data(), counts.size()));
    for (std::uint64_t i : {3, 5})
      tx.send(stream::frame_message(9, i, 0, counts.data(), counts.size()));
    tx.send(stream::end_message(9, ~std::uint64_t{0} - 1));
    while (source.next(1.0)) {
    }
    CHECK(source.counts().frames == 5);  // 0-3 and 5: the stream goes on
    CHECK(source.counts().lost == 1);    // 4
    CHECK(source.counts().late == 0);
    CHECK(source.counts().malformed == 3);
    tx.finish(0);
  }
  SECTION("a frame counted lost that comes after all is late; one that comes again, repeated") {
    // RTP may reorder; an SRT sender sends again what a receiver may not
    // have read (after a reconnection): neither is a loss.
    const auto uri = "rtp://127.0.0.1:" + std::to_string(free_ports(1));
    SpikeStreamSource source(uri, encoder, kEncoder, 5, nullptr, false);
    stream::MessageSender tx(stream::parse_stream_uri(uri, false));
    tx.send(stream::header_message(header, 9, 0));
    for (std::uint64_t i : {0, 1, 3, 2, 1, 0, 4})
      tx.send(stream::frame_message(9, i, 0, counts.data(), counts.size()));
    tx.send(stream::end_message(9, 5));
    while (source.next(1.0)) {
    }
    CHECK(source.counts().frames == 4);    // 0, 1, 3, 4
    CHECK(source.counts().lost == 1);      // 2, skipped when 3 came
    CHECK(source.counts().late == 1);      // 2
    CHECK(source.counts().repeated == 2);  // 1 and 0 again
    tx.finish(0);
  }
  SECTION("SpikeSender's end carries the number after its last frame, not how many it sent") {
    const auto uri = "rtp://127.0.0.1:" + std::to_string(free_ports(1));
    stream::MessageReceiver rx(stream::parse_stream_uri(uri, true));
    SpikeSender tx(uri, encoder, TileGrid{}, 30);
    for (std::uint64_t i : {100, 101, 102, 105, 106}) {  // a camera's numbers, with a drop
      auto s = std::make_unique<Spikes>();
      s->counts = torch::ones({1, 1, encoder.n_cells});
      s->meta.seq = i;
      tx.process(std::move(s));
    }
    tx.finish();
    std::uint64_t end_seq = 0;
    while (const auto m = rx.next(2.0)) {
      const auto msg = stream::parse_message(reinterpret_cast<const std::uint8_t*>(m->data()),
                                             m->size(), &header);
      if (msg.type == stream::MessageType::end) end_seq = msg.seq;
    }
    CHECK(end_seq == 107);
  }
}

TEST_CASE("a stream's idle timeout counts from the first read, not from when its port opened",
          "[serve]") {
  // serve opens every port before it reads any (48 ports took 10 s here): a
  // stream opened early must not time out before anyone asked for a message.
  const auto encoder = load_encoder(kEncoder, torch::kCPU)->info();
  const auto header = stream_header_of(encoder, TileGrid{}, 30);
  const std::vector<float> counts(static_cast<std::size_t>(encoder.n_cells), 1.0f);
  const auto uri = "rtp://127.0.0.1:" + std::to_string(free_ports(1));
  SpikeStreamSource source(uri, encoder, kEncoder, 1.0, nullptr, false);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the timeout, unread
  CHECK(source.next(0).has_value());                             // the clock starts here: not ended
  stream::MessageSender tx(stream::parse_stream_uri(uri, false));
  tx.send(stream::header_message(header, 9, 0));
  for (std::uint64_t i = 0; i < 3; ++i)
    tx.send(stream::frame_message(9, i, 0, counts.data(), counts.size()));
  tx.send(stream::end_message(9, 3));
  while (source.next(0.5)) {
  }
  CHECK(source.counts().frames == 3);
  tx.finish(0);
}

TEST_CASE("serve closes the port of a stream that ended: a late SRT sender is not answered",
          "[serve]") {
  const int port = free_ports(1);
  const auto uri = "srt://127.0.0.1:" + std::to_string(port);
  ServeConfig c;
  c.encoder = kEncoder;
  c.decoder.decoder = kDecoder;
  c.listen = uri;
  c.idle_timeout_s = 0.5;
  c.warmup = 0;
  SpikeServer server(c);
  const auto served = server.run();  // nobody came: the stream ends idle
  REQUIRE(served.size() == 1);
  CHECK_FALSE(served[0].started);
  stream::MessageSender tx(stream::parse_stream_uri(uri, false), 1.0);
  const auto encoder = load_encoder(kEncoder, torch::kCPU)->info();
  const auto h = stream::header_message(stream_header_of(encoder, TileGrid{}, 30), 9, 0);
  CHECK_THROWS_WITH(
      [&] {
        for (int i = 0; i < 100; ++i) {
          tx.send(h);
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }(),
      Catch::Contains("nobody answered"));
}
