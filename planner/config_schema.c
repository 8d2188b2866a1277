/* A config's schema (docs/config-reference.md): which keys each mapping
 * takes (with a "did you mean" for a near miss), ranges of windows, and
 * every settings section that defaults and accounts share (destination,
 * poll, loop_guard, outage, lease, skip_empty, coalesce, ...). Each check
 * fails with the FILE:LINE:COL of the offending node. */
#include "planner/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "planner/job.h"

const char *const cwx__config_account_keys[CWX__ACC_N] = {
    "region",       "timezone",    "window",     "settle",     "destination", "poll",
    "max_attempts", "token_scope", "loop_guard", "api_rate",   "outage",      "lease",
    "skip_empty",   "coalesce",    "name",       "account_id", "profile",     "role_arn",
    "external_id",  "regions",     "range",      "log_groups",
};

/* ---- mappings ----------------------------------------------------------- */

static size_t s_levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Checks that n is a mapping whose keys are all in keys[0..nkeys), each at
 * most once, and files each value under its key's index in vals (NULL when
 * absent) and the key node in knodes. `what` describes the mapping for a
 * type error ("a mapping for \"defaults\""), `where` says where an unknown
 * key was found ("in defaults"). */
int cwx__config_mapping(struct cwx__config_ctx *c, const yaml_node_t *n, const char *what,
                        const char *where, const char *const *keys, size_t nkeys,
                        yaml_node_t **vals, yaml_node_t **knodes)
{
    if (n->type != YAML_MAPPING_NODE)
        return cwx__config_expected(c, n, what);
    for (size_t i = 0; i < nkeys; i++)
        vals[i] = knodes[i] = NULL;
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
         pair++) {
        yaml_node_t *k = cwx__config_node(c, pair->key);
        yaml_node_t *v = cwx__config_node(c, pair->value);
        if (k->type != YAML_SCALAR_NODE) {
            char f[CWX__CONFIG_FOUND_SIZE];
            return cwx__config_fail(c, k, "expected a key name %s, found %s", where,
                                    cwx__config_found(c, k, f));
        }
        char q[CWX__CONFIG_QUOTE_SIZE];
        cwx__config_quote(cwx__config_raw(k), k->data.scalar.length, q, sizeof q);
        size_t idx = nkeys;
        for (size_t i = 0; i < nkeys; i++)
            if (!strcmp(cwx__config_raw(k), keys[i]) && strlen(keys[i]) == k->data.scalar.length)
                idx = i;
        if (idx == nkeys) {
            if (!strcmp(where, "in defaults") && !strcmp(cwx__config_raw(k), "range"))
                return cwx__config_fail(c, k,
                                        "unknown key \"range\" in defaults: the default "
                                        "range is a top-level \"range\"");
            size_t best = nkeys, best_d = 3;
            for (size_t i = 0; i < nkeys; i++) {
                size_t d = s_levenshtein(cwx__config_raw(k), keys[i]);
                if (d < best_d) {
                    best_d = d;
                    best = i;
                }
            }
            if (best < nkeys)
                return cwx__config_fail(c, k, "unknown key %s %s, did you mean \"%s\"?", q, where,
                                        keys[best]);
            char list[400] = "";
            size_t o = 0;
            for (size_t i = 0; i < nkeys && o < sizeof list; i++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", keys[i]);
            return cwx__config_fail(c, k, "unknown key %s %s, expected one of: %s", q, where, list);
        }
        if (vals[idx])
            return cwx__config_fail(c, k, "duplicate key %s %s (first at %zu:%zu)", q, where,
                                    (size_t)knodes[idx]->start_mark.line + 1,
                                    (size_t)knodes[idx]->start_mark.column + 1);
        vals[idx] = v;
        knodes[idx] = k;
    }
    return 0;
}

/* n must be a list; non-empty when nonempty is set. */
int cwx__config_list(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                     bool nonempty)
{
    if (n->type != YAML_SEQUENCE_NODE || (nonempty && !cwx__config_seq_len(n)))
        return cwx__config_expected(c, n, expected);
    return 0;
}

/* ---- ranges ----------------------------------------------------------- */

enum { R_FROM, R_TO, R_LAST, R_N };
static const char *const s_range_keys[] = {"from", "to", "last"};

