#include "models/fit_encoder.h"

#include <chrono>
#include <iomanip>
#include <iostream>
#include <random>

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

struct FitScores {
  double rate_corr, ll_model, ll_truth, ll_null;
  nlohmann::json to_json() const {
    return {{"rate_corr", rate_corr}, {"ll_model", ll_model}, {"ll_truth", ll_truth}, {"ll_null", ll_null},
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
  auto pc = p - p.mean(), rc = r - r.mean();
  FitScores s;
  s.rate_corr = ((pc * rc).sum() / (pc.pow(2).sum().sqrt() * rc.pow(2).sum().sqrt())).item<double>();
  s.ll_model = poisson_ll(counts, p * window);
  s.ll_truth = poisson_ll(counts, r * window);
  s.ll_null = poisson_ll(counts, train_mean_rate.to(torch::kCPU, torch::kFloat64).expand_as(r) * window);
  return s;
}

}  // namespace

nlohmann::json fit_cnn_encoder(Encoder& truth, const Dataset& data, const FitEncoderConfig& c,
                               const std::string& out_path, std::ostream& log) {
  using Clock = std::chrono::steady_clock;
  const auto device = data.val().device();
  const auto& t = truth.info();
  const double window = t.window_s;
  torch::manual_seed(c.seed);
  CnnEncoder net(CnnEncoderConfig{t.image_size, c.channels, t.n_cells}, t.cells);
  net->to(device);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(c.lr));
  torch::Tensor mean_rate;
  {
    std::mt19937_64 rng(c.seed);
    torch::NoGradGuard no_grad;
    mean_rate = truth.rates(data.train_epoch(2048, rng)).mean(0);
    // Start the output bias at each cell's mean rate: softplus⁻¹(r / scale).
    auto r = (mean_rate / kCnnRateScale).clamp_min(1e-3);
    net->bias.copy_(torch::log(torch::expm1(r)));
  }
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double best_corr = -1;
  int epoch = 0;
  bool stopped = false;
  nlohmann::json history = nlohmann::json::array();
  nlohmann::json meta;
  for (; epoch < c.epochs && !stopped; ++epoch) {
    std::mt19937_64 rng(c.seed * 1000003 + static_cast<std::uint64_t>(epoch));
    torch::manual_seed(c.seed * 7919 + static_cast<std::uint64_t>(epoch));
    auto images = data.train_epoch(c.images_per_epoch, rng);
    Progress bar(log, "fit epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs), images.size(0));
    net->train();
    for (int64_t i = 0; i + c.batch <= images.size(0); i += c.batch) {
      auto x = images.narrow(0, i, c.batch);
      torch::Tensor counts;
      {
        torch::NoGradGuard no_grad;
        counts = truth.spikes(x).sum(1);  // the recording: counts per window
      }
      opt.zero_grad();
      auto lam = net->forward(x) * window + 1e-8;
      auto loss = (lam - counts * lam.log()).mean();  // Poisson negative log-likelihood
      loss.backward();
      opt.step();
      bar.update(i + c.batch, "nll " + std::to_string(loss.item<double>()).substr(0, 7));
      if ((c.max_minutes > 0 && elapsed() > c.max_minutes * 60) || (c.should_stop && c.should_stop())) {
        stopped = true;
        break;
      }
    }
    bar.finish();
    net->eval();
    const auto v = score(*net, truth, data.val(), window, mean_rate, c.seed + 99);
    history.push_back({{"epoch", epoch + 1}, {"seconds", elapsed()}, {"val", v.to_json()}});
    log << "fit-encoder: epoch " << epoch + 1 << ": validation rate correlation " << std::fixed
        << std::setprecision(4) << v.rate_corr << ", log-likelihood " << v.ll_model << " (truth " << v.ll_truth
        << ", mean-rate null " << v.ll_null << ") nats/cell/window\n";
    if (v.rate_corr > best_corr) {
      best_corr = v.rate_corr;
      const auto test = score(*net, truth, data.test(), window, mean_rate, c.seed + 199);
      meta = {{"kind", "encoder"},
              {"architecture", "cnn"},
              {"image_size", t.image_size},
              {"n_cells", t.n_cells},
              {"config", {{"channels", c.channels}, {"rate_scale_hz", kCnnRateScale}}},
              {"cells", cells_to_json(t.cells)},
              {"window_s", t.window_s},
              {"bins", t.bins},
              {"fitted_to", {{"id", t.id}, {"architecture", t.architecture}, {"meta", t.meta}}},
              {"data", data.describe()},
              {"training",
               {{"seed", c.seed}, {"epochs", epoch + 1}, {"batch", c.batch}, {"lr", c.lr},
                {"images_per_epoch", c.images_per_epoch}, {"seconds", elapsed()}, {"device", device.str()},
                {"command", c.command}, {"history", history}}},
              {"scores", {{"val", v.to_json()}, {"test", test.to_json()}}}};
      write_model_file(out_path, meta, *net, true);
      log << "fit-encoder: wrote " << out_path << " (test rate correlation " << test.rate_corr << ")\n";
    }
  }
  return meta;
}

}  // namespace spikevid
