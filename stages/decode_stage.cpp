#include "stages/decode_stage.h"

#include <algorithm>
#include <chrono>

#include <torch/torch.h>

#include "models/decoder.h"
#include "models/encoder.h"
#include "stages/gpu_lane.h"
#include "stages/tiles.h"

namespace spikevid {

DecodeStage::DecodeStage(DecodeConfig config, const EncoderInfo& encoder)
    : config_(std::move(config)),
      device_(torch_device(config_.device)),
      decoder_(load_decoder(config_.decoder, encoder, device_, config_.modules)),
      lane_(make_gpu_lane(to_string(config_.device))) {
  if (const auto problem = settings_problem(config_.device, config_.precision, config_.cuda_graphs);
      !problem.empty())
    throw std::invalid_argument(problem);
  if (config_.precision != Precision::float32) decoder_->set_precision(dtype_of(config_.precision));
  if (decoder_->temporal() && config_.cuda_graphs)
    throw std::invalid_argument(config_.decoder +
                                ": --cuda-graphs: a temporal decoder's state is not captured in "
                                "a graph yet; run it without");
}

std::vector<torch::Tensor> DecodeStage::decode_temporal(const std::vector<SpikesPtr>& spikes,
                                                        const std::vector<torch::Tensor>& counts) {
  std::vector<torch::Tensor> images(spikes.size());
  // Waves of at most one frame per stream, in order: a stream's next frame needs the state its
  // previous frame left; the frames of different streams decode in one call.
  std::vector<bool> done(spikes.size(), false);
  for (std::size_t left = spikes.size(); left > 0;) {
    std::vector<std::size_t> wave;
    std::vector<int> streams;
    for (std::size_t i = 0; i < spikes.size(); ++i) {
      if (done[i]) continue;
      const int stream = spikes[i]->stream;
      if (std::find(streams.begin(), streams.end(), stream) != streams.end()) continue;
      streams.push_back(stream);
      wave.push_back(i);
    }
    // The wave's streams with a state, and those starting afresh: two calls, as a fresh state
    // is the decoder's own affair (sid-lite-gru takes the first frame whole).
    std::vector<std::size_t> going_on, fresh;
    for (std::size_t i : wave) {
      const auto seq = spikes[i]->meta.seq;
      auto [it, first] = states_.try_emplace(spikes[i]->stream);
      auto& st = it->second;
      if (!first) {
        if (seq <= st.last_seq || seq - st.last_seq - 1 > kMaxStateGap) {
          st.state = torch::Tensor();
          ++state_resets_;
        } else if (seq != st.last_seq + 1) {
          ++state_gaps_;
        }
      }
      st.last_seq = seq;
      (st.state.defined() ? going_on : fresh).push_back(i);
    }
    for (const auto* group : {&going_on, &fresh}) {
      if (group->empty()) continue;
      std::vector<torch::Tensor> batch, states;
      for (std::size_t i : *group) {
        batch.push_back(counts[i]);
        states.push_back(states_[spikes[i]->stream].state);
      }
      auto c = batch.size() == 1 ? batch.front() : torch::cat(batch);
      c = c.to(c.options().device(device_), /*non_blocking=*/true);
      torch::Tensor state;
      if (group == &going_on) state = states.size() == 1 ? states.front() : torch::cat(states);
      auto out = decoder_->decode_step(c, state);
      int64_t row = 0;
      for (std::size_t k = 0; k < group->size(); ++k) {
        const auto i = (*group)[k];
        const int64_t n = batch[k].size(0);
        images[i] = out.narrow(0, row, n);
        // One stream's rows alone: the state as it is (no copy on the one-stream path).
        states_[spikes[i]->stream].state =
            n == state.size(0) ? state : state.narrow(0, row, n).clone();
        row += n;
        done[i] = true;
        --left;
      }
    }
  }
  return images;
}

DecodeStage::~DecodeStage() = default;

ReconstructionPtr DecodeStage::process(SpikesPtr spikes) {
  std::vector<SpikesPtr> one;
  one.push_back(std::move(spikes));
  return std::move(process_batch(std::move(one)).front());
}

std::vector<ReconstructionPtr> DecodeStage::process_batch(std::vector<SpikesPtr> spikes) {
  set_threads();
  const auto t0 = std::chrono::steady_clock::now();
  const int tiles_per_frame = config_.tiles.rows * config_.tiles.cols;
  std::vector<torch::Tensor> counts;
  std::vector<GpuEventPtr> ready;
  counts.reserve(spikes.size());
  for (const auto& s : spikes) {
    const int64_t n = s->counts.size(0);
    if (n != tiles_per_frame)
      throw std::runtime_error("decode: a frame of " + std::to_string(n) + " tiles, expected " +
                               std::to_string(tiles_per_frame));
    counts.push_back(s->counts);
    ready.push_back(s->ready);
  }
  std::vector<torch::Tensor> outputs(spikes.size());
  auto compute = [&] {
    torch::Tensor images;
    if (decoder_->temporal()) {
      images = torch::cat(decode_temporal(spikes, counts));
    } else {
      auto batch = counts.size() == 1 ? counts.front() : torch::cat(counts);
      batch =
          batch.to(batch.options().device(device_), /*non_blocking=*/true);  // from a spike file
      auto decode = [&](const torch::Tensor& c) { return decoder_->decode(c); };
      images = config_.cuda_graphs
                   ? lane_->graphed(
                         batch, static_cast<int64_t>(config_.max_batch) * tiles_per_frame, decode)
                   : decode(batch);
    }
    for (std::size_t i = 0; i < spikes.size(); ++i) {
      auto tiles = images.narrow(0, static_cast<int64_t>(i) * tiles_per_frame, tiles_per_frame);
      auto out = tiles_per_frame == 1 ? tiles : blend_tiles(tiles, config_.tiles);
      if (lane_) {
        // Down by DMA into page-locked memory, on this stage's stream.
        auto host =
            torch::empty(out.sizes(), out.options().device(torch::kCPU).pinned_memory(true));
        host.copy_(out, /*non_blocking=*/true);
        outputs[i] = host;
      } else {
        outputs[i] = out.device().is_cpu() ? out : out.cpu();
      }
    }
  };
  if (lane_)
    host_wait(lane_->run(ready, compute));  // this batch's event only, not the device
  else
    compute();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    time_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    time_.frames += static_cast<std::int64_t>(spikes.size());
  }
  std::vector<ReconstructionPtr> out;
  out.reserve(spikes.size());
  for (std::size_t i = 0; i < spikes.size(); ++i)
    out.push_back(std::make_unique<Reconstruction>(
        Reconstruction{spikes[i]->meta, spikes[i]->image, spikes[i]->counts, outputs[i],
                       spikes[i]->pts_ns, spikes[i]->stream, spikes[i]->received_ns}));
  return out;
}

