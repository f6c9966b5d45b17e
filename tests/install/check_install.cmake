# Installs the build into a scratch prefix, then configures, builds and runs
# examples/cpp against it with find_package(banyan): what a user of the package does.
set(prefix ${BANYAN_BUILD_DIR}/install-test/prefix)
set(build ${BANYAN_BUILD_DIR}/install-test/example)
file(REMOVE_RECURSE ${BANYAN_BUILD_DIR}/install-test)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
  message("${out}")
endfunction()

run(${CMAKE_COMMAND} --install ${BANYAN_BUILD_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${BANYAN_SOURCE_DIR}/examples/cpp -B ${build} -G Ninja
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${build})
run(${build}/quickstart ${build}/quickstart.db)
