/* Shared by the files that load a config (docs/config-reference.md); not
 * part of the planner's public interface.
 *
 *   config_yaml.c    reading YAML: the node tree with its positions, the alias
 *                    accounting, ${VAR} expansion and FILE:LINE:COL errors
 *   config_value.c   scalar values: their shapes (regions, ARNs, bucket names,
 *                    durations, sizes) and the typed readers of one node
 *   config_schema.c  the schema: mappings and their keys, ranges and every
 *                    settings section (destination, poll, lease, ...)
 *   config_model.c   the model: built-in defaults and their inheritance from
 *                    defaults to accounts to log groups, the public entry points
 *
 * Every value a config can hold is copied into the cwx_config being built as
 * soon as it is validated, so that any error path ends in one
 * cwx_config_free() of the partial config and nothing leaks. Every function
 * below that returns int returns 0, or a CWX_E… code after filling the
 * context's error. */
#ifndef CWX_PLANNER_CONFIG_INTERNAL_H
#define CWX_PLANNER_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "planner/config.h"

/* Longest value quoted in an error message, in bytes of the value. */
#define CWX__CONFIG_QUOTE_MAX 64
/* Room for one quoted value. */
#define CWX__CONFIG_QUOTE_SIZE (CWX__CONFIG_QUOTE_MAX * 2 + 16)
/* Room for a quoted value plus the "(expanded to ...)" note. */
#define CWX__CONFIG_FOUND_SIZE 340

/* A stand-in account ID and region used to check a bucket template's shape
 * where the real values are not known yet. */
#define CWX__CONFIG_STANDIN_ACCOUNT_ID "123456789012"
#define CWX__CONFIG_STANDIN_REGION "us-east-1"

#define CWX__CONFIG_DEFAULT_PREFIX "{account_id}/{region}/{log_group}/{window}"
#define CWX__CONFIG_REGION_EXPECTED "a region name like us-east-1"

/* Where a value came from, for errors found only after inheritance. */
struct cwx__config_origin {
    yaml_mark_t bucket; /* destination.bucket's scalar */
};

/* One load of a config. */
struct cwx__config_ctx {
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser, have_doc;
    struct cwx_config *cfg;
    struct cwx_config_error *err;
    /* Scalars after ${VAR} expansion, indexed by node id - 1; filled on
     * first use and freed when loading ends. */
    char **expanded;
    size_t n_nodes;
    bool has_default_range;             /* a top-level `range` was given */
    struct cwx__config_origin defaults; /* origins of the defaults' values */
};

/* Keys of an account mapping. The first CWX__SET_N are the settings keys,
 * which are also the keys of `defaults` (cwx__config_account_keys). */
enum {
    CWX__SET_REGION,
    CWX__SET_TIMEZONE,
    CWX__SET_WINDOW,
    CWX__SET_SETTLE,
    CWX__SET_DESTINATION,
    CWX__SET_POLL,
    CWX__SET_MAX_ATTEMPTS,
    CWX__SET_TOKEN_SCOPE,
    CWX__SET_LOOP_GUARD,
    CWX__SET_API_RATE,
    CWX__SET_OUTAGE,
    CWX__SET_LEASE,
    CWX__SET_SKIP_EMPTY,
    CWX__SET_COALESCE,
    CWX__SET_N,
    CWX__ACC_NAME = CWX__SET_N,
    CWX__ACC_ACCOUNT_ID,
    CWX__ACC_PROFILE,
    CWX__ACC_ROLE_ARN,
    CWX__ACC_EXTERNAL_ID,
    CWX__ACC_REGIONS,
    CWX__ACC_RANGE,
    CWX__ACC_LOG_GROUPS,
    CWX__ACC_N
};
extern const char *const cwx__config_account_keys[CWX__ACC_N];

/* ---- config_yaml.c ------------------------------------------------------- */

/* Parses yaml (len bytes) into c->doc after the alias accounting, refuses an
 * empty stream, a second document and secret-looking keys, and sets *root.
 * c->cfg and c->err must be set; cwx__config_release frees what it made. */
int cwx__config_read(struct cwx__config_ctx *c, const char *yaml, size_t len, yaml_node_t **root);
/* Frees the parser, the document and the expansions of c. */
void cwx__config_release(struct cwx__config_ctx *c);

