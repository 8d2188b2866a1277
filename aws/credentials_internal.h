/* Internals of the credential providers (aws/credentials.c, creds_files.c,
 * creds_process.c, creds_http.c, creds_sts.c): the generic cached provider
 * every source is built on, and the pure pieces the unit tests reach
 * (ini parsing, argv splitting, credential documents, refresh maths).
 * Not part of the module's public interface. */
#ifndef CWX_AWS_CREDENTIALS_INTERNAL_H
#define CWX_AWS_CREDENTIALS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aws/credentials.h"

struct cwx_http_response;

/* ---- time and the refresh margin ----------------------------------------- */

/* Wall-clock time, epoch ms. */
int64_t cwx__creds_wall_ms(void);

/* "2024-03-07T05:06:07Z", with an optional fraction and a "Z" or "+hh:mm" /
 * "-hhmm" offset → epoch ms. Returns 0 or CWX_EPARSE. */
int cwx__creds_parse_time(const char *s, int64_t *out_ms);

/* How long before expires_ms credentials fetched at fetched_ms are refreshed:
 * 5 minutes, or a quarter of their lifetime when that is shorter. */
int64_t cwx__creds_refresh_margin_ms(int64_t fetched_ms, int64_t expires_ms);

/* 1 when credentials fetched at fetched_ms expiring at expires_ms (0 = never)
 * are due for a refresh at now_ms, else 0. */
int cwx__creds_needs_refresh(int64_t now_ms, int64_t fetched_ms, int64_t expires_ms);

/* ---- ini files (~/.aws/config, ~/.aws/credentials) ------------------------ */

/* One `key = value`. Keys are lower-cased (as botocore's configparser does);
 * values are trimmed and may be secrets: they are wiped on free. */
struct cwx__ini_kv {
    char *key;
    char *value;
    struct cwx__ini_kv *next;
};

/* One `[name]` section, name trimmed but otherwise as written. */
struct cwx__ini_section {
    char *name;
    struct cwx__ini_kv *kvs;
    struct cwx__ini_section *next;
};

struct cwx__ini {
    struct cwx__ini_section *sections;
};

/* Parses the AWS flavour of ini: `[section]` lines (a trailing `#` or `;`
 * comment allowed), `key = value` or `key: value` lines, whole-line comments
 * starting with `#` or `;`, blank lines; indented lines after a `key =` with
 * no value are that key's sub-properties (`s3 =\n  addressing_style = …`),
 * kept as "s3.addressing_style". Values keep inline `#` and `;` (as botocore does). A later
 * duplicate section is merged into the first; a later duplicate key wins.
 * Returns 0 and fills *out (free with cwx__ini_free), or CWX_EPARSE with
 * "line N: …" in err, or CWX_ENOMEM. */
int cwx__ini_parse(const char *text, size_t len, struct cwx__ini *out, char *err,
                   size_t err_size);
/* Wipes values and frees everything; *ini is empty afterwards. */
void cwx__ini_free(struct cwx__ini *ini);
const struct cwx__ini_section *cwx__ini_section(const struct cwx__ini *ini,
                                                const char *name);
/* The value of key in s (lower-case key), or NULL. */
const char *cwx__ini_get(const struct cwx__ini_section *s, const char *key);

/* Both shared files, parsed. Paths come from AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials
 * ("~" is $HOME). A missing file is an empty one. */
struct cwx__profiles {
    char *config_path;
    char *credentials_path;
    struct cwx__ini config;
    struct cwx__ini credentials;
};

/* Loads the files. Returns 0, or CWX_ECRED with the file and the reason in
 * err (unreadable, too big, malformed), or CWX_ENOMEM. */
int cwx__profiles_load(struct cwx__profiles *out, char *err, size_t err_size);
void cwx__profiles_free(struct cwx__profiles *p);
/* 1 when profile name has a section in either file. In the config file the
 * section is `[profile NAME]` (or `[default]` / `[profile default]`); in the
 * credentials file `[NAME]`. */
int cwx__profile_exists(const struct cwx__profiles *p, const char *name);
/* The value of key in profile name: the credentials file wins over the config
 * file (botocore's merge). NULL when absent or empty. */
const char *cwx__profile_get(const struct cwx__profiles *p, const char *name,
                             const char *key);

/* A section `[KIND NAME]` of the config file (`sso-session`, `services`),
 * or NULL. */
const struct cwx__ini_section *cwx__config_section(const struct cwx__profiles *p,
                                                   const char *kind, const char *name);

/* ---- credential_process --------------------------------------------------- */

