/* SigV4 on the official signature test suite (every case, header and query
 * variants, each step compared), known vectors, and a differential test
 * against libcurl's own CURLOPT_AWS_SIGV4. */
#include "testmain.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aws/sigv4.h"
#include "common/buf.h"
#include "common/error.h"

#define SUITE CWX_SOURCE_DIR "/tests/data/sigv4/v4"

static char *s_read(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(cwx_buf_append(&b, chunk, n), 0);
    fclose(f);
    return cwx_buf_steal(&b);
}

/* A request of the suite, parsed from request.txt. */
struct s_case {
    char name[128];
    char method[16];
    char *path;
    char *query;
    struct cwx_sigv4_header headers[32];
    char *names[32];
    char *values[32];
    size_t n_headers;
    char *body;
    size_t body_len;
    struct cwx_sigv4_params params;
    char *json;
    cJSON *ctx;
};

static void s_case_free(struct s_case *c)
{
    free(c->path);
    free(c->query);
    for (size_t i = 0; i < c->n_headers; i++) {
        free(c->names[i]);
        free(c->values[i]);
    }
    free(c->body);
    free(c->json);
    cJSON_Delete(c->ctx);
}

static void s_case_load(const char *dir, const char *name, struct s_case *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    char *req = s_read(dir, "request.txt");
    assert_non_null(req);
    char *line_end = strstr(req, "\n");
    assert_non_null(line_end);
    /* "METHOD SP TARGET SP HTTP/1.1": the target may contain spaces. */
    char *sp1 = strchr(req, ' ');
    char *sp2 = line_end;
    while (sp2 > sp1 && *sp2 != ' ')
        sp2--;
    assert_true(sp1 && sp2 > sp1);
    snprintf(c->method, sizeof c->method, "%.*s", (int)(sp1 - req), req);
    char *target = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    char *q = strchr(target, '?');
    if (q) {
        c->query = strdup(q + 1);
        *q = '\0';
    }
    c->path = target;

    char *p = line_end + 1;
    while (*p && *p != '\n') {
        char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if ((*p == ' ' || *p == '\t') && c->n_headers) {
            /* A folded continuation of the previous header's value. */
            char **v = &c->values[c->n_headers - 1];
            size_t old = strlen(*v);
            *v = realloc(*v, old + len + 2);
            (*v)[old] = '\n';
            memcpy(*v + old + 1, p, len);
            (*v)[old + 1 + len] = '\0';
        } else {
            char *colon = memchr(p, ':', len);
            assert_non_null(colon);
            c->names[c->n_headers] = strndup(p, (size_t)(colon - p));
            c->values[c->n_headers] = strndup(colon + 1, len - (size_t)(colon - p) - 1);
            c->n_headers++;
        }
        p = end ? end + 1 : p + len;
    }
    if (*p == '\n') {
        p++;
        c->body_len = strlen(p);
        c->body = strdup(p);
    }
    for (size_t i = 0; i < c->n_headers; i++)
        c->headers[i] = (struct cwx_sigv4_header){c->names[i], c->values[i]};
    free(req);

    c->json = s_read(dir, "context.json");
    assert_non_null(c->json);
    c->ctx = cJSON_Parse(c->json);
    assert_non_null(c->ctx);
    cJSON *cred = cJSON_GetObjectItem(c->ctx, "credentials");
    cJSON *token = cJSON_GetObjectItem(cred, "token");
    struct tm tm = {0};
    const char *ts = cJSON_GetObjectItem(c->ctx, "timestamp")->valuestring;
    assert_int_equal(sscanf(ts, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    c->params = (struct cwx_sigv4_params){
        .access_key_id = cJSON_GetObjectItem(cred, "access_key_id")->valuestring,
        .secret_access_key = cJSON_GetObjectItem(cred, "secret_access_key")->valuestring,
        .session_token = cJSON_IsString(token) ? token->valuestring : NULL,
        .region = cJSON_GetObjectItem(c->ctx, "region")->valuestring,
        .service = cJSON_GetObjectItem(c->ctx, "service")->valuestring,
        .time_s = (int64_t)timegm(&tm),
        .normalize_path = cJSON_IsTrue(cJSON_GetObjectItem(c->ctx, "normalize")),
        .sign_body = cJSON_IsTrue(cJSON_GetObjectItem(c->ctx, "sign_body")),
        .omit_session_token = cJSON_IsTrue(cJSON_GetObjectItem(c->ctx, "omit_session_token")),
        .expires_s = cJSON_GetObjectItem(c->ctx, "expiration_in_seconds")->valueint,
    };
}

static int s_same(const char *what, const char *name, const char *want, const char *got)
{
    if (strcmp(want, got) == 0)
        return 1;
    print_error("%s: %s differs\n--- want\n%s\n--- got\n%s\n", name, what, want, got);
    return 0;
}

/* The value of header `name` in a signed request of the suite, or NULL. */
static char *s_signed_header(const char *signed_req, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = strchr(signed_req, '\n'); line && line[1] && line[1] != '\n';
         line = strchr(line + 1, '\n')) {
        if (strncasecmp(line + 1, name, n) == 0 && line[1 + n] == ':') {
            const char *v = line + 2 + n;
            return strndup(v, strcspn(v, "\n"));
        }
    }
    return NULL;
}

/* The query of the request line of a signed request of the suite. */
static char *s_signed_query(const char *signed_req)
{
    const char *eol = strchr(signed_req, '\n');
    const char *q = memchr(signed_req, '?', (size_t)(eol - signed_req));
    const char *sp = eol;
    while (sp > signed_req && *sp != ' ')
        sp--;
    assert_non_null(q);
    assert_true(sp > q);
    return strndup(q + 1, (size_t)(sp - q - 1));
}

/* Runs one case in one variant, every step compared with the suite's own
 * file for it, then the one-call form with the signed request. */
static void s_run_case(const char *dir, struct s_case *c, int presign)
{
    const char *v = presign ? "query" : "header";
    char fname[64];
    struct cwx_sigv4_request req = {
        .method = c->method, .path = c->path, .query = c->query,
        .headers = c->headers, .n_headers = c->n_headers,
        .body = c->body, .body_len = c->body_len,
    };
    int bad = 0;
    struct cwx_buf creq, sh, sts;
    cwx_buf_init(&creq, 0);
    cwx_buf_init(&sh, 0);
    cwx_buf_init(&sts, 0);

    /* 1. canonical request, and its signed-headers line */
    assert_int_equal(cwx_sigv4_canonical_request(&req, &c->params, presign, &creq, &sh), 0);
    snprintf(fname, sizeof fname, "%s-canonical-request.txt", v);
    char *want = s_read(dir, fname);
    assert_non_null(want);
    bad += !s_same("canonical request", c->name, want, creq.ptr);
    char *last = strrchr(want, '\n');
    assert_non_null(last);
    *last = '\0';
    char *sh_line = strrchr(want, '\n');
    assert_non_null(sh_line);
    bad += !s_same("signed headers", c->name, sh_line + 1, sh.ptr);
    free(want);

    /* 2. string to sign, from the suite's canonical request */
    snprintf(fname, sizeof fname, "%s-canonical-request.txt", v);
    char *want_creq = s_read(dir, fname);
    assert_int_equal(cwx_sigv4_string_to_sign(&c->params, want_creq, strlen(want_creq), &sts), 0);
    free(want_creq);
    snprintf(fname, sizeof fname, "%s-string-to-sign.txt", v);
    want = s_read(dir, fname);
    assert_non_null(want);
    bad += !s_same("string to sign", c->name, want, sts.ptr);

    /* 3. signing key and 4. signature, from the suite's string to sign */
    char date8[9], sig[65];
    memcpy(date8, want + strlen("AWS4-HMAC-SHA256\n"), 8);
    date8[8] = '\0';
    unsigned char key[32];
    cwx_sigv4_signing_key(c->params.secret_access_key, date8, c->params.region,
                          c->params.service, key);
    cwx_sigv4_signature(key, want, strlen(want), sig);
    free(want);
    snprintf(fname, sizeof fname, "%s-signature.txt", v);
    want = s_read(dir, fname);
    assert_non_null(want);
    want[strcspn(want, "\r\n")] = '\0';
    bad += !s_same("signature", c->name, want, sig);
    free(want);

    /* The one-call form gives what the suite's signed request carries. */
    snprintf(fname, sizeof fname, "%s-signed-request.txt", v);
    char *signed_req = s_read(dir, fname);
    assert_non_null(signed_req);
    if (presign) {
        struct cwx_buf q;
        cwx_buf_init(&q, 0);
        assert_int_equal(cwx_sigv4_presign(&req, &c->params, &q), 0);
        char *wq = s_signed_query(signed_req);
        bad += !s_same("presigned query", c->name, wq, q.ptr);
        free(wq);
        cwx_buf_free(&q);
    } else {
        struct cwx_sigv4_signed out;
        assert_int_equal(cwx_sigv4_sign_headers(&req, &c->params, &out), 0);
        char *w = s_signed_header(signed_req, "Authorization");
        assert_non_null(w);
        bad += !s_same("Authorization", c->name, w, out.authorization);
        free(w);
        w = s_signed_header(signed_req, "X-Amz-Date");
        assert_non_null(w);
        bad += !s_same("X-Amz-Date", c->name, w, out.amz_date);
        free(w);
        w = s_signed_header(signed_req, "x-amz-content-sha256");
        bad += !s_same("x-amz-content-sha256", c->name, w ? w : "", out.content_sha256);
        free(w);
        w = s_signed_header(signed_req, "X-Amz-Security-Token");
        bad += !s_same("X-Amz-Security-Token", c->name, w ? w : "(none)",
                       out.security_token ? out.security_token : "(none)");
        free(w);
        cwx_sigv4_signed_free(&out);
    }
    free(signed_req);
    cwx_buf_free(&creq);
    cwx_buf_free(&sh);
    cwx_buf_free(&sts);
    assert_int_equal(bad, 0);
}

/* One case of the suite; `id` is its folder name with '-' written '_'. */
static void s_suite_case(const char *id, int presign)
{
    char name[128], dir[1024];
    snprintf(name, sizeof name, "%s", id);
    for (char *p = name; *p; p++)
        if (*p == '_')
            *p = '-';
    snprintf(dir, sizeof dir, "%s/%s", SUITE, name);
    struct s_case c;
    s_case_load(dir, name, &c);
    s_run_case(dir, &c, presign);
    s_case_free(&c);
}

/* The 38 cases of the suite, each a test in header and in query form. */
#define SUITE_CASES(X) \
    X(get_header_key_duplicate) \
    X(get_header_value_multiline) \
    X(get_header_value_order) \
    X(get_header_value_trim) \
    X(get_relative_normalized) \
    X(get_relative_relative_normalized) \
    X(get_relative_relative_unnormalized) \
    X(get_relative_unnormalized) \
    X(get_slash_dot_slash_normalized) \
    X(get_slash_dot_slash_unnormalized) \
    X(get_slash_normalized) \
    X(get_slash_pointless_dot_normalized) \
    X(get_slash_pointless_dot_unnormalized) \
    X(get_slash_unnormalized) \
    X(get_slashes_normalized) \
    X(get_slashes_unnormalized) \
    X(get_space_normalized) \
    X(get_space_unnormalized) \
    X(get_unreserved) \
    X(get_utf8) \
    X(get_vanilla) \
    X(get_vanilla_empty_query_key) \
    X(get_vanilla_query) \
    X(get_vanilla_query_order_encoded) \
    X(get_vanilla_query_order_key_case) \
    X(get_vanilla_query_unreserved) \
    X(get_vanilla_utf8_query) \
    X(get_vanilla_with_session_token) \
    X(post_header_key_case) \
    X(post_header_key_sort) \
    X(post_header_value_case) \
    X(post_sts_header_after) \
    X(post_sts_header_before) \
    X(post_vanilla) \
    X(post_vanilla_empty_query_value) \
    X(post_vanilla_query) \
    X(post_x_www_form_urlencoded) \
    X(post_x_www_form_urlencoded_parameters)

#define SUITE_TEST(id)                                                        \
    static void header_##id(void **state)                                     \
    {                                                                         \
        (void)state;                                                          \
        s_suite_case(#id, 0);                                                 \
    }                                                                         \
    static void query_##id(void **state)                                      \
    {                                                                         \
        (void)state;                                                          \
        s_suite_case(#id, 1);                                                 \
    }
SUITE_CASES(SUITE_TEST)

/* Every folder of the suite is one of the cases above: a case added to the
 * suite cannot go untested. */
static void suite_lists_every_case(void **state)
{
    (void)state;
    static const char *const known[] = {
#define SUITE_NAME(id) #id,
        SUITE_CASES(SUITE_NAME)
#undef SUITE_NAME
    };
    size_t n_known = sizeof known / sizeof *known;
    DIR *d = opendir(SUITE);
    assert_non_null(d);
    struct dirent *e;
    size_t cases = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char id[256];
        snprintf(id, sizeof id, "%s", e->d_name);
        for (char *p = id; *p; p++)
            if (*p == '-')
                *p = '_';
        int found = 0;
        for (size_t i = 0; i < n_known && !found; i++)
            found = strcmp(known[i], id) == 0;
        if (!found)
            print_error("suite case %s is not listed\n", e->d_name);
        assert_true(found);
        cases++;
    }
    closedir(d);
    assert_int_equal(cases, 38);
    assert_int_equal(n_known, 38);
}

/* The derivation example of AWS's documentation. */
static void signing_key_documented_example(void **state)
{
    (void)state;
    unsigned char key[32];
    char hex[65];
    cwx_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1",
                          "iam", key);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    /* A secret longer than the stack copy takes the heap path; same result
     * as HMAC-SHA256 chained by hand through OpenSSL. */
    char secret[300];
    memset(secret, 'S', sizeof secret - 1);
    secret[sizeof secret - 1] = '\0';
    unsigned char k0[304], want[32];
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, 299);
    unsigned int n = 32;
    HMAC(EVP_sha256(), k0, 303, (const unsigned char *)"20120215", 8, want, &n);
    HMAC(EVP_sha256(), want, 32, (const unsigned char *)"us-east-1", 9, want, &n);
    HMAC(EVP_sha256(), want, 32, (const unsigned char *)"iam", 3, want, &n);
    HMAC(EVP_sha256(), want, 32, (const unsigned char *)"aws4_request", 12, want, &n);
    cwx_sigv4_signing_key(secret, "20120215", "us-east-1", "iam", key);
    assert_memory_equal(key, want, 32);
}

