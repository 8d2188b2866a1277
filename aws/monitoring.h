/* CloudWatch client (Query protocol, service "monitoring"): GetMetricData
 * for one metric across many values of one dimension, such as the daily Sum
 * of AWS/Logs IncomingBytes of many log groups (docs/plan.md, "Bytes per
 * window"). */
#ifndef CWX_AWS_MONITORING_H
#define CWX_AWS_MONITORING_H

#include <stddef.h>
#include <stdint.h>

#include "aws/core.h"

/* MetricDataQuery structures one GetMetricData call may hold. */
#define CWX_MONITORING_MAX_QUERIES 500
/* Data points one answer holds at most (AWS's default MaxDatapoints). */
#define CWX_MONITORING_MAX_POINTS 100800
/* How long CloudWatch keeps data points of a 1-hour (or longer) period:
 * 455 days (15 months). */
#define CWX_MONITORING_RETENTION_DAYS 455

/* One GetMetricData page. Everything is borrowed for the starting call
 * only. Every query asks for the same metric (namespace, metric_name) and
 * statistic at the same period, for one value of one dimension. */
struct cwx_monitoring_get_req {
    const char *namespace_;     /* "AWS/Logs" */
    const char *metric_name;    /* "IncomingBytes" */
    const char *dimension;      /* "LogGroupName" */
    const char *stat;           /* "Sum" */
    int period_s;               /* a multiple of 60; 86400 for days */
    const char *const *values;  /* the dimension's value of each query */
    size_t n_queries;           /* 1 .. CWX_MONITORING_MAX_QUERIES; query i
                                 * has the Id "q<i>" */
    int64_t start_ms, end_ms;   /* [start, end): whole seconds are sent */
    const char *next_token;     /* NULL on the first page */
};

/* The data points of one query on one page, oldest first. */
struct cwx_monitoring_series {
    uint32_t query;     /* the index of its query in the request */
    int64_t *ts_ms;     /* owned */
    double *values;     /* owned; values[i] is at ts_ms[i] */
    size_t n;
    int partial;        /* StatusCode PartialData: more on the next page */
};

struct cwx_monitoring_page {
    struct cwx_monitoring_series *series; /* owned */
    size_t n_series;
    char *next_token;                     /* owned; NULL on the last page */
};
void cwx_monitoring_page_free(struct cwx_monitoring_page *p);

/* page is NULL unless status is 0; both valid only during the callback. A
 * refusal for want of cloudwatch:GetMetricData is CWX_EDENIED. */
typedef void cwx_monitoring_get_fn(int status, const struct cwx_monitoring_page *page,
                                   const struct cwx_aws_error *err, void *ud);

/* Asks for one page of GetMetricData through c (its rate limiter, retries
 * and credentials). Returns 0 and cb runs exactly once, later, from the
 * loop; or CWX_EINVAL (a missing field, no query or more than
 * CWX_MONITORING_MAX_QUERIES, a period that is not a positive multiple of
 * 60, end before start) or CWX_ENOMEM, and cb never runs. */
int cwx_monitoring_get_metric_data(struct cwx_aws_client *c,
                                   const struct cwx_monitoring_get_req *req,
                                   cwx_monitoring_get_fn *cb, void *ud);

/* The pure halves, for tests and fuzzers. Appends the form-encoded body of
 * req to out (Action, Version, the queries, StartTime, EndTime, NextToken,
 * ScanBy=TimestampAscending). Returns 0, CWX_EINVAL or CWX_ENOMEM. */
int cwx_monitoring_body(const struct cwx_monitoring_get_req *req, struct cwx_buf *out);
/* Parses a GetMetricData answer for a request of n_queries queries. Returns
 * 0 and fills *out (free it with cwx_monitoring_page_free), or CWX_EPARSE /
 * CWX_ENOMEM with a one-line reason in msg and *out zeroed. An Id that is
 * not one of the request's, or timestamps and values that do not pair up,
 * are refused. */
int cwx_monitoring_parse(const char *body, size_t len, size_t n_queries,
                         struct cwx_monitoring_page *out, char *msg, size_t msg_size);

#endif
