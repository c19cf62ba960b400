// The spike-file stages' stand-ins for a LibTorch-only build (no HDF5; see
// spike_files.h): opening one says so.
#include <stdexcept>

#include "io/spike_file.h"
#include "stages/spike_files.h"

namespace spikevid {
namespace {
[[noreturn]] void no_hdf5() {
  throw std::runtime_error("spike files: this LibTorch-only build has no HDF5");
}
}  // namespace

SpikeFileHeader spike_header(const EncoderInfo&, const TileGrid&, const std::string&) { no_hdf5(); }
SpikeFileSource::SpikeFileSource(const std::string&) { no_hdf5(); }
SpikeFileSource::~SpikeFileSource() = default;
std::optional<SpikesPtr> SpikeFileSource::next() { no_hdf5(); }
std::int64_t SpikeFileSource::frames() const { return 0; }
SpikeRecorder::SpikeRecorder(const std::string&, const SpikeFileHeader&,
                             const std::vector<std::string>&) {
  no_hdf5();
}
SpikeRecorder::~SpikeRecorder() = default;
SpikesPtr SpikeRecorder::process(SpikesPtr s) { return s; }
void SpikeRecorder::finish() {}
std::int64_t SpikeRecorder::frames() const { return 0; }

}  // namespace spikevid
