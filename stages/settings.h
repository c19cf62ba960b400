#pragma once
// The settings every command shares, typed and checked in one place: where
// the models compute and in which arithmetic.
#include <optional>
#include <string>

#include <torch/types.h>

namespace spikevid {

enum class Device { cpu, cuda };
// float32 everywhere; bfloat16 on CPUs with AMX or AVX512-BF16 (both models);
// float16 on a CUDA device (the decoder; the encoder stays float32).
enum class Precision { float32, bfloat16, float16 };

// "cpu", "cuda"; throws std::invalid_argument naming the choices.
Device parse_device(const std::string& name);
// "float32", "bfloat16", "float16"; throws std::invalid_argument naming the choices.
Precision parse_precision_setting(const std::string& name);
// The same, or "auto": nullopt (the line decides per model, stages/line.h).
std::optional<Precision> parse_precision_or_auto(const std::string& name);
const char* to_string(Device device);
const char* to_string(Precision precision);
torch::ScalarType dtype_of(Precision precision);
torch::Device torch_device(Device device);

// Whether this CPU multiplies bfloat16 in hardware (AMX or AVX512-BF16, from
// /proc/cpuinfo's flags): where it does not, bfloat16 is emulated and slower.
bool cpu_has_fast_bfloat16();

// "" when the models can run so, else one line saying why not: float16 and
// CUDA graphs need a CUDA device (and the graphs a build with the CUDA path).
std::string settings_problem(Device device, Precision precision, bool cuda_graphs);

}  // namespace spikevid
