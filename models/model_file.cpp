#include "models/model_file.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "io/output_file.h"

namespace spikevid {
namespace {

constexpr char kMagic[8] = {'S', 'P', 'K', 'V', 'M', 'O', 'D', 'L'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint64_t kMaxHeader = 64ull << 20;

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t fnv1a(const char* data, std::size_t n) {
  std::uint64_t h = 14695981039346656037ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

template <class T>
void put_le(std::string& out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

template <class T>
T get_le(const std::string& in, std::size_t at) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<T>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

torch::Dtype dtype_of(const std::string& name, const std::string& path) {
  if (name == "f32") return torch::kFloat32;
  if (name == "f16") return torch::kFloat16;
  if (name == "i64") return torch::kInt64;
  fail(path, "unknown tensor dtype '" + name + "'");
}

// The header and the data block, as an OutputFile: NAME.part-PID under a
// lock, renamed into place when whole.
void write_file(const std::string& path, const nlohmann::json& header, const std::string& data) {
  const std::string text = header.dump();
  std::string head(kMagic, sizeof kMagic);
  put_le<std::uint32_t>(head, kVersion);
  put_le<std::uint64_t>(head, text.size());
  OutputFile file(path, {});
  {
    std::ofstream out(file.part_path(), std::ios::binary | std::ios::trunc);
    if (out) {
      out << head << text << data;
      out.flush();
    }
    if (!out) {
      file.discard();
      fail(path, "write failed (disk full?)");
    }
  }
  file.commit();
}

}  // namespace

std::string fnv1a_hex(const void* data, std::size_t size) {
  return hex64(fnv1a(static_cast<const char*>(data), size));
}

bool has_prefix(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes)
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

std::string write_model_file(const std::string& path, nlohmann::json meta,
                             const torch::nn::Module& module, bool half,
                             const std::vector<std::string>& leave_out) {
  std::string data;
  auto table = nlohmann::json::array();
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    if (has_prefix(name, leave_out)) return;
    auto c = t.detach().to(torch::kCPU).contiguous();
    std::string dtype;
    if (c.scalar_type() == torch::kInt64) {
      dtype = "i64";
    } else if (half && c.is_floating_point()) {
      c = c.to(torch::kFloat16);
      dtype = "f16";
    } else {
      c = c.to(torch::kFloat32);
      dtype = "f32";
    }
    const auto nbytes = static_cast<std::size_t>(c.numel()) * c.element_size();
    table.push_back({{"name", name},
                     {"dtype", dtype},
                     {"shape", c.sizes().vec()},
                     {"offset", data.size()},
                     {"nbytes", nbytes}});
    data.append(static_cast<const char*>(c.data_ptr()), nbytes);
  };
  for (const auto& p : module.named_parameters(true)) add(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) add(b.key(), b.value());
  const std::string hash = hex64(fnv1a(data.data(), data.size()));
  const nlohmann::json header = {
      {"meta", std::move(meta)}, {"tensors", table}, {"content_hash", hash}};
  write_file(path, header, data);
  return hash;
}

void rewrite_model_meta(const std::string& path, const nlohmann::json& meta) {
  (void)read_model_file(path);  // whole and undamaged, or one line and nothing written
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open model file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  const auto len = get_le<std::uint64_t>(bytes, 12);
  auto header = nlohmann::json::parse(bytes.begin() + 20,
                                      bytes.begin() + 20 + static_cast<std::ptrdiff_t>(len));
  header["meta"] = meta;
  write_file(path, header, bytes.substr(20 + len));
}

std::string shipped_model_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.rfind("models/weights/", 0) != 0 || fs::exists(path, ec)) return path;
  // The checkout of the running program: build/tools/spikevid → ../../
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return path;
  const auto candidate = exe.parent_path().parent_path().parent_path() / path;
  return fs::exists(candidate, ec) ? candidate.string() : path;
}

ModelFile read_model_file(const std::string& named) {
  const std::string path = shipped_model_path(named);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(named, "cannot open model file");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(path, "read error (is it a directory?)");
  const std::string bytes = ss.str();
  if (bytes.size() < 20 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    fail(path, "not a spikevid model file (bad magic)");
  const auto version = get_le<std::uint32_t>(bytes, 8);
  if (version != kVersion)
    fail(path, "model file format version " + std::to_string(version) + ", expected 1");
  const auto len = get_le<std::uint64_t>(bytes, 12);
  if (len > kMaxHeader || len > bytes.size() - 20)
    fail(path, "truncated model file (header past the end)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 20,
                                   bytes.begin() + 20 + static_cast<std::ptrdiff_t>(len));
  } catch (const std::exception&) {
    fail(path, "model file header is not valid JSON");
  }
  const std::size_t data_at = 20 + len;
  const std::size_t data_size = bytes.size() - data_at;
  ModelFile file;
  try {
    file.meta = header.at("meta");
    file.content_hash = header.at("content_hash").get<std::string>();
    for (const auto& t : header.at("tensors")) {
      const auto name = t.at("name").get<std::string>();
      const auto dtype = dtype_of(t.at("dtype").get<std::string>(), path);
      const auto shape = t.at("shape").get<std::vector<int64_t>>();
      const auto offset = t.at("offset").get<std::uint64_t>();
      const auto nbytes = t.at("nbytes").get<std::uint64_t>();
      std::uint64_t numel = 1;
      for (auto d : shape) {
        if (d < 0 || d > (1ll << 32)) fail(path, "tensor '" + name + "' has a bad shape");
        numel *= static_cast<std::uint64_t>(d);
        if (numel > (1ull << 34)) fail(path, "tensor '" + name + "' is too large");
      }
      const std::uint64_t element = dtype == torch::kFloat16 ? 2 : dtype == torch::kFloat32 ? 4 : 8;
      if (numel * element != nbytes)
        fail(path, "tensor '" + name + "' size does not match its shape");
      if (offset > data_size || nbytes > data_size - offset)
        fail(path, "truncated model file (tensor '" + name + "' past the end)");
      auto tensor = torch::empty(shape, torch::TensorOptions().dtype(dtype));
      std::memcpy(tensor.data_ptr(), bytes.data() + data_at + offset, nbytes);
      file.tensors.emplace_back(name, tensor);
    }
  } catch (const nlohmann::json::exception&) {
    fail(path, "model file header lacks a field or has one of the wrong type");
  }
  if (hex64(fnv1a(bytes.data() + data_at, data_size)) != file.content_hash)
    fail(path, "model file is damaged (content hash mismatch)");
  return file;
}

void load_module_state(torch::nn::Module& module, const ModelFile& file, const std::string& path,
                       const std::vector<std::string>& leave_out) {
  std::map<std::string, torch::Tensor> by_name(file.tensors.begin(), file.tensors.end());
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& name, torch::Tensor& target) {
    if (has_prefix(name, leave_out)) return;
    auto it = by_name.find(name);
    if (it == by_name.end())
      fail(path, "model file lacks tensor '" + name + "' (wrong architecture?)");
    if (it->second.sizes() != target.sizes()) {
      std::ostringstream msg;
      msg << "tensor '" << name << "' has shape " << it->second.sizes() << ", the model expects "
          << target.sizes() << " (wrong cell count or architecture?)";
      fail(path, msg.str());
    }
    target.copy_(it->second.to(target.scalar_type()));
    by_name.erase(it);
  };
  for (auto& p : module.named_parameters(true)) copy(p.key(), p.value());
  for (auto& b : module.named_buffers(true)) copy(b.key(), b.value());
  if (!by_name.empty())
    fail(path, "model file holds tensor '" + by_name.begin()->first + "' the model lacks");
}

}  // namespace spikevid