// LibTorch's thread count is the calling thread's own (OpenMP): set once per
// thread that runs the stage.
void DecodeStage::set_threads() {
  if (config_.threads <= 0) return;
  const auto me = std::this_thread::get_id();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::find(threads_set_for_.begin(), threads_set_for_.end(), me) != threads_set_for_.end())
      return;
    threads_set_for_.push_back(me);
  }
  torch::set_num_threads(config_.threads);
}

std::vector<double> DecodeStage::gpu_ms() {
  return lane_ ? lane_->gpu_ms() : std::vector<double>{};
}

ModelTime DecodeStage::model_time() {
  ModelTime t;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    t = time_;
  }
  if (lane_) {
    t.seconds = 0;
    for (double ms : lane_->gpu_ms()) t.seconds += ms / 1e3;
  }
  return t;
}

void DecodeStage::set_threads(int threads) {
  std::lock_guard<std::mutex> lock(mutex_);
  config_.threads = threads;
  threads_set_for_.clear();
}

void DecodeStage::restart() {
  std::lock_guard<std::mutex> lock(mutex_);
  time_ = ModelTime{};
  states_.clear();  // what measuring calls left is no stream's past
  state_resets_ = state_gaps_ = 0;
}

void DecodeStage::set_precision(Precision precision) {
  if (const auto problem = settings_problem(config_.device, precision, config_.cuda_graphs);
      !problem.empty())
    throw std::invalid_argument(problem);
  config_.precision = precision;
  decoder_->set_precision(dtype_of(precision));
}

}  // namespace spikevid
