# Unit tests of the aws module.
cwx_unit_test(test_retry test_retry.c cwx_aws)
cwx_unit_test(test_credentials test_credentials.c cwx_aws)
cwx_unit_test(test_clients test_clients.c cwx_aws)
