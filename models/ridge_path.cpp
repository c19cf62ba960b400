#include "models/ridge_path.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <torch/torch.h>

#include "models/sid.h"

namespace spikevid {
namespace fs = std::filesystem;
namespace {

bool holds_ridge_tensors(const ModelFile& file) {
  for (const auto& t : file.tensors)
    if (has_prefix(t.first, ridge_tensors())) return true;
  return false;
}

// Whether the file stores its weights in float16.
bool stored_half(const ModelFile& file) {
  for (const auto& t : file.tensors)
    if (t.second.scalar_type() == torch::kFloat16) return true;
  return false;
}

}  // namespace

const std::vector<std::string>& ridge_tensors() {
  static const std::vector<std::string> names = {"ridge."};
  return names;
}

bool has_ridge_path(const nlohmann::json& meta) {
  const auto it = meta.find("ridge_path");
  if (it == meta.end()) return false;
  return it->is_object() || (it->is_boolean() && it->get<bool>());
}

std::pair<LinearDecoder, std::string> read_ridge_decoder(const std::string& path, int64_t n_inputs,
                                                         const std::string& encoder_id) {
  const auto file = read_model_file(path);
  std::string id;
  try {
    if (file.meta.value("architecture", std::string()) != "linear")
      throw std::runtime_error(path + ": a ridge path is a linear decoder, this file is not one");
    id = file.meta.at("encoder").at("id").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(path +
                             ": decoder metadata lacks a field or has one of the wrong type");
  }
  if (id != encoder_id)
    throw std::runtime_error(path + ": decoder was trained with encoder " + id + ", not with " +
                             encoder_id);
  LinearDecoder ridge(n_inputs, kSidImageSize);
  load_module_state(*ridge, file, path);
  return {ridge, file.content_hash};
}

nlohmann::json ridge_reference(const std::string& model_path, const std::string& linear_path,
                               const std::string& content_hash) {
  const auto folder = fs::absolute(fs::path(model_path)).parent_path();
  const auto rel =
      fs::absolute(fs::path(linear_path)).lexically_normal().lexically_relative(folder);
  return {{"file", rel.generic_string()}, {"content_hash", content_hash}};
}

void load_sid_lite_state(SidLiteImpl& net, const ModelFile& file, const std::string& path) {
  const auto ref = file.meta.find("ridge_path");
  const bool holds_ridge = holds_ridge_tensors(file);
  if (ref == file.meta.end() || !ref->is_object() || holds_ridge) {
    load_module_state(net, file, path);
    return;
  }
  std::string name, hash, encoder_id;
  try {
    name = ref->at("file").get<std::string>();
    hash = ref->at("content_hash").get<std::string>();
    encoder_id = file.meta.at("encoder").at("id").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(path + ": its ridge_path names no file and content hash");
  }
  if (net.ridge.is_empty())
    throw std::runtime_error(path + ": has a ridge path, the network given has none");
  load_module_state(net, file, path, ridge_tensors());
  // Relative to the model file's folder (the shipped models' too, wherever they are found).
  const auto linear = (fs::path(shipped_model_path(path)).parent_path() / name).string();
  std::error_code ec;
  if (fs::path(name).is_absolute())
    throw std::runtime_error(path + ": its ridge path must be relative to its folder, not " + name);
  if (!fs::exists(linear, ec))
    throw std::runtime_error(path + ": its ridge path " + linear + " does not exist");
  if (!fs::is_regular_file(linear, ec))  // not a device or a pipe a hostile file names
    throw std::runtime_error(path + ": its ridge path " + linear + " is not a regular file");
  auto [ridge, found] = read_ridge_decoder(linear, net.n_inputs, encoder_id);
  if (found != hash)
    throw std::runtime_error(path + ": its ridge path " + linear + " has changed (content hash " +
                             found + ", expected " + hash + ")");
  net.set_ridge(*ridge);
  // As the file's other tensors were stored: a file of float16 weights gives
  // the ridge path in float16 too, exactly as if it held it.
  if (stored_half(file)) {
    torch::NoGradGuard no_grad;
    net.ridge->weight.copy_(net.ridge->weight.to(torch::kFloat16));
    net.ridge->bias.copy_(net.ridge->bias.to(torch::kFloat16));
  }
}

double store_ridge_by_reference(const std::string& model_path, const std::string& linear_path,
                                const std::string& out_path) {
  const auto file = read_model_file(model_path);
  std::string encoder_id;
  int64_t n_inputs = 0, width = 0;
  SidLiteRefine refine;
  try {
    if (file.meta.value("architecture", std::string()) != "sid-lite" ||
        !has_ridge_path(file.meta))
      throw std::runtime_error(model_path + ": not a SID-lite decoder with a ridge path");
    encoder_id = file.meta.at("encoder").at("id").get<std::string>();
    n_inputs = file.meta.at("n_inputs").get<int64_t>();
    width = file.meta.value("width", kSidLiteWidth);
    refine = sid_lite_refine_from_meta(file.meta, model_path);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(model_path +
                             ": decoder metadata lacks a field or has one of the wrong type");
  }
  // Either form: the tensors in the file, or by reference (checked) from
  // another folder, e.g. a training run's output.
  SidLite net(n_inputs, width, true, refine);
  load_sid_lite_state(*net, file, model_path);
  auto [ridge, hash] = read_ridge_decoder(linear_path, n_inputs, encoder_id);
  SidLite check(n_inputs, width, true);
  check->set_ridge(*ridge);
  const auto differs = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat16).to(torch::kFloat32) - b).abs().max().item<double>();
  };
  const double diff = std::max(differs(check->ridge->weight, net->ridge->weight),
                               differs(check->ridge->bias, net->ridge->bias));
  if (diff > 1e-3)
    throw std::runtime_error(model_path + ": its ridge path is not " + linear_path +
                             " (they differ by up to " + std::to_string(diff) + ")");
  auto meta = file.meta;
  meta["ridge_path"] = ridge_reference(out_path, linear_path, hash);
  write_model_file(out_path, meta, *net, stored_half(file), ridge_tensors());
  return diff;
}

}  // namespace spikevid
