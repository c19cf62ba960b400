#pragma once
// SID-lite's ridge path stored by reference (models/sid_lite.h). The path is
// a fixed copy of a fitted linear decoder: 2,048 × 4,096 weights, 16.8 MB in
// float16, more than the rest of the model. So a decoder file names that
// linear decoder's file instead of holding a second copy:
//   meta "ridge_path": {"file": the linear decoder's file, relative to the
//                       model file's folder, "content_hash": its hash}
// and no ridge.* tensors. Loading reads the named file and refuses it when its
// content hash differs. Files that hold the tensors themselves (meta
// "ridge_path": true, the first form, and training checkpoints) load them as
// any other tensor.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/linear_decoder.h"
#include "models/model_file.h"
#include "models/sid_lite.h"

namespace spikevid {

// The tensors a decoder file with a ridge path by reference leaves out.
const std::vector<std::string>& ridge_tensors();

// Whether a SID-lite decoder's meta asks for a ridge path (either form).
bool has_ridge_path(const nlohmann::json& meta);

// A linear decoder to serve as a ridge path, read from `path` and checked:
// a linear decoder of 64×64 images with `n_inputs` inputs, trained with the
// encoder `encoder_id`. Returns it with the file's content hash.
std::pair<LinearDecoder, std::string> read_ridge_decoder(const std::string& path, int64_t n_inputs,
                                                         const std::string& encoder_id);

// The meta "ridge_path" of a model file written to `model_path` whose ridge
// path is the linear decoder at `linear_path`.
nlohmann::json ridge_reference(const std::string& model_path, const std::string& linear_path,
                               const std::string& content_hash);

// Loads a SID-lite decoder file into `net`: its tensors, and the ridge path
// from the file itself or from the linear decoder it names. Throws
// std::runtime_error with one line naming the file and the problem.
void load_sid_lite_state(SidLiteImpl& net, const ModelFile& file, const std::string& path);

// Rewrites the SID-lite decoder at `model_path`, which has a ridge path
// (held, or by reference from its own folder), to `out_path` with the ridge
// path by reference to the linear decoder at `linear_path`, relative to
// `out_path`'s folder, after checking that the two agree (to float16 rounding).
// Returns the largest absolute difference found, weights and bias.
double store_ridge_by_reference(const std::string& model_path, const std::string& linear_path,
                                const std::string& out_path);

}  // namespace spikevid
