# The SMTP STARTTLS probe (smtp.c), the TLS-on-libuv layer it stands on
# (tls.c, shared with any probe that starts TLS on a connected stream) and
# the pure SMTP reply/EHLO parsers (smtp_reply.c). OpenSSL does the TLS, the
# PKIX verification and DANE (SSL_dane_enable); libuv carries the bytes.
target_sources(mxc_probes PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/smtp_reply.c
  ${CMAKE_CURRENT_LIST_DIR}/tls.c
  ${CMAKE_CURRENT_LIST_DIR}/smtp.c)
pkg_check_modules(MXC_SMTP_SSL REQUIRED IMPORTED_TARGET openssl>=3.0)
pkg_check_modules(MXC_SMTP_UV REQUIRED IMPORTED_TARGET libuv>=1.44)
target_link_libraries(mxc_probes PUBLIC PkgConfig::MXC_SMTP_SSL PkgConfig::MXC_SMTP_UV)
