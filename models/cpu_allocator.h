#pragma once
// LibTorch on the CPU allocates and frees tens of megabytes per batch
// (activations, gradients). glibc's malloc hands blocks that large to mmap and
// returns freed ones to the kernel, so every batch page-faults its memory in
// again: on this VM that is a third to a half of all CPU time (system time),
// and a SID-lite training step took 2-3 times as long (bench/train_bench runs
// both). keep_freed_cpu_memory() makes malloc keep what it freed for reuse:
// blocks up to 32 MiB (glibc's largest threshold) come from the heap, and the
// heap is not trimmed. Memory then stays at its high-water mark, which a
// pipeline or a training loop reaches within its first batches.
namespace spikevid {

// Process-wide; call once at start-up, before threads start. Returns false
// where the C library has no such settings (not glibc).
bool keep_freed_cpu_memory();

}  // namespace spikevid