static void uri_encode_rules(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    const char *s = "a b/c~d+e=f%\xe1\x88\xb4";
    assert_int_equal(cwx_uri_encode(&b, s, strlen(s), 0), 0);
    assert_string_equal(b.ptr, "a%20b/c~d%2Be%3Df%25%E1%88%B4");
    cwx_buf_reset(&b);
    assert_int_equal(cwx_uri_encode(&b, s, strlen(s), 1), 0);
    assert_string_equal(b.ptr, "a%20b%2Fc~d%2Be%3Df%25%E1%88%B4");
    cwx_buf_free(&b);
}

/* S3: the wire path is used as it is (no second encoding, no dot removal)
 * and x-amz-content-sha256 is always signed. */
static void s3_rules_keep_path(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "bucket.s3.amazonaws.com"}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/a%20b/./c",
                                    .query = "list-type=2&prefix=x%2Fy",
                                    .headers = h, .n_headers = 1};
    struct cwx_sigv4_params p = {.access_key_id = "AK", .secret_access_key = "SK",
                                 .region = "us-east-1", .service = "s3",
                                 .time_s = 1440938160, .s3_rules = 1};
    struct cwx_buf creq, sh;
    cwx_buf_init(&creq, 0);
    cwx_buf_init(&sh, 0);
    assert_int_equal(cwx_sigv4_canonical_request(&req, &p, 0, &creq, &sh), 0);
    assert_string_equal(creq.ptr,
                        "GET\n/a%20b/./c\nlist-type=2&prefix=x%2Fy\n"
                        "host:bucket.s3.amazonaws.com\n"
                        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
                        "x-amz-date:20150830T123600Z\n\n"
                        "host;x-amz-content-sha256;x-amz-date\n"
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(sh.ptr, "host;x-amz-content-sha256;x-amz-date");
    cwx_buf_free(&creq);
    cwx_buf_free(&sh);
}

