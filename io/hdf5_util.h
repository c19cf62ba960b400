#pragma once
// What the HDF5 readers and writers share: handles closed on every exit path,
// and HDF5's own error printing turned off (we report one line instead).
#include <hdf5.h>

namespace spikevid::hdf5 {

struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~Handle() {
    if (id >= 0) close(id);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

// No cleanup at exit: after a damaged file, libhdf5's atexit handler can fail
// to close what the failed open left and prints "HDF5: infinite loop closing
// library" (found by fuzzing), which would break the one-line error. The
// process is ending anyway; the OS reclaims everything. Must precede every
// other HDF5 call, so every entry point's QuietErrors does it first.
inline void no_cleanup_at_exit() {
  static const bool once = [] { return H5dont_atexit() >= 0; }();
  (void)once;
}

struct QuietErrors {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietErrors() {
    no_cleanup_at_exit();
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func, data); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;
};

}  // namespace spikevid::hdf5
