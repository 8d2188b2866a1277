/* CloudWatch client: GetMetricData over the Query protocol. The request is
 * a form (MetricDataQueries.member.N.…), the answer XML with one
 * MetricDataResults member per query and page (docs/architecture.md
 * §aws-facts). */
#include "aws/monitoring.h"

#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/clients_internal.h"
#include "common/error.h"

/* ---- the request ---------------------------------------------------------- */

#define S_ACTION "GetMetricData"
#define S_VERSION "2010-08-01"

/* "2024-03-07T00:00:00Z" of a time in ms (whole seconds, rounded down). */
static void s_iso(int64_t ms, char *out, size_t size)
{
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, size, "1970-01-01T00:00:00Z");
}

static int s_req_ok(const struct cwx_monitoring_get_req *r)
{
    if (!r || !r->namespace_ || !r->namespace_[0] || !r->metric_name || !r->metric_name[0] ||
        !r->dimension || !r->dimension[0] || !r->stat || !r->stat[0] || !r->values ||
        r->n_queries == 0 || r->n_queries > CWX_MONITORING_MAX_QUERIES || r->period_s <= 0 ||
        r->period_s % 60 || r->end_ms <= r->start_ms)
        return 0;
    for (size_t i = 0; i < r->n_queries; i++)
        if (!r->values[i] || !r->values[i][0])
            return 0;
    return 1;
}

/* Appends the fields of query i ("MetricDataQueries.member.<i+1>.…"). */
static int s_query(struct cwx_buf *b, const struct cwx_monitoring_get_req *r, size_t i)
{
    static const char *const keys[] = {
        "Id",
        "MetricStat.Metric.Namespace",
        "MetricStat.Metric.MetricName",
        "MetricStat.Metric.Dimensions.member.1.Name",
        "MetricStat.Metric.Dimensions.member.1.Value",
        "MetricStat.Period",
        "MetricStat.Stat",
        "ReturnData",
    };
    char id[24], period[24], name[96];
    snprintf(id, sizeof id, "q%zu", i);
    snprintf(period, sizeof period, "%d", r->period_s);
    const char *vals[] = {id,  r->namespace_, r->metric_name, r->dimension, r->values[i],
                          period, r->stat,    "true"};
    int rc = 0;
    for (size_t k = 0; k < sizeof keys / sizeof *keys && !rc; k++) {
        snprintf(name, sizeof name, "MetricDataQueries.member.%zu.%s", i + 1, keys[k]);
        rc = cwx__form_add(b, name, vals[k]);
    }
    return rc;
}

/* Appends everything after Action and Version. */
static int s_params(const struct cwx_monitoring_get_req *req, struct cwx_buf *out)
{
    char start[32], end[32];
    s_iso(req->start_ms, start, sizeof start);
    s_iso(req->end_ms, end, sizeof end);
    int rc = 0;
    for (size_t i = 0; i < req->n_queries && !rc; i++)
        rc = s_query(out, req, i);
    if (!rc)
        rc = cwx__form_add(out, "StartTime", start);
    if (!rc)
        rc = cwx__form_add(out, "EndTime", end);
    if (!rc)
        rc = cwx__form_add(out, "ScanBy", "TimestampAscending");
    if (!rc && req->next_token && req->next_token[0])
        rc = cwx__form_add(out, "NextToken", req->next_token);
    return rc;
}

int cwx_monitoring_body(const struct cwx_monitoring_get_req *req, struct cwx_buf *out)
{
    if (!s_req_ok(req))
        return CWX_EINVAL;
    int rc = cwx__form_add(out, "Action", S_ACTION);
    if (!rc)
        rc = cwx__form_add(out, "Version", S_VERSION);
    return rc ? rc : s_params(req, out);
}

/* ---- the answer ------------------------------------------------------------- */

/* The elements that matter, by depth below the root
 * (GetMetricDataResponse = depth 1). */
enum s_el {
    S_OTHER = 0,
    S_RESULT,     /* 2 GetMetricDataResult */
    S_RESULTS,    /* 3 MetricDataResults */
    S_TOKEN,      /* 3 NextToken */
    S_MEMBER,     /* 4 MetricDataResults/member */
    S_ID,         /* 5 Id */
    S_STATUS,     /* 5 StatusCode */
    S_TIMESTAMPS, /* 5 Timestamps */
    S_VALUES,     /* 5 Values */
    S_TS,         /* 6 Timestamps/member */
    S_VALUE,      /* 6 Values/member */
};

#define S_DEPTH 16

struct s_parse {
    XML_Parser parser;
    size_t n_queries;
    enum s_el stack[S_DEPTH];
    int depth;
    struct cwx_buf text;
    struct cwx_monitoring_page *out;
    size_t cap_series, points;
    /* the member being read */
    struct cwx_monitoring_series cur;
    size_t cap_ts, cap_val, n_val;
    int have_id;
    int error;
    char why[160];
};

