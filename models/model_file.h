#pragma once
// The model file: weights plus the metadata that makes them safe to use.
//   bytes 0..7   magic "SPKVMODL"
//   bytes 8..11  uint32 LE format version (1)
//   bytes 12..19 uint64 LE length L of the JSON header
//   L bytes of JSON: {"meta": {...}, "tensors": [{"name", "dtype": "f32"|"f16"|"i64",
//                     "shape": [...], "offset", "nbytes"}], "content_hash": "16 hex digits"}
//   the data block: each tensor's bytes (little-endian) at its offset.
// content_hash is FNV-1a 64 of the data block: it detects a damaged file and
// names the weights (an encoder's identity is its architecture and this hash).
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <nlohmann/json.hpp>

namespace spikevid {

struct ModelFile {
  nlohmann::json meta;
  std::string content_hash;
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // on the CPU
};

// Writes the module's parameters and buffers (float32 as float16 when `half`)
// as an OutputFile (io/output_file.h: NAME.part-PID under a lock, renamed
// into place when whole), leaving out the tensors whose names
// start with one of `leave_out` (stored elsewhere, named by the meta). Returns
// the content hash.
std::string write_model_file(const std::string& path, nlohmann::json meta,
                             const torch::nn::Module& module, bool half,
                             const std::vector<std::string>& leave_out = {});
// Replaces the file's meta, keeping its tensors byte for byte (so its content
// hash, an encoder's identity and any ridge path naming it stay valid).
void rewrite_model_meta(const std::string& path, const nlohmann::json& meta);
// Throws std::runtime_error with one line naming the file and the problem.
// A path under models/weights/ that does not exist from here is looked up in
// the checkout the running program was built in (build/tools/spikevid's
// ../../), so the shipped models load from any folder.
ModelFile read_model_file(const std::string& path);
std::string shipped_model_path(const std::string& path);
// FNV-1a 64 of the bytes, as 16 hex digits: content hashes and identities.
std::string fnv1a_hex(const void* data, std::size_t size);

// Copies the file's tensors into the module; every name and shape must match,
// except the module's tensors whose names start with one of `leave_out`
// (the caller sets them).
void load_module_state(torch::nn::Module& module, const ModelFile& file, const std::string& path,
                       const std::vector<std::string>& leave_out = {});
// Whether `name` starts with one of `prefixes`.
bool has_prefix(const std::string& name, const std::vector<std::string>& prefixes);

}  // namespace spikevid
