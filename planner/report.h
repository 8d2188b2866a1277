/* Plan reports: table, JSON (docs/plan.md), CSV. Streamed row by row so a
 * plan of a million jobs costs no memory beyond the plan itself. */
#ifndef CWX_PLANNER_REPORT_H
#define CWX_PLANNER_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "planner/plan.h"

enum cwx_report_format {
    CWX_REPORT_TABLE = 0,
    CWX_REPORT_JSON,
    CWX_REPORT_CSV,
    CWX_REPORT_MARKDOWN,
    CWX_REPORT_HTML,
};

/* Parses "table", "json", "csv", "markdown", "html". */
int cwx_report_format_parse(const char *s, enum cwx_report_format *out);

struct cwx_report_options {
    bool color;     /* ANSI colours in the table (only on a terminal) */
    bool offline;   /* the plan was made without AWS */
};

/* Writes the report of plan to f. Returns 0 or CWX_EIO / CWX_ENOMEM /
 * CWX_EINVAL (a format this build cannot write yet). */
int cwx_report_write(const struct cwx_plan *plan, enum cwx_report_format fmt,
                     const struct cwx_report_options *opts, FILE *f);

#endif
