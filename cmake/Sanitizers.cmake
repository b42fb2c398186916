# -DSANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer, nothing recovered.
if(SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # A static binary cannot carry the sanitizer runtimes.
  set(AGENT_STATIC OFF CACHE BOOL "" FORCE)
endif()