/* Splits a command line into a NULL-terminated argv the POSIX shell way,
 * without a shell: blanks separate words; '…' is literal; "…" keeps blanks
 * and takes backslash escapes of \ " $ ` and newline; a backslash outside
 * quotes escapes the next character. No expansion of any kind. Returns 0 and
 * *argv_out (free with cwx__argv_free), or CWX_EPARSE (unterminated quote,
 * trailing backslash, empty command) with the reason in err, or CWX_ENOMEM. */
int cwx__split_argv(const char *cmd, char ***argv_out, char *err, size_t err_size);
void cwx__argv_free(char **argv);

/* A parsed credentials document. Strings are malloc'd; secret and token are
 * wiped by cwx__creds_doc_free. expiration_ms 0 = does not expire. */
struct cwx__creds_doc {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
    int64_t expiration_ms;
};

void cwx__creds_doc_free(struct cwx__creds_doc *d);

/* credential_process output: {"Version": 1, "AccessKeyId", "SecretAccessKey",
 * "SessionToken"?, "Expiration"? (ISO 8601)}. Returns 0 or CWX_EPARSE with a
 * reason that never quotes a value. The parse tree is wiped before it is
 * freed. */
int cwx__creds_parse_process_json(const char *text, size_t len, struct cwx__creds_doc *out,
                                  char *err, size_t err_size);
/* ECS container / EC2 instance metadata answer: {"AccessKeyId",
 * "SecretAccessKey", "Token", "Expiration", "Code"? (must be "Success" when
 * present)}. Same contract. */
int cwx__creds_parse_metadata_json(const char *text, size_t len, struct cwx__creds_doc *out,
                                   char *err, size_t err_size);

/* ---- the generic provider -------------------------------------------------- */

/* What each source does; the generic part caches, coalesces and delivers. */
struct cwx__creds_vtable {
    /* Starts one fetch. It must end with exactly one cwx__creds_fetched(),
     * which may come from inside fetch itself. */
    void (*fetch)(struct cwx_creds_provider *p);
    /* The provider was freed while a fetch runs: stop it early if possible
     * (it still ends with cwx__creds_fetched). May be NULL. */
    void (*cancel)(struct cwx_creds_provider *p);
    /* Frees what impl owns (never NULL here); the provider frees impl itself
     * right after. Called once, when nothing is in flight any more. May be
     * NULL when impl owns nothing. */
    void (*destroy)(void *impl);
};

struct cwx__creds_snap;
struct cwx__creds_waiter;

struct cwx_creds_provider {
    const struct cwx__creds_vtable *vt;
    void *impl;        /* the source's state (heap), owned; see vt->destroy */
    uv_loop_t *loop;
    struct cwx_aws *aws; /* NULL when the source needs no HTTP (tests) */
    char *source;      /* "environment", "profile:dev", "imds", … */
    int refs;          /* owner + fetch in flight + delivery pending */
    int closing;       /* cwx_creds_provider_free was called */
    int fetching;      /* a fetch is in flight */
    struct cwx__creds_snap *cache; /* last good credentials, or NULL */
    struct cwx__creds_waiter *pending; /* waiting on the fetch in flight */
    struct cwx__creds_waiter *ready;   /* to be called back from the idle */
    uv_idle_t idle;    /* defers callbacks to the next loop iteration */
    int idle_active;
    struct cwx_creds_stats stats;
};

/* Allocates a provider for vt with impl, unless rc (the result of making
 * impl) says that failed. impl is owned from
 * here on: on any failure it is destroyed (vt->destroy, then free) and the
 * error returned. source is copied. */
int cwx__creds_provider_new(int rc, uv_loop_t *loop, struct cwx_aws *aws,
                            const struct cwx__creds_vtable *vt, void *impl,
                            const char *source, struct cwx_creds_provider **out);

/* Ends the fetch in flight. status 0: doc's strings move into the cache
 * (doc is left zeroed). Otherwise detail says which source and what failed
 * (no secret in it). Waiters are called back from the next loop iteration.
 * A failed refresh while the cached credentials have not expired yet
 * delivers those (with a warning), as the SDKs' advisory refresh does. */
void cwx__creds_fetched(struct cwx_creds_provider *p, int status,
                        struct cwx__creds_doc *doc, const char *detail);

/* The sources. Strings are copied. */
int cwx__creds_error_new(uv_loop_t *loop, int status, const char *detail,
                         struct cwx_creds_provider **out);
/* Re-reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
 * AWS_CREDENTIAL_EXPIRATION on each fetch. */
int cwx__creds_env_new(uv_loop_t *loop, struct cwx_creds_provider **out);
int cwx__creds_static_new(uv_loop_t *loop, const char *source, const char *access_key_id,
                          const char *secret_access_key, const char *session_token,
                          int64_t expiration_ms, struct cwx_creds_provider **out);
/* Runs command (split with cwx__split_argv, no shell) on each fetch.
 * what names it in errors ("profile dev"). */
