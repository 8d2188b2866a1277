/* The loop guard (docs/architecture.md §loop-guard): caps on CreateExportTask and the
 * contradiction check. */
#include "orchestrator/orchestrator_internal.h"

#include <stdio.h>

#include "common/error.h"

void cwx__guard_init(struct cwx_guard *g, int max_per_job, int max_per_run)
{
    *g = (struct cwx_guard){
        .max_per_job = max_per_job > 0 ? max_per_job : 6,
        .max_per_run = max_per_run > 0 ? max_per_run : 10,
    };
}

void cwx__guard_lane_init(struct cwx_guard_lane *l, int max_per_job, int max_per_run)
{
    *l = (struct cwx_guard_lane){
        .max_per_job = max_per_job > 0 ? max_per_job : 6,
        .max_per_run = max_per_run > 0 ? max_per_run : 10,
    };
}

int cwx__guard_check(struct cwx_guard *g, struct cwx_guard_lane *l, const struct cwx_job *job,
                     const char *what)
{
    if (g->tripped || (l && l->tripped))
        return CWX_ELOOPGUARD;
    int per_job = l ? l->max_per_job : g->max_per_job;
    int *tripped = &g->tripped;
    if (job->status == CWX_JOB_DONE) {
        snprintf(g->why, sizeof(g->why),
                 "%s was done and was about to be exported again in the same run", what);
    } else if (g->run_calls >= g->max_per_run) {
        snprintf(g->why, sizeof(g->why),
                 "%d CreateExportTask calls in this run reached the cap (max_creates_per_run) at %s",
                 g->run_calls, what);
    } else if (l && l->calls >= l->max_per_run) {
        snprintf(g->why, sizeof(g->why),
                 "%d CreateExportTask calls of this account in this run reached its cap "
                 "(max_creates_per_run) at %s",
                 l->calls, what);
        tripped = &l->tripped;
    } else if (job->attempts >= per_job) {
        snprintf(g->why, sizeof(g->why),
                 "%s already made %d export tasks in this run (max_creates_per_job)", what,
                 job->attempts);
        if (l)
            tripped = &l->tripped;
    } else {
        return 0;
    }
    *tripped = 1;
    if (tripped != &g->tripped)
        g->lanes_tripped++;
    return CWX_ELOOPGUARD;
}

void cwx__guard_count(struct cwx_guard *g, struct cwx_guard_lane *l, struct cwx_job *job,
                      int made)
{
    g->run_calls++;
    if (l)
        l->calls++;
    if (made && job->attempts < 255)
        job->attempts++;
}
