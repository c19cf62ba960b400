#include "models/fit_encoder.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>

#include <torch/torch.h>

#include "models/cnn_encoder.h"
#include "models/dataset.h"
#include "models/encoder.h"
#include "models/model_file.h"
#include "models/progress.h"
#include "models/spikes.h"

namespace spikevid {
namespace {

// Mean Poisson log-likelihood per count, in nats: k·log λ − λ − log k!.
double poisson_ll(const torch::Tensor& counts, const torch::Tensor& mean) {
  auto lam = mean.clamp_min(1e-8);
  return (counts * lam.log() - lam - torch::lgamma(counts + 1)).mean().item<double>();
}

// Pearson correlation of all entries of two tensors (float64 on the CPU).
double pearson(const torch::Tensor& a, const torch::Tensor& b) {
  auto ac = a - a.mean(), bc = b - b.mean();
  return ((ac * bc).sum() / (ac.pow(2).sum().sqrt() * bc.pow(2).sum().sqrt())).item<double>();
}

struct FitScores {
  double rate_corr, ll_model, ll_truth, ll_null;
  nlohmann::json to_json() const {
    return {{"rate_corr", rate_corr},
            {"ll_model", ll_model},
            {"ll_truth", ll_truth},
            {"ll_null", ll_null},
            {"ll_units", "nats per cell per window"}};
  }
};

FitScores score(CnnEncoderImpl& net, Encoder& truth, const torch::Tensor& images, double window,
                const torch::Tensor& train_mean_rate, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  std::vector<torch::Tensor> pred, real;
  for (int64_t i = 0; i < images.size(0); i += 256) {
    auto x = images.narrow(0, i, std::min<int64_t>(256, images.size(0) - i));
    pred.push_back(net.forward(x));
    real.push_back(truth.rates(x));
  }
  auto p = torch::cat(pred).to(torch::kCPU, torch::kFloat64);
  auto r = torch::cat(real).to(torch::kCPU, torch::kFloat64);
  auto counts = draw_spikes(r, window, 1).squeeze(1);
  FitScores s;
  s.rate_corr = pearson(p, r);
  s.ll_model = poisson_ll(counts, p * window);
  s.ll_truth = poisson_ll(counts, r * window);
  s.ll_null =
      poisson_ll(counts, train_mean_rate.to(torch::kCPU, torch::kFloat64).expand_as(r) * window);
  return s;
}

std::string describe_scores(const nlohmann::json& s) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(4) << "rate correlation " << s.at("rate_corr").get<double>()
    << ", log-likelihood " << s.at("ll_model").get<double>();
  if (s.contains("ll_truth")) o << " (truth " << s.at("ll_truth").get<double>() << ")";
  o << " vs mean-rate " << s.at("ll_null").get<double>() << " nats/cell/window";
  return o.str();
}

// What the fitting loop needs to know about where its data come from.
struct FitSource {
  int image_size = 64;
  CellTable cells;
  int n_cells = 0;
  double window_s = 1.0 / 30;
  torch::Tensor mean_rate;  // [N] Hz, for the output bias
  // One epoch of (images [M,1,S,S], counts [M,N]).
  std::function<std::pair<torch::Tensor, torch::Tensor>(int epoch, std::mt19937_64&)> epoch;
  // Scores on the validation (false) or test (true) images; "rate_corr" is the key.
  std::function<nlohmann::json(CnnEncoderImpl&, bool test)> score;
  nlohmann::json fitted_to, data;
};

nlohmann::json fit_loop(const FitSource& src, const FitEncoderConfig& c, torch::Device device,
                        const std::string& out_path, std::ostream& log) {
  using Clock = std::chrono::steady_clock;
  torch::manual_seed(c.seed);
  CnnEncoder net(CnnEncoderConfig{src.image_size, c.channels, src.n_cells}, src.cells);
  net->to(device);
  {
    torch::NoGradGuard no_grad;
    // Start the output bias at each cell's mean rate: softplus⁻¹(r / scale).
    auto r = (src.mean_rate.to(device) / kCnnRateScale).clamp_min(1e-3);
    net->bias.copy_(torch::log(torch::expm1(r)));
  }
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(c.lr));
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double best_corr = -2;
  bool stopped = false;
  nlohmann::json history = nlohmann::json::array();
  nlohmann::json meta;
  for (int epoch = 0; epoch < c.epochs && !stopped; ++epoch) {
    std::mt19937_64 rng(c.seed * 1000003 + static_cast<std::uint64_t>(epoch));
    torch::manual_seed(c.seed * 7919 + static_cast<std::uint64_t>(epoch));
    auto [images, counts] = src.epoch(epoch, rng);
    Progress bar(log, "fit epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs),
                 images.size(0));
    net->train();
    const int64_t batch = std::min<int64_t>(c.batch, images.size(0));
    for (int64_t i = 0; i + batch <= images.size(0); i += batch) {
      opt.zero_grad();
      // Poisson negative log-likelihood of the counts, up to a constant.
      auto lam = net->forward(images.narrow(0, i, batch)) * src.window_s + 1e-8;
      auto loss = (lam - counts.narrow(0, i, batch) * lam.log()).mean();
      loss.backward();
      opt.step();
      bar.update(i + batch, "nll " + std::to_string(loss.item<double>()).substr(0, 7));
      if ((c.max_minutes > 0 && elapsed() > c.max_minutes * 60) ||
          (c.should_stop && c.should_stop())) {
        stopped = true;
        break;
      }
    }
    bar.finish();
    net->eval();
    const auto v = src.score(*net, false);
    history.push_back({{"epoch", epoch + 1}, {"seconds", elapsed()}, {"val", v}});
    log << "fit-encoder: epoch " << epoch + 1 << ": validation " << describe_scores(v) << "\n";
    if (v.at("rate_corr").get<double>() > best_corr) {
      best_corr = v.at("rate_corr").get<double>();
      const auto test = src.score(*net, true);
      meta = {{"kind", "encoder"},
              {"architecture", "cnn"},
              {"image_size", src.image_size},
              {"n_cells", src.n_cells},
              {"config", {{"channels", c.channels}, {"rate_scale_hz", kCnnRateScale}}},
              {"cells", cells_to_json(src.cells)},
              {"window_s", src.window_s},
              {"bins", 1},
              {"fitted_to", src.fitted_to},
              {"data", src.data},
              {"training",
               {{"seed", c.seed},
                {"epochs", epoch + 1},
                {"batch", c.batch},
                {"lr", c.lr},
                {"images_per_epoch", images.size(0)},
                {"seconds", elapsed()},
                {"device", device.str()},
                {"command", c.command},
                {"history", history}}},
              {"scores", {{"val", v}, {"test", test}}}};
      write_model_file(out_path, meta, *net, true);
      log << "fit-encoder: wrote " << out_path << " (test: " << describe_scores(test) << ")\n";
    }
  }
  return meta;
}

}  // namespace