int cwx__creds_process_new(uv_loop_t *loop, const char *source, const char *what,
                           const char *command, struct cwx_creds_provider **out);
/* ECS: url is the full credentials URL (already validated). The
 * authorization token is re-read from the environment (and token file) on
 * each fetch. */
int cwx__creds_ecs_new(uv_loop_t *loop, struct cwx_aws *aws, const char *source,
                       const char *url, struct cwx_creds_provider **out);
/* The ECS URL from AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI:
 * returns 0 and *url (malloc'd), CWX_ENOTFOUND when neither is set, or
 * CWX_ECRED with the reason in err (a full URI that is neither https nor a
 * loopback / container host). */
int cwx__creds_ecs_url(char **url, char *err, size_t err_size);
/* EC2 IMDSv2 at endpoint ("http://169.254.169.254"). */
int cwx__creds_imds_new(uv_loop_t *loop, struct cwx_aws *aws, const char *source,
                        const char *endpoint, struct cwx_creds_provider **out);

/* sts:AssumeRole with base's credentials. base is owned from here on (also on
 * failure). */
struct cwx__assume_role_params {
    const char *role_arn;
    const char *external_id;  /* NULL = none */
    const char *session_name; /* NULL = "cwexport-<epoch s>" */
    int duration_seconds;     /* 0 = STS default */
    const char *region;       /* STS region; NULL = us-east-1 */
};
int cwx__creds_assume_role_new(uv_loop_t *loop, struct cwx_aws *aws,
                               struct cwx_creds_provider *base,
                               const struct cwx__assume_role_params *params,
                               const char *source, struct cwx_creds_provider **out);
/* sts:AssumeRoleWithWebIdentity, the token file re-read on each fetch. */
struct cwx__web_identity_params {
    const char *role_arn;
    const char *token_file;
    const char *session_name; /* NULL = "cwexport-<epoch s>" */
    int duration_seconds;
    const char *region;
};
int cwx__creds_web_identity_new(uv_loop_t *loop, struct cwx_aws *aws,
                                const struct cwx__web_identity_params *params,
                                const char *source, struct cwx_creds_provider **out);

/* IAM Identity Center (SSO): the token `aws sso login` cached, refreshed
 * through SSO OIDC CreateToken when it is near expiry (sso_session profiles
 * only, as the CLI does), then sso:GetRoleCredentials. */
struct cwx__sso_params {
    const char *profile;      /* the profile holding the SSO settings (the hint names it) */
    const char *session_name; /* sso_session; NULL for a legacy profile */
    const char *start_url;
    const char *region;       /* sso_region */
    const char *account_id;
    const char *role_name;
    const char *cache_dir;    /* NULL = $HOME/.aws/sso/cache */
};
int cwx__creds_sso_new(uv_loop_t *loop, struct cwx_aws *aws, const struct cwx__sso_params *params,
                       const char *source, struct cwx_creds_provider **out);
/* The cache file of a session (or, legacy, of a start URL):
 * dir/<hex SHA-1 of session_name, else of start_url>.json; dir NULL =
 * $HOME/.aws/sso/cache. *out is malloc'd. Returns 0 or CWX_ENOMEM. */
int cwx__sso_cache_path(const char *dir, const char *session_name, const char *start_url,
                        char **out);
/* The SSO token is refreshed when it has less than this left (the CLI's). */
#define CWX__SSO_REFRESH_WINDOW_MS (15 * 60 * 1000)

/* The chain of docs/architecture.md §aws-layer on loop. aws may be NULL (unit tests): sources
 * that need HTTP then fail when fetched. */
int cwx__creds_build(uv_loop_t *loop, struct cwx_aws *aws, const struct cwx_creds_options *opts,
                     struct cwx_creds_provider **out);

/* Small helpers shared by the sources. */
/* Reads a small file whole (at most max bytes) into *out (malloc'd,
 * NUL-terminated; wipe it when secret). Returns 0, CWX_ENOTFOUND,
 * CWX_ETOOBIG, CWX_EIO or CWX_ENOMEM; errno-style reason in err. */
int cwx__creds_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                         size_t err_size);
/* Copies at most size-1 bytes of the first line of s into out, replacing
 * control characters: for quoting untrusted output in details. */
void cwx__creds_first_line(const char *s, size_t len, char *out, size_t size);
/* Wipes every string of a cJSON tree (a cJSON *, void here so that this
 * header does not need cJSON's), then frees it. NULL is fine. */
void cwx__creds_json_delete(void *root);
/* The transport frees an answer after our callback returns; an answer that
 * carried credentials is wiped first with this (the struct is the
 * transport's, the bytes are ours to scrub). NULL is fine. */
void cwx__creds_wipe_body(const struct cwx_http_response *resp);
/* getenv that treats "" as unset. */
const char *cwx__creds_env(const char *name);

#endif
