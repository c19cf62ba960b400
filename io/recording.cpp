#include "io/recording.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include <hdf5.h>

#include "io/file_util.h"
#include "io/hdf5_util.h"

namespace spikevid {
namespace {

using hdf5::Handle;
using hdf5::QuietErrors;

constexpr hsize_t kMaxElements = hsize_t{1} << 31;  // 8 GiB of floats: more is corruption

bool exists(hid_t file, const char* name) { return H5Lexists(file, name, H5P_DEFAULT) > 0; }

// Reads a dataset of rank `rank` as float (or uint8) into out; returns its dims.
template <class T>
std::vector<hsize_t> read_dataset(const std::string& path, hid_t file, const char* name, int rank,
                                  std::vector<T>& out, hid_t mem_type) {
  if (!exists(file, name)) throw_file_error(path, std::string("recording lacks dataset ") + name);
  Handle ds(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (ds.id < 0) throw_file_error(path, std::string("cannot open dataset ") + name);
  Handle space(H5Dget_space(ds.id), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.id) != rank)
    throw_file_error(path,
                     std::string(name) + " must have " + std::to_string(rank) + " dimensions");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  hsize_t n = 1;
  for (auto d : dims) {
    if (d == 0 || d > kMaxElements || n > kMaxElements / d)
      throw_file_error(path, std::string(name) + " has an implausible size");
    n *= d;
  }
  Handle type(H5Dget_type(ds.id), H5Tclose);
  const auto cls = H5Tget_class(type.id);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw_file_error(path, std::string(name) + " is not numeric");
  out.resize(static_cast<std::size_t>(n));
  if (H5Dread(ds.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw_file_error(path, std::string("cannot read ") + name + " (truncated or damaged file?)");
  return dims;
}

bool is_uint8(hid_t file, const char* name) {
  Handle ds(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  Handle type(H5Dget_type(ds.id), H5Tclose);
  return H5Tget_class(type.id) == H5T_INTEGER && H5Tget_size(type.id) == 1;
}

template <class T>
void write_dataset(const std::string& path, hid_t file, const char* name,
                   const std::vector<hsize_t>& dims, const std::vector<T>& data, hid_t file_type,
                   hid_t mem_type) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.id, 1);
  Handle ds(H5Dcreate2(file, name, file_type, space.id, lcpl.id, H5P_DEFAULT, H5P_DEFAULT),
            H5Dclose);
  if (ds.id < 0 || H5Dwrite(ds.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    throw_file_error(path, std::string("cannot write ") + name);
}

}  // namespace

Recording read_recording(const std::string& path) {
  QuietErrors quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw_file_error(path, "not an HDF5 file (or it cannot be read)");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file.id < 0) throw_file_error(path, "cannot open the HDF5 file");
  Recording r;
  std::vector<std::uint8_t> bytes;
  std::vector<hsize_t> sd;
  if (exists(file.id, "stimulus") && is_uint8(file.id, "stimulus")) {
    sd = read_dataset(path, file.id, "stimulus", 3, bytes, H5T_NATIVE_UINT8);
    r.stimulus.resize(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) r.stimulus[i] = bytes[i] / 255.0f;
  } else {
    sd = read_dataset(path, file.id, "stimulus", 3, r.stimulus, H5T_NATIVE_FLOAT);
  }
  const auto cd = read_dataset(path, file.id, "counts", 2, r.counts, H5T_NATIVE_FLOAT);
  if (cd[0] != sd[0])
    throw_file_error(path, "counts and stimulus hold different numbers of frames");
  r.frames = static_cast<int>(sd[0]);
  r.height = static_cast<int>(sd[1]);
  r.width = static_cast<int>(sd[2]);
  r.cells = static_cast<int>(cd[1]);
  for (float c : r.counts)
    if (!(c >= 0)) throw_file_error(path, "counts must be non-negative numbers");
  if (H5Aexists(file.id, "window_s") <= 0)
    throw_file_error(path, "recording lacks the root attribute window_s");
  Handle attr(H5Aopen(file.id, "window_s", H5P_DEFAULT), H5Aclose);
  if (H5Aread(attr.id, H5T_NATIVE_DOUBLE, &r.window_s) < 0 || !(r.window_s > 0 && r.window_s < 100))
    throw_file_error(path, "window_s must be a positive number of seconds");
  if (exists(file.id, "split")) {
    const auto d = read_dataset(path, file.id, "split", 1, r.split, H5T_NATIVE_UINT8);
    if (d[0] != sd[0]) throw_file_error(path, "split must hold one entry per frame");
    for (auto s : r.split)
      if (s > 2) throw_file_error(path, "split entries must be 0 (train), 1 (val) or 2 (test)");
  } else {
    r.split.assign(static_cast<std::size_t>(r.frames), 0);
    const int tenth = std::max(1, r.frames / 10);
    for (int i = r.frames - 2 * tenth; i < r.frames; ++i)
      if (i >= 0) r.split[static_cast<std::size_t>(i)] = i >= r.frames - tenth ? 2 : 1;
  }
  if (exists(file.id, "cells")) {
    const auto dx = read_dataset(path, file.id, "cells/x", 1, r.cell_x, H5T_NATIVE_FLOAT);
    const auto dy = read_dataset(path, file.id, "cells/y", 1, r.cell_y, H5T_NATIVE_FLOAT);
    const auto dt = read_dataset(path, file.id, "cells/type", 1, r.cell_type, H5T_NATIVE_UINT8);
    if (dx[0] != cd[1] || dy[0] != cd[1] || dt[0] != cd[1])
      throw_file_error(path, "cells/x, cells/y and cells/type must hold one entry per cell");
  }
  return r;
}

void write_recording(const std::string& path, const Recording& r) {
  QuietErrors quiet;
  const auto tf = static_cast<hsize_t>(r.frames), th = static_cast<hsize_t>(r.height),
             tw = static_cast<hsize_t>(r.width), tn = static_cast<hsize_t>(r.cells);
  if (r.stimulus.size() != tf * th * tw || r.counts.size() != tf * tn || r.split.size() != tf)
    throw std::invalid_argument(path + ": recording fields do not match their sizes");
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (file.id < 0) throw_file_error(path, "cannot create the HDF5 file");
  std::vector<std::uint8_t> bytes(r.stimulus.size());
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] =
        static_cast<std::uint8_t>(std::lround(std::min(1.0f, std::max(0.0f, r.stimulus[i])) * 255));
  write_dataset(path, file.id, "stimulus", {tf, th, tw}, bytes, H5T_STD_U8LE, H5T_NATIVE_UINT8);
  write_dataset(path, file.id, "counts", {tf, tn}, r.counts, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
  write_dataset(path, file.id, "split", {tf}, r.split, H5T_STD_U8LE, H5T_NATIVE_UINT8);
  if (!r.cell_x.empty()) {
    write_dataset(path, file.id, "cells/x", {tn}, r.cell_x, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
    write_dataset(path, file.id, "cells/y", {tn}, r.cell_y, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
    write_dataset(path, file.id, "cells/type", {tn}, r.cell_type, H5T_STD_U8LE, H5T_NATIVE_UINT8);
  }
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(file.id, "window_s", H5T_IEEE_F64LE, space.id, H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  if (attr.id < 0 || H5Awrite(attr.id, H5T_NATIVE_DOUBLE, &r.window_s) < 0)
    throw_file_error(path, "cannot write window_s");
}

}  // namespace spikevid
