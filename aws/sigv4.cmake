# The signer: pure functions over OpenSSL, usable without the rest of aws/.
cwx_library(cwx_sigv4 ${CMAKE_CURRENT_SOURCE_DIR}/sigv4.c)
target_link_libraries(cwx_sigv4 PUBLIC cwx_common PkgConfig::CRYPTO)
