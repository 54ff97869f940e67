# The Parquet export: a writer of our own (analysis/parquet.c) on a small
# Thrift compact protocol encoder (analysis/thrift.c), with ZSTD pages.
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
target_sources(mxc_analysis PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/parquet.c
  ${CMAKE_CURRENT_LIST_DIR}/thrift.c)
target_link_libraries(mxc_analysis PUBLIC PkgConfig::ZSTD)
