# Unit tests of the aws module.
#
# Tests that talk to a server get it from a ctest fixture: a FIXTURES_SETUP
# entry runs tests/unit/server_fixture.py, which starts the server in the
# background and writes its URL into a directory under the build tree; a
# FIXTURES_CLEANUP entry stops it. Each case finds the directory through
# CWX_TEST_SERVER_DIR (tests/unit/aws_test_env.h). `ctest -L unit` or
# `ctest -R test_http` pulls the setup and cleanup entries in by itself. The
# cases that inject faults into the shared fake hold a RESOURCE_LOCK, so
# `ctest -j` never runs two of them at once.

cwx_unit_test(test_retry test_retry.c cwx_aws)
cwx_unit_test(test_credentials test_credentials.c cwx_aws)
cwx_unit_test(test_clients test_clients.c cwx_aws)
cwx_unit_test(test_monitoring test_monitoring.c cwx_aws cwx_planner)

# cwx_aws_server_fixture(FIXTURE KIND [--tls]): start/stop entries for one
# server (KIND: echo | fakeaws); its directory is ${FIXTURE}_DIR.
function(cwx_aws_server_fixture fixture kind)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/servers/${fixture})
  set(${fixture}_DIR ${dir} PARENT_SCOPE)
  add_test(NAME ${fixture}.start
           COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/server_fixture.py
                   start ${dir} ${kind} ${ARGN})
  set_tests_properties(${fixture}.start PROPERTIES FIXTURES_SETUP ${fixture}
                       LABELS unit TIMEOUT 60)
  add_test(NAME ${fixture}.stop
           COMMAND ${SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/server_fixture.py
                   stop ${dir})
  set_tests_properties(${fixture}.stop PROPERTIES FIXTURES_CLEANUP ${fixture}
                       LABELS unit TIMEOUT 60)
endfunction()

# cwx_aws_uses_fixture(NAME SOURCE FIXTURE [LOCK]): every case of the
# executable NAME (registered by cwx_unit_test) requires FIXTURE.
function(cwx_aws_uses_fixture name source fixture)
  file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/${source} lines REGEX "cmocka_unit_test[a-z_]*\\(")
  foreach(line IN LISTS lines)
    string(REGEX MATCHALL "cmocka_unit_test[a-z_]*\\(([A-Za-z0-9_]+)" m "${line}")
    foreach(one IN LISTS m)
      string(REGEX REPLACE ".*\\(" "" case "${one}")
      set_tests_properties(${name}.${case} PROPERTIES
        FIXTURES_REQUIRED ${fixture}
        ENVIRONMENT "CWX_TEST_SERVER_DIR=${${fixture}_DIR}"
        TIMEOUT 120)
      if(ARGN)
        set_tests_properties(${name}.${case} PROPERTIES RESOURCE_LOCK ${ARGN})
      endif()
    endforeach()
  endforeach()
endfunction()

if(SYSTEM_PYTHON)
  cwx_aws_server_fixture(aws_echo echo --tls)
  cwx_unit_test(test_http test_http.c cwx_aws)
  cwx_aws_uses_fixture(test_http test_http.c aws_echo)
endif()

if(SYSTEM_PYTHON)
  cwx_aws_server_fixture(aws_fake fakeaws)
  cwx_unit_test(test_core test_core.c cwx_aws)
  cwx_aws_uses_fixture(test_core test_core.c aws_fake fakeaws_faults)
endif()
