/* Unit tests of the credential providers: the ini parser and profile lookup,
 * argv splitting, the credential documents, the refresh maths, and the
 * generic provider's caching, coalescing and deferred callbacks on a loop
 * (sources without HTTP: fixed keys, the environment, credential_process,
 * configuration errors). HTTP and STS sources are tested end to end by
 * tests/integration/test_credentials.py. */
#include "aws/credentials.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/credentials_internal.h"
#include "common/error.h"
#include "testmain.h"

/* ---- ini ------------------------------------------------------------------- */

static void test_ini_basic(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF# a comment\n"
                       "; another\n"
                       "[default]\n"
                       "region = us-east-1\n"
                       "Output: json\n"
                       "\n"
                       "[profile dev]  # trailing comment\n"
                       "role_arn=arn:aws:iam::123456789012:role/x\n"
                       "credential_process = tool --flag 'a b' # not a comment\n"
                       "s3 =\n"
                       "    addressing_style = path\n"
                       "  max_concurrent_requests = 4\n"
                       "source_profile = default\r\n"
                       "[default]\n"
                       "region = eu-west-1\n";
    struct cwx__ini ini;
    char err[128] = "";
    assert_int_equal(cwx__ini_parse(text, strlen(text), &ini, err, sizeof(err)), 0);
    const struct cwx__ini_section *d = cwx__ini_section(&ini, "default");
    assert_non_null(d);
    /* A repeated section merges into the first; the later value wins. */
    assert_string_equal(cwx__ini_get(d, "region"), "eu-west-1");
    assert_string_equal(cwx__ini_get(d, "output"), "json"); /* keys lower-cased */
    const struct cwx__ini_section *dev = cwx__ini_section(&ini, "profile dev");
    assert_non_null(dev);
    assert_string_equal(cwx__ini_get(dev, "role_arn"), "arn:aws:iam::123456789012:role/x");
    assert_string_equal(cwx__ini_get(dev, "credential_process"),
                        "tool --flag 'a b' # not a comment");
    assert_string_equal(cwx__ini_get(dev, "s3"), "");
    assert_null(cwx__ini_get(dev, "addressing_style"));
    assert_null(cwx__ini_get(dev, "max_concurrent_requests"));
    assert_string_equal(cwx__ini_get(dev, "source_profile"), "default");
    assert_null(cwx__ini_section(&ini, "dev"));
    cwx__ini_free(&ini);
    assert_null(ini.sections);
}

static void test_ini_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *err;
    } cases[] = {
        {"key = value\n", "line 1: key outside of any [section]"},
        {"[default]\nregion us-east-1\n", "line 2: expected 'key = value'"},
        {"[default\n", "line 1: section header without ']'"},
        {"[]\n", "line 1: empty section name"},
        {"[a] b\n", "line 1: text after the section header"},
        {"[a]\n = v\n", "line 2: empty key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cwx__ini ini;
        char err[128] = "";
        assert_int_equal(cwx__ini_parse(cases[i].text, strlen(cases[i].text), &ini, err,
                                        sizeof(err)),
                         CWX_EPARSE);
        assert_string_equal(err, cases[i].err);
        assert_null(ini.sections);
    }
    struct cwx__ini ini;
    char err[64];
    assert_int_equal(cwx__ini_parse("", 0, &ini, err, sizeof(err)), 0);
    assert_null(ini.sections);
    const char nul[] = "[a]\nk = v\0x\n";
    assert_int_equal(cwx__ini_parse(nul, sizeof(nul) - 1, &ini, err, sizeof(err)), CWX_EPARSE);
}

