/* Shared between the plan report writers: report.c (table, json, csv,
 * markdown) and report_html.c call the helpers of report_row.c, and
 * report.c calls report_html.c for the HTML format; report_row.c calls
 * neither. */
#ifndef CWX_PLANNER_REPORT_INTERNAL_H
#define CWX_PLANNER_REPORT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "planner/estimate.h"
#include "planner/report.h"

/* Flush a writer's buffer to its file once it holds this much. */
#define CWX__REPORT_CHUNK (256 * 1024)

/* What every format prints of one job. Borrowed strings: valid until the
 * next fill with the same prefix buffer. */
struct cwx__report_row {
    const char *account;
    const char *account_id; /* NULL when unknown */
    const char *region;
    const char *log_group;
    const char *window;
    int64_t from_ms, to_ms;
    const char *bucket;     /* NULL when unknown */
    const char *prefix;     /* NULL when unknown */
    const char *task_name;  /* NULL when unknown */
    const char *status;
    const char *reason;     /* NULL when none */
    const char *reason_code;/* short stable code; NULL when none */
    const char *range;      /* "2024-01..2024-03" when its task covers a
                             * range (coalesce); NULL otherwise */
    int64_t est_bytes;      /* -1 when unknown */
    int64_t est_ms;         /* one export of it */
};

/* prefix receives the data prefix (of the range's task when the job is in
 * a range), range_label the range's label (or stays unused). */
void cwx__report_fill_row(const struct cwx_plan *plan, const struct cwx_estimate *est,
                          const struct cwx_job *job, struct cwx_buf *prefix,
                          struct cwx__report_row *row);

/* Writes the row of job, the i-th of the plan, into b. ud is the writer's
 * own. */
typedef int cwx__report_row_fn(struct cwx_buf *b, const struct cwx__report_row *r,
                               const struct cwx_job *job, size_t i, void *ud);

/* Calls row for each job of the plan in order with what every format
 * prints of it, flushing b to f as it grows. Returns the first error. */
int cwx__report_rows(const struct cwx_plan *plan, const struct cwx_estimate *est,
                     struct cwx_buf *b, FILE *f, cwx__report_row_fn *row, void *ud);

/* Appends one cell of a table (escaped as the format needs). */
typedef int cwx__report_cell_fn(struct cwx_buf *b, const char *text);

/* Appends a row of a table: open, each of the n cells through cell, close. */
int cwx__report_cells(struct cwx_buf *b, const char *open, const char *const *cells, size_t n,
                      cwx__report_cell_fn *cell, const char *close);

/* Writes b to f and empties it once it holds at least at_least bytes. */
int cwx__report_flush(struct cwx_buf *b, FILE *f, size_t at_least);

/* Appends s (NULL as "") with each character found in chars replaced by
 * the string at the same index of as. */
int cwx__report_put_escaped(struct cwx_buf *b, const char *s, const char *chars,
                            const char *const *as);

/* Appends a decimal int64 (faster than printf on the hot path). */
int cwx__report_put_i64(struct cwx_buf *b, int64_t v);

/* "2026-01-02T03:04:05Z" of epoch ms. */
void cwx__report_iso(int64_t ms, char out[32]);

/* Appends ms as seconds with up to three decimals ("12", "1.5" as "1.500"). */
int cwx__report_put_seconds(struct cwx_buf *b, int64_t ms);

/* "prod" or "prod/us-east-1" for a lane of scope region. */
void cwx__report_lane_name(const struct cwx_plan *plan, const struct cwx_estimate_lane *l,
                           char *out, size_t size);

/* The account id of lane i of est (of its last target that knows it), or
 * NULL when unknown. */
const char *cwx__report_lane_account_id(const struct cwx_plan *plan,
                                        const struct cwx_estimate *est, size_t i);

/* The savings of skip_empty and coalesce of every lane of est
 * (cwx_plan_savings), in an array the caller frees; NULL when out of memory. */
struct cwx_plan_savings *cwx__report_savings(const struct cwx_plan *plan,
                                             const struct cwx_estimate *est);

/* The figures at the head of a report (table, markdown, HTML), formatted. */
struct cwx__report_head {
    char now[32];    /* when the plan was made, ISO 8601 */
    char bytes[24];  /* the bytes to export, as cwx_estimate_bytes_shown shows them */
    char wall[24];   /* the backfill with the lanes in parallel */
    char serial[24]; /* the export time of all lanes one after the other */
    struct cwx_plan_totals tot;
};

/* Fills head from the plan and its estimate. */
void cwx__report_head_fill(const struct cwx_plan *plan, const struct cwx_estimate *est,
                           struct cwx__report_head *head);

/* What every format prints of one unresolved selector. Borrowed from the
 * plan. */
struct cwx__report_sel {
    const char *account;
    const char *region;
    const char *kind; /* "prefix" or "pattern" */
    const char *value;
};

/* The i-th unresolved selector of the plan. */
void cwx__report_unresolved(const struct cwx_plan *plan, size_t i, struct cwx__report_sel *sel);

/* Appends each unresolved selector as a row of cells (account, region,
 * kind, value), as cwx__report_cells does. */
int cwx__report_unresolved_rows(const struct cwx_plan *plan, struct cwx_buf *b,
                                const char *open, cwx__report_cell_fn *cell, const char *close);

/* The self-contained HTML report (report_html.c). */
int cwx__report_write_html(const struct cwx_plan *plan, const struct cwx_estimate *est,
                           const struct cwx_report_options *opts, FILE *f);

#endif
