#pragma once
// The message of the std::runtime_error that f throws; fails the test if f
// throws nothing or something else.
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

namespace spikevid::test {

template <class F>
std::string runtime_error_message(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (...) {
    FAIL("threw something other than std::runtime_error");
  }
  FAIL("threw nothing");
  return "";
}

}  // namespace spikevid::test
