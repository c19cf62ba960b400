#include "io/spike_file.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/file_util.h"
#include "io/hdf5_util.h"

namespace spikevid {
namespace {

using hdf5::Handle;
using hdf5::QuietErrors;

constexpr const char* kFormat = "spikevid-spikes-1";

void write_string_attr(hid_t obj, const char* name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id, std::max<std::size_t>(1, value.size()));
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  H5Awrite(attr.id, type.id, padded.data());
}

std::string read_string_attr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return {};
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id), H5Tclose);
  if (H5Tget_class(type.id) != H5T_STRING || H5Tis_variable_str(type.id) > 0) return {};
  std::string value(H5Tget_size(type.id), '\0');
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mem.id, value.size());
  if (H5Aread(attr.id, mem.id, value.data()) < 0) return {};
  return value.substr(0, value.find('\0'));
}

template <class T>
void write_scalar_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, T value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, file_type, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(attr.id, mem_type, &value);
}

template <class T>
void write_column(hid_t file, const char* name, const std::vector<T>& v, hid_t file_type,
                  hid_t mem_type) {
  if (v.empty()) return;
  const hsize_t n = v.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.id, 1);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(dcpl.id, 0);  // no creation time: the same spikes, the same bytes
  Handle ds(H5Dcreate2(file, name, file_type, space.id, lcpl.id, dcpl.id, H5P_DEFAULT), H5Dclose);
  H5Dwrite(ds.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
}

// An extendible dataset [0, dims...], one frame per chunk.
hid_t create_stream(hid_t file, const char* name, hid_t type, std::vector<hsize_t> frame_dims) {
  std::vector<hsize_t> dims{0}, max{H5S_UNLIMITED}, chunk{1};
  for (auto d : frame_dims) dims.push_back(d), max.push_back(d), chunk.push_back(d);
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max.data()), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(dcpl.id, static_cast<int>(chunk.size()), chunk.data());
  H5Pset_obj_track_times(dcpl.id, 0);
  if (!frame_dims.empty()) H5Pset_deflate(dcpl.id, 4);
  return H5Dcreate2(file, name, type, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT);
}

void append_frame(hid_t ds, hsize_t index, const void* data, hid_t mem_type,
                  std::vector<hsize_t> frame_dims) {
  std::vector<hsize_t> size{index + 1}, start{index}, count{1};
  for (auto d : frame_dims) size.push_back(d), start.push_back(0), count.push_back(d);
  H5Dset_extent(ds, size.data());
  Handle file_space(H5Dget_space(ds), H5Sclose);
  H5Sselect_hyperslab(file_space.id, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
                   H5Sclose);
  if (H5Dwrite(ds, mem_type, mem_space.id, file_space.id, H5P_DEFAULT, data) < 0)
    throw std::runtime_error("write failed");
}

// spikevid writes its streams chunked and its cell columns contiguous, never
// compact or external. libhdf5 1.10.8 trusts a dataset's layout message: a
// damaged file that makes /counts compact with no data has H5Dread copy from
// a null pointer (fuzzing found it: tests/fuzz/regressions/spike_file/
// compact-layout-without-data). So the layout is checked before any read,
// and a contiguous dataset must lie inside the file.
// A stream must be chunked one frame per chunk (`chunk`), a column (empty
// `chunk`) contiguous: a damaged chunk shape made libhdf5 take 4.5 s and
// 1.5 GB on a 12 kB file (tests/fuzz/regressions/spike_file/odd-chunk-shape).
void check_storage(hid_t ds, const std::string& path, const std::string& name,
                   std::uintmax_t file_bytes, long double bytes,
                   const std::vector<hsize_t>& chunk = {}) {
  Handle dcpl(H5Dget_create_plist(ds), H5Pclose);
  const H5D_layout_t layout = dcpl.id < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(dcpl.id);
  const auto odd = [&] {
    throw_file_error(path, name + " is not stored as spikevid stores it (damaged?)");
  };
  if (layout != (chunk.empty() ? H5D_CONTIGUOUS : H5D_CHUNKED)) odd();
  if (!chunk.empty()) {
    std::vector<hsize_t> got(chunk.size());
    if (H5Pget_chunk(dcpl.id, static_cast<int>(got.size()), got.data()) !=
            static_cast<int>(chunk.size()) ||
        got != chunk)
      odd();
  }
  if (H5Pget_external_count(dcpl.id) != 0)
    throw_file_error(path, name + " refers to external files (not a spikevid spike file)");
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t at = H5Dget_offset(ds);
    if (at != HADDR_UNDEF && static_cast<long double>(at) + bytes > file_bytes)
      throw_file_error(path, name + " lies past the end of the file (truncated or damaged?)");
  }
}

}  // namespace

