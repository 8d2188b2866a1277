/* Shared by the planner's calendar files (civil.c, calendar.c, tz.c); day
 * numbers and ISO weeks come from common/civil.h; and by the plan's files
 * (plan.c, fewest.c). Not part of the planner's public interface. */
#ifndef CWX_PLANNER_PLANNER_INTERNAL_H
#define CWX_PLANNER_PLANNER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/civil.h"

struct cwx_plan;
struct cwx_job;

/* An IANA zone as a table of offset changes (tz.c reads it, calendar.c
 * looks instants up in it). */
struct cwx_tz {
    char *name;
    size_t n;     /* number of transitions */
    int64_t *at;  /* n instants (s), increasing; each changes the offset */
    int32_t *off; /* n + 1 UTC offsets (s, east positive): off[0] before
                     at[0], off[i + 1] from at[i] on */
};

/* a / b rounded towards minus infinity (b != 0). */
static inline int64_t cwx__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Names job's export task after its window, or its range when it heads
 * one (prefix is scratch for its data prefix). Leaves it unnamed, and
 * returns 0, while the account id or the bucket is unknown. Returns 0 or
 * the error of the prefix or the task name. */
int cwx__plan_job_name(const struct cwx_plan *plan, struct cwx_job *job, struct cwx_buf *prefix);

#endif
