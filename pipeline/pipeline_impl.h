#pragma once
// The builder's templates (included by pipeline.h; not a header to include alone).
#include "pipeline/pipeline.h"

namespace spikevid {

template <typename Out, typename F>
Port<SourceItem<Out, F>> Pipeline::add_source(std::string name, F fn) {
  using T = SourceItem<Out, F>;
  static_assert(kIsFramePtr<T>,
                "items are shared_ptr<X> or unique_ptr<X>, X with a FrameMeta meta");
  check_can_add(name, true);
  auto runner =
      std::make_unique<detail::SourceRunner<T, F>>(std::move(name), context_, std::move(fn));
  Port<T> port(&runner->port(), next_index());
  stages_.push_back(std::move(runner));
  return port;
}

template <typename Out, typename In, typename F>
Port<TransformItem<Out, F, In>> Pipeline::add_transform(std::string name, Port<In> in, F fn,
                                                        std::optional<ChannelConfig> edge) {
  using U = TransformItem<Out, F, In>;
  static_assert(kIsFramePtr<U>,
                "items are shared_ptr<X> or unique_ptr<X>, X with a FrameMeta meta");
  check_can_add(name, false);
  Channel<In>* input = connect(in, name, edge);
  auto runner = std::make_unique<detail::TransformRunner<In, U, F>>(std::move(name), next_index(),
                                                                    context_, input, std::move(fn));
  Port<U> port(&runner->port(), next_index());
  stages_.push_back(std::move(runner));
  return port;
}

template <typename Out, typename In, typename F>
Port<BatchItem<Out, F, In>> Pipeline::add_batch_transform(std::string name, Port<In> in,
                                                          std::size_t max_batch, F fn,
                                                          std::optional<ChannelConfig> edge,
                                                          int workers, BatchFill fill) {
  using U = BatchItem<Out, F, In>;
  static_assert(kIsFramePtr<U>,
                "items are shared_ptr<X> or unique_ptr<X>, X with a FrameMeta meta");
  if (max_batch == 0) throw std::invalid_argument("stage '" + name + "': max_batch must be >= 1");
  if (workers < 1) throw std::invalid_argument("stage '" + name + "': workers must be >= 1");
  check_can_add(name, false);
  Channel<In>* input = connect(in, name, edge);
  auto runner = std::make_unique<detail::BatchRunner<In, U, F>>(
      std::move(name), next_index(), context_, input, max_batch, std::move(fn), workers, fill);
  Port<U> port(&runner->port(), next_index());
  stages_.push_back(std::move(runner));
  return port;
}

template <typename In, typename F>
void Pipeline::add_sink(std::string name, Port<In> in, F fn, std::optional<ChannelConfig> edge) {
  check_can_add(name, false);
  Channel<In>* input = connect(in, name, edge);
  stages_.push_back(std::make_unique<detail::SinkRunner<In, F>>(std::move(name), next_index(),
                                                                context_, input, std::move(fn)));
  has_sink_ = true;
}

template <typename T>
Channel<T>* Pipeline::connect(const Port<T>& from, const std::string& to,
                              const std::optional<ChannelConfig>& edge) {
  check_port(from.stage_index_, from.output_, from.output_->channel != nullptr);
  auto channel = std::make_unique<Channel<T>>(edge.value_or(config_.channel));
  Channel<T>* raw = channel.get();
  from.output_->channel = raw;
  edges_.push_back(Edge{stages_[from.stage_index_]->name() + "->" + to, std::move(channel)});
  return raw;
}

}  // namespace spikevid
