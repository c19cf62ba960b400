# SPIKEVID_SANITIZE=address adds AddressSanitizer and UndefinedBehaviorSanitizer;
# SPIKEVID_SANITIZE=thread adds ThreadSanitizer (the engine's tests alone: LibTorch
# is not instrumented, so a TSan build skips everything that links it).
if(SPIKEVID_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(SPIKEVID_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT SPIKEVID_SANITIZE STREQUAL "")
  message(FATAL_ERROR "SPIKEVID_SANITIZE must be empty, 'address' or 'thread', not '${SPIKEVID_SANITIZE}'")
endif()
