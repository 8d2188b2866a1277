/* Queue order, a small string index, and job helpers shared by the files
 * of the orchestrator. */
#include "orchestrator/orchestrator_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/hash.h"
#include "planner/planner.h"

struct s_key {
    int64_t start;
    uint32_t group;
    uint32_t window;
    uint32_t job;
};

static int s_cmp(const void *a, const void *b)
{
    const struct s_key *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->window != y->window)
        return x->window < y->window ? -1 : 1;
    return 0;
}

void cwx__queue_sort(const struct cwx_plan *plan, uint32_t *jobs, size_t n)
{
    struct s_key *keys = malloc((n ? n : 1) * sizeof(*keys));
    if (!keys) {
        /* Out of memory: the plan's own order (group, then window) still
         * exports every window; only the order differs. */
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cwx_job *job = &plan->jobs[jobs[i]];
        keys[i] = (struct s_key){cwx_plan_job_window(plan, job)->start_ms, job->group,
                                 job->window, jobs[i]};
    }
    qsort(keys, n, sizeof(*keys), s_cmp);
    for (size_t i = 0; i < n; i++)
        jobs[i] = keys[i].job;
    free(keys);
}

/* ---- index ----------------------------------------------------------------- */

/* Doubles the index (at most half full) once one more key would pass
 * that. */
static int s_reserve(struct cwx_index *ix)
{
    size_t cap = cwx_hash_capacity(ix->n, ix->cap, 64);
    if (cap == ix->cap)
        return 0;
    struct cwx_index_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return CWX_ENOMEM;
    for (size_t i = 0; i < ix->cap; i++) {
        struct cwx_index_slot *s = &ix->slots[i];
        if (!s->key)
            continue;
        size_t j = cwx_hash_start(cwx_hash_str(s->key, s->tag), cap);
        while (slots[j].key)
            j = cwx_hash_next(j, cap);
        slots[j] = *s;
    }
    free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return 0;
}

int cwx__index_put(struct cwx_index *ix, const char *key, uint32_t tag, uint32_t value)
{
    int rc = s_reserve(ix);
    if (rc)
        return rc;
    size_t j = cwx_hash_start(cwx_hash_str(key, tag), ix->cap);
    while (ix->slots[j].key) {
        if (ix->slots[j].tag == tag && strcmp(ix->slots[j].key, key) == 0) {
            ix->slots[j].value = value;
            return 0;
        }
        j = cwx_hash_next(j, ix->cap);
    }
    ix->slots[j] = (struct cwx_index_slot){key, tag, value};
    ix->n++;
    return 0;
}

int cwx__index_get(const struct cwx_index *ix, const char *key, size_t key_len, uint32_t tag,
                   uint32_t *value)
{
    if (!ix->cap)
        return 0;
    size_t j = cwx_hash_start(cwx_hash_bytes(key, key_len, tag), ix->cap);
    while (ix->slots[j].key) {
        const struct cwx_index_slot *s = &ix->slots[j];
        if (s->tag == tag && strncmp(s->key, key, key_len) == 0 && s->key[key_len] == 0) {
            *value = s->value;
            return 1;
        }
        j = cwx_hash_next(j, ix->cap);
    }
    return 0;
}

void cwx__index_free(struct cwx_index *ix)
{
    free(ix->slots);
    *ix = (struct cwx_index){0};
}

/* ---- helpers ---------------------------------------------------------------- */

int64_t cwx__now_ms(void)
{
    return cwx_wall_ms();
}

void cwx__iso(int64_t ms, char *out, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (!size)
        return;
    if (!gmtime_r(&s, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, size, "?");
}

int cwx__job_strings(const struct cwx_plan *plan, const struct cwx_job *job,
                     struct cwx_buf *prefix, struct cwx_buf *marker)
{
    int rc = 0;
    if (prefix)
        rc = cwx_plan_job_prefix(plan, job, prefix);
    if (!rc && marker)
        rc = cwx_plan_job_marker_key(plan, job, marker);
    return rc;
}

int64_t cwx__job_estimated_bytes(const struct cwx_plan *plan, const struct cwx_job *job)
{
    /* The group's storedBytes spread over the span its data covers, times
     * the part of it the window overlaps (the planner's estimate). */
    const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    int64_t sum = 0;
    for (uint32_t w = job->window; w <= cwx_plan_job_last(plan, job); w++) {
        int64_t b = cwx_estimate_window_bytes(plan, g, &ws->windows[w]);
        if (b < 0)
            return -1;
        sum += b; /* a range: the sum of its windows */
    }
    return sum;
}