/* ---- S3's documented examples (AWS S3 API reference, "Signature
 * Calculations for the Authorization Header" and "Authenticating Requests:
 * Using Query Parameters"), examplebucket, 2013-05-24 ---- */

#define S3_DOC_TIME INT64_C(1369353600) /* 20130524T000000Z */
#define S3_DOC_SCOPE "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "

static const struct cwx_sigv4_params s_s3_doc = {
    .access_key_id = "AKIAIOSFODNN7EXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "s3",
    .time_s = S3_DOC_TIME,
    .s3_rules = 1,
};

static void s_s3_doc_sign(const struct cwx_sigv4_request *req, const char *want_auth,
                          const char *want_sha256)
{
    struct cwx_sigv4_signed out;
    assert_int_equal(cwx_sigv4_sign_headers(req, &s_s3_doc, &out), 0);
    assert_string_equal(out.authorization, want_auth);
    assert_string_equal(out.amz_date, "20130524T000000Z");
    assert_string_equal(out.content_sha256, want_sha256);
    assert_null(out.security_token);
    cwx_sigv4_signed_free(&out);
}

static void s3_doc_get_object(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                                   {"Range", "bytes=0-9"}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/test.txt", .headers = h,
                                    .n_headers = 2};
    s_s3_doc_sign(&req,
                  S3_DOC_SCOPE "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                  "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* The key "test$file.text" goes on the wire as /test%24file.text and is
 * signed as it is: S3 does not encode it twice. */
static void s3_doc_put_object(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                   {"Host", "examplebucket.s3.amazonaws.com"},
                                   {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    static const char body[] = "Welcome to Amazon S3.";
    struct cwx_sigv4_request req = {.method = "PUT", .path = "/test%24file.text", .headers = h,
                                    .n_headers = 3, .body = body, .body_len = sizeof body - 1};
    s_s3_doc_sign(&req,
                  S3_DOC_SCOPE "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                  "x-amz-storage-class, "
                  "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
                  "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

/* A parameter without '=' is signed as "lifecycle=". */
static void s3_doc_get_bucket_lifecycle(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "examplebucket.s3.amazonaws.com"}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/", .query = "lifecycle",
                                    .headers = h, .n_headers = 1};
    s_s3_doc_sign(&req,
                  S3_DOC_SCOPE "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                  "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Sent unsorted, signed sorted. */
static void s3_doc_list_objects(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "examplebucket.s3.amazonaws.com"}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/", .query = "prefix=J&max-keys=2",
                                    .headers = h, .n_headers = 1};
    s_s3_doc_sign(&req,
                  S3_DOC_SCOPE "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                  "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Presigned S3 signs UNSIGNED-PAYLOAD and only the host header. */
static void s3_doc_presigned_get(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "examplebucket.s3.amazonaws.com"}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/test.txt", .headers = h,
                                    .n_headers = 1};
    struct cwx_sigv4_params p = s_s3_doc;
    p.expires_s = 86400;
    struct cwx_buf creq, q;
    cwx_buf_init(&creq, 0);
    cwx_buf_init(&q, 0);
    assert_int_equal(cwx_sigv4_canonical_request(&req, &p, 1, &creq, NULL), 0);
    assert_string_equal(creq.ptr,
                        "GET\n/test.txt\n"
                        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
                        "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                        "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
                        "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
    assert_int_equal(cwx_sigv4_presign(&req, &p, &q), 0);
    assert_string_equal(q.ptr,
                        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
                        "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                        "&X-Amz-SignedHeaders=host&X-Amz-Expires=86400&X-Amz-Signature="
                        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    cwx_buf_free(&creq);
    cwx_buf_free(&q);
}

/* A session token is signed into a presigned S3 URL, before the signature;
 * an explicit payload hash is used as given. */
static void s3_presign_session_token(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "b.s3.us-west-2.amazonaws.com"}};
    struct cwx_sigv4_request req = {.method = "PUT", .path = "/k%20ey", .query = "x-id=PutObject",
                                    .headers = h, .n_headers = 1};
    struct cwx_sigv4_params p = s_s3_doc;
    p.region = "us-west-2";
    p.session_token = "tok/en+=";
    p.expires_s = 60;
    struct cwx_buf creq, q;
    cwx_buf_init(&creq, 0);
    cwx_buf_init(&q, 0);
    assert_int_equal(cwx_sigv4_canonical_request(&req, &p, 1, &creq, NULL), 0);
    assert_non_null(strstr(creq.ptr, "PUT\n/k%20ey\nX-Amz-Algorithm="));
    assert_non_null(strstr(creq.ptr, "&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-SignedHeaders=host&"
                                     "x-id=PutObject\n"));
    assert_non_null(strstr(creq.ptr, "\nUNSIGNED-PAYLOAD"));
    assert_int_equal(cwx_sigv4_presign(&req, &p, &q), 0);
    assert_true(strncmp(q.ptr, "x-id=PutObject&X-Amz-Algorithm=", 31) == 0);
    assert_non_null(strstr(q.ptr, "&X-Amz-Expires=60&X-Amz-Security-Token=tok%2Fen%2B%3D"
                                  "&X-Amz-Signature="));
    cwx_buf_reset(&creq);
    req.payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_int_equal(cwx_sigv4_canonical_request(&req, &p, 1, &creq, NULL), 0);
    assert_non_null(strstr(creq.ptr, "\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca"));
    cwx_buf_free(&creq);
    cwx_buf_free(&q);
}

/* ---- the rules, one at a time ---- */

static char *s_creq(const struct cwx_sigv4_request *req, const struct cwx_sigv4_params *p)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_sigv4_canonical_request(req, p, 0, &b, NULL), 0);
    return cwx_buf_steal(&b);
}