nlohmann::json fit_cnn_encoder(Encoder& truth, const Dataset& data, const FitEncoderConfig& c,
                               const std::string& out_path, std::ostream& log) {
  const auto& t = truth.info();
  FitSource src;
  src.image_size = t.image_size;
  src.cells = t.cells;
  src.n_cells = t.n_cells;
  src.window_s = t.window_s;
  {
    std::mt19937_64 rng(c.seed);
    torch::NoGradGuard no_grad;
    src.mean_rate = truth.rates(data.train_epoch(2048, rng)).mean(0);
  }
  src.epoch = [&](int, std::mt19937_64& rng) {
    auto images = data.train_epoch(c.images_per_epoch, rng);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> counts;  // the recording: counts per window
    for (int64_t i = 0; i < images.size(0); i += 1024)
      counts.push_back(
          truth.spikes(images.narrow(0, i, std::min<int64_t>(1024, images.size(0) - i))).sum(1));
    return std::make_pair(images, torch::cat(counts));
  };
  src.score = [&](CnnEncoderImpl& net, bool test) {
    return score(net, truth, test ? data.test() : data.val(), t.window_s, src.mean_rate,
                 c.seed + (test ? 199 : 99))
        .to_json();
  };
  src.fitted_to = {{"id", t.id}, {"architecture", t.architecture}, {"meta", t.meta}};
  src.data = data.describe();
  return fit_loop(src, c, data.val().device(), out_path, log);
}

nlohmann::json fit_cnn_encoder_to_recording(const RecordedData& d, const FitEncoderConfig& c,
                                            const std::string& out_path, std::ostream& log) {
  FitSource src;
  src.image_size = static_cast<int>(d.train_images.size(-1));
  src.cells = d.cells;
  src.n_cells = static_cast<int>(d.train_counts.size(1));
  src.window_s = d.window_s;
  const auto mean_count = d.train_counts.mean(0);
  src.mean_rate = mean_count / d.window_s;
  src.epoch = [&](int, std::mt19937_64& rng) {
    std::vector<int64_t> idx(static_cast<std::size_t>(d.train_images.size(0)));
    std::iota(idx.begin(), idx.end(), 0);
    std::shuffle(idx.begin(), idx.end(), rng);
    auto index = torch::tensor(idx, torch::kLong).to(d.train_images.device());
    return std::make_pair(d.train_images.index_select(0, index),
                          d.train_counts.index_select(0, index));
  };
  src.score = [&](CnnEncoderImpl& net, bool test) {
    torch::NoGradGuard no_grad;
    const auto& images = test ? d.test_images : d.val_images;
    const auto& counts = test ? d.test_counts : d.val_counts;
    auto pred = (net.forward(images) * d.window_s).to(torch::kCPU, torch::kFloat64);
    auto obs = counts.to(torch::kCPU, torch::kFloat64);
    return nlohmann::json{
        {"rate_corr", pearson(pred, obs)},
        {"ll_model", poisson_ll(obs, pred)},
        {"ll_null", poisson_ll(obs, mean_count.to(torch::kCPU, torch::kFloat64).expand_as(obs))},
        {"ll_units", "nats per cell per window"},
        {"rate_corr_of", "predicted against observed single-trial counts"}};
  };
  src.fitted_to = {{"recording", d.describe}};
  src.data = d.describe;
  return fit_loop(src, c, d.train_images.device(), out_path, log);
}

}  // namespace spikevid
