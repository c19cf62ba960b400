#include "stages/spike_files.h"

#include <torch/torch.h>

#include "io/output_file.h"
#include "io/spike_file.h"
#include "stages/gpu_lane.h"

namespace spikevid {

SpikeFileHeader spike_header(const EncoderInfo& e, const TileGrid& g, const std::string& source) {
  SpikeFileHeader h;
  const int tiles = g.rows * g.cols;
  h.cells = e.n_cells * tiles;
  h.bins = e.bins;
  h.window_s = e.window_s;
  h.encoder_id = e.id;
  h.encoder_json =
      e.meta.is_null() ? nlohmann::json{{"architecture", e.architecture}}.dump() : e.meta.dump();
  h.source = source;
  h.tile_rows = g.rows;
  h.tile_cols = g.cols;
  h.tile_overlap = g.overlap;
  if (static_cast<int>(e.cells.size()) == e.n_cells)
    for (int t = 0; t < tiles; ++t)
      for (const auto& c : e.cells) {
        h.cell_type.push_back(static_cast<std::uint8_t>(c.type));
        h.cell_x.push_back(c.x + static_cast<float>((t % g.cols) * (g.tile - g.overlap)));
        h.cell_y.push_back(c.y + static_cast<float>((t / g.cols) * (g.tile - g.overlap)));
        h.center_sigma.push_back(c.center_sigma);
        h.surround_sigma.push_back(c.surround_sigma);
      }
  return h;
}

SpikeFileSource::SpikeFileSource(const std::string& path)
    : path_(path), reader_(std::make_unique<SpikeFileReader>(path)) {
  const auto& h = reader_->header();
  if (reader_->frames() == 0) throw std::runtime_error(path + ": holds no frames");
  const int tiles = h.tile_rows * h.tile_cols;
  if (h.cells % tiles != 0)
    throw std::runtime_error(path + ": its cell count does not divide into its tiles");
  encoder_.id = h.encoder_id;
  encoder_.n_cells = h.cells / tiles;
  encoder_.bins = h.bins;
  encoder_.window_s = h.window_s;
  // The cell table is optional, column by column (each one empty or one entry
  // per cell); the spike map needs positions and sizes. Tile 0's cells sit at
  // their place in the tile.
  const auto has = [&](const auto& column) {
    return static_cast<int>(column.size()) >= encoder_.n_cells;
  };
  if (has(h.cell_x) && has(h.cell_y) && has(h.center_sigma) && has(h.surround_sigma))
    for (int i = 0; i < encoder_.n_cells; ++i)
      encoder_.cells.push_back(
          CellInfo{h.cell_type.empty() ? CellType::on : static_cast<CellType>(h.cell_type[i]),
                   h.cell_x[i], h.cell_y[i], h.center_sigma[i], h.surround_sigma[i]});
  grid_ = TileGrid{h.tile_rows, h.tile_cols, 64, h.tile_overlap};
  // The rate from the first and last timestamps: two reads, not the whole column.
  std::vector<float> scratch(static_cast<std::size_t>(h.bins) * h.cells);
  const auto n = reader_->frames();
  if (n > 1) {
    const auto first = reader_->read(0, scratch.data()),
               last = reader_->read(n - 1, scratch.data());
    const double span = 1e-9 * static_cast<double>(last - first);
    if (span > 0) fps_ = static_cast<double>(n - 1) / span;
  }
}

SpikeFileSource::~SpikeFileSource() = default;

std::int64_t SpikeFileSource::frames() const { return reader_->frames(); }

std::optional<SpikesPtr> SpikeFileSource::next() {
  if (next_ >= reader_->frames()) return std::nullopt;
  const auto& h = reader_->header();
  const int tiles = grid_.rows * grid_.cols;
  // The file's [bins, T·N] as the line's [T, bins, N].
  auto c = torch::empty({h.bins, tiles, encoder_.n_cells}, torch::kFloat32);
  const auto pts = reader_->read(next_++, c.data_ptr<float>());
  auto s = std::make_unique<Spikes>();
  s->counts = c.permute({1, 0, 2}).contiguous();  // the decode stage uploads it
  s->pts_ns = pts;
  return s;
}

SpikeRecorder::SpikeRecorder(const std::string& path, const SpikeFileHeader& header,
                             const std::vector<std::string>& inputs)
    : file_(std::make_unique<OutputFile>(path, inputs)),
      writer_(std::make_unique<SpikeFileWriter>(file_->part_path(), header)) {}

SpikeRecorder::~SpikeRecorder() {
  try {
    finish();
  } catch (...) {
  }
}

SpikesPtr SpikeRecorder::process(SpikesPtr s) {
  host_wait(s->ready);  // on the CUDA path, the encode stage's stream may still be drawing them
  // [T,bins,N] as the file's [bins, T·N].
  auto c = s->counts.detach().to(torch::kCPU, torch::kFloat32).permute({1, 0, 2}).contiguous();
  writer_->append(c.data_ptr<float>(), s->pts_ns);
  return s;
}

std::int64_t SpikeRecorder::frames() const { return writer_->frames(); }

void SpikeRecorder::finish() {
  if (finished_) return;
  finished_ = true;
  try {
    writer_->close();
  } catch (...) {
    if (writer_->frames() > 0) file_->commit();  // what was flushed stays readable
    throw;
  }
  if (writer_->frames() > 0)
    file_->commit();
  else
    file_->discard();
}

}  // namespace spikevid
