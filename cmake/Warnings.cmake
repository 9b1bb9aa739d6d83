# Strict warnings, probed per compiler so an older or different compiler still configures.
include(CheckCCompilerFlag)

set(PROSE_WARNING_CANDIDATES
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wvla
  -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations -Wswitch-enum
  -Wformat=2 -Wformat-security -Wundef -Wcast-align -Wpointer-arith
  -Wwrite-strings -Wold-style-definition -Wnull-dereference -Wdouble-promotion
  -Wimplicit-fallthrough -Wredundant-decls -Wnested-externs)

set(PROSE_WARNING_FLAGS "")
foreach(flag IN LISTS PROSE_WARNING_CANDIDATES)
  string(MAKE_C_IDENTIFIER "HAVE_C_FLAG${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    list(APPEND PROSE_WARNING_FLAGS ${flag})
  endif()
endforeach()
if(PROSE_WERROR)
  list(APPEND PROSE_WARNING_FLAGS -Werror)
endif()

# prose_warnings(target): apply the project's warning set to one of our own targets.
function(prose_warnings target)
  target_compile_options(${target} PRIVATE ${PROSE_WARNING_FLAGS})
endfunction()