#define S_WINDOW_EXPECTED "a window as YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH or YYYY-Www"

static int s_civil(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                   struct cwx_civil *out)
{
    const char *v, *why = NULL;
    int rc = cwx__config_str(c, n, expected, &v);
    if (rc)
        return rc;
    if (cwx_civil_parse(v, out, &why)) {
        if (why && strncmp(why, "expected", 8))
            return cwx__config_expected_why(c, n, expected, why);
        return cwx__config_expected(c, n, expected);
    }
    return 0;
}

static int s_civil_cmp(const struct cwx_civil *a, const struct cwx_civil *b)
{
    int ka[4] = {a->year, a->month, a->day, a->hour};
    int kb[4] = {b->year, b->month, b->day, b->hour};
    for (int i = 0; i < 4; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

int cwx__config_range(struct cwx__config_ctx *c, const yaml_node_t *n, const char *what,
                      struct cwx_range *r)
{
    yaml_node_t *v[R_N], *k[R_N];
    int rc = cwx__config_mapping(c, n, what, "in range", s_range_keys, R_N, v, k);
    if (rc)
        return rc;
    memset(r, 0, sizeof *r);
    r->to_latest = true;
    if (v[R_LAST] && (v[R_FROM] || v[R_TO])) {
        yaml_node_t *other = v[R_FROM] ? k[R_FROM] : k[R_TO];
        yaml_node_t *later =
            cwx__config_before(k[R_LAST]->start_mark, other->start_mark) ? other : k[R_LAST];
        return cwx__config_fail(c, later,
                                "expected either \"last\" or \"from\"/\"to\" in range, "
                                "found both");
    }
    if (v[R_LAST]) {
        long last;
        rc = cwx__config_int(c, v[R_LAST],
                             "\"last\" as a number of windows from 1 to "
                             "10000",
                             1, 10000, &last);
        if (rc)
            return rc;
        r->is_last = true;
        r->last = (int)last;
        return 0;
    }
    if (!v[R_FROM])
        return cwx__config_fail(c, n,
                                "expected \"from\" (with an optional \"to\") or \"last\" "
                                "in range, found neither");
    rc = s_civil(c, v[R_FROM], S_WINDOW_EXPECTED, &r->from);
    if (rc || !v[R_TO])
        return rc;
    const char *to;
    rc = cwx__config_str(c, v[R_TO], S_WINDOW_EXPECTED " or latest", &to);
    if (rc || !strcmp(to, "latest"))
        return rc;
    rc = s_civil(c, v[R_TO], S_WINDOW_EXPECTED " or latest", &r->to);
    if (rc)
        return rc;
    r->to_latest = false;
    if (s_civil_cmp(&r->from, &r->to) > 0) {
        char f[CWX__CONFIG_FOUND_SIZE], fr[CWX__CONFIG_FOUND_SIZE];
        return cwx__config_fail(c, v[R_TO], "expected \"to\" at or after \"from\" (%s), found %s",
                                cwx__config_found(c, v[R_FROM], fr),
                                cwx__config_found(c, v[R_TO], f));
    }
    return 0;
}

enum { D_BUCKET, D_PREFIX, D_STATE_PREFIX, D_DETECT, D_KMS_KEY_ARN, D_OWNER, D_N };
static const char *const s_destination_keys[] = {"bucket", "prefix",      "state_prefix",
                                                 "detect", "kms_key_arn", "expected_bucket_owner"};

enum { P_MIN, P_MAX, P_N };
static const char *const s_poll_keys[] = {"min", "max"};

enum { O_PAUSE, O_PAUSES, O_N };
static const char *const s_outage_keys[] = {"pause", "pauses"};

enum { LE_TTL, LE_BUCKET, LE_N };
static const char *const s_lease_keys[] = {"ttl", "bucket"};
enum { K_MODE, K_MAX_PAGES, K_API_RATE, K_N };
static const char *const s_skip_empty_keys[] = {"mode", "max_pages", "api_rate"};

enum { C_MAX_BYTES, C_MAX_WINDOWS, C_N };
static const char *const s_coalesce_keys[] = {"max_bytes", "max_windows"};

enum { L_PER_JOB, L_PER_RUN, L_N };
static const char *const s_loop_guard_keys[] = {"max_creates_per_job", "max_creates_per_run"};

#define S_BUCKET_EXPECTED "an S3 bucket name (placeholders {account_id} and {region} allowed)"
#define S_PREFIX_EXPECTED "a destination prefix template like " CWX__CONFIG_DEFAULT_PREFIX

/* The column of byte `off` of scalar n's value, when it can be known: the
 * scalar is on one line, has no escapes and no ${VAR} expansion. Else the
 * scalar's own column. */
static size_t s_scalar_col(struct cwx__config_ctx *c, const yaml_node_t *n, size_t off)
{
    size_t len = n->data.scalar.length;
    size_t width = n->end_mark.column - n->start_mark.column;
    const char *x = cwx__config_expanded(c, n);
    if (n->start_mark.line != n->end_mark.line || !x || strcmp(x, cwx__config_raw(n)))
        return n->start_mark.column;
    switch (n->data.scalar.style) {
    case YAML_PLAIN_SCALAR_STYLE:
        return width == len ? n->start_mark.column + off : n->start_mark.column;
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        return width == len + 2 ? n->start_mark.column + 1 + off : n->start_mark.column;
    default:
        return n->start_mark.column;
    }
}

/* A bucket name template; its shape is checked with stand-in values. */
static int s_bucket_template(struct cwx__config_ctx *c, const yaml_node_t *n, char **field)
{
    const char *s, *why = NULL;
    char out[64];
    int rc = cwx__config_str(c, n, S_BUCKET_EXPECTED, &s);
    if (rc)
        return rc;
    if (cwx_config_bucket_name(s, CWX__CONFIG_STANDIN_ACCOUNT_ID, CWX__CONFIG_STANDIN_REGION, out,
                               sizeof out, &why))
        return cwx__config_expected_why(c, n, S_BUCKET_EXPECTED, why ? why : "too long");
    return cwx__config_set(c, field, s);
}

/* destination.prefix: a template; an error points at the offending byte
 * when it can. */
static int s_prefix_template(struct cwx__config_ctx *c, const yaml_node_t *n, char **field)
{
    const char *s, *why = NULL;
    size_t off = 0;
    int rc = cwx__config_str(c, n, S_PREFIX_EXPECTED, &s);
    if (rc)
        return rc;
    if (cwx_template_check(s, &why, &off)) {
        char f[CWX__CONFIG_FOUND_SIZE];
        return cwx__config_fail_at(c, n->start_mark.line, s_scalar_col(c, n, off),
                                   "expected %s, found %s: %s", S_PREFIX_EXPECTED,
                                   cwx__config_found(c, n, f), why ? why : "invalid template");
    }
    return cwx__config_set(c, field, s);
}

static int s_destination(struct cwx__config_ctx *c, const yaml_node_t *n, const char *where,
                         struct cwx_destination *d, struct cwx__config_origin *o)
{
    static const char exp_state[] = "a key prefix like _cwexport (letters, digits and !_.*'()-/; "
                                    "no leading \"/\", no \".\" or \"..\" segment)";
    static const char exp_kms[] = "a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/<id> "
                                  "or .../alias/<name>";
    static const char exp_owner[] =
        "a 12-digit AWS account ID in quotes for \"expected_bucket_owner\"";
    yaml_node_t *v[D_N], *k[D_N];
    int rc = cwx__config_mapping(c, n, "a mapping for \"destination\"", where, s_destination_keys,
                                 D_N, v, k);
    if (rc)
        return rc;
    if (v[D_BUCKET]) {
        if ((rc = s_bucket_template(c, v[D_BUCKET], &d->bucket)))
            return rc;
        o->bucket = v[D_BUCKET]->start_mark;
    }
    if (v[D_PREFIX] && (rc = s_prefix_template(c, v[D_PREFIX], &d->prefix)))
        return rc;
    if (v[D_STATE_PREFIX]) {
        rc = cwx__config_checked(c, v[D_STATE_PREFIX], exp_state, cwx__config_key_prefix_ok,
                                 &d->state_prefix);
        if (rc)
            return rc;
        size_t len = strlen(d->state_prefix);
        while (len > 1 && d->state_prefix[len - 1] == '/')
            d->state_prefix[--len] = '\0';
    }
    if (v[D_DETECT]) {
        static const char *const words[] = {"marker", "objects"};
        int w;
        if ((rc = cwx__config_word(c, v[D_DETECT], "detect: marker or objects", words, 2, &w)))
            return rc;
        d->detect = w ? CWX_DETECT_OBJECTS : CWX_DETECT_MARKER;
    }
    if (v[D_KMS_KEY_ARN] && (rc = cwx__config_checked(c, v[D_KMS_KEY_ARN], exp_kms,
                                                      cwx__config_kms_arn_ok, &d->kms_key_arn)))
        return rc;
    if (v[D_OWNER])
        rc = cwx__config_checked(c, v[D_OWNER], exp_owner, cwx__config_account_id_ok,
                                 &d->expected_bucket_owner);
    return rc;
}

static int s_poll(struct cwx__config_ctx *c, const yaml_node_t *n, const char *where,
                  struct cwx_settings *st)
{
    yaml_node_t *v[P_N], *k[P_N];
    int rc = cwx__config_mapping(c, n, "a mapping for \"poll\" like {min: 5s, max: 60s}", where,
                                 s_poll_keys, P_N, v, k);
    if (rc)
        return rc;
    int64_t *fields[P_N] = {&st->poll_min_ms, &st->poll_max_ms};
    for (int i = 0; i < P_N; i++) {
        if (!v[i])
            continue;
        int64_t ms;
        if ((rc = cwx__config_duration(c, v[i], &ms)))
            return rc;
        /* Values under 1s are for tests and fast fakes (a scaled time
         * factor); against AWS, poll.min stays in seconds. */
        if (ms < 10) {
            char e[64];
            snprintf(e, sizeof e, "poll.%s of at least 10ms", s_poll_keys[i]);
            return cwx__config_expected(c, v[i], e);
        }
        *fields[i] = ms;
    }
    if (st->poll_min_ms > st->poll_max_ms) {
        char a[32], b[32];
        cwx__config_fmt_ms(st->poll_min_ms, a, sizeof a);
        cwx__config_fmt_ms(st->poll_max_ms, b, sizeof b);
        return cwx__config_fail(c, n, "expected poll.min <= poll.max, found min %s and max %s", a,
                                b);
    }
    return 0;
}

static int s_loop_guard(struct cwx__config_ctx *c, const yaml_node_t *n, const char *where,
                        struct cwx_settings *st)
{
    yaml_node_t *v[L_N], *k[L_N];
    int rc = cwx__config_mapping(c, n, "a mapping for \"loop_guard\"", where, s_loop_guard_keys,
                                 L_N, v, k);
    if (rc)
        return rc;
    static const char *const expected[L_N] = {
        "max_creates_per_job as a whole number from 1 to 100",
        "max_creates_per_run as a whole number from 0 (automatic) to 100000000",
    };
    static const long min[L_N] = {1, 0}, max[L_N] = {100, 100000000};
    int *fields[L_N] = {&st->max_creates_per_job, &st->max_creates_per_run};
    for (int i = 0; i < L_N; i++) {
        long x;
        if (v[i] && (rc = cwx__config_int(c, v[i], expected[i], min[i], max[i], &x)))
            return rc;
        if (v[i])
            *fields[i] = (int)x;
    }
    return 0;
}

/* outage: {pause: 5m, pauses: 3} — how a lane rides out AWS failing. */
static int s_outage(struct cwx__config_ctx *c, const yaml_node_t *n, const char *where,
                    struct cwx_settings *st)
{
    yaml_node_t *v[O_N], *k[O_N];
    int rc = cwx__config_mapping(c, n, "a mapping for \"outage\"", where, s_outage_keys, O_N, v, k);
    if (rc)
        return rc;
    if (v[O_PAUSE]) {
        int64_t ms;
        if ((rc = cwx__config_duration(c, v[O_PAUSE], &ms)))
            return rc;
        if (ms < 10 || ms > 24LL * 3600 * 1000)
            return cwx__config_expected(c, v[O_PAUSE], "outage.pause from 10ms to 24h");
        st->outage_pause_ms = ms;
    }
    if (v[O_PAUSES]) {
        long x;
        rc = cwx__config_int(c, v[O_PAUSES], "outage.pauses as a whole number from 0 to 100", 0,
                             100, &x);
        if (rc)
            return rc;
        st->outage_pauses = (int)x;
    }
    return 0;
}

/* lease: off | on | {ttl: 2m, bucket: NAME} — the lane lease. */
static int s_lease(struct cwx__config_ctx *c, const yaml_node_t *n, struct cwx_settings *st)
{
    static const char expected[] = "lease: off, on, or a mapping like {ttl: 2m, bucket: NAME}";
    if (n->type == YAML_SCALAR_NODE) {
        static const char *const words[] = {"off", "false", "on", "true"};
        int w;
        int rc = cwx__config_word(c, n, expected, words, 4, &w);
        if (!rc)
            st->lease_off = w < 2;
        return rc;
    }
    yaml_node_t *v[LE_N], *k[LE_N];
    int rc =
        cwx__config_mapping(c, n, "a mapping for \"lease\"", "in lease", s_lease_keys, LE_N, v, k);
    if (rc)
        return rc;
    st->lease_off = false;
    if (v[LE_TTL]) {
        int64_t ms;
        if ((rc = cwx__config_duration(c, v[LE_TTL], &ms)))
            return rc;
        if (ms < 1000 || ms > 3600LL * 1000)
            return cwx__config_expected(c, v[LE_TTL], "lease.ttl from 1s to 1h");
        st->lease_ttl_ms = ms;
    }
    if (v[LE_BUCKET] && (rc = s_bucket_template(c, v[LE_BUCKET], &st->lease_bucket)))
        return rc;
    return 0;
}

#define S_SKIP_EMPTY_EXPECTED                                                                      \
    "skip_empty: streams, off, or a mapping like {mode: streams, max_pages: 200}"

/* skip_empty: streams | off | {mode: streams|off, max_pages: N}. */
static int s_skip_empty(struct cwx__config_ctx *c, const yaml_node_t *n, struct cwx_settings *st)
{
    const yaml_node_t *mode = n;
    if (n->type == YAML_MAPPING_NODE) {
        yaml_node_t *v[K_N], *k[K_N];
        int rc = cwx__config_mapping(c, n, S_SKIP_EMPTY_EXPECTED, "in skip_empty",
                                     s_skip_empty_keys, K_N, v, k);
        if (rc)
            return rc;
        if (v[K_MAX_PAGES]) {
            long x;
            rc = cwx__config_int(c, v[K_MAX_PAGES],
                                 "skip_empty.max_pages as a whole number from 1 to 100000", 1,
                                 100000, &x);
            if (rc)
                return rc;
            st->skip_empty_max_pages = (int)x;
        }
        if (v[K_API_RATE] &&
            (rc = cwx__config_api_rate(c, v[K_API_RATE], &st->skip_empty_api_rate)))
            return rc;
        st->skip_empty = CWX_SKIP_EMPTY_STREAMS; /* a mapping turns it on */
        mode = v[K_MODE];
        if (!mode)
            return 0;
    }
    static const char *const words[] = {"streams", "off"};
    int w;
    int rc = cwx__config_word(c, mode, S_SKIP_EMPTY_EXPECTED, words, 2, &w);
    if (!rc)
        st->skip_empty = w ? CWX_SKIP_EMPTY_OFF : CWX_SKIP_EMPTY_STREAMS;
    return rc;
}

#define S_COALESCE_EXPECTED "coalesce: off, or a mapping like {max_bytes: 1GiB, max_windows: 12}"

/* coalesce: off | {max_bytes: SIZE, max_windows: N}; a mapping turns it on
 * with the defaults for what it leaves out (1 GiB, 12 windows). */
int cwx__config_coalesce(struct cwx__config_ctx *c, const yaml_node_t *n, struct cwx_coalesce *co)
{
    if (n->type != YAML_MAPPING_NODE) {
        const char *s;
        int rc = cwx__config_str(c, n, S_COALESCE_EXPECTED, &s);
        if (rc)
            return rc;
        if (strcmp(s, "off"))
            return cwx__config_expected(c, n, S_COALESCE_EXPECTED);
        co->max_windows = 0;
        return 0;
    }
    yaml_node_t *v[C_N], *k[C_N];
    int rc =
        cwx__config_mapping(c, n, S_COALESCE_EXPECTED, "in coalesce", s_coalesce_keys, C_N, v, k);
    if (rc)
        return rc;
    struct cwx_coalesce out = {1024LL * 1024 * 1024, 12};
    if (v[C_MAX_BYTES] && (rc = cwx__config_bytes(c, v[C_MAX_BYTES], &out.max_bytes)))
        return rc;
    if (v[C_MAX_WINDOWS]) {
        long x;
        rc = cwx__config_int(c, v[C_MAX_WINDOWS],
                             "coalesce.max_windows as a whole number from 1 to 1000", 1, 1000, &x);
        if (rc)
            return rc;
        out.max_windows = (int)x;
    }
    *co = out;
    return 0;
}

/* Applies one settings key (index S_*) with value n over st. */
static int s_setting(struct cwx__config_ctx *c, int key, const yaml_node_t *n,
                     struct cwx_settings *st, struct cwx__config_origin *o)
{
    int rc = 0;
    const char *s;
    long x;
    switch (key) {
    case CWX__SET_REGION:
        if (!(rc = cwx__config_region(c, n, &s)))
            rc = cwx__config_set(c, &st->region, s);
        return rc;
    case CWX__SET_TIMEZONE: {
        static const char expected[] = "an IANA time zone like UTC or Europe/Paris";
        if ((rc = cwx__config_str(c, n, expected, &s)))
            return rc;
        if (!cwx__config_timezone_ok(s))
            return cwx__config_expected(c, n, expected);
        return cwx__config_set(c, &st->timezone, s);
    }
    case CWX__SET_WINDOW: {
        static const char expected[] = "window: month, week, day or hour";
        static const char *const names[] = {"month", "week", "day", "hour"};
        static const enum cwx_granularity gs[] = {CWX_WINDOW_MONTH, CWX_WINDOW_WEEK, CWX_WINDOW_DAY,
                                                  CWX_WINDOW_HOUR};
        int w;
        if (!(rc = cwx__config_word(c, n, expected, names, 4, &w)))
            st->window = gs[w];
        return rc;
    }
    case CWX__SET_SETTLE:
        return cwx__config_duration(c, n, &st->settle_ms);
    case CWX__SET_DESTINATION:
        return s_destination(c, n, "in destination", &st->destination, o);
    case CWX__SET_POLL:
        return s_poll(c, n, "in poll", st);
    case CWX__SET_MAX_ATTEMPTS:
        rc = cwx__config_int(c, n, "max_attempts as a whole number from 1 to 20", 1, 20, &x);
        if (!rc)
            st->max_attempts = (int)x;
        return rc;
    case CWX__SET_TOKEN_SCOPE: {
        static const char *const words[] = {"account", "region"};
        int w;
        if (!(rc = cwx__config_word(c, n, "token_scope: account or region", words, 2, &w)))
            st->token_scope = w ? CWX_SCOPE_REGION : CWX_SCOPE_ACCOUNT;
        return rc;
    }
    case CWX__SET_LOOP_GUARD:
        return s_loop_guard(c, n, "in loop_guard", st);
    case CWX__SET_API_RATE:
        return cwx__config_api_rate(c, n, &st->api_rate);
    case CWX__SET_OUTAGE:
        return s_outage(c, n, "in outage", st);
    case CWX__SET_LEASE:
        return s_lease(c, n, st);
    case CWX__SET_SKIP_EMPTY:
        return s_skip_empty(c, n, st);
    case CWX__SET_COALESCE:
        return cwx__config_coalesce(c, n, &st->coalesce);
    default:
        return 0;
    }
}

/* Applies the settings keys present in v (indexed S_*, key nodes in k) over
 * st, in the order they appear in the file so that the first error reported
 * is the first in the file. */
int cwx__config_settings(struct cwx__config_ctx *c, yaml_node_t **v, yaml_node_t **k,
                         struct cwx_settings *st, struct cwx__config_origin *o)
{
    int order[CWX__SET_N], n = 0;
    for (int i = 0; i < CWX__SET_N; i++) {
        if (!v[i])
            continue;
        int j = n++;
        while (j > 0 && cwx__config_before(k[i]->start_mark, k[order[j - 1]]->start_mark)) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int oi = 0; oi < n; oi++) {
        int rc = s_setting(c, order[oi], v[order[oi]], st, o);
        if (rc)
            return rc;
    }
    return 0;
}