/* Cuts s after its first n lines (without the last newline). */
static const char *s_lines(char *s, int n)
{
    char *p = s;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p && i < n - 1)
            p++;
    }
    if (p)
        *p = '\0';
    return s;
}

static const struct cwx_sigv4_params s_logs = {
    .access_key_id = "AKIDEXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "logs",
    .time_s = INT64_C(1440938160), /* 20150830T123600Z */
    .normalize_path = 1,
};

/* Other services: each segment of the wire path is encoded once more, after
 * the dot segments and the empty ones are removed. */
static void non_s3_double_encoding_and_normalisation(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "h"}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/a%20b//./c/../d%2Fe/",
                                    .headers = h, .n_headers = 1};
    char *c = s_creq(&req, &s_logs);
    assert_string_equal(s_lines(c, 3), "GET\n/a%2520b/d%252Fe/\n");
    free(c);
    struct cwx_sigv4_params p = s_logs;
    p.normalize_path = 0;
    c = s_creq(&req, &p);
    assert_string_equal(s_lines(c, 3), "GET\n/a%2520b//./c/../d%252Fe/\n");
    free(c);
    req.path = "/..";
    c = s_creq(&req, &s_logs);
    assert_string_equal(s_lines(c, 3), "GET\n/\n");
    free(c);
    req.path = NULL; /* no path is "/" */
    c = s_creq(&req, &s_logs);
    assert_string_equal(s_lines(c, 3), "GET\n/\n");
    free(c);
}

