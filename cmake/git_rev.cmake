cmake_minimum_required(VERSION 3.18)
# Run at every build (target nf_git_rev): writes OUT (a one-line header) with the source tree's commit,
# "+dirty" when tracked files differ from it. configure_file rewrites OUT only when the text changes,
# so an unchanged commit recompiles nothing.
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE NF_GIT_REV OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0 OR NOT NF_GIT_REV)
  set(NF_GIT_REV unknown)
else()
  execute_process(COMMAND git diff --quiet HEAD -- WORKING_DIRECTORY ${SRC} RESULT_VARIABLE _dirty ERROR_QUIET)
  if(_dirty EQUAL 1)
    set(NF_GIT_REV "${NF_GIT_REV}+dirty")
  endif()
endif()
file(WRITE ${OUT}.in [=[#pragma once
#define NORMFIELD_GIT_REV "@NF_GIT_REV@"
]=])
configure_file(${OUT}.in ${OUT} @ONLY)
