# Reports and run comparison (analysis/report.c, html.c, html_report.c,
# compare.c): provider grouping needs the Public Suffix List through libpsl.
find_package(Threads REQUIRED)
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)
target_sources(mxc_analysis PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/report.c
  ${CMAKE_CURRENT_LIST_DIR}/html.c
  ${CMAKE_CURRENT_LIST_DIR}/html_report.c
  ${CMAKE_CURRENT_LIST_DIR}/compare.c)
target_link_libraries(mxc_analysis PUBLIC PkgConfig::PSL Threads::Threads)
