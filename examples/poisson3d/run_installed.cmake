# CTest driver for the out-of-tree family example: install the pins build into a scratch
# prefix, configure and build examples/poisson3d against it with find_package(pins) (as a
# PDE code would), then run it: generate -> verify -> train -> evaluate.
# Inputs: -DBUILD_DIR=<pins build> -DSOURCE_DIR=<examples/poisson3d> -DWORK_DIR=<scratch>
#         -DRUN_ARGS=<arguments for the program, separated by spaces>
separate_arguments(run_args UNIX_COMMAND "${RUN_ARGS}")
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(launcher "")
find_program(CCACHE ccache)
if(CCACHE)  # faster reruns on the same machine; nothing needs it
  set(launcher "-DCMAKE_CXX_COMPILER_LAUNCHER=${CCACHE}")
endif()
foreach(step
    "install;${CMAKE_COMMAND};--install;${BUILD_DIR};--prefix;${prefix}"
    "configure;${CMAKE_COMMAND};-S;${SOURCE_DIR};-B;${WORK_DIR}/build;-DCMAKE_PREFIX_PATH=${prefix};-DCMAKE_BUILD_TYPE=Release;${launcher}"
    "build;${CMAKE_COMMAND};--build;${WORK_DIR}/build"
    "run;${WORK_DIR}/build/poisson3d;-o;${WORK_DIR}/out;${run_args}")
  list(POP_FRONT step name)
  execute_process(COMMAND ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "poisson3d example: step '${name}' failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "poisson3d example: ${name} ok")
endforeach()
message(STATUS "${out}")
