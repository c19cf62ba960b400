#pragma once
// What may travel through a pipeline: a std::shared_ptr or std::unique_ptr to a
// type with a public `FrameMeta meta`, so the runner can stamp it without the
// stage's help; and how the builder finds a stage's output type from its function.
#include <memory>
#include <type_traits>
#include <vector>

#include "pipeline/frame_meta.h"

namespace spikevid {

template <typename X, typename = void>
struct HasFrameMeta : std::false_type {};
template <typename X>
struct HasFrameMeta<X, std::void_t<decltype(X::meta)>>
    : std::bool_constant<std::is_same_v<decltype(X::meta), FrameMeta> && !std::is_const_v<X>> {};

template <typename P>
struct IsFramePtr : std::false_type {};
template <typename X>
struct IsFramePtr<std::shared_ptr<X>> : HasFrameMeta<X> {};
template <typename X, typename D>
struct IsFramePtr<std::unique_ptr<X, D>> : HasFrameMeta<X> {};
template <typename P>
constexpr bool kIsFramePtr = IsFramePtr<P>::value;

namespace detail {

// The default of the builder's `Out` template argument: take it from the function.
struct Deduced {};
template <typename Given, typename Found>
using Pick = std::conditional_t<std::is_same_v<Given, Deduced>, Found, Given>;

}  // namespace detail

// A source returns std::optional<T>; a transform T -> U; a batch transform
// std::vector<T> -> std::vector<U>.
template <typename Out, typename F>
using SourceItem = detail::Pick<Out, typename std::invoke_result_t<F&>::value_type>;
template <typename Out, typename F, typename In>
using TransformItem = detail::Pick<Out, std::invoke_result_t<F&, In>>;
template <typename Out, typename F, typename In>
using BatchItem = detail::Pick<Out, typename std::invoke_result_t<F&, std::vector<In>>::value_type>;

}  // namespace spikevid
