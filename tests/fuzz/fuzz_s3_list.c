/* libFuzzer target: the streaming S3 ListObjectsV2 parser (aws/s3_parse.c).
 *
 * Input: 8 bytes seeding the chunk sizes, then the body. The body is fed in
 * random splits (1 byte up to the whole rest), with a reset after a partial
 * feed in half of the runs (a retried attempt starts over), and the result
 * must be exactly what the one-chunk parse gives: the same status, the same
 * keys, sizes, ETags, prefixes, truncation and continuation token. A split
 * can never change what a listing means. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t s_next(uint64_t *state)
{
    /* splitmix64: deterministic splits for a given input */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int s_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static void s_same_page(const struct cwx_s3_list_page *a, const struct cwx_s3_list_page *b)
{
    if (a->n_objects != b->n_objects || a->n_prefixes != b->n_prefixes ||
        a->is_truncated != b->is_truncated || a->key_count != b->key_count ||
        !s_streq(a->next_continuation_token, b->next_continuation_token))
        abort();
    for (size_t i = 0; i < a->n_objects; i++) {
        const struct cwx_s3_object *x = &a->objects[i], *y = &b->objects[i];
        if (!x->key || !x->etag || !s_streq(x->key, y->key) || !s_streq(x->etag, y->etag) ||
            x->size != y->size || x->last_modified_ms != y->last_modified_ms)
            abort();
    }
    for (size_t i = 0; i < a->n_prefixes; i++)
        if (!a->common_prefixes[i] || !s_streq(a->common_prefixes[i], b->common_prefixes[i]))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t state = 0;
    memcpy(&state, data, 8);
    const char *body = (const char *)data + 8;
    size_t len = size - 8;
    char msg[256];

    struct cwx_s3_list_page whole;
    int rc_whole = cwx_s3_parse_list_objects_v2(body, len, &whole, msg, sizeof msg);
    if (!memchr(msg, 0, sizeof msg))
        abort();

    struct cwx_s3_list_parser *p;
    if (cwx_s3_list_parser_new(&p))
        abort();
    if (s_next(&state) & 1) {
        /* a first attempt that got part of the body, then a retry */
        size_t part = len ? (size_t)(s_next(&state) % len) : 0;
        cwx_s3_list_parser_feed(p, body, part);
        if (cwx_s3_list_parser_reset(p))
            abort();
    }
    size_t off = 0;
    while (off < len) {
        size_t n = 1 + (size_t)(s_next(&state) % (len - off));
        if (s_next(&state) & 1)
            n = 1 + n % 8; /* favour small chunks: splits inside tags and escapes */
        if (n > len - off)
            n = len - off;
        int rc = cwx_s3_list_parser_feed(p, body + off, n);
        off += n;
        if (rc)
            break; /* sticky: the rest would fail the same way */
    }
    struct cwx_s3_list_page split;
    int rc_split = cwx_s3_list_parser_finish(p, &split, msg, sizeof msg);
    cwx_s3_list_parser_free(p);

    if ((rc_whole == 0) != (rc_split == 0))
        abort();
    if (rc_whole == 0) {
        s_same_page(&whole, &split);
        cwx_s3_list_page_free(&whole);
        cwx_s3_list_page_free(&split);
    }
    return 0;
}