/* Fills the error at a 0-based line and column; returns CWX_ECONFIG. */
int cwx__config_fail_at(struct cwx__config_ctx *c, size_t line0, size_t col0, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same at the start of node n. */
int cwx__config_fail(struct cwx__config_ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fills "out of memory" without a place; returns CWX_ENOMEM. */
int cwx__config_oom(struct cwx__config_ctx *c);
/* "expected EXPECTED, found WHAT-IS-AT-N". */
int cwx__config_expected(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected);
/* Like cwx__config_expected with a reason appended: "expected X, found "v": why". */
int cwx__config_expected_why(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                             const char *why);
/* Writes s (len bytes) as a double-quoted, escaped string into out, cut
 * after CWX__CONFIG_QUOTE_MAX bytes with "..." added. */
void cwx__config_quote(const char *s, size_t len, char *out, size_t size);
/* Describes what was found at n: "a list", "an empty value", or the scalar
 * quoted as written in the file. When ${VAR} expansion changed the value
 * and no variable looks secret, the expanded value follows. */
const char *cwx__config_found(struct cwx__config_ctx *c, const yaml_node_t *n,
                              char buf[CWX__CONFIG_FOUND_SIZE]);

/* The raw text of scalar n. */
const char *cwx__config_raw(const yaml_node_t *n);
/* True for YAML's null: an empty plain scalar, `~` or `null`. */
bool cwx__config_is_null(const yaml_node_t *n);
yaml_node_t *cwx__config_node(struct cwx__config_ctx *c, int id);
size_t cwx__config_seq_len(const yaml_node_t *n);
yaml_node_t *cwx__config_seq_item(struct cwx__config_ctx *c, const yaml_node_t *n, size_t i);
/* True when mark a comes before mark b in the file. */
bool cwx__config_before(yaml_mark_t a, yaml_mark_t b);
/* Expands ${VAR} references in scalar n ($${ is a literal ${) and caches
 * the result. *out is owned by the context. */
int cwx__config_expand(struct cwx__config_ctx *c, const yaml_node_t *n, const char **out);
/* Scalar n after expansion when it has been expanded, else NULL. */
const char *cwx__config_expanded(const struct cwx__config_ctx *c, const yaml_node_t *n);

/* ---- config_value.c ------------------------------------------------------ */

/* A non-empty scalar value after expansion. `expected` names what the key
 * wants, for the error when n is something else. */
int cwx__config_str(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                    const char **out);
/* Replaces *field with a copy of value. */
int cwx__config_set(struct cwx__config_ctx *c, char **field, const char *value);
/* A value that ok() accepts, copied into *field. */
int cwx__config_checked(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                        bool (*ok)(const char *s), char **field);
/* One of the words[0..n_words); *out is its index. */
int cwx__config_word(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                     const char *const *words, size_t n_words, int *out);
/* A whole number from min to max, written as decimal digits. */
int cwx__config_int(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected, long min,
                    long max, long *out);
int cwx__config_duration(struct cwx__config_ctx *c, const yaml_node_t *n, int64_t *out);
/* Sizes: digits and an optional unit (B, KB … TB, KiB … TiB), 1 B to 1 TiB. */
int cwx__config_bytes(struct cwx__config_ctx *c, const yaml_node_t *n, int64_t *out);
/* Calls per second above 0 and at most 10000. */
int cwx__config_api_rate(struct cwx__config_ctx *c, const yaml_node_t *n, double *out);
int cwx__config_region(struct cwx__config_ctx *c, const yaml_node_t *n, const char **out);
/* Formats a duration in its largest whole unit. */
void cwx__config_fmt_ms(int64_t ms, char *buf, size_t size);

/* Shapes of values, true when s has it. */
bool cwx__config_all_in(const char *s, const char *extra); /* alnum or extra */
bool cwx__config_account_id_ok(const char *s);
bool cwx__config_role_arn_ok(const char *arn);
bool cwx__config_sns_arn_ok(const char *arn);
bool cwx__config_kms_arn_ok(const char *arn);
bool cwx__config_log_group_ok(const char *s);
bool cwx__config_key_prefix_ok(const char *s);
bool cwx__config_timezone_ok(const char *name);

/* ---- config_schema.c ----------------------------------------------------- */

/* Checks that n is a mapping whose keys are all in keys[0..nkeys), each at
 * most once, and files each value under its key's index in vals (NULL when
 * absent) and the key node in knodes. `what` describes the mapping for a
 * type error ("a mapping for \"defaults\""), `where` says where an unknown
 * key was found ("in defaults"). */
int cwx__config_mapping(struct cwx__config_ctx *c, const yaml_node_t *n, const char *what,
                        const char *where, const char *const *keys, size_t nkeys,
                        yaml_node_t **vals, yaml_node_t **knodes);
/* n must be a list; non-empty when nonempty is set. */
int cwx__config_list(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                     bool nonempty);
int cwx__config_range(struct cwx__config_ctx *c, const yaml_node_t *n, const char *what,
                      struct cwx_range *r);
/* coalesce: off | {max_bytes: SIZE, max_windows: N}. */
int cwx__config_coalesce(struct cwx__config_ctx *c, const yaml_node_t *n, struct cwx_coalesce *co);
/* Applies the settings keys present in v (indexed CWX__SET_*, key nodes in
 * k) over st, in the order they appear in the file so that the first error
 * reported is the first in the file. */
int cwx__config_settings(struct cwx__config_ctx *c, yaml_node_t **v, yaml_node_t **k,
                         struct cwx_settings *st, struct cwx__config_origin *o);

#endif
