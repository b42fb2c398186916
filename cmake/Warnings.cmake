# The warning set of the project; -Werror with -DWERROR=ON (CI and `make check`).
add_compile_options(
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wwrite-strings -Wvla -Wformat=2
  -Wimplicit-fallthrough -Wmissing-prototypes -Wno-missing-field-initializers
  -Wno-unused-parameter)
if(WERROR)
  add_compile_options(-Werror)
endif()
add_compile_definitions(_GNU_SOURCE)