/* Names and values decoded and encoded again strictly (space %20, '+' %2B,
 * upper-case hex), sorted by name then value, bare names given '='. */
static void query_canonical_form(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "h"}};
    struct cwx_sigv4_request req = {
        .method = "GET", .path = "/",
        .query = "b=2&a=z&a=y&A=1&flag&c=x+y&d=%7e%2f&e=a%20b&&f=%zz&g=%C3%A9",
        .headers = h, .n_headers = 1};
    char *c = s_creq(&req, &s_logs);
    assert_string_equal(s_lines(c, 3),
                        "GET\n/\nA=1&a=y&a=z&b=2&c=x%2By&d=~%2F&e=a%20b&f=%25zz&flag=&g=%C3%A9");
    free(c);
}

/* Names lower-cased and sorted; values trimmed, inner runs of white space
 * and line folds collapsed to one space; repeated names joined with ','
 * in the order given. */
static void header_canonical_form(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {
        {"Host", "h"},
        {"X-Amz-Target", "  Logs_20140328.DescribeExportTasks "},
        {"My-Header", "b\t\t c"},
        {"content-type", "application/x-amz-json-1.1"},
        {"MY-HEADER", " a\n   folded  line "},
        {"x-empty", "   "},
    };
    struct cwx_sigv4_request req = {.method = "POST", .path = "/", .headers = h, .n_headers = 6};
    struct cwx_buf b, sh;
    cwx_buf_init(&b, 0);
    cwx_buf_init(&sh, 0);
    assert_int_equal(cwx_sigv4_canonical_request(&req, &s_logs, 0, &b, &sh), 0);
    assert_string_equal(b.ptr,
                        "POST\n/\n\n"
                        "content-type:application/x-amz-json-1.1\n"
                        "host:h\n"
                        "my-header:b c,a folded line\n"
                        "x-amz-date:20150830T123600Z\n"
                        "x-amz-target:Logs_20140328.DescribeExportTasks\n"
                        "x-empty:\n\n"
                        "content-type;host;my-header;x-amz-date;x-amz-target;x-empty\n"
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(sh.ptr, "content-type;host;my-header;x-amz-date;x-amz-target;x-empty");
    cwx_buf_free(&b);
    cwx_buf_free(&sh);
}

/* The session token: signed as X-Amz-Security-Token unless
 * omit_session_token; either way handed back to be sent. sign_body adds
 * x-amz-content-sha256 for other services too. */
static void session_token_and_sign_body(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "logs.us-east-1.amazonaws.com"}};
    static const char body[] = "{}";
    struct cwx_sigv4_request req = {.method = "POST", .path = "/", .headers = h, .n_headers = 1,
                                    .body = body, .body_len = 2};
    struct cwx_sigv4_params p = s_logs;
    p.session_token = "TOKEN";
    struct cwx_sigv4_signed out;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &out), 0);
    assert_non_null(strstr(out.authorization, "SignedHeaders=host;x-amz-date;x-amz-security-token, "));
    assert_string_equal(out.security_token, "TOKEN");
    assert_string_equal(out.content_sha256, "");
    cwx_sigv4_signed_free(&out);
    p.omit_session_token = 1;
    p.sign_body = 1;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &out), 0);
    assert_non_null(strstr(out.authorization, "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "));
    assert_string_equal(out.security_token, "TOKEN");
    char hex[65];
    cwx_sha256_hex("{}", 2, hex);
    assert_string_equal(out.content_sha256, hex);
    assert_string_equal(hex, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    cwx_sigv4_signed_free(&out);
}

/* Signing the headers a request was sent with (a retry) gives what signing
 * the bare request gives: the signer's own headers are not signed twice. */
static void resigning_ignores_previous_signature_headers(void **state)
{
    (void)state;
    struct cwx_sigv4_header bare[] = {{"Host", "b.s3.amazonaws.com"}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/k", .headers = bare,
                                    .n_headers = 1};
    struct cwx_sigv4_params p = s_s3_doc;
    p.session_token = "T";
    struct cwx_sigv4_signed a, b;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &a), 0);
    struct cwx_sigv4_header sent[] = {
        {"Host", "b.s3.amazonaws.com"},
        {"X-Amz-Date", "20000101T000000Z"},
        {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
        {"X-Amz-Security-Token", "OLD"},
        {"Authorization", "AWS4-HMAC-SHA256 Credential=old"},
    };
    req.headers = sent;
    req.n_headers = 5;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &b), 0);
    assert_string_equal(a.authorization, b.authorization);
    cwx_sigv4_signed_free(&a);
    cwx_sigv4_signed_free(&b);
}

