// The spike-stream stages' stand-ins for a LibTorch-only build (no
// GStreamer; see spike_streams.h): making one says so.
#include <stdexcept>

#include "stages/spike_streams.h"

namespace spikevid {
namespace {
[[noreturn]] void no_gstreamer() {
  throw std::runtime_error("spike streams: this LibTorch-only build has no GStreamer");
}
}  // namespace

struct SpikeSender::Impl {};
struct SpikeStreamSource::Impl {};

SpikeSender::SpikeSender(const std::string&, const EncoderInfo&, const TileGrid&, double, int) {
  no_gstreamer();
}
SpikeSender::~SpikeSender() = default;
SpikesPtr SpikeSender::process(SpikesPtr s) { return s; }
std::int64_t SpikeSender::frames() const { return 0; }
void SpikeSender::finish(bool) {}
SpikeStreamSource::SpikeStreamSource(const std::string&, const std::string&, double,
                                     const std::atomic<bool>*, bool) {
  no_gstreamer();
}
SpikeStreamSource::SpikeStreamSource(const std::string&, const EncoderInfo&, const std::string&,
                                     double, const std::atomic<bool>*, bool) {
  no_gstreamer();
}
SpikeStreamSource::~SpikeStreamSource() = default;
std::optional<SpikesPtr> SpikeStreamSource::next(double) { no_gstreamer(); }
bool SpikeStreamSource::started() const { return false; }
void SpikeStreamSource::take_header(const stream::Message&) {}
std::string SpikeStreamSource::describe_counts() const { return {}; }

}  // namespace spikevid