static void s_fail(struct s_parse *p, int err, const char *why)
{
    cwx__xml_fail(p->parser, &p->error, p->why, sizeof(p->why), err, why);
}

static const char *s_local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static enum s_el s_classify(enum s_el parent, int depth, const char *n)
{
    switch (depth) {
    case 2: return strcmp(n, "GetMetricDataResult") == 0 ? S_RESULT : S_OTHER;
    case 3:
        if (parent != S_RESULT)
            return S_OTHER;
        return strcmp(n, "MetricDataResults") == 0 ? S_RESULTS
               : strcmp(n, "NextToken") == 0       ? S_TOKEN
                                                   : S_OTHER;
    case 4: return parent == S_RESULTS && strcmp(n, "member") == 0 ? S_MEMBER : S_OTHER;
    case 5:
        if (parent != S_MEMBER)
            return S_OTHER;
        return strcmp(n, "Id") == 0           ? S_ID
               : strcmp(n, "StatusCode") == 0 ? S_STATUS
               : strcmp(n, "Timestamps") == 0 ? S_TIMESTAMPS
               : strcmp(n, "Values") == 0     ? S_VALUES
                                              : S_OTHER;
    case 6:
        if (strcmp(n, "member") != 0)
            return S_OTHER;
        return parent == S_TIMESTAMPS ? S_TS : parent == S_VALUES ? S_VALUE : S_OTHER;
    default: return S_OTHER;
    }
}

static void XMLCALL s_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct s_parse *p = ud;
    if (cwx__xml_too_deep(p->parser, &p->error, p->why, sizeof(p->why), p->depth, S_DEPTH))
        return;
    enum s_el parent = p->depth ? p->stack[p->depth - 1] : S_OTHER;
    enum s_el el = s_classify(parent, p->depth + 1, s_local(name));
    p->stack[p->depth++] = el;
    cwx_buf_reset(&p->text);
    if (el == S_MEMBER) {
        p->cur = (struct cwx_monitoring_series){0};
        p->cap_ts = p->cap_val = p->n_val = 0;
        p->have_id = 0;
    }
}

/* Grows *arr (of elem-sized items, *cap of them) to hold n + 1. */
static int s_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 32;
    void *na = realloc(*arr, nc * elem);
    if (!na)
        return CWX_ENOMEM;
    *arr = na;
    *cap = nc;
    return 0;
}

static void s_point(struct s_parse *p, enum s_el el, const char *t)
{
    if (++p->points > 2 * (size_t)CWX_MONITORING_MAX_POINTS) {
        s_fail(p, CWX_EPARSE, "more data points than a page holds");
        return;
    }
    if (el == S_TS) {
        int64_t ms;
        if (cwx__iso8601_ms(t, strlen(t), &ms)) {
            s_fail(p, CWX_EPARSE, "a timestamp is not an ISO 8601 time");
        } else if (s_grow((void **)&p->cur.ts_ms, &p->cap_ts, p->cur.n, sizeof(int64_t))) {
            s_fail(p, CWX_ENOMEM, "out of memory");
        } else {
            p->cur.ts_ms[p->cur.n++] = ms;
        }
        return;
    }
    char *end = NULL;
    double v = strtod(t, &end);
    if (!t[0] || !end || *end || !isfinite(v))
        s_fail(p, CWX_EPARSE, "a value is not a number");
    else if (s_grow((void **)&p->cur.values, &p->cap_val, p->n_val, sizeof(double)))
        s_fail(p, CWX_ENOMEM, "out of memory");
    else
        p->cur.values[p->n_val++] = v;
}

static void s_id(struct s_parse *p, const char *t)
{
    char *end = NULL;
    unsigned long long q = t[0] == 'q' && t[1] >= '0' && t[1] <= '9' ? strtoull(t + 1, &end, 10)
                                                                     : 0;
    if (!end || *end || q >= p->n_queries || (t[1] == '0' && t[2]))
        s_fail(p, CWX_EPARSE, "an Id that is not one of the request's");
    p->cur.query = (uint32_t)q;
    p->have_id = 1;
}

/* A member is complete: checked, then moved into the page. */
static void s_member_end(struct s_parse *p)
{
    struct cwx_monitoring_page *o = p->out;
    if (!p->have_id || p->cur.n != p->n_val) {
        s_fail(p, CWX_EPARSE, p->have_id ? "Timestamps and Values differ in length"
                                         : "a MetricDataResults member without an Id");
        return;
    }
    if (s_grow((void **)&o->series, &p->cap_series, o->n_series, sizeof *o->series)) {
        s_fail(p, CWX_ENOMEM, "out of memory");
        return;
    }
    o->series[o->n_series++] = p->cur;
    p->cur = (struct cwx_monitoring_series){0};
}

