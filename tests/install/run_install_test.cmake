# CTest driver: install the build into a scratch prefix, then configure, build and run a
# separate project against it with find_package(pins).
# Inputs: -DBUILD_DIR=<pins build> -DSOURCE_DIR=<this folder> -DWORK_DIR=<scratch folder>
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
foreach(step
    "install;${CMAKE_COMMAND};--install;${BUILD_DIR};--prefix;${prefix}"
    "configure;${CMAKE_COMMAND};-S;${SOURCE_DIR}/consumer;-B;${WORK_DIR}/build;-DCMAKE_PREFIX_PATH=${prefix};-DCMAKE_BUILD_TYPE=Release"
    "build;${CMAKE_COMMAND};--build;${WORK_DIR}/build"
    "run;${WORK_DIR}/build/consumer")
  list(POP_FRONT step name)
  execute_process(COMMAND ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: step '${name}' failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "install test: ${name} ok")
endforeach()
message(STATUS "${out}")
