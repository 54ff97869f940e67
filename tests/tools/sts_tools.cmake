# Test drivers of the HTTPS MTA-STS fetcher, included from probes/https.cmake
# when MXC_TESTS is on. sts_fetch_cli is what tests/e2e/test_world_sts.sh
# runs (found by the test as ${MXC_BUILD_DIR}/tests/tools/sts_fetch_cli or
# through $MXC_STS_FETCH_CLI).
add_executable(sts_fetch_cli ${CMAKE_CURRENT_LIST_DIR}/sts_fetch_cli.c)
target_link_libraries(sts_fetch_cli PRIVATE mxc_probes mxc_common PkgConfig::UV)
set_target_properties(sts_fetch_cli PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/tools)
