// spikevid info: what a model, pack, spike or video file holds.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "io/pack_file.h"
#ifdef SPIKEVID_HAVE_IO
#include "io/spike_file.h"
#include "io/video_source.h"
#endif
#include "models/model_file.h"
#include "models/precision_check.h"
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
  for (const char* p : {"bfloat16", "float16"})
    if (precision_check_summary(meta, p) != "not checked")
      std::cout << "  " << p << ": " << precision_check_summary(meta, p) << " (--precision auto "
                << (precision_checked_ok(meta, p) ? "uses it" : "keeps float32") << ")\n";
  if (meta.contains("cells"))
    meta["cells"] = {{"count", meta["cells"].value("count", 0)}, {"(table)", "omitted"}};
  if (meta.contains("training") && meta["training"].contains("history"))
    meta["training"]["history"] =
        std::to_string(meta["training"]["history"].size()) + " entries (omitted)";
  std::cout << meta.dump(2) << "\n";
}

void info_pack(const std::string& path) {
  const auto p = read_pack(path);
  std::cout << path << ": spikevid data pack '" << p.name << "' (" << p.kind << "), "
            << describe_pack_counts(p) << "\n";
  if (p.kind == "photos") std::cout << "  training views: " << describe_view_mix(p.views) << "\n";
  std::cout << "  made by: " << p.created_by << "\n";
}

#ifdef SPIKEVID_HAVE_IO
void info_spikes(const std::string& path) {
  SpikeFileReader reader(path);  // a frame at a time: any length in constant memory
  const auto& h = reader.header();
  std::vector<float> frame(static_cast<std::size_t>(h.bins) * static_cast<std::size_t>(h.cells));
  double total = 0;
  for (std::int64_t f = 0; f < reader.frames(); ++f) {
    (void)reader.read(f, frame.data());
    for (float c : frame) total += c;
  }
  const double seconds = static_cast<double>(reader.frames()) * h.window_s;
  std::cout << path << ": spikevid spike file, " << reader.frames() << " frames of " << h.cells
            << " cells (" << h.tile_rows << "x" << h.tile_cols << " tiles of "
            << h.cells / (h.tile_rows * h.tile_cols) << "), " << h.bins << " bins per "
            << h.window_s * 1e3 << " ms window\n"
            << "  encoder " << h.encoder_id << "; source: " << h.source << "\n"
            << "  " << static_cast<long long>(total) << " spikes, mean rate "
            << (seconds > 0 ? total / seconds / h.cells : 0) << " Hz per cell\n";
}

// Reads every frame: the exact count, and proof that the file decodes to its end.
void info_video(const std::string& path) {
  SourceOptions o;
  auto src = open_video_source(path, o);
  std::int64_t frames = 0;
  while (src->next()) ++frames;
  const auto& i = src->info();
  std::cout << path << ": video, " << i.width << "x" << i.height << ", " << i.fps << " fps, "
            << frames << " frames\n";
}
#endif

}  // namespace

void add_info_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto* c = app.add_subcommand("info", "Say what a model, data pack, spike or video file holds");
  c->footer(
      "Examples:\n  spikevid info models/weights/sid-natural.svm\n  spikevid info out/street.h5\n"
      "  spikevid info data/video/vtest.avi   (decodes every frame to count them)");
  c->add_option("file", *file, "the file")->required()->check(CLI::ExistingFile);
  c->callback([file] {
    const auto m = magic_of(*file);
    if (m == "SPKVMODL") return info_model(*file);
    if (m == "SPKVPACK") return info_pack(*file);
#ifdef SPIKEVID_HAVE_IO
    if (m == "\x89HDF\r\n\x1a\n") return info_spikes(*file);
    try {
      return info_video(*file);
    } catch (const std::runtime_error&) {
      const auto ext = std::filesystem::path(*file).extension().string();
      for (const char* v : {".mp4", ".mkv", ".avi", ".webm", ".mov"})
        if (ext == v) throw;  // a video that does not decode: GStreamer's reason
      throw std::runtime_error(*file +
                               ": not a file spikevid knows (model, data pack, spike file "
                               "or video)");
    }
#endif
    throw std::runtime_error(*file + ": not a file spikevid knows (model or data pack)");
  });
}

}  // namespace spikevid::cli