/* The clock is the caller's: the date comes from time_s alone, and the
 * credential scope changes with the UTC day. */
static void injected_clock(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "h"}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/", .headers = h, .n_headers = 1};
    struct cwx_sigv4_params p = s_logs;
    struct cwx_sigv4_signed out;
    p.time_s = INT64_C(1704067199); /* 2023-12-31T23:59:59Z */
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &out), 0);
    assert_string_equal(out.amz_date, "20231231T235959Z");
    assert_non_null(strstr(out.authorization, "/20231231/us-east-1/logs/aws4_request, "));
    cwx_sigv4_signed_free(&out);
    p.time_s++;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &out), 0);
    assert_string_equal(out.amz_date, "20240101T000000Z");
    assert_non_null(strstr(out.authorization, "/20240101/us-east-1/logs/aws4_request, "));
    cwx_sigv4_signed_free(&out);
}

static void invalid_arguments(void **state)
{
    (void)state;
    struct cwx_sigv4_header h[] = {{"Host", "h"}};
    struct cwx_sigv4_header bad_h[] = {{"Host", NULL}};
    struct cwx_sigv4_request req = {.method = "GET", .path = "/", .headers = h, .n_headers = 1};
    struct cwx_sigv4_signed out;
    struct cwx_buf q;
    cwx_buf_init(&q, 0);
    struct cwx_sigv4_params p = s_logs;
    p.region = NULL;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &out), CWX_EINVAL);
    assert_null(out.authorization);
    assert_int_equal(cwx_sigv4_presign(&req, &p, &q), CWX_EINVAL);
    assert_int_equal(cwx_sigv4_string_to_sign(&p, "x", 1, &q), CWX_EINVAL);
    p = s_logs;
    p.time_s = -1;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &out), CWX_EINVAL);
    p.time_s = INT64_C(253402300800); /* year 10000 */
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &out), CWX_EINVAL);
    p.time_s = INT64_C(253402300799);
    assert_int_equal(cwx_sigv4_sign_headers(&req, &p, &out), 0);
    assert_string_equal(out.amz_date, "99991231T235959Z");
    cwx_sigv4_signed_free(&out);
    req.headers = bad_h;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &s_logs, &out), CWX_EINVAL);
    req.headers = h;
    req.method = NULL;
    assert_int_equal(cwx_sigv4_canonical_request(&req, &s_logs, 0, &q, NULL), CWX_EINVAL);
    assert_int_equal(q.len, 0);
    cwx_buf_free(&q);
}

/* ---- differential test against libcurl's CURLOPT_AWS_SIGV4 ---- */

struct s_capture {
    int listen_fd;
    char raw[16384];
    size_t len;
};