static void XMLCALL s_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct s_parse *p = ud;
    enum s_el el = p->stack[--p->depth];
    const char *t = p->text.ptr ? p->text.ptr : "";
    switch (el) {
    case S_TS:
    case S_VALUE: s_point(p, el, t); break;
    case S_ID: s_id(p, t); break;
    case S_STATUS: p->cur.partial = strcmp(t, "PartialData") == 0; break;
    case S_MEMBER: s_member_end(p); break;
    case S_TOKEN:
        if (t[0] && !p->out->next_token && !(p->out->next_token = strdup(t)))
            s_fail(p, CWX_ENOMEM, "out of memory");
        break;
    default: break;
    }
    cwx_buf_reset(&p->text);
}

static void XMLCALL s_text(void *ud, const XML_Char *s, int len)
{
    struct s_parse *p = ud;
    enum s_el el = p->depth ? p->stack[p->depth - 1] : S_OTHER;
    if (el == S_OTHER || el == S_RESULT || el == S_RESULTS || el == S_MEMBER ||
        el == S_TIMESTAMPS || el == S_VALUES || len <= 0)
        return;
    if (cwx_buf_append(&p->text, s, (size_t)len))
        s_fail(p, CWX_EPARSE, "XML text too long");
}

/* No DOCTYPE: it is the only place entities can be declared. */
static void XMLCALL s_doctype(void *ud, const XML_Char *n, const XML_Char *sys,
                              const XML_Char *pub, int internal)
{
    (void)n, (void)sys, (void)pub, (void)internal;
    s_fail(ud, CWX_EPARSE, "XML DOCTYPE refused");
}

void cwx_monitoring_page_free(struct cwx_monitoring_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_series; i++) {
        free(p->series[i].ts_ms);
        free(p->series[i].values);
    }
    free(p->series);
    free(p->next_token);
    memset(p, 0, sizeof *p);
}

int cwx_monitoring_parse(const char *body, size_t len, size_t n_queries,
                         struct cwx_monitoring_page *out, char *msg, size_t msg_size)
{
    memset(out, 0, sizeof *out);
    struct s_parse p = {.n_queries = n_queries, .out = out};
    cwx_buf_init(&p.text, CWX__MAX_TEXT);
    int rc = 0;
    p.parser = XML_ParserCreate("UTF-8");
    if (!p.parser) {
        rc = CWX_ENOMEM;
        cwx__msg(msg, msg_size, "out of memory");
        goto cleanup;
    }
    XML_SetUserData(p.parser, &p);
    XML_SetElementHandler(p.parser, s_start, s_end);
    XML_SetCharacterDataHandler(p.parser, s_text);
    XML_SetStartDoctypeDeclHandler(p.parser, s_doctype);
    if (len > INT32_MAX || XML_Parse(p.parser, body ? body : "", (int)len, 1) != XML_STATUS_OK) {
        rc = p.error ? p.error : CWX_EPARSE;
        if (p.error)
            cwx__msg(msg, msg_size, "%s", p.why);
        else
            cwx__msg(msg, msg_size, "invalid XML at line %lu: %s",
                     (unsigned long)XML_GetCurrentLineNumber(p.parser),
                     XML_ErrorString(XML_GetErrorCode(p.parser)));
    }
cleanup:
    free(p.cur.ts_ms);
    free(p.cur.values);
    if (p.parser)
        XML_ParserFree(p.parser);
    cwx_buf_free(&p.text);
    if (rc)
        cwx_monitoring_page_free(out);
    return rc;
}

/* ---- the call (aws/query.c) ------------------------------------------------------ */

struct s_call {
    struct cwx__query q; /* first: the call is its query */
    size_t n_queries;
    struct cwx_monitoring_page page;
    cwx_monitoring_get_fn *cb;
    void *ud;
};

static void s_call_free(struct s_call *call)
{
    cwx_monitoring_page_free(&call->page);
    cwx__query_free(&call->q);
}

static int s_parse(struct cwx__query *q, const char *body, size_t len, char *msg,
                   size_t msg_size)
{
    struct s_call *call = (struct s_call *)q;
    return cwx_monitoring_parse(body, len, call->n_queries, &call->page, msg, msg_size);
}

static void s_done(struct cwx__query *q, int status, const struct cwx_aws_error *err)
{
    struct s_call *call = (struct s_call *)q;
    call->cb(status, status ? NULL : &call->page, err, call->ud);
    s_call_free(call);
}

int cwx_monitoring_get_metric_data(struct cwx_aws_client *c,
                                   const struct cwx_monitoring_get_req *req,
                                   cwx_monitoring_get_fn *cb, void *ud)
{
    if (!c || !cb || !s_req_ok(req))
        return CWX_EINVAL;
    struct s_call *call = cwx__query_new(sizeof(*call), S_ACTION, S_VERSION);
    if (!call)
        return CWX_ENOMEM;
    call->n_queries = req->n_queries;
    call->cb = cb;
    call->ud = ud;
    int rc = s_params(req, &call->q.body);
    if (!rc)
        rc = cwx__query_send(c, &call->q, "monitoring", 0, s_parse, s_done);
    if (rc)
        s_call_free(call);
    return rc;
}
