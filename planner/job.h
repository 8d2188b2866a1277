/* A job's identity, its deterministic task name and its destination prefix
 * (docs/architecture.md §job, §task-name). */
#ifndef CWX_PLANNER_JOB_H
#define CWX_PLANNER_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "planner/calendar.h"

/* "cwexport-" + 16 hex digits + NUL. */
#define CWX_TASK_NAME_SIZE 26
/* Longest S3 key AWS accepts. */
#define CWX_S3_KEY_MAX 1024
/* Longest expanded destination prefix: CloudWatch Logs writes
 * "<prefix>/<36-byte taskId>/<logStreamName>/000000.gz" and a stream name
 * can be 512 bytes, so 1024 - (1 + 36 + 1 + 512 + 10) = 464 bytes is the
 * longest prefix for which every export's keys fit. (Added to the first
 * draft of this header.) */
#define CWX_PREFIX_MAX 464

/* Everything that makes two exports the same export. Borrowed strings. */
struct cwx_job_identity {
    const char *account_id;
    const char *region;
    const char *log_group;
    const char *log_stream_prefix; /* NULL or "" when none */
    int64_t from_ms;               /* CreateExportTask `from` */
    int64_t to_ms;                 /* CreateExportTask `to` (inclusive) */
    const char *bucket;
    const char *prefix;            /* the expanded destination prefix */
};

/* Appends the canonical identity string of id to out: "cwexport-job/v1"
 * followed by each field on its own line, in the order of the struct; every
 * line, the last included, ends with '\n'; a missing log_stream_prefix is an
 * empty line; from_ms and to_ms are decimal. CWX_EINVAL when a required
 * field is NULL or empty, or any field holds a '\n' (the string would no
 * longer name one identity). */
int cwx_job_identity_string(const struct cwx_job_identity *id,
                            struct cwx_buf *out);

/* Writes "cwexport-" + the first 16 lowercase hex digits of the SHA-256 of
 * the canonical identity string into out (NUL-terminated). Allocates
 * nothing itself for identities under 2 KiB (OpenSSL's EVP_Digest allocates
 * its context). Thread-safe. */
int cwx_job_task_name(const struct cwx_job_identity *id,
                      char out[CWX_TASK_NAME_SIZE]);

/* True when name has the shape of a cwexport task name: "cwexport-" and
 * exactly 16 lowercase hex digits. */
int cwx_task_name_is_ours(const char *name);

/* The values a destination-prefix template can refer to. Borrowed. */
struct cwx_template_vars {
    const char *account;    /* {account}: the config's account name */
    const char *account_id; /* {account_id}; NULL when not yet known */
    const char *region;     /* {region} */
    const char *log_group;  /* {log_group} is this without its leading '/' */
    const struct cwx_tz *tz;          /* zone of the window */
    enum cwx_granularity granularity; /* {window}'s form */
    const struct cwx_window *window;  /* {window} {from} {yyyy} {mm} {dd} {hh} */
    /* The last window of a range (coalesce), or NULL for a single window:
     * {window} is then "<first>..<last>" ("2024-01..2024-03"), {to} the
     * last window's label; {yyyy} … stay those of the first window. */
    const struct cwx_window *window_last;
};

/* Checks a template's syntax and variable names without expanding it.
 * Returns 0 or CWX_EINVAL with *why pointing at a static phrase and *col
 * (0-based byte offset into tmpl) at the problem. Refused: an empty
 * template, a leading '/', an unclosed '{', a '}' without '{', an unknown
 * variable, a literal character outside the safe S3 set (A-Z a-z 0-9
 * ! - _ . * ' ( ) / and '#'), and, in segments without variables, "//",
 * "." and "..". Braces are only variable delimiters: there is no escape
 * for a literal brace (S3 keys should not hold braces anyway). why and col
 * may be NULL. */
int cwx_template_check(const char *tmpl, const char **why, size_t *col);

/* Expands tmpl with v into out (appended) and validates the result as an S3
 * key prefix: not empty, no leading '/', no "." or ".." segment, no "//",
 * only characters S3 keys allow safely, and room left within
 * CWX_S3_KEY_MAX for what CloudWatch Logs appends
 * ("/<taskId>/<logStream>/000000.gz"), i.e. at most CWX_PREFIX_MAX bytes.
 * A NULL account_id referenced by the template is an error (CWX_ENOTFOUND).
 * On CWX_EINVAL *why says what is wrong. Trailing '/' is removed (before
 * the checks). {yyyy} {mm} {dd} {hh} are the civil start of the window's
 * period in its zone, read from the label: a month window has {dd} 01 and
 * {hh} 00, a week window the date of its Monday (which may lie in the
 * previous {yyyy} than the ISO week-year of {window}). On any error out is
 * left as it was. tz and granularity are not needed by the expansion
 * (the label carries the period) and may be left zero. */
int cwx_template_expand(const char *tmpl, const struct cwx_template_vars *v,
                        struct cwx_buf *out, const char **why);

/* How a log group name appears in S3 keys ({log_group}, marker keys): a
 * name that starts with '/' without that '/', any other name behind
 * CWX_BARE_GROUP_MARK. Log group names cannot contain '!', so "/a/b" ("a/b")
 * and "a/b" ("!a/b") never share a key (docs/architecture.md, marker). Keys
 * written before this rule put a bare name as it is: see reconcile. */
#define CWX_BARE_GROUP_MARK '!'

/* Appends the key form of log_group (above) to out. */
int cwx_log_group_key(const char *log_group, struct cwx_buf *out);

/* The marker key of a window: "<state_prefix>/<account_id>/<region>/
 * <key form of log_group>/<label>.json". Appended to out. Trailing
 * '/' of state_prefix are dropped; an empty or NULL state_prefix leaves the
 * key starting at <account_id>. CWX_EINVAL when a part is missing or the key
 * would not be a safe S3 key (see cwx_template_expand) of at most
 * CWX_S3_KEY_MAX bytes; out is then left as it was. */
int cwx_marker_key(const char *state_prefix, const char *account_id,
                   const char *region, const char *log_group,
                   const char *window_label, struct cwx_buf *out);

#endif
