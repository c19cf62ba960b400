#include "models/cpu_allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace spikevid {

#if defined(__GLIBC__)
namespace {
constexpr int kMmapThreshold = 32 << 20;  // glibc's largest: DEFAULT_MMAP_THRESHOLD_MAX
}  // namespace

bool keep_freed_cpu_memory() {
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
         mallopt(M_TRIM_THRESHOLD, 0x7fffffff) == 1;
}

#else
bool keep_freed_cpu_memory() { return false; }
#endif

}  // namespace spikevid
