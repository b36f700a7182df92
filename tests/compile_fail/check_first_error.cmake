# Compiles one file that must not compile (cmake -P) and checks what the plugin author
# sees first: the first error line must match FIRST_ERROR, the whole output must mention
# MENTIONS (e.g. the offending type) when given, and there must be exactly ERRORS errors
# when given (one clear message, not pages). With FIRST_ERROR empty the file must compile.
#
# -D COMPILER=... SOURCE=... STD=c++20 INCLUDES=dir|dir FIRST_ERROR=regex MENTIONS=regex ERRORS=n
set(ENV{LC_ALL} C)  # plain quotes in the compiler's messages
string(REPLACE "|" ";" include_dirs "${INCLUDES}")
set(include_flags)
foreach(dir IN LISTS include_dirs)
  if(dir)
    list(APPEND include_flags "-I${dir}")
  endif()
endforeach()
execute_process(COMMAND "${COMPILER}" -std=${STD} -fsyntax-only -fdiagnostics-color=never ${include_flags} "${SOURCE}"
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)

if(NOT FIRST_ERROR)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${SOURCE} should compile but failed:\n${out}")
  endif()
  return()
endif()
if(status EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must fail with: ${FIRST_ERROR}")
endif()
string(REGEX MATCHALL "[^\n]*error:[^\n]*" errors "${out}")
list(GET errors 0 first)
if(NOT first MATCHES "${FIRST_ERROR}")
  message(FATAL_ERROR "the first error of ${SOURCE} is\n  ${first}\nbut should match\n  ${FIRST_ERROR}\nfull output:\n${out}")
endif()
if(MENTIONS AND NOT out MATCHES "${MENTIONS}")
  message(FATAL_ERROR "the errors of ${SOURCE} do not mention '${MENTIONS}':\n${out}")
endif()
list(LENGTH errors count)
if(ERRORS AND NOT count EQUAL ERRORS)
  message(FATAL_ERROR "${SOURCE} gives ${count} errors, expected ${ERRORS}:\n${out}")
endif()
