# SPIKEVID_SANITIZE=address adds AddressSanitizer and UndefinedBehaviorSanitizer;
# SPIKEVID_SANITIZE=thread adds ThreadSanitizer (the engine's tests alone: LibTorch
# is not instrumented, so a TSan build skips everything that links it).
if(SPIKEVID_SANITIZE STREQUAL "address")
  # -O1 (it follows the build type's -O3, and the last -O counts): what the
  # ASan documentation advises, and the heaviest LibTorch files compile in 60 %
  # of the time at -O3 with the sanitizers (models/sid.cpp 24 s against 40 s
  # here); the numerical work runs inside LibTorch, which is not instrumented.
  # The whole ASan build, cold, was still about as long as the Release one
  # (1,267 s against 1,219 s on 2026-12-03; no side-by-side with -O3 made).
  add_compile_options(-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(SPIKEVID_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT SPIKEVID_SANITIZE STREQUAL "")
  message(FATAL_ERROR "SPIKEVID_SANITIZE must be empty, 'address' or 'thread', not '${SPIKEVID_SANITIZE}'")
endif()
