# Politeness: the connection permit scheduler (token buckets and caps per
# address, per network and global) and the --blocklist of CIDRs and names.
# Both are pure (no I/O on the loop); the blocklist reads its file once at
# start and converts U-label names with libidn2.
target_sources(mxc_probes PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/polite.c
  ${CMAKE_CURRENT_LIST_DIR}/blocklist.c)
target_link_libraries(mxc_probes PUBLIC PkgConfig::IDN2 m)