static void *s_capture_one(void *arg)
{
    struct s_capture *cap = arg;
    int fd = accept(cap->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    size_t want = 0;
    for (;;) {
        ssize_t n = read(fd, cap->raw + cap->len, sizeof cap->raw - 1 - cap->len);
        if (n <= 0)
            break;
        cap->len += (size_t)n;
        cap->raw[cap->len] = '\0';
        char *end = strstr(cap->raw, "\r\n\r\n");
        if (end) {
            const char *cl = strcasestr(cap->raw, "\r\ncontent-length:");
            size_t body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
            want = (size_t)(end + 4 - cap->raw) + body;
            if (cap->len >= want)
                break;
        }
    }
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (write(fd, ok, sizeof ok - 1) < 0)
        perror("write");
    close(fd);
    return NULL;
}

/* Sends one request with curl's signer and checks that ours, given the same
 * request and curl's X-Amz-Date, produces curl's Authorization header.
 * libcurl 7.88 neither sorts nor re-encodes the query, nor encodes the path
 * a second time for services other than S3: the requests below give it
 * queries already in canonical form and paths with nothing to escape
 * outside S3, the ones it can sign (the suite covers the rest). */
static void s_differential(const char *provider, const char *method, const char *path_query,
                           const char *body, int s3, const char *const *extra_headers,
                           const char *session_token)
{
    struct s_capture cap = {0};
    cap.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    assert_int_equal(bind(cap.listen_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(cap.listen_fd, 1), 0);
    assert_int_equal(getsockname(cap.listen_fd, (struct sockaddr *)&addr, &alen), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_capture_one, &cap), 0);

    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", ntohs(addr.sin_port), path_query);
    CURL *curl = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    for (const char *const *h = extra_headers; h && *h; h++)
        hdrs = curl_slist_append(hdrs, *h);
    char extra[256];
    if (s3) { /* curl 7.88 signs the payload hash only when given the header */
        char hex[65];
        cwx_sha256_hex(body ? body : "", body ? strlen(body) : 0, hex);
        snprintf(extra, sizeof extra, "x-amz-content-sha256: %s", hex);
        hdrs = curl_slist_append(hdrs, extra);
    }
    if (session_token) { /* curl signs it as one of the request's headers */
        snprintf(extra, sizeof extra, "X-Amz-Security-Token: %s", session_token);
        hdrs = curl_slist_append(hdrs, extra);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, provider);
    curl_easy_setopt(curl, CURLOPT_USERPWD, "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    pthread_join(th, NULL);
    close(cap.listen_fd);

    /* Parse what curl sent. */
    char *raw = cap.raw;
    char *hdr_end = strstr(raw, "\r\n\r\n");
    assert_non_null(hdr_end);
    *hdr_end = '\0';
    const char *sent_body = hdr_end + 4;
    char *line = strstr(raw, "\r\n");
    *line = '\0';
    char m[16], target[1024];
    assert_int_equal(sscanf(raw, "%15s %1023s", m, target), 2);
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    struct cwx_sigv4_header h[32];
    size_t n = 0;
    const char *auth = NULL, *date = NULL;
    char *p = line + 2;
    while (p && *p && n < 32) {
        char *next = strstr(p, "\r\n");
        if (next)
            *next = '\0';
        char *colon = strchr(p, ':');
        assert_non_null(colon);
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        if (strcasecmp(p, "Authorization") == 0)
            auth = value;
        else
            h[n++] = (struct cwx_sigv4_header){p, value};
        if (strcasecmp(p, "X-Amz-Date") == 0)
            date = value;
        p = next ? next + 2 : NULL;
    }
    assert_non_null(auth);
    assert_non_null(date);
    /* Keep only the headers curl signed. */
    const char *sh = strstr(auth, "SignedHeaders=");
    assert_non_null(sh);
    sh += 14;
    size_t shlen = strcspn(sh, ",");
    struct cwx_sigv4_header signed_h[32];
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        char lower[128];
        size_t k = 0;
        for (; h[i].name[k] && k < sizeof lower - 1; k++)
            lower[k] = (char)(h[i].name[k] >= 'A' && h[i].name[k] <= 'Z' ? h[i].name[k] + 32 : h[i].name[k]);
        lower[k] = '\0';
        /* x-amz-date, x-amz-content-sha256 and x-amz-security-token are
         * passed on too: the signer must ignore the copies of its own. */
        const char *at = strstr(sh, lower);
        if (at && at < sh + shlen && (at[k] == ';' || at[k] == ',' || at + k == sh + shlen))
            signed_h[ns++] = h[i];
    }
    struct tm tm = {0};
    assert_int_equal(sscanf(date, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    char region[32], service[32];
    assert_int_equal(sscanf(provider, "aws:amz:%31[^:]:%31s", region, service), 2);
    struct cwx_sigv4_request req = {.method = m, .path = target, .query = query,
                                    .headers = signed_h, .n_headers = ns,
                                    .body = sent_body, .body_len = strlen(sent_body)};
    struct cwx_sigv4_params prm = {
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .session_token = session_token,
        .region = region, .service = service, .time_s = (int64_t)timegm(&tm),
        .s3_rules = s3, .normalize_path = !s3,
    };
    struct cwx_sigv4_signed out;
    assert_int_equal(cwx_sigv4_sign_headers(&req, &prm, &out), 0);
    print_message("curl: %s\n", auth);
    assert_string_equal(out.authorization, auth);
    cwx_sigv4_signed_free(&out);
}

static const char *const s_json_hdrs[] = {"Content-Type: application/x-amz-json-1.1", NULL};

static void curl_differential_logs_post(void **state)
{
    (void)state;
    s_differential("aws:amz:us-east-1:logs", "POST", "/",
                   "{\"taskId\":\"0123-abcd\",\"limit\":50}", 0, s_json_hdrs, NULL);
}

/* A CloudWatch Logs call as cwexport sends it: X-Amz-Target signed, and a
 * session token. */
static void curl_differential_logs_create_export_task(void **state)
{
    (void)state;
    static const char *const h[] = {"Content-Type: application/x-amz-json-1.1",
                                    "X-Amz-Target: Logs_20140328.CreateExportTask", NULL};
    s_differential("aws:amz:eu-central-1:logs", "POST", "/",
                   "{\"logGroupName\":\"/aws/lambda/f\",\"from\":1700000000000,"
                   "\"to\":1700003599999,\"destination\":\"bucket\","
                   "\"destinationPrefix\":\"_cwexport/111111111111\"}",
                   0, h, "FwoGZXIvYXdzEXAMPLE/token+with=chars");
}

static void curl_differential_query_get(void **state)
{
    (void)state;
    s_differential("aws:amz:eu-west-1:sts", "GET", "/?Action=GetCallerIdentity&Version=2011-06-15",
                   NULL, 0, s_json_hdrs, NULL);
}

/* The Query protocol as SNS and STS are called: a form body. */
static void curl_differential_sns_form_post(void **state)
{
    (void)state;
    static const char *const h[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL};
    s_differential("aws:amz:us-west-2:sns", "POST", "/",
                   "Action=Publish&Message=export%20done&TopicArn=arn%3Aaws%3Asns%3Aus-west-2"
                   "%3A111111111111%3Acwexport&Version=2010-03-31",
                   0, h, NULL);
}

static void curl_differential_s3_list(void **state)
{
    (void)state;
    s_differential("aws:amz:us-east-1:s3", "GET",
                   "/my-bucket?list-type=2&max-keys=1000&prefix=_cwexport%2F111111111111%2F",
                   NULL, 1, s_json_hdrs, NULL);
}

/* S3 PutObject: the body's hash signed, a key with escaped characters used
 * as sent, a session token. */
static void curl_differential_s3_put(void **state)
{
    (void)state;
    static const char *const h[] = {"Content-Type: application/json",
                                     "x-amz-storage-class: STANDARD_IA", NULL};
    s_differential("aws:amz:ap-southeast-2:s3", "PUT",
                   "/my-bucket/_cwexport/111111111111/state%20file%2B1.json",
                   "{\"version\":1,\"jobs\":[]}", 1, h, "IQoJb3JpZ2luX2VjEXAMPLE");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(suite_lists_every_case),
    cmocka_unit_test(header_get_header_key_duplicate),
    cmocka_unit_test(header_get_header_value_multiline),
    cmocka_unit_test(header_get_header_value_order),
    cmocka_unit_test(header_get_header_value_trim),
    cmocka_unit_test(header_get_relative_normalized),
    cmocka_unit_test(header_get_relative_relative_normalized),
    cmocka_unit_test(header_get_relative_relative_unnormalized),
    cmocka_unit_test(header_get_relative_unnormalized),
    cmocka_unit_test(header_get_slash_dot_slash_normalized),
    cmocka_unit_test(header_get_slash_dot_slash_unnormalized),
    cmocka_unit_test(header_get_slash_normalized),
    cmocka_unit_test(header_get_slash_pointless_dot_normalized),
    cmocka_unit_test(header_get_slash_pointless_dot_unnormalized),
    cmocka_unit_test(header_get_slash_unnormalized),
    cmocka_unit_test(header_get_slashes_normalized),
    cmocka_unit_test(header_get_slashes_unnormalized),
    cmocka_unit_test(header_get_space_normalized),
    cmocka_unit_test(header_get_space_unnormalized),
    cmocka_unit_test(header_get_unreserved),
    cmocka_unit_test(header_get_utf8),
    cmocka_unit_test(header_get_vanilla),
    cmocka_unit_test(header_get_vanilla_empty_query_key),
    cmocka_unit_test(header_get_vanilla_query),
    cmocka_unit_test(header_get_vanilla_query_order_encoded),
    cmocka_unit_test(header_get_vanilla_query_order_key_case),
    cmocka_unit_test(header_get_vanilla_query_unreserved),
    cmocka_unit_test(header_get_vanilla_utf8_query),
    cmocka_unit_test(header_get_vanilla_with_session_token),
    cmocka_unit_test(header_post_header_key_case),
    cmocka_unit_test(header_post_header_key_sort),
    cmocka_unit_test(header_post_header_value_case),
    cmocka_unit_test(header_post_sts_header_after),
    cmocka_unit_test(header_post_sts_header_before),
    cmocka_unit_test(header_post_vanilla),
    cmocka_unit_test(header_post_vanilla_empty_query_value),
    cmocka_unit_test(header_post_vanilla_query),
    cmocka_unit_test(header_post_x_www_form_urlencoded),
    cmocka_unit_test(header_post_x_www_form_urlencoded_parameters),
    cmocka_unit_test(query_get_header_key_duplicate),
    cmocka_unit_test(query_get_header_value_multiline),
    cmocka_unit_test(query_get_header_value_order),
    cmocka_unit_test(query_get_header_value_trim),
    cmocka_unit_test(query_get_relative_normalized),
    cmocka_unit_test(query_get_relative_relative_normalized),
    cmocka_unit_test(query_get_relative_relative_unnormalized),
    cmocka_unit_test(query_get_relative_unnormalized),
    cmocka_unit_test(query_get_slash_dot_slash_normalized),
    cmocka_unit_test(query_get_slash_dot_slash_unnormalized),
    cmocka_unit_test(query_get_slash_normalized),
    cmocka_unit_test(query_get_slash_pointless_dot_normalized),
    cmocka_unit_test(query_get_slash_pointless_dot_unnormalized),
    cmocka_unit_test(query_get_slash_unnormalized),
    cmocka_unit_test(query_get_slashes_normalized),
    cmocka_unit_test(query_get_slashes_unnormalized),
    cmocka_unit_test(query_get_space_normalized),
    cmocka_unit_test(query_get_space_unnormalized),
    cmocka_unit_test(query_get_unreserved),
    cmocka_unit_test(query_get_utf8),
    cmocka_unit_test(query_get_vanilla),
    cmocka_unit_test(query_get_vanilla_empty_query_key),
    cmocka_unit_test(query_get_vanilla_query),
    cmocka_unit_test(query_get_vanilla_query_order_encoded),
    cmocka_unit_test(query_get_vanilla_query_order_key_case),
    cmocka_unit_test(query_get_vanilla_query_unreserved),
    cmocka_unit_test(query_get_vanilla_utf8_query),
    cmocka_unit_test(query_get_vanilla_with_session_token),
    cmocka_unit_test(query_post_header_key_case),
    cmocka_unit_test(query_post_header_key_sort),
    cmocka_unit_test(query_post_header_value_case),
    cmocka_unit_test(query_post_sts_header_after),
    cmocka_unit_test(query_post_sts_header_before),
    cmocka_unit_test(query_post_vanilla),
    cmocka_unit_test(query_post_vanilla_empty_query_value),
    cmocka_unit_test(query_post_vanilla_query),
    cmocka_unit_test(query_post_x_www_form_urlencoded),
    cmocka_unit_test(query_post_x_www_form_urlencoded_parameters),
    cmocka_unit_test(signing_key_documented_example),
    cmocka_unit_test(uri_encode_rules),
    cmocka_unit_test(s3_rules_keep_path),
    cmocka_unit_test(s3_doc_get_object),
    cmocka_unit_test(s3_doc_put_object),
    cmocka_unit_test(s3_doc_get_bucket_lifecycle),
    cmocka_unit_test(s3_doc_list_objects),
    cmocka_unit_test(s3_doc_presigned_get),
    cmocka_unit_test(s3_presign_session_token),
    cmocka_unit_test(non_s3_double_encoding_and_normalisation),
    cmocka_unit_test(query_canonical_form),
    cmocka_unit_test(header_canonical_form),
    cmocka_unit_test(session_token_and_sign_body),
    cmocka_unit_test(resigning_ignores_previous_signature_headers),
    cmocka_unit_test(injected_clock),
    cmocka_unit_test(invalid_arguments),
    cmocka_unit_test(curl_differential_logs_post),
    cmocka_unit_test(curl_differential_logs_create_export_task),
    cmocka_unit_test(curl_differential_query_get),
    cmocka_unit_test(curl_differential_sns_form_post),
    cmocka_unit_test(curl_differential_s3_list),
    cmocka_unit_test(curl_differential_s3_put),
};

CWX_TEST_MAIN(tests)
