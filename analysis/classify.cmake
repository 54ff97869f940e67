# Classification (analysis/classify.c): pure functions from a domain's
# gathered facts to the verdict columns and issue codes. It uses the MTA-STS
# mx pattern matcher of probes/ and nothing else; no extra libraries.
target_sources(mxc_analysis PRIVATE ${CMAKE_CURRENT_LIST_DIR}/classify.c)
