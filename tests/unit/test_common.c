#include "testmain.h"

#include <string.h>

#include "common/buf.h"
#include "common/error.h"

static void buf_appends_and_limits(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 8);
    assert_int_equal(cwx_buf_puts(&b, "abcd"), 0);
    assert_int_equal(cwx_buf_printf(&b, "%d", 123), 0);
    assert_string_equal(b.ptr, "abcd123");
    assert_int_equal(cwx_buf_puts(&b, "xy"), CWX_ETOOBIG);
    assert_string_equal(b.ptr, "abcd123");
    cwx_buf_free(&b);
}

static void buf_json_escapes(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_buf_json_str(&b, "a\"b\\c\n\x01/é"), 0);
    assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\n\\u0001/é\"");
    cwx_buf_free(&b);
}

static void buf_secret_grows_and_escapes(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init_secret(&b, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(cwx_buf_puts(&b, "secret"), 0);
    assert_int_equal(b.len, 600);
    assert_int_equal(memcmp(b.ptr + 594, "secret", 6), 0);
    cwx_buf_free(&b);
    assert_null(b.ptr);

    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_buf_escape_ctl(&b, "a\x1b[2J\nb\x7f\té"), 0);
    assert_string_equal(b.ptr, "a\\x1b[2J\\x0ab\\x7f\\x09é");
    cwx_buf_free(&b);
    char out[12];
    assert_string_equal(cwx_escape_ctl("ok\rx", out, sizeof out), "ok\\x0dx");
    assert_string_equal(cwx_escape_ctl("0123456789\n", out, sizeof out), "0123456789");
    assert_string_equal(cwx_escape_ctl(NULL, out, sizeof out), "");
}

static void errors_have_names(void **state)
{
    (void)state;
    assert_string_equal(cwx_err_name(CWX_ECONFIG), "ECONFIG");
    assert_string_equal(cwx_strerror(CWX_ESLOTBUSY), "export slot busy");
    assert_string_equal(cwx_err_name(0), "OK");
    assert_true(CWX_ENOMEM < 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(buf_appends_and_limits),
    cmocka_unit_test(buf_json_escapes),
    cmocka_unit_test(buf_secret_grows_and_escapes),
    cmocka_unit_test(errors_have_names),
};

CWX_TEST_MAIN(tests)
