// Where does a memory help a frame-by-frame decoder, and in which domain? On
// the validation split (never the test split), side by side in one run:
//   - the frame decoder alone, frame by frame;
//   - the temporal decoder (sid-lite-gru), its state carried, without its
//     output filter;
//   - the output filter (models/decoder.h) at several settings (its file's
//     among them), after the frame decoder and after the temporal decoder;
//   - the frame decoder on an exponential average of the counts,
//       c̄ₜ = c̄ₜ₋₁ + α (cₜ − c̄ₜ₋₁)        (more spikes in, as a longer window);
//   - an exponential average of the frame decoder's images,
//       ȳₜ = ȳₜ₋₁ + α (yₜ − ȳₜ₋₁)          (its noise averaged out);
// on two sets: the training's validation sequences (clips' tiles, photos held
// and panned: motion) and validation patches held still. SSIM over all frames
// and from frame 10 on, and flicker (mean absolute change from frame to frame,
// as eval --stills). The same spikes for every row.
//
//   build/bench/temporal_probe [--data data/packs/scenes.pack]
//       [--encoder models/weights/encoder-cnn.svm]
//       [--frame models/weights/sid-lite-natural.svm]
//       [--temporal models/weights/sid-lite-gru-natural.svm]
//       [--stills 128] [--still-frames 24] [--threads 1] [--seed 5]
//       [--cuts 0,0.05,0.08]
//
// --cuts: instead, the temporal decoder with its file's filter at each scene-cut
// threshold (OutputFilter::cut; 0: none), beside the frame decoder, on the two
// sets and a third: validation patches held, cut halfway to another patch
// (SSIM at the cut frame and after it).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/dataset.h"
#include "models/decoder.h"
#include "models/encoder.h"
#include "models/metrics.h"

using namespace spikevid;

