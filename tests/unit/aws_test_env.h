/* Where the aws tests find their servers.
 *
 * Tests that need a live server (tests/unit/http_echo_server.py for the
 * transport, tests/fakeaws for the call layer) are registered in
 * tests/unit/aws.cmake with a ctest fixture: a FIXTURES_SETUP test runs
 * tests/unit/server_fixture.py, which starts the server in the background and
 * writes its URL into a directory, and a FIXTURES_CLEANUP test stops it. The
 * directory reaches the test as CWX_TEST_SERVER_DIR. Run by hand, a test can
 * instead be pointed at a running server with CWX_FAKEAWS_URL (or
 * CWX_ECHO_URL); with neither, the case is skipped. */
#ifndef CWX_TESTS_AWS_TEST_ENV_H
#define CWX_TESTS_AWS_TEST_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the first line of $CWX_TEST_SERVER_DIR/name into buf. Returns 0, or
 * -1 when there is no such file. */
static inline int cwx_test_server_file(const char *name, char *buf, size_t size)
{
    const char *dir = getenv("CWX_TEST_SERVER_DIR");
    if (!dir || !*dir || !size)
        return -1;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? 0 : -1;
}

/* The server's URL: env_name's value when set, else the fixture's file. */
static inline int cwx_test_server_url(const char *env_name, char *buf, size_t size)
{
    const char *v = env_name ? getenv(env_name) : NULL;
    if (v && *v) {
        snprintf(buf, size, "%s", v);
        return 0;
    }
    return cwx_test_server_file("url", buf, size);
}

#endif