SpikeFileWriter::SpikeFileWriter(std::string path, const SpikeFileHeader& h, int flush_every)
    : path_(std::move(path)),
      flush_every_(std::max(1, flush_every)),
      bins_(h.bins),
      cells_(h.cells) {
  QuietErrors quiet;
  if (h.cells < 1 || h.bins < 1)
    throw std::invalid_argument(path_ + ": a spike file needs cells and bins");
  per_frame_ = static_cast<std::int64_t>(h.bins) * h.cells;
  file_ = H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file_ < 0)
    throw_file_error(path_, "cannot create the spike file (folder missing or not writable?)");
  write_string_attr(file_, "format", kFormat);
  write_scalar_attr(file_, "window_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, h.window_s);
  write_scalar_attr(file_, "bins", H5T_STD_I32LE, H5T_NATIVE_INT, h.bins);
  write_string_attr(file_, "encoder_id", h.encoder_id);
  write_string_attr(file_, "encoder", h.encoder_json);
  write_string_attr(file_, "source", h.source);
  write_string_attr(file_, "tiles",
                    std::to_string(h.tile_rows) + "x" + std::to_string(h.tile_cols));
  write_scalar_attr(file_, "tile_overlap", H5T_STD_I32LE, H5T_NATIVE_INT, h.tile_overlap);
  write_column(file_, "cells/type", h.cell_type, H5T_STD_U8LE, H5T_NATIVE_UINT8);
  write_column(file_, "cells/x", h.cell_x, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
  write_column(file_, "cells/y", h.cell_y, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
  write_column(file_, "cells/center_sigma", h.center_sigma, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
  write_column(file_, "cells/surround_sigma", h.surround_sigma, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
  counts_ = create_stream(file_, "counts", H5T_IEEE_F32LE,
                          {static_cast<hsize_t>(h.bins), static_cast<hsize_t>(h.cells)});
  stamps_ = create_stream(file_, "timestamps_ns", H5T_STD_I64LE, {});
  if (counts_ < 0 || stamps_ < 0) {
    close();
    throw_file_error(path_, "cannot create the spike datasets");
  }
  flush();  // an empty file that opens, from the start
}

SpikeFileWriter::~SpikeFileWriter() {
  try {
    close();
  } catch (...) {
  }
}

void SpikeFileWriter::append(const float* counts, std::int64_t timestamp_ns) {
  QuietErrors quiet;
  if (file_ < 0) throw_file_error(path_, "append after close");
  try {
    const auto index = static_cast<hsize_t>(frames_);
    append_frame(counts_, index, counts, H5T_NATIVE_FLOAT,
                 {static_cast<hsize_t>(bins_), static_cast<hsize_t>(cells_)});
    append_frame(stamps_, index, &timestamp_ns, H5T_NATIVE_INT64, {});
  } catch (const std::runtime_error&) {
    throw_file_error(path_, "cannot write frame " + std::to_string(frames_) + " (disk full?)");
  }
  ++frames_;
  if (frames_ % flush_every_ == 0) flush();
}

void SpikeFileWriter::flush() {
  if (file_ >= 0 && H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0)
    throw_file_error(path_, "flush failed (disk full?)");
}

void SpikeFileWriter::close() {
  QuietErrors quiet;
  if (counts_ >= 0) H5Dclose(counts_);
  if (stamps_ >= 0) H5Dclose(stamps_);
  counts_ = stamps_ = -1;
  if (file_ >= 0) {
    const hid_t f = file_;
    file_ = -1;
    if (H5Fclose(f) < 0) throw_file_error(path_, "closing failed (disk full?)");
  }
}

// The file's header, cell table and datasets, checked; frames read one at a time.
struct SpikeFileReader::Impl {
  std::string path;
  Handle file{-1, H5Fclose}, counts{-1, H5Dclose}, stamps{-1, H5Dclose};
  SpikeFileHeader header;
  std::int64_t frames = 0;
};

SpikeFileReader::SpikeFileReader(const std::string& path, Unchecked) : impl_(new Impl) {
  QuietErrors quiet;
  impl_->path = path;
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw_file_error(path, "not an HDF5 file (or it cannot be read)");
  impl_->file.id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t file = impl_->file.id;
  if (file < 0) throw_file_error(path, "cannot open the HDF5 file (truncated or damaged?)");
  if (read_string_attr(file, "format") != kFormat)
    throw_file_error(path, "not a spikevid spike file");
  auto& h = impl_->header;
  h.encoder_id = read_string_attr(file, "encoder_id");
  h.encoder_json = read_string_attr(file, "encoder");
  h.source = read_string_attr(file, "source");
  const auto tiles = read_string_attr(file, "tiles");  // absent: one tile
  if (!tiles.empty() && std::sscanf(tiles.c_str(), "%dx%d", &h.tile_rows, &h.tile_cols) != 2)
    throw_file_error(path, "has a malformed tiles attribute '" + tiles + "'");
  if (H5Aexists(file, "tile_overlap") > 0) {
    Handle ta(H5Aopen(file, "tile_overlap", H5P_DEFAULT), H5Aclose);
    if (H5Aread(ta.id, H5T_NATIVE_INT, &h.tile_overlap) < 0)
      throw_file_error(path, "bad tile_overlap");
  }
  if (h.tile_rows < 1 || h.tile_cols < 1 || h.tile_rows > 32 || h.tile_cols > 32)
    throw_file_error(path, "has an implausible tile grid");
  Handle wa(H5Aopen(file, "window_s", H5P_DEFAULT), H5Aclose);
  if (wa.id < 0 || H5Aread(wa.id, H5T_NATIVE_DOUBLE, &h.window_s) < 0)
    throw_file_error(path, "lacks window_s");
  if (!(h.window_s > 1e-6 && h.window_s < 3600))  // NaN fails too
    throw_file_error(path, "has an implausible window_s (" + std::to_string(h.window_s) + " s)");
  if (H5Lexists(file, "counts", H5P_DEFAULT) <= 0 ||
      H5Lexists(file, "timestamps_ns", H5P_DEFAULT) <= 0)
    throw_file_error(path, "lacks /counts or /timestamps_ns");
  impl_->counts.id = H5Dopen2(file, "counts", H5P_DEFAULT);
  Handle space(H5Dget_space(impl_->counts.id), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.id) != 3)
    throw_file_error(path, "/counts must be [frames, bins, cells]");
  hsize_t dims[3];
  H5Sget_simple_extent_dims(space.id, dims, nullptr);
  if (dims[1] < 1 || dims[2] < 1 || dims[1] > 4096 || dims[2] > (1u << 24) ||
      dims[0] > (1ull << 40) / (dims[1] * dims[2]))
    throw_file_error(path, "/counts has an implausible shape");
  // Deflate packs at most 1032 bytes into one, so a real file holds no more
  // than that many bytes of counts per byte of its own; a damaged header that
  // claims more would have the reader allocate what no file could fill.
  std::error_code size_error;
  const auto file_bytes = std::filesystem::file_size(path, size_error);
  const long double claimed = static_cast<long double>(dims[0]) * dims[1] * dims[2] * 4;
  if (size_error || claimed > 1032.0L * file_bytes + 65536)
    throw_file_error(path, "/counts claims " + std::to_string(dims[0]) + " frames of " +
                               std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                               " counts, more than a file of its size can hold (damaged?)");
  impl_->frames = static_cast<std::int64_t>(dims[0]);
  h.bins = static_cast<int>(dims[1]);
  h.cells = static_cast<int>(dims[2]);
  check_storage(impl_->counts.id, path, "/counts", file_bytes, claimed, {1, dims[1], dims[2]});
  impl_->stamps.id = H5Dopen2(file, "timestamps_ns", H5P_DEFAULT);
  Handle sspace(H5Dget_space(impl_->stamps.id), H5Sclose);
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(sspace.id) != 1)
    throw_file_error(path, "/timestamps_ns must be [frames]");
  H5Sget_simple_extent_dims(sspace.id, &n, nullptr);
  if (n != dims[0])
    throw_file_error(path, "/timestamps_ns and /counts hold different numbers of frames");
  check_storage(impl_->stamps.id, path, "/timestamps_ns", file_bytes, 8.0L * n, {1});
  auto column = [&](const char* name, auto& out, hid_t mem) {
    if (H5Lexists(file, "cells", H5P_DEFAULT) <= 0 || H5Lexists(file, name, H5P_DEFAULT) <= 0)
      return;
    Handle ds(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
    Handle sp(H5Dget_space(ds.id), H5Sclose);
    hsize_t m = 0;
    if (H5Sget_simple_extent_ndims(sp.id) != 1)
      throw_file_error(path, std::string(name) + " must be 1-D");
    H5Sget_simple_extent_dims(sp.id, &m, nullptr);
    if (m != dims[2]) throw_file_error(path, std::string(name) + " must hold one entry per cell");
    check_storage(ds.id, path, name, file_bytes, static_cast<long double>(m) * sizeof(out[0]));
    out.resize(m);
    if (H5Dread(ds.id, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
      throw_file_error(path, std::string("cannot read ") + name);
  };
  column("cells/type", h.cell_type, H5T_NATIVE_UINT8);
  column("cells/x", h.cell_x, H5T_NATIVE_FLOAT);
  column("cells/y", h.cell_y, H5T_NATIVE_FLOAT);
  column("cells/center_sigma", h.center_sigma, H5T_NATIVE_FLOAT);
  column("cells/surround_sigma", h.surround_sigma, H5T_NATIVE_FLOAT);
}

SpikeFileReader::~SpikeFileReader() {
  QuietErrors quiet;  // the handles close quietly
  impl_.reset();
}

const SpikeFileHeader& SpikeFileReader::header() const { return impl_->header; }
std::int64_t SpikeFileReader::frames() const { return impl_->frames; }

std::int64_t SpikeFileReader::read(std::int64_t frame, float* counts) {
  QuietErrors quiet;
  const auto& h = impl_->header;
  if (frame < 0 || frame >= impl_->frames)
    throw std::out_of_range(impl_->path + ": no frame " + std::to_string(frame));
  const auto at = static_cast<hsize_t>(frame);
  auto one = [&](hid_t ds, std::vector<hsize_t> count, hid_t mem_type, void* out) {
    std::vector<hsize_t> start(count.size(), 0);
    start[0] = at;
    Handle file_space(H5Dget_space(ds), H5Sclose);
    Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
                     H5Sclose);
    return H5Sselect_hyperslab(file_space.id, H5S_SELECT_SET, start.data(), nullptr, count.data(),
                               nullptr) >= 0 &&
           H5Dread(ds, mem_type, mem_space.id, file_space.id, H5P_DEFAULT, out) >= 0;
  };
  std::int64_t stamp = 0;
  if (!one(impl_->counts.id, {1, static_cast<hsize_t>(h.bins), static_cast<hsize_t>(h.cells)},
           H5T_NATIVE_FLOAT, counts) ||
      !one(impl_->stamps.id, {1}, H5T_NATIVE_INT64, &stamp))
    throw_file_error(impl_->path, "cannot read frame " + std::to_string(frame) +
                                      " (truncated or damaged file?)");
  return stamp;
}

namespace detail {

SpikeFile read_spike_file_here(const std::string& path) {
  SpikeFileReader reader(path, SpikeFileReader::Unchecked{});
  SpikeFile s;
  s.header = reader.header();
  s.frames = reader.frames();
  const auto per =
      static_cast<std::size_t>(s.header.bins) * static_cast<std::size_t>(s.header.cells);
  s.counts.resize(static_cast<std::size_t>(s.frames) * per);
  s.timestamps_ns.resize(static_cast<std::size_t>(s.frames));
  for (std::int64_t f = 0; f < s.frames; ++f)
    s.timestamps_ns[static_cast<std::size_t>(f)] =
        reader.read(f, s.counts.data() + static_cast<std::size_t>(f) * per);
  return s;
}

// Opens the file and reads every frame into one frame's buffer: what a
// streaming reader will do, in constant memory, whatever the file's length.
void stream_spike_file_here(const std::string& path) {
  SpikeFileReader reader(path, SpikeFileReader::Unchecked{});
  std::vector<float> frame(static_cast<std::size_t>(reader.header().bins) *
                           static_cast<std::size_t>(reader.header().cells));
  for (std::int64_t f = 0; f < reader.frames(); ++f) (void)reader.read(f, frame.data());
}

ReadProbe probe_read_in_child(const std::string& path) {
  const pid_t pid = fork();
  if (pid < 0) return ReadProbe::ok;  // no child to spare: read in this process as before
  if (pid == 0) {
    // The default action for faults, so the parent sees the signal itself
    // (a sanitizer's handler would report and abort instead).
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, SIG_DFL);
    try {
      stream_spike_file_here(path);
    } catch (...) {  // the parent reads again and throws the same
    }
    _exit(0);  // no exit handlers: they belong to the parent
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ReadProbe::killed;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? ReadProbe::ok : ReadProbe::aborted;
  switch (WTERMSIG(status)) {
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
      return ReadProbe::fault;
    case SIGABRT:
      return ReadProbe::aborted;
    default:
      return ReadProbe::killed;
  }
}

}  // namespace detail

namespace {

// The child's verdict as the caller's error; returns on ok.
void check_in_child(const std::string& path) {
  switch (detail::probe_read_in_child(path)) {
    case detail::ReadProbe::ok:
      return;
    case detail::ReadProbe::fault:
    case detail::ReadProbe::aborted:
      throw_file_error(
          path, "is damaged: the HDF5 library crashed reading it (contained in a child process)");
    case detail::ReadProbe::killed:
      break;
  }
  throw_file_error(path, "reading it was killed (out of memory?)");
}

}  // namespace

SpikeFile read_spike_file(const std::string& path) {
  check_in_child(path);
  return detail::read_spike_file_here(path);
}

SpikeFileReader::SpikeFileReader(const std::string& path)
    : SpikeFileReader((check_in_child(path), path), Unchecked{}) {}

}  // namespace spikevid