namespace {

struct Row {
  double ssim = 0, ssim_from10 = 0, flicker = 0;
  std::vector<double> per_frame;  // mean SSIM of each frame
};

// Scores a method over sequences [S,L,1,64,64]: `image(t)` is frame t's
// reconstruction of all S sequences.
Row score(const torch::Tensor& seqs, const std::function<torch::Tensor(int64_t)>& image) {
  const int64_t L = seqs.size(1);
  Row r;
  int64_t n10 = 0;
  torch::Tensor previous;
  for (int64_t t = 0; t < L; ++t) {
    const auto y = image(t).to(torch::kFloat32).clamp(0, 1);
    const double s = ssim_per_image(y, seqs.select(1, t)).mean().item<double>();
    r.per_frame.push_back(s);
    r.ssim += s;
    if (t >= 10) {
      r.ssim_from10 += s;
      ++n10;
    }
    if (previous.defined()) r.flicker += (y - previous).abs().mean().item<double>();
    previous = y;
  }
  r.ssim /= static_cast<double>(L);
  r.ssim_from10 /= static_cast<double>(std::max<int64_t>(n10, 1));
  r.flicker /= static_cast<double>(std::max<int64_t>(L - 1, 1));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_path = "data/packs/scenes.pack", encoder_path = "models/weights/encoder-cnn.svm",
              frame_path = "models/weights/sid-lite-natural.svm",
              temporal_path = "models/weights/sid-lite-gru-natural.svm";
  int threads = 1, stills = 128, still_frames = 24, seed = 5;
  std::vector<double> cuts;
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "temporal_probe: %s needs a value\n", a.c_str());
      return 2;
    }
    const char* v = argv[i + 1];
    if (a == "--data") data_path = v;
    else if (a == "--encoder") encoder_path = v;
    else if (a == "--frame") frame_path = v;
    else if (a == "--temporal") temporal_path = v;
    else if (a == "--stills") stills = std::atoi(v);
    else if (a == "--still-frames") still_frames = std::atoi(v);
    else if (a == "--threads") threads = std::atoi(v);
    else if (a == "--seed") seed = std::atoi(v);
    else if (a == "--cuts") {
      for (const char* c = v; *c;) {
        char* end = nullptr;
        cuts.push_back(std::strtod(c, &end));
        if (end == c || cuts.back() < 0 || cuts.back() >= 1) {
          std::fprintf(stderr, "temporal_probe: --cuts takes numbers in [0, 1), as 0,0.05\n");
          return 2;
        }
        c = *end == ',' ? end + 1 : end;
      }
    }
    else {
      std::fprintf(stderr, "temporal_probe: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (stills < 1 || still_frames < 12 || threads < 1) {
    std::fprintf(stderr, "temporal_probe: --stills ≥ 1, --still-frames ≥ 12, --threads ≥ 1\n");
    return 2;
  }
  try {
    torch::set_num_threads(threads);
    torch::NoGradGuard no_grad;
    const auto data = Dataset::load(data_path, DatasetOptions{});
    if (data.val_sequences().numel() == 0)
      throw std::runtime_error(data_path + ": no validation sequences (pack-data scenes)");
    auto encoder = load_encoder(encoder_path, torch::kCPU);
    auto frame = load_decoder(frame_path, encoder->info(), torch::kCPU);
    auto temporal = load_decoder(temporal_path, encoder->info(), torch::kCPU);
    if (!temporal->temporal()) throw std::runtime_error(temporal_path + ": not a temporal decoder");
    // The temporal decoder bare; its file's own filter is scored among the others.
    const auto shipped = temporal->output_filter();
    if (!cuts.empty() && !shipped.on())
      throw std::runtime_error(temporal_path + ": --cuts needs a decoder with its output filter");
    temporal->set_output_filter(OutputFilter{});
    std::vector<OutputFilter> filters = {{0.15, 0.02, 0.08}, {0.2, 0.03, 0.10}, {0.3, 0.03, 0.10},
                                         {0.2, 0.04, 0.12}, {0.25, 0.03, 0.12}};
    if (shipped.on() &&
        std::none_of(filters.begin(), filters.end(), [&](const OutputFilter& f) {
          return f.alpha_min == shipped.alpha_min && f.lo == shipped.lo && f.hi == shipped.hi &&
                 f.cut == shipped.cut;
        }))
      filters.push_back(shipped);
    const auto& val = data.val();
    const int64_t n_stills = std::min<int64_t>(stills, val.size(0));
    const auto held = val.narrow(0, 0, n_stills).unsqueeze(1).repeat({1, still_frames, 1, 1, 1});
    std::vector<std::pair<std::string, torch::Tensor>> sets = {
        {"validation sequences (motion)", data.val_sequences()},
        {"validation patches held still", held}};
    const int64_t cut_at = still_frames / 2;
    if (!cuts.empty()) {
      // Patch i for the first half, then patch i + 1 (another photo's, mostly).
      auto cut = held.clone();
      cut.narrow(1, cut_at, still_frames - cut_at)
          .copy_(held.roll(1, 0).narrow(1, cut_at, still_frames - cut_at));
      sets.emplace_back("validation patches cut to another at frame " + std::to_string(cut_at),
                        cut);
    }
    std::printf("temporal_probe: frame decoder %s, temporal decoder %s, %d thread(s)\n",
                frame_path.c_str(), temporal_path.c_str(), threads);
    for (const auto& [name, seqs] : sets) {
      const int64_t L = seqs.size(1);
      torch::manual_seed(seed);
      std::vector<torch::Tensor> counts;
      for (int64_t t = 0; t < L; ++t)
        counts.push_back(encoder->spikes(seqs.select(1, t).contiguous()).flatten(1));
      std::printf("\n%s: %lld sequences of %lld frames\n", name.c_str(),
                  static_cast<long long>(seqs.size(0)), static_cast<long long>(L));
      std::printf("%-46s %8s %12s %9s\n", "method", "SSIM", "SSIM from 10", "flicker");
      const auto print = [](const std::string& method, const Row& r) {
        std::printf("%-46s %8.4f %12.4f %9.4f\n", method.c_str(), r.ssim, r.ssim_from10,
                    r.flicker);
        std::fflush(stdout);
      };
      const bool cut_set = name.rfind("validation patches cut", 0) == 0;
      const auto print_cut = [&](const Row& r) {
        if (cut_set)
          std::printf("%46s SSIM at the cut %.4f, +1 %.4f, +2 %.4f, +4 %.4f\n", "",
                      r.per_frame[cut_at], r.per_frame[cut_at + 1], r.per_frame[cut_at + 2],
                      r.per_frame[cut_at + 4]);
      };
      const auto by_frame = score(seqs, [&](int64_t t) { return frame->decode(counts[t]); });
      print("frame by frame", by_frame);
      print_cut(by_frame);
      if (!cuts.empty()) {
        // The temporal decoder with its file's filter, at each cut threshold.
        for (const double c : cuts) {
          OutputFilter f = shipped;
          f.cut = c;
          temporal->set_output_filter(f);
          torch::Tensor st;
          char label[96];
          std::snprintf(label, sizeof label, "temporal, its filter, cut %.3f", c);
          const auto r = score(seqs, [&](int64_t t) { return temporal->decode_step(counts[t], st); });
          print(label, r);
          print_cut(r);
        }
        temporal->set_output_filter(OutputFilter{});
        continue;
      }
      torch::Tensor state;
      print("temporal decoder, no filter",
            score(seqs, [&](int64_t t) { return temporal->decode_step(counts[t], state); }));
      // The output filter (models/decoder.h) at several settings, after the
      // frame decoder and after the temporal decoder.
      // A setting with a cut threshold runs inside the temporal decoder (a reset
      // needs its state), so only there.
      for (const auto& f : filters) {
        for (int on_temporal = f.cut > 0; on_temporal < 2; ++on_temporal) {
          char label[96];
          char cut[24] = "";
          if (f.cut > 0) std::snprintf(cut, sizeof cut, " cut %.2f", f.cut);
          std::snprintf(label, sizeof label, "%s, filter %.2f %.2f-%.2f%s%s",
                        on_temporal ? "temporal" : "frame", f.alpha_min, f.lo, f.hi, cut,
                        on_temporal && shipped.on() && f.alpha_min == shipped.alpha_min &&
                                f.lo == shipped.lo && f.hi == shipped.hi && f.cut == shipped.cut
                            ? " (its file's)"
                            : "");
          torch::Tensor filtered, st;
          if (f.cut > 0) {
            temporal->set_output_filter(f);
            print(label, score(seqs, [&](int64_t t) { return temporal->decode_step(counts[t], st); }));
            temporal->set_output_filter(OutputFilter{});
            continue;
          }
          print(label, score(seqs, [&](int64_t t) {
                  const auto y = on_temporal ? temporal->decode_step(counts[t], st)
                                             : frame->decode(counts[t]);
                  return filtered = t == 0 ? y : f.apply(filtered, y);
                }));
        }
      }
      for (const double alpha : {0.5, 0.3, 0.15}) {
        char label[64];
        torch::Tensor mean_counts;
        std::snprintf(label, sizeof label, "frame decoder, counts averaged %.2f", alpha);
        print(label, score(seqs, [&](int64_t t) {
                mean_counts = t == 0 ? counts[t].to(torch::kFloat32)
                                     : mean_counts + alpha * (counts[t] - mean_counts);
                return frame->decode(mean_counts);
              }));
        torch::Tensor mean_image;
        std::snprintf(label, sizeof label, "frame decoder, images averaged %.2f", alpha);
        print(label, score(seqs, [&](int64_t t) {
                const auto y = frame->decode(counts[t]);
                mean_image = t == 0 ? y : mean_image + alpha * (y - mean_image);
                return mean_image;
              }));
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "temporal_probe: %s\n", e.what());
    return 1;
  }
  return 0;
}
