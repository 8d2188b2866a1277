# Unit tests of the aws module.
cwx_unit_test(test_retry test_retry.c cwx_aws)
