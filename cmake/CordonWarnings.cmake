# cordon_warnings(<target>): the warning set every target of ours builds with,
# bubblewrap's -Werror= list on top of -Wall -Wextra.
function(cordon_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wno-missing-field-initializers
    -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wimplicit-function-declaration
    -Wformat=2 -Wformat-nonliteral -Wpointer-arith -Wreturn-type -Wint-conversion
    -Wincompatible-pointer-types -Wswitch-enum -Wundef $<$<C_COMPILER_ID:GNU>:-Wvla-larger-than=65536>
    -Wno-switch-enum
    # A heuristic that fires on every bounded snprintf into PATH_MAX buffers;
    # truncation is checked by return value where it matters.
    $<$<C_COMPILER_ID:GNU>:-Wno-format-truncation>)
  if(CORDON_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
