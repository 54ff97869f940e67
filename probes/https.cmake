# HTTPS MTA-STS policy fetcher (probes/sts_fetch.c): libcurl's multi-socket
# interface on the libuv loop. See probes/STS.md.
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl>=7.87)
target_sources(mxc_probes PRIVATE ${CMAKE_CURRENT_LIST_DIR}/sts_fetch.c)
target_link_libraries(mxc_probes PUBLIC PkgConfig::CURL PkgConfig::UV)

# A small driver for the end-to-end test of the policy world
# (tests/e2e/test_world_sts.sh).
if(MXC_TESTS)
  include(${CMAKE_SOURCE_DIR}/tests/tools/sts_tools.cmake)
endif()
