# workers/: the export job state machine (scripted fake operations).
if(TARGET cwx_aws)
  cwx_unit_test(test_workers test_workers.c cwx_workers)
endif()
