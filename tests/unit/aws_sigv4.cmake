cwx_unit_test(test_sigv4 test_sigv4.c cwx_sigv4 PkgConfig::CJSON PkgConfig::CURL pthread)
