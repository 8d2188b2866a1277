#include "testmain.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/mem.h"
#include "common/secret.h"

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
    assert_string_equal(cwx_strerror(0), "success");
    assert_string_equal(cwx_err_name(CWX_ENOMEM), "ENOMEM");
    assert_string_equal(cwx_strerror(CWX_EINSECURE), "plain-http endpoint refused");
    assert_string_equal(cwx_err_name(CWX__ERRNO_FIRST), "EUNKNOWN");
    assert_string_equal(cwx_strerror(CWX__ERRNO_LAST), "unknown error");
    assert_string_equal(cwx_err_name(1), "EUNKNOWN");
    assert_true(CWX_ENOMEM < 0);
}

static void hash_is_fnv1a_and_tables_stay_half_full(void **state)
{
    (void)state;
    /* FNV-1a 64 of "a" (draft-eastlake-fnv), its high bits folded in. */
    uint64_t fnv_a = 0xaf63dc4c8601ec8cULL;
    assert_true(cwx_hash_str("a", 0) == (fnv_a ^ (fnv_a >> 29)));
    assert_true(cwx_hash_bytes("ab", 1, 0) == cwx_hash_str("a", 0));
    assert_true(cwx_hash_str("a", 1) != cwx_hash_str("a", 0));
    assert_int_equal(cwx_hash_start(0x1234, 16), 4);
    assert_int_equal(cwx_hash_next(15, 16), 0);
    assert_int_equal(cwx_hash_capacity(0, 0, 64), 64);
    assert_int_equal(cwx_hash_capacity(31, 64, 64), 64);
    assert_int_equal(cwx_hash_capacity(32, 64, 64), 128);
}

static void array_doubles_and_refuses_overflow(void **state)
{
    (void)state;
    size_t cap = 0;
    int *v = cwx_array_grow(NULL, &cap, sizeof *v, 4);
    assert_non_null(v);
    assert_int_equal(cap, 4);
    v[3] = 7;
    int *w = cwx_array_grow(v, &cap, sizeof *w, 4);
    assert_non_null(w);
    assert_int_equal(cap, 8);
    assert_int_equal(w[3], 7);
    size_t huge = SIZE_MAX / 2 + 1;
    assert_null(cwx_array_grow(w, &huge, 1, 4));
    assert_true(huge == SIZE_MAX / 2 + 1);
    free(w);
}

/* Every argument is freed once (a leak or a double free fails under the
 * sanitizers) and evaluated once; NULL ones are passed over. */
static void free_all_frees_each_once(void **state)
{
    (void)state;
    char *p[3] = {strdup("a"), NULL, strdup("c")};
    int *q = malloc(sizeof(*q));
    size_t i = 0;
    assert_non_null(p[0]);
    assert_non_null(p[2]);
    assert_non_null(q);
    CWX_FREE_ALL(p[i++]);
    CWX_FREE_ALL(p[i++], p[2], q);
    assert_int_equal(i, 2);
}

/* The same for strings that may hold a secret. */
static void secret_free_all_frees_each_once(void **state)
{
    (void)state;
    char *s[2] = {strdup("key"), strdup("token")};
    size_t i = 0;
    assert_non_null(s[0]);
    assert_non_null(s[1]);
    CWX_SECRET_FREE_ALL(s[i++], NULL, s[1]);
    assert_int_equal(i, 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(buf_appends_and_limits),
    cmocka_unit_test(buf_json_escapes),
    cmocka_unit_test(buf_secret_grows_and_escapes),
    cmocka_unit_test(errors_have_names),
    cmocka_unit_test(hash_is_fnv1a_and_tables_stay_half_full),
    cmocka_unit_test(array_doubles_and_refuses_overflow),
    cmocka_unit_test(free_all_frees_each_once),
    cmocka_unit_test(secret_free_all_frees_each_once),
};

CWX_TEST_MAIN(tests)