/* Temporary shared files, pointed at by the environment. */
struct files {
    char dir[64];
    char config[96];
    char creds[96];
};

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void s_clear_env(void)
{
    static const char *const vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
    };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void s_files(struct files *f, const char *config, const char *creds)
{
    s_clear_env();
    snprintf(f->dir, sizeof(f->dir), "/tmp/cwx-creds-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->config, sizeof(f->config), "%s/config", f->dir);
    snprintf(f->creds, sizeof(f->creds), "%s/credentials", f->dir);
    if (config)
        s_write(f->config, config);
    if (creds)
        s_write(f->creds, creds);
    setenv("AWS_CONFIG_FILE", f->config, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", f->creds, 1);
}

static void s_files_done(struct files *f)
{
    unlink(f->config);
    unlink(f->creds);
    rmdir(f->dir);
    s_clear_env();
}

static void test_profiles_lookup(void **state)
{
    (void)state;
    struct files f;
    s_files(&f,
            "[default]\nregion = us-west-2\n"
            "[profile dev]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n"
            "[profile   spaced  ]\nregion = ap-south-1\n"
            "[dev]\nregion = ignored-in-config\n",
            "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s3cr3t\n"
            "[onlycreds]\naws_access_key_id = AKIDONLY\n");
    struct cwx__profiles p;
    char err[256];
    assert_int_equal(cwx__profiles_load(&p, err, sizeof(err)), 0);
    assert_true(cwx__profile_exists(&p, "default"));
    assert_true(cwx__profile_exists(&p, "dev"));
    assert_true(cwx__profile_exists(&p, "spaced"));
    assert_true(cwx__profile_exists(&p, "onlycreds"));
    assert_false(cwx__profile_exists(&p, "nope"));
    /* The credentials file wins over the config file. */
    assert_string_equal(cwx__profile_get(&p, "dev", "aws_access_key_id"), "AKIDDEV");
    assert_string_equal(cwx__profile_get(&p, "dev", "region"), "eu-west-1");
    assert_string_equal(cwx__profile_get(&p, "spaced", "region"), "ap-south-1");
    assert_null(cwx__profile_get(&p, "onlycreds", "region"));
    cwx__profiles_free(&p);

    char region[32];
    const char *origin = NULL;
    assert_int_equal(cwx_creds_profile_region(NULL, region, sizeof(region)), 0);
    assert_string_equal(region, "us-west-2");
    assert_int_equal(cwx_creds_profile_region("dev", region, sizeof(region)), 0);
    assert_string_equal(region, "eu-west-1");
    assert_int_equal(cwx_creds_profile_region("onlycreds", region, sizeof(region)),
                     CWX_ENOTFOUND);
    assert_int_equal(cwx_creds_profile_region("dev", region, 4), CWX_ETOOBIG);
    setenv("AWS_PROFILE", "spaced", 1);
    assert_int_equal(cwx_creds_resolve_region(NULL, NULL, region, sizeof(region), &origin), 0);
    assert_string_equal(region, "ap-south-1");
    assert_string_equal(origin, "profile");
    setenv("AWS_DEFAULT_REGION", "sa-east-1", 1);
    assert_int_equal(cwx_creds_resolve_region(NULL, NULL, region, sizeof(region), &origin), 0);
    assert_string_equal(region, "sa-east-1");
    assert_string_equal(origin, "AWS_DEFAULT_REGION");
    setenv("AWS_REGION", "us-east-2", 1);
    assert_int_equal(cwx_creds_resolve_region(NULL, "dev", region, sizeof(region), &origin), 0);
    assert_string_equal(region, "us-east-2");
    assert_string_equal(origin, "AWS_REGION");
    assert_int_equal(cwx_creds_resolve_region("ca-central-1", "dev", region, sizeof(region),
                                              &origin),
                     0);
    assert_string_equal(region, "ca-central-1");
    assert_string_equal(origin, "--region");
    s_files_done(&f);

    /* Missing files are empty ones; /dev/null too. */
    s_files(&f, NULL, NULL);
    setenv("AWS_CONFIG_FILE", "/dev/null", 1);
    assert_int_equal(cwx__profiles_load(&p, err, sizeof(err)), 0);
    assert_false(cwx__profile_exists(&p, "default"));
    cwx__profiles_free(&p);
    assert_int_equal(cwx_creds_resolve_region(NULL, NULL, region, sizeof(region), NULL),
                     CWX_ENOTFOUND);
    s_files_done(&f);

    /* A malformed file names itself and the line. */
    s_files(&f, "[default]\nregion\n", NULL);
    assert_int_equal(cwx__profiles_load(&p, err, sizeof(err)), CWX_ECRED);
    assert_non_null(strstr(err, "/config: line 2: expected 'key = value'"));
    s_files_done(&f);
}

/* ---- argv ------------------------------------------------------------------ */

static void s_assert_argv(const char *cmd, const char *const *want)
{
    char **argv = NULL;
    char err[64] = "";
    assert_int_equal(cwx__split_argv(cmd, &argv, err, sizeof(err)), 0);
    size_t i = 0;
    for (; want[i]; i++) {
        assert_non_null(argv[i]);
        assert_string_equal(argv[i], want[i]);
    }
    assert_null(argv[i]);
    cwx__argv_free(argv);
}

static void test_split_argv(void **state)
{
    (void)state;
    s_assert_argv("tool", (const char *const[]){"tool", NULL});
    s_assert_argv("  /usr/bin/tool  --a   b\t c ", (const char *const[]){
                                                     "/usr/bin/tool", "--a", "b", "c", NULL});
    s_assert_argv("tool 'a b' \"c d\" e\\ f", (const char *const[]){"tool", "a b", "c d", "e f",
                                                                     NULL});
    s_assert_argv("tool 'it''s' \"say \\\"hi\\\"\" x\"y\"'z'",
                  (const char *const[]){"tool", "its", "say \"hi\"", "xyz", NULL});
    s_assert_argv("tool '$HOME' \"$HOME\" `x` ; | & > <",
                  (const char *const[]){"tool", "$HOME", "$HOME", "`x`", ";", "|", "&", ">", "<",
                                        NULL});
    s_assert_argv("tool \"a\\nb\" 'a\\b' \"\\\\\" \"\\$\"",
                  (const char *const[]){"tool", "a\\nb", "a\\b", "\\", "$", NULL});
    s_assert_argv("tool '' \"\"", (const char *const[]){"tool", "", "", NULL});
    s_assert_argv("tool \\\n --next", (const char *const[]){"tool", "--next", NULL});

    static const struct {
        const char *cmd;
        const char *err;
    } bad[] = {
        {"tool 'open", "unterminated single quote"},
        {"tool \"open", "unterminated double quote"},
        {"tool \\", "trailing backslash"},
        {"", "empty command"},
        {"   \t ", "empty command"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char **argv = (char **)1;
        char err[64] = "";
        assert_int_equal(cwx__split_argv(bad[i].cmd, &argv, err, sizeof(err)), CWX_EPARSE);
        assert_null(argv);
        assert_string_equal(err, bad[i].err);
    }
}

/* ---- documents --------------------------------------------------------------- */

static void test_process_json(void **state)
{
    (void)state;
    struct cwx__creds_doc d;
    char err[128];
    const char *ok = "{\"Version\": 1, \"AccessKeyId\": \"AKID\", \"SecretAccessKey\": \"SECRET\","
                     " \"SessionToken\": \"TOKEN\", \"Expiration\": \"2030-01-02T03:04:05Z\"}";
    assert_int_equal(cwx__creds_parse_process_json(ok, strlen(ok), &d, err, sizeof(err)), 0);
    assert_string_equal(d.access_key_id, "AKID");
    assert_string_equal(d.secret_access_key, "SECRET");
    assert_string_equal(d.session_token, "TOKEN");
    assert_int_equal(d.expiration_ms, 1893553445000LL);
    cwx__creds_doc_free(&d);
    assert_null(d.access_key_id);

    const char *lt = "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"S\"}";
    assert_int_equal(cwx__creds_parse_process_json(lt, strlen(lt), &d, err, sizeof(err)), 0);
    assert_null(d.session_token);
    assert_int_equal(d.expiration_ms, 0);
    cwx__creds_doc_free(&d);

    static const struct {
        const char *json;
        const char *err;
    } bad[] = {
        {"not json", "the output is not a JSON object"},
        {"[1]", "the output is not a JSON object"},
        {"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", "\"Version\" is missing"},
        {"{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}",
         "unsupported \"Version\" 2 (only 1 is)"},
        {"{\"Version\":1,\"SecretAccessKey\":\"S\"}", "\"AccessKeyId\" is missing"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"\"}",
         "\"SecretAccessKey\" is missing"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":7}",
         "\"SecretAccessKey\" is not a string"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"soon\"}",
         "\"Expiration\" is not an ISO 8601 time"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(cwx__creds_parse_process_json(bad[i].json, strlen(bad[i].json), &d, err,
                                                       sizeof(err)),
                         CWX_EPARSE);
        assert_string_equal(err, bad[i].err);
        assert_null(d.access_key_id);
        assert_null(d.secret_access_key);
    }
}

static void test_metadata_json(void **state)
{
    (void)state;
    struct cwx__creds_doc d;
    char err[128];
    const char *ok = "{\"Code\":\"Success\",\"LastUpdated\":\"2024-01-01T00:00:00Z\","
                     "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"S\","
                     "\"Token\":\"T\",\"Expiration\":\"2024-01-01T06:00:00Z\"}";
    assert_int_equal(cwx__creds_parse_metadata_json(ok, strlen(ok), &d, err, sizeof(err)), 0);
    assert_string_equal(d.session_token, "T");
    assert_int_equal(d.expiration_ms, 1704088800000LL);
    cwx__creds_doc_free(&d);
    const char *ecs = "{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"S\",\"Token\":\"T\","
                      "\"Expiration\":\"2024-01-01T06:00:00Z\",\"RoleArn\":\"arn\"}";
    assert_int_equal(cwx__creds_parse_metadata_json(ecs, strlen(ecs), &d, err, sizeof(err)), 0);
    cwx__creds_doc_free(&d);
    const char *failed = "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\"}";
    assert_int_equal(cwx__creds_parse_metadata_json(failed, strlen(failed), &d, err,
                                                    sizeof(err)),
                     CWX_EPARSE);
    assert_string_equal(err, "\"Code\" is \"AssumeRoleUnauthorizedAccess\", not \"Success\"");
    const char *notoken = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
                          "\"Expiration\":\"2024-01-01T06:00:00Z\"}";
    assert_int_equal(cwx__creds_parse_metadata_json(notoken, strlen(notoken), &d, err,
                                                    sizeof(err)),
                     CWX_EPARSE);
    assert_string_equal(err, "\"Token\" is missing");
}

/* ---- time and refresh maths ------------------------------------------------------ */

static void test_parse_time(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(cwx__creds_parse_time("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(cwx__creds_parse_time("2024-02-29T12:34:56Z", &ms), 0);
    assert_int_equal(ms, 1709210096000LL);
    assert_int_equal(cwx__creds_parse_time("2024-02-29T12:34:56.789Z", &ms), 0);
    assert_int_equal(ms, 1709210096789LL);
    assert_int_equal(cwx__creds_parse_time("2024-02-29T12:34:56.7891234Z", &ms), 0);
    assert_int_equal(ms, 1709210096789LL);
    assert_int_equal(cwx__creds_parse_time("2024-02-29T14:34:56+02:00", &ms), 0);
    assert_int_equal(ms, 1709210096000LL);
    assert_int_equal(cwx__creds_parse_time("2024-02-29T07:04:56-0530", &ms), 0);
    assert_int_equal(ms, 1709210096000LL);
    assert_int_equal(cwx__creds_parse_time("2024-02-29 12:34:56Z", &ms), 0);
    static const char *const bad[] = {
        "",     "2024-02-29",           "2024-02-29T12:34:56",  "2024-13-01T00:00:00Z",
        "x",    "2024-02-30T00:00:00Z", "2024-02-29T24:00:00Z", "2024-02-29T12:34:56Zjunk",
        "2024-02-29T12:34:56.Z", "2024-2-29T12:34:56Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(cwx__creds_parse_time(bad[i], &ms), CWX_EPARSE);
    assert_int_equal(cwx__creds_parse_time(NULL, &ms), CWX_EPARSE);
}

static void test_refresh_margin(void **state)
{
    (void)state;
    const int64_t t0 = 1700000000000LL, min = 60000;
    /* An hour-long session: refreshed 5 minutes before it ends. */
    assert_int_equal(cwx__creds_refresh_margin_ms(t0, t0 + 60 * min), 5 * min);
    assert_int_equal(cwx__creds_refresh_margin_ms(t0, t0 + 12 * 60 * min), 5 * min);
    /* Exactly 20 minutes: a quarter is 5 minutes either way. */
    assert_int_equal(cwx__creds_refresh_margin_ms(t0, t0 + 20 * min), 5 * min);
    /* Shorter lifetimes: a quarter of it. */
    assert_int_equal(cwx__creds_refresh_margin_ms(t0, t0 + 10 * min), 150000);
    assert_int_equal(cwx__creds_refresh_margin_ms(t0, t0 + 4000), 1000);
    assert_int_equal(cwx__creds_refresh_margin_ms(t0, t0), 0);
    assert_int_equal(cwx__creds_refresh_margin_ms(t0, t0 - 5), 0);

    /* Never expiring: never refreshed. */
    assert_false(cwx__creds_needs_refresh(t0 + 1000 * min, t0, 0));
    /* An hour: fresh until 55 minutes in. */
    assert_false(cwx__creds_needs_refresh(t0, t0, t0 + 60 * min));
    assert_false(cwx__creds_needs_refresh(t0 + 55 * min - 1, t0, t0 + 60 * min));
    assert_true(cwx__creds_needs_refresh(t0 + 55 * min, t0, t0 + 60 * min));
    assert_true(cwx__creds_needs_refresh(t0 + 61 * min, t0, t0 + 60 * min));
    /* Ten minutes: refreshed at 7.5. */
    assert_false(cwx__creds_needs_refresh(t0 + 450000 - 1, t0, t0 + 10 * min));
    assert_true(cwx__creds_needs_refresh(t0 + 450000, t0, t0 + 10 * min));
    /* Already expired when fetched. */
    assert_true(cwx__creds_needs_refresh(t0, t0, t0 - 1));
}

/* ---- the provider on a loop --------------------------------------------------------- */

struct got {
    int calls;
    int status;
    int in_get; /* set while cwx_creds_get runs: a callback then is a bug */
    char akid[64];
    char secret[64];
    char token[64];
    char source[256];
    char detail[512];
    int64_t expiration_ms;
};

static void s_on_creds(int status, const struct cwx_credentials *c, const char *detail, void *ud)
{
    struct got *g = ud;
    assert_false(g->in_get);
    g->calls++;
    g->status = status;
    g->detail[0] = g->akid[0] = g->secret[0] = g->token[0] = g->source[0] = '\0';
    if (status == 0) {
        assert_non_null(c);
        assert_null(detail);
        snprintf(g->akid, sizeof(g->akid), "%s", c->access_key_id);
        snprintf(g->secret, sizeof(g->secret), "%s", c->secret_access_key);
        snprintf(g->token, sizeof(g->token), "%s", c->session_token ? c->session_token : "");
        snprintf(g->source, sizeof(g->source), "%s", c->source);
        g->expiration_ms = c->expiration_ms;
    } else {
        assert_null(c);
        assert_non_null(detail);
        snprintf(g->detail, sizeof(g->detail), "%s", detail);
    }
}

static void s_get(struct cwx_creds_provider *p, struct got *g)
{
    g->in_get = 1;
    assert_int_equal(cwx_creds_get(p, s_on_creds, g), 0);
    g->in_get = 0;
}

static void s_loop_done(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void test_static_cached_and_deferred(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cwx_creds_provider *p = NULL;
    assert_int_equal(cwx_creds_provider_static(&loop, "AKIDSTATIC", "sekrit", NULL, 0, NULL, &p),
                     0);
    assert_string_equal(cwx_creds_provider_source(p), "static");
    struct got a = {0}, b = {0}, c = {0};
    s_get(p, &a);
    s_get(p, &b);
    assert_int_equal(a.calls + b.calls, 0); /* never from inside the get */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_string_equal(a.akid, "AKIDSTATIC");
    assert_string_equal(b.secret, "sekrit");
    assert_string_equal(a.token, "");
    assert_string_equal(a.source, "static");
    s_get(p, &c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(c.calls, 1);
    struct cwx_creds_stats st;
    cwx_creds_get_stats(p, &st);
    assert_int_equal(st.gets, 3);
    assert_int_equal(st.fetches, 1); /* two coalesced, one from cache */
    cwx_creds_provider_free(p);
    s_loop_done(&loop);
    assert_int_equal(cwx_creds_provider_static(&loop, "", "x", NULL, 0, NULL, &p), CWX_EINVAL);
}

/* A callback that gets again and frees the provider from inside. */
struct reentry {
    struct cwx_creds_provider *p;
    struct got inner;
    int calls;
};

static void s_on_reenter(int status, const struct cwx_credentials *c, const char *detail,
                         void *ud)
{
    struct reentry *r = ud;
    (void)c;
    (void)detail;
    assert_int_equal(status, 0);
    r->calls++;
    s_get(r->p, &r->inner);
    cwx_creds_provider_free(r->p);
    assert_int_equal(r->inner.calls, 0);
}

static void test_reentrant_get_and_free(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct reentry r = {0};
    assert_int_equal(cwx_creds_provider_static(&loop, "AKID", "s", "tok", 0, "unit", &r.p), 0);
    assert_int_equal(cwx_creds_get(r.p, s_on_reenter, &r), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 1);
    /* The get made inside the callback was served from the cache, on the
     * next iteration, even though the provider was freed meanwhile. */
    assert_int_equal(r.inner.calls, 1);
    assert_int_equal(r.inner.status, 0);
    assert_string_equal(r.inner.token, "tok");
    s_loop_done(&loop);
}

static void test_env_source(void **state)
{
    (void)state;
    struct files f;
    s_files(&f, "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n"
                "[profile other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = o\n",
            NULL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2999-01-01T00:00:00Z", 1);
    struct cwx_creds_provider *p = NULL;
    assert_int_equal(cwx__creds_build(&loop, NULL, NULL, &p), 0);
    assert_string_equal(cwx_creds_provider_source(p), "environment");
    struct got g = {0};
    s_get(p, &g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(g.status, 0);
    assert_string_equal(g.akid, "AKIDENV");
    assert_string_equal(g.token, "envtoken");
    assert_int_equal(g.expiration_ms, 32472144000000LL);
    cwx_creds_provider_free(p);

    /* An explicit profile overrides the environment's keys. */
    struct cwx_creds_options o = {.profile = "other"};
    assert_int_equal(cwx__creds_build(&loop, NULL, &o, &p), 0);
    assert_string_equal(cwx_creds_provider_source(p), "profile:other");
    cwx_creds_provider_free(p);

    /* Half of a key pair is a configuration error. */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(cwx__creds_build(&loop, NULL, NULL, &p), 0);
    assert_string_equal(cwx_creds_provider_source(p), "none");
    s_get(p, &g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(g.status, CWX_ECRED);
    assert_string_equal(g.detail,
                        "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    cwx_creds_provider_free(p);

    /* Expired environment credentials are refused. */
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z", 1);
    assert_int_equal(cwx__creds_build(&loop, NULL, NULL, &p), 0);
    s_get(p, &g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(g.status, CWX_ECRED);
    assert_non_null(strstr(g.detail, "expired"));
    cwx_creds_provider_free(p);

    /* Without the environment, AWS_PROFILE picks the profile. */
    s_clear_env();
    setenv("AWS_CONFIG_FILE", f.config, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", f.creds, 1);
    assert_int_equal(cwx__creds_build(&loop, NULL, NULL, &p), 0);
    assert_string_equal(cwx_creds_provider_source(p), "profile:default");
    s_get(p, &g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(g.status, 0);
    assert_string_equal(g.akid, "AKIDFILE");
    assert_string_equal(g.source, "profile:default");
    cwx_creds_provider_free(p);
    setenv("AWS_PROFILE", "other", 1);
    assert_int_equal(cwx__creds_build(&loop, NULL, NULL, &p), 0);
    assert_string_equal(cwx_creds_provider_source(p), "profile:other");
    cwx_creds_provider_free(p);
    setenv("AWS_PROFILE", "missing", 1);
    assert_int_equal(cwx__creds_build(&loop, NULL, NULL, &p), 0);
    s_get(p, &g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(g.status, CWX_ECRED);
    assert_non_null(strstr(g.detail, "profile missing not found in "));
    cwx_creds_provider_free(p);
    s_loop_done(&loop);
    s_files_done(&f);
}

/* The source a configuration resolves to, or the error it gives. */
static void s_expect(const char *profile, const char *source, const char *detail_part)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cwx_creds_options o = {.profile = profile};
    struct cwx_creds_provider *p = NULL;
    assert_int_equal(cwx__creds_build(&loop, NULL, &o, &p), 0);
    assert_string_equal(cwx_creds_provider_source(p), source);
    if (detail_part) {
        struct got g = {0};
        s_get(p, &g);
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_int_equal(g.status, CWX_ECRED);
        if (!strstr(g.detail, detail_part))
            fail_msg("detail \"%s\" lacks \"%s\"", g.detail, detail_part);
    }
    cwx_creds_provider_free(p);
    s_loop_done(&loop);
}

static void test_profile_chains(void **state)
{
    (void)state;
    struct files f;
    s_files(&f,
            "[profile base]\nregion = eu-west-1\n"
            "[profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n"
            "[profile b]\nrole_arn = arn:aws:iam::111111111111:role/b\nsource_profile = a\n"
            "[profile self]\nrole_arn = arn:aws:iam::111111111111:role/s\nsource_profile = self\n"
            "aws_access_key_id = AKIDSELF\naws_secret_access_key = x\n"
            "[profile loop1]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = loop2\n"
            "[profile loop2]\nrole_arn = arn:aws:iam::1:role/y\nsource_profile = loop1\n"
            "[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n"
            "credential_source = Environment\n"
            "[profile neither]\nrole_arn = arn:aws:iam::1:role/x\n"
            "[profile envsrc]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\n"
            "[profile imdssrc]\nrole_arn = arn:aws:iam::1:role/x\n"
            "credential_source = Ec2InstanceMetadata\n"
            "[profile ecssrc]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = EcsContainer\n"
            "[profile badsrc]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Floppy\n"
            "[profile web]\nrole_arn = arn:aws:iam::1:role/w\nweb_identity_token_file = /t\n"
            "[profile proc]\ncredential_process = /bin/true\n"
            "[profile half]\naws_access_key_id = AKID\n"
            "[profile sso]\nsso_session = corp\n"
            "[profile ssook]\nsso_session = corp2\nsso_account_id = 1\nsso_role_name = r\n"
            "[sso-session corp2]\nsso_start_url = https://x.awsapps.com/start\n"
            "sso_region = us-east-1\n"
            "[profile ssolegacy]\nsso_start_url = https://x.awsapps.com/start\n"
            "sso_region = us-east-1\nsso_account_id = 1\n"
            "[profile mfa]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n"
            "mfa_serial = arn:aws:iam::1:mfa/me\n"
            "[profile dur]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n"
            "duration_seconds = 60\n"
            "[profile ghost]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = nowhere\n"
            "[profile regiononly]\nregion = us-east-1\n",
            "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = basesecret\n");
    s_expect("base", "profile:base", NULL);
    s_expect("a", "profile:a/assume-role <- profile:base", NULL);
    s_expect("b", "profile:b/assume-role <- profile:a/assume-role <- profile:base", NULL);
    s_expect("self", "profile:self/assume-role <- profile:self", NULL);
    s_expect("loop1", "none", "source_profile cycle: loop1 -> loop2 -> loop1");
    s_expect("both", "none", "mutually exclusive");
    s_expect("neither", "none", "role_arn needs source_profile or credential_source");
    s_expect("envsrc", "none", "credential_source Environment, but");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    s_expect("envsrc", "profile:envsrc/assume-role <- environment", NULL);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    s_expect("imdssrc", "none", "AWS_EC2_METADATA_DISABLED is true");
    unsetenv("AWS_EC2_METADATA_DISABLED");
    s_expect("imdssrc", "profile:imdssrc/assume-role <- imds", NULL);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    s_expect("ecssrc", "none", "credential_source EcsContainer, but neither");
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x", 1);
    s_expect("ecssrc", "profile:ecssrc/assume-role <- ecs", NULL);
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    s_expect("badsrc", "none", "credential_source Floppy is not one of");
    s_expect("web", "profile:web/web-identity", NULL);
    s_expect("proc", "profile:proc/process", NULL);
    s_expect("half", "none", "profile half: aws_access_key_id is set but aws_secret_access_key");
    s_expect("sso", "none", "sso_session corp has no [sso-session corp] section");
    s_expect("ssook", "profile:ssook/sso", NULL);
    s_expect("ssolegacy", "none", "IAM Identity Center needs sso_role_name");
    s_expect("mfa", "none", "mfa_serial");
    s_expect("dur", "none", "duration_seconds must be");
    s_expect("ghost", "none", "source_profile nowhere not found");
    /* A profile with no credentials falls through to ECS, then IMDS. */
    s_expect("regiononly", "none", "no credentials: none in the environment");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds", 1);
    s_expect("regiononly", "ecs", NULL);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds", 1);
    s_expect("regiononly", "none", "must be https or use a loopback or container host");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/x", 1);
    s_expect("regiononly", "ecs", NULL);
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    unsetenv("AWS_EC2_METADATA_DISABLED");
    s_expect("regiononly", "imds", NULL);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);

    /* Web identity from the environment comes before the files. */
    s_clear_env();
    setenv("AWS_CONFIG_FILE", f.config, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", f.creds, 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token", 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/w", 1);
    s_expect(NULL, "web-identity", NULL);
    /* The per-account role wraps whatever the chain found. */
    {
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct cwx_creds_options o = {.profile = "a", .role_arn = "arn:aws:iam::2:role/r"};
        struct cwx_creds_provider *p = NULL;
        assert_int_equal(cwx__creds_build(&loop, NULL, &o, &p), 0);
        assert_string_equal(cwx_creds_provider_source(p),
                            "assume-role <- profile:a/assume-role <- profile:base");
        /* Without an AWS context the role cannot be assumed; the detail
         * says so and names the role. */
        struct got g = {0};
        s_get(p, &g);
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_int_equal(g.status, CWX_ECRED);
        assert_non_null(strstr(g.detail, "sts:AssumeRole arn:aws:iam::2:role/r"));
        assert_null(strstr(g.detail, "basesecret"));
        cwx_creds_provider_free(p);
        s_loop_done(&loop);
    }
    s_files_done(&f);
}

/* The token cache file names the CLI uses: SHA-1 of the session name, or of
 * the start URL for a legacy profile. */
static void test_sso_cache_path(void **state)
{
    (void)state;
    char *path = NULL;
    assert_int_equal(cwx__sso_cache_path("/c", "corp", "https://x.awsapps.com/start", &path), 0);
    /* printf corp | sha1sum */
    assert_string_equal(path, "/c/ee0bfd2552fbd840c02cc48b6e823320543c450f.json");
    free(path);
    assert_int_equal(cwx__sso_cache_path("/c", NULL, "https://fake.awsapps.com/start", &path), 0);
    assert_string_equal(path, "/c/13d964f74e530cef34c9cc5577ad15501abebe0e.json");
    free(path);
}

static void test_credential_process(void **state)
{
    (void)state;
    char dir[] = "/tmp/cwx-proc-XXXXXX", script[128], count[128], cmd[512];
    assert_non_null(mkdtemp(dir));
    snprintf(script, sizeof(script), "%s/creds tool.sh", dir);
    snprintf(count, sizeof(count), "%s/count", dir);
    s_write(script, "#!/bin/sh\n"
                    "echo run >> \"$2\"\n"
                    "case \"$1\" in\n"
                    "ok) printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
                    "\"SecretAccessKey\": \"procsecret\", \"SessionToken\": \"proctoken\", "
                    "\"Expiration\": \"2999-01-01T00:00:00Z\"}' ;;\n"
                    "fail) echo 'first line of trouble' >&2; echo second >&2; exit 3 ;;\n"
                    "garbage) echo 'not json' ;;\n"
                    "expired) printf '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":"
                    "\"S\",\"Expiration\":\"2001-01-01T00:00:00Z\"}' ;;\n"
                    "big) head -c 2000000 /dev/zero ;;\n"
                    "esac\n");
    assert_int_equal(chmod(script, 0700), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    static const struct {
        const char *arg;
        int status;
        const char *detail;
    } cases[] = {
        {"ok", 0, NULL},
        {"fail", CWX_ECRED, "credential_process of profile t (" /* program */},
        {"garbage", CWX_ECRED, "the output is not a JSON object"},
        {"expired", CWX_ECRED, "the credentials it returned have expired"},
        {"big", CWX_ECRED, "output larger than"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Quoted: the script's path has a blank in it. */
        snprintf(cmd, sizeof(cmd), "'%s' %s \"%s\"", script, cases[i].arg, count);
        struct cwx_creds_provider *p = NULL;
        assert_int_equal(cwx__creds_process_new(&loop, "profile:t/process", "profile t", cmd, &p),
                         0);
        struct got a = {0}, b = {0};
        s_get(p, &a);
        s_get(p, &b);
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_int_equal(a.calls, 1);
        assert_int_equal(b.calls, 1);
        assert_int_equal(a.status, cases[i].status);
        assert_int_equal(b.status, cases[i].status);
        if (cases[i].status == 0) {
            assert_string_equal(a.akid, "AKIDPROC");
            assert_string_equal(a.secret, "procsecret");
            assert_string_equal(a.token, "proctoken");
            assert_string_equal(a.source, "profile:t/process");
        } else {
            if (!strstr(a.detail, cases[i].detail))
                fail_msg("detail \"%s\" lacks \"%s\"", a.detail, cases[i].detail);
        }
        if (strcmp(cases[i].arg, "fail") == 0) {
            assert_non_null(strstr(a.detail, "exit status 3: first line of trouble"));
            assert_null(strstr(a.detail, "second"));
        }
        struct cwx_creds_stats st;
        cwx_creds_get_stats(p, &st);
        assert_int_equal(st.fetches, 1); /* two gets, one run */
        cwx_creds_provider_free(p);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    /* A program that does not exist. */
    struct cwx_creds_provider *p = NULL;
    assert_int_equal(cwx__creds_process_new(&loop, "profile:t/process", "profile t",
                                            "/nonexistent/tool --x", &p),
                     0);
    struct got g = {0};
    s_get(p, &g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(g.status, CWX_ECRED);
    assert_string_equal(g.detail, "credential_process of profile t: cannot run "
                                  "/nonexistent/tool: no such file or directory");
    cwx_creds_provider_free(p);
    /* Freed while the process runs: the waiter is canceled, the child
     * killed, and everything closes. */
    snprintf(cmd, sizeof(cmd), "sleep 30");
    assert_int_equal(cwx__creds_process_new(&loop, "x", "profile t", cmd, &p), 0);
    s_get(p, &g);
    uv_run(&loop, UV_RUN_NOWAIT);
    cwx_creds_provider_free(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(g.status, CWX_ECANCELED);
    s_loop_done(&loop);

    unlink(script);
    unlink(count);
    rmdir(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ini_basic),
    cmocka_unit_test(test_ini_errors),
    cmocka_unit_test(test_profiles_lookup),
    cmocka_unit_test(test_split_argv),
    cmocka_unit_test(test_process_json),
    cmocka_unit_test(test_metadata_json),
    cmocka_unit_test(test_parse_time),
    cmocka_unit_test(test_refresh_margin),
    cmocka_unit_test(test_static_cached_and_deferred),
    cmocka_unit_test(test_reentrant_get_and_free),
    cmocka_unit_test(test_env_source),
    cmocka_unit_test(test_profile_chains),
    cmocka_unit_test(test_credential_process),
    cmocka_unit_test(test_sso_cache_path),
};

CWX_TEST_MAIN(tests)
