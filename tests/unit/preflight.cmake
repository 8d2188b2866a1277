# preflight/: the doctor's checks that need no AWS, and bucket-policy.
cwx_unit_test(test_preflight test_preflight.c cwx_preflight)
target_link_libraries(test_preflight PRIVATE PkgConfig::UV PkgConfig::CJSON)
