/* Shared main() for cmocka unit tests: `test_x` runs every case, `test_x CASE`
 * runs just CASE (ctest registers one entry per case). */
#ifndef CWX_TESTS_TESTMAIN_H
#define CWX_TESTS_TESTMAIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define CWX_TEST_MAIN(group)                                                  \
    int main(int argc, char **argv)                                           \
    {                                                                         \
        if (argc > 1)                                                         \
            cmocka_set_test_filter(argv[1]);                                  \
        return cmocka_run_group_tests(group, NULL, NULL);                     \
    }

#endif
