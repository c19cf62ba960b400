// spikevid info: what a model or pack file holds.
#include <fstream>
#include <iostream>
#include <map>

#include "io/pack_file.h"
#include "models/model_file.h"
#include "tools/spikevid/cli_common.h"

namespace spikevid::cli {
namespace {

std::string magic_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  char m[8] = {};
  in.read(m, 8);
  return std::string(m, static_cast<std::size_t>(in.gcount()));
}

void info_model(const std::string& path) {
  const auto f = read_model_file(path);
  auto meta = f.meta;
  std::size_t params = 0;
  for (const auto& t : f.tensors) params += static_cast<std::size_t>(t.second.numel());
  std::cout << path << ": spikevid " << meta.value("kind", "?") << " model, architecture "
            << meta.value("architecture", "?") << ", " << params << " values in "
            << f.tensors.size() << " tensors, content hash " << f.content_hash << "\n";
  if (meta.contains("cells"))
    meta["cells"] = {{"count", meta["cells"].value("count", 0)}, {"(table)", "omitted"}};
  if (meta.contains("training") && meta["training"].contains("history"))
    meta["training"]["history"] =
        std::to_string(meta["training"]["history"].size()) + " entries (omitted)";
  std::cout << meta.dump(2) << "\n";
}

void info_pack(const std::string& path) {
  const auto p = read_pack(path);
  std::map<std::string, int> counts;
  for (const auto& im : p.images) counts[im.split]++;
  std::cout << path << ": spikevid data pack '" << p.name << "' (" << p.kind << "), "
            << p.images.size() << " images: " << counts["train"] << " train, " << counts["val"]
            << " val, " << counts["test"] << " test; made by: " << p.created_by << "\n";
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto* c = app.add_subcommand("info", "Say what a model or data pack file holds");
  c->footer("Example:\n  spikevid info models/weights/sid-natural.svm");
  c->add_option("file", *file, "the file")->required()->check(CLI::ExistingFile);
  c->callback([file] {
    const auto m = magic_of(*file);
    if (m == "SPKVMODL") return info_model(*file);
    if (m == "SPKVPACK") return info_pack(*file);
    throw std::runtime_error(*file + ": not a file spikevid knows (model or data pack)");
  });
}

}  // namespace spikevid::cli
