#include "planner/plan.h"

#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/mem.h"
#include "planner/estimate.h"
#include "planner/planner_internal.h"

/* Windows planned for one window set at most: 100 years of hours. */
#define CWX_MAX_WINDOWS (100 * 366 * 25)

static const char *const s_status_names[] = {"pending", "done", "running",
                                             "skipped", "failed"};

const char *cwx_job_status_name(enum cwx_job_status s)
{
    return (unsigned)s < 5 ? s_status_names[s] : "unknown";
}

const char *cwx_job_reason_text(enum cwx_job_reason r)
{
    switch (r) {
    case CWX_REASON_NONE: return NULL;
    case CWX_REASON_BEFORE_CREATION: return "window ends before the log group was created";
    case CWX_REASON_BEYOND_RETENTION: return "window is wholly beyond the log group's retention";
    case CWX_REASON_MARKER: return "marker present";
    case CWX_REASON_OBJECTS: return "exported objects present";
    case CWX_REASON_EMPTY: return "exported; the window holds no data";
    case CWX_REASON_TASK_ACTIVE: return "an export task with this name is active";
    case CWX_REASON_TASK_COMPLETED: return "export task completed; marker not yet written";
    case CWX_REASON_ATTEMPTS: return "export failed max_attempts times";
    case CWX_REASON_ERROR: return "stopped by an error";
    case CWX_REASON_NO_GROUP: return "the log group does not exist";
    case CWX_REASON_NO_EVENTS: return "no log stream has events in the window";
    case CWX_REASON__COUNT: break;
    }
    return NULL;
}

const char *cwx_job_reason_name(enum cwx_job_reason r)
{
    static const char *const names[CWX_REASON__COUNT] = {
        NULL,          "before_creation", "beyond_retention", "marker",
        "objects",     "empty",           "task_active",      "task_completed",
        "attempts",    "error",           "no_group",         "no_events",
    };
    return (unsigned)r < CWX_REASON__COUNT ? names[r] : NULL;
}

/* ---- window sets ---- */

static int s_range_windows(const struct cwx_tz *tz, const struct cwx_settings *s,
                           const struct cwx_range *r, int64_t now_ms,
                           struct cwx_window **out, size_t *n_out)
{
    enum cwx_granularity g = s->window;
    struct cwx_window first, last, w;
    *out = NULL;
    *n_out = 0;
    int rc = cwx_window_latest_settled(tz, g, now_ms, s->settle_ms, &last);
    if (rc)
        return rc;
    if (r->is_last) {
        first = last;
        for (int i = 1; i < r->last; i++) {
            rc = cwx_window_at(tz, g, first.start_ms - 1, &first);
            if (rc)
                return rc;
        }
    } else {
        rc = cwx_window_of_civil(tz, g, &r->from, &first);
        if (rc)
            return rc;
        if (!r->to_latest) {
            struct cwx_window to;
            rc = cwx_window_of_civil(tz, g, &r->to, &to);
            if (rc)
                return rc;
            if (to.end_ms < last.end_ms)
                last = to;
        }
    }
    if (first.start_ms > last.start_ms)
        return 0; /* nothing has settled yet */

    size_t cap = 16, n = 0;
    struct cwx_window *v = malloc(cap * sizeof *v);
    if (!v)
        return CWX_ENOMEM;
    w = first;
    for (;;) {
        if (n == cap) {
            struct cwx_window *nv = cwx_array_grow(v, &cap, sizeof *v, 16);
            if (!nv) {
                free(v);
                return CWX_ENOMEM;
            }
            v = nv;
        }
        v[n++] = w;
        if (w.start_ms >= last.start_ms || n >= CWX_MAX_WINDOWS)
            break;
        rc = cwx_window_next(tz, g, &w, &w);
        if (rc) {
            free(v);
            return rc;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
}

/* What makes a window set: the settings and range it was computed from. */
struct s_wset_key {
    const struct cwx_settings *s;
    const struct cwx_range *r;
};

static bool s_civil_eq(const struct cwx_civil *a, const struct cwx_civil *b)
{
    return a->year == b->year && a->month == b->month && a->day == b->day &&
           a->hour == b->hour && a->written == b->written;
}

/* Whether a and b make the same windows (at the same now). */
static bool s_wset_key_eq(const struct s_wset_key *a, const struct s_wset_key *b)
{
    const struct cwx_range *x = a->r, *y = b->r;
    if (a->s->window != b->s->window || a->s->settle_ms != b->s->settle_ms ||
        strcmp(a->s->timezone, b->s->timezone) != 0 || x->is_last != y->is_last)
        return false;
    if (x->is_last)
        return x->last == y->last;
    return s_civil_eq(&x->from, &y->from) && x->to_latest == y->to_latest &&
           (x->to_latest || s_civil_eq(&x->to, &y->to));
}

/* Finds or creates the window set of (account settings, range). keys holds
 * what each window set so far was made from (room for one more): a
 * selector like an earlier one costs no time-zone load and no calendar
 * arithmetic (ten thousand log groups share one set). */
static int s_wset_for(struct cwx_plan *plan, struct s_wset_key *keys,
                      const struct cwx_settings *s, const struct cwx_range *r,
                      uint32_t *idx, char *why, size_t why_size)
{
    struct s_wset_key key = {s, r};
    for (size_t i = 0; i < plan->n_wsets; i++) {
        if (s_wset_key_eq(&keys[i], &key)) {
            *idx = (uint32_t)i;
            return 0;
        }
    }
    struct cwx_tz *tz = NULL;
    int rc = cwx_tz_load(s->timezone, &tz);
    if (rc) {
        snprintf(why, why_size, "cannot load time zone \"%s\"", s->timezone);
        return rc;
    }
    struct cwx_window *w;
    size_t n;
    rc = s_range_windows(tz, s, r, plan->now_ms, &w, &n);
    if (rc) {
        snprintf(why, why_size, "cannot compute windows: %s", cwx_strerror(rc));
        cwx_tz_free(tz);
        return rc;
    }
    for (size_t i = 0; i < plan->n_wsets; i++) {
        struct cwx_plan_wset *ws = &plan->wsets[i];
        if (ws->granularity == s->window && ws->n_windows == n &&
            strcmp(cwx_tz_name(ws->tz), cwx_tz_name(tz)) == 0 &&
            (n == 0 || (ws->windows[0].start_ms == w[0].start_ms &&
                        ws->windows[n - 1].end_ms == w[n - 1].end_ms))) {
            free(w);
            cwx_tz_free(tz);
            *idx = (uint32_t)i;
            return 0;
        }
    }
    struct cwx_plan_wset *nw =
        realloc(plan->wsets, (plan->n_wsets + 1) * sizeof *nw);
    if (!nw) {
        free(w);
        cwx_tz_free(tz);
        return CWX_ENOMEM;
    }
    plan->wsets = nw;
    keys[plan->n_wsets] = key;
    nw[plan->n_wsets] = (struct cwx_plan_wset){tz, s->window, w, n};
    *idx = (uint32_t)plan->n_wsets++;
    return 0;
}

/* ---- targets ---- */


/* Expands {account_id} and {region} in a bucket template. NULL when the
 * account id is needed and unknown (or out of memory). */
static char *s_expand_bucket(const char *tmpl, const char *account_id,
                             const char *region)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 255);
    const char *p = tmpl;
    int rc = 0;
    while (*p && !rc) {
        if (strncmp(p, "{account_id}", 12) == 0) {
            if (!account_id) {
                rc = CWX_ENOTFOUND;
                break;
            }
            rc = cwx_buf_puts(&b, account_id);
            p += 12;
        } else if (strncmp(p, "{region}", 8) == 0) {
            rc = cwx_buf_puts(&b, region);
            p += 8;
        } else {
            rc = cwx_buf_putc(&b, *p++);
        }
    }
    if (rc) {
        cwx_buf_free(&b);
        return NULL;
    }
    return cwx_buf_steal(&b);
}

int cwx_plan_set_account_id(struct cwx_plan *plan, uint32_t account,
                            const char *account_id)
{
    for (size_t i = 0; i < plan->n_targets; i++) {
        struct cwx_plan_target *t = &plan->targets[i];
        if (t->account != account)
            continue;
        char *id = strdup(account_id);
        char *bucket = s_expand_bucket(
            plan->cfg->accounts[account].settings.destination.bucket,
            account_id, t->region);
        if (!id || !bucket) {
            free(id);
            free(bucket);
            return CWX_ENOMEM;
        }
        free(t->account_id);
        free(t->bucket);
        t->account_id = id;
        t->bucket = bucket;
    }
    return 0;
}

/* Adds account a's window sets and targets to plan. named_jobs counts the
 * jobs of named groups so far: a plan past max_jobs is refused here, before
 * memory is spent on its jobs. Returns 0 or CWX_E*, with *why. */
static int s_add_account(struct cwx_plan *plan, struct s_wset_key *keys, size_t a,
                         uint64_t *named_jobs, char *why, size_t why_size)
{
    const struct cwx_config *cfg = plan->cfg;
    const struct cwx_account *acc = &cfg->accounts[a];
    int rc = 0;
    for (size_t g = 0; g < acc->n_groups; g++) {
        uint32_t *ws = &plan->sel_wset[plan->sel_base[a] + g];
        rc = s_wset_for(plan, keys, &acc->settings, &acc->groups[g].range, ws, why, why_size);
        if (rc)
            return rc;
        if (acc->groups[g].kind == CWX_GROUP_NAME)
            *named_jobs += (uint64_t)acc->n_regions * plan->wsets[*ws].n_windows;
        if (*named_jobs > cwx_plan_max_jobs(cfg)) {
            snprintf(why, why_size,
                     "the plan would hold at least %llu jobs (log groups × regions × "
                     "windows), more than max_jobs (%zu): narrow the range, use a "
                     "coarser window, or raise max_jobs",
                     (unsigned long long)*named_jobs, cwx_plan_max_jobs(cfg));
            return CWX_ETOOBIG;
        }
    }
    for (size_t r = 0; r < acc->n_regions; r++) {
        struct cwx_plan_target *t = &plan->targets[plan->n_targets++];
        t->account = (uint32_t)a;
        t->region_idx = (uint32_t)r;
        t->region = acc->regions[r];
    }
    if (acc->account_id)
        return cwx_plan_set_account_id(plan, (uint32_t)a, acc->account_id);
    if (strstr(acc->settings.destination.bucket, "{account_id}"))
        return 0;
    for (size_t i = plan->n_targets - acc->n_regions; i < plan->n_targets; i++) {
        plan->targets[i].bucket = s_expand_bucket(acc->settings.destination.bucket, NULL,
                                                  plan->targets[i].region);
        if (!plan->targets[i].bucket)
            return CWX_ENOMEM;
    }
    return rc;
}

int cwx_plan_new(const struct cwx_config *cfg, int64_t now_ms,
                 struct cwx_plan **out, char *why, size_t why_size)
{
    int rc = 0;
    if (why_size)
        why[0] = '\0'; /* first: callers read it on every failure */
    struct cwx_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return CWX_ENOMEM;
    plan->cfg = cfg;
    plan->now_ms = now_ms;

    size_t n_sel = 0, n_targets = 0;
    uint64_t named_jobs = 0;
    struct s_wset_key *keys = NULL;
    plan->sel_base = calloc(cfg->n_accounts + 1, sizeof *plan->sel_base);
    if (!plan->sel_base) {
        rc = CWX_ENOMEM;
        goto fail;
    }
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        plan->sel_base[a] = n_sel;
        n_sel += cfg->accounts[a].n_groups;
        n_targets += cfg->accounts[a].n_regions;
    }
    plan->sel_base[cfg->n_accounts] = n_sel;
    plan->sel_wset = calloc(n_sel ? n_sel : 1, sizeof *plan->sel_wset);
    plan->targets = calloc(n_targets ? n_targets : 1, sizeof *plan->targets);
    keys = calloc(n_sel ? n_sel : 1, sizeof *keys); /* a window set per selector at most */
    if (!plan->sel_wset || !plan->targets || !keys) {
        rc = CWX_ENOMEM;
        goto fail;
    }
    for (size_t a = 0; a < cfg->n_accounts && !rc; a++)
        rc = s_add_account(plan, keys, a, &named_jobs, why, why_size);
    if (rc)
        goto fail;
    free(keys);
    *out = plan;
    return 0;
fail:
    free(keys);
    cwx_plan_free(plan);
    *out = NULL;
    return rc;
}

/* What a window set, a target and a group own. */
static void s_wset_free(struct cwx_plan_wset *ws)
{
    cwx_tz_free(ws->tz);
    free(ws->windows);
}

static void s_target_free(struct cwx_plan_target *t)
{
    CWX_FREE_ALL(t->account_id, t->bucket, t->model);
}

static void s_group_free(struct cwx_plan_group *g)
{
    free(g->name);
    free(g->events);
}

void cwx_plan_free(struct cwx_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n_wsets; i++)
        s_wset_free(&plan->wsets[i]);
    free(plan->wsets);
    for (size_t i = 0; i < plan->n_targets; i++)
        s_target_free(&plan->targets[i]);
    free(plan->targets);
    for (size_t i = 0; i < plan->n_groups; i++)
        s_group_free(&plan->groups[i]);
    if (plan->lazy)
        cwx_buf_free(&plan->lazy->prefix);
    cwx_ingest_free(plan->ingest);
    CWX_FREE_ALL(plan->groups, plan->unresolved, plan->jobs, plan->lazy, plan->sel_wset,
                 plan->sel_base, plan->names.slots, plan);
}

/* ---- groups ---- */

/* Returns the slot for (target, name): holding its group index + 1, or 0. */
static uint32_t *s_name_slot(struct cwx_plan *plan, uint32_t target,
                             const char *name)
{
    size_t cap = plan->names.cap;
    for (size_t i = cwx_hash_start(cwx_hash_str(name, target), cap);; i = cwx_hash_next(i, cap)) {
        uint32_t *slot = &plan->names.slots[i];
        if (!*slot)
            return slot;
        const struct cwx_plan_group *g = &plan->groups[*slot - 1];
        if (g->target == target && strcmp(g->name, name) == 0)
            return slot;
    }
}

/* Makes room in the name index for one more group. */
static int s_names_reserve(struct cwx_plan *plan)
{
    size_t cap = cwx_hash_capacity(plan->n_groups, plan->names.cap, 1024);
    if (cap == plan->names.cap)
        return 0;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return CWX_ENOMEM;
    uint32_t *old = plan->names.slots;
    size_t old_cap = plan->names.cap;
    plan->names.slots = slots;
    plan->names.cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i])
            continue;
        const struct cwx_plan_group *g = &plan->groups[old[i] - 1];
        *s_name_slot(plan, g->target, g->name) = old[i];
    }
    free(old);
    return 0;
}

int cwx_plan_add_group(struct cwx_plan *plan, uint32_t target, uint32_t sel,
                       const char *name, int64_t creation_ms, int retention_days,
                       int64_t stored_bytes)
{
    const struct cwx_plan_target *t = &plan->targets[target];
    const struct cwx_group_sel *gs = &plan->cfg->accounts[t->account].groups[sel];
    for (size_t i = 0; i < gs->n_exclude; i++)
        if (fnmatch(gs->exclude[i], name, 0) == 0)
            return 1;
    int rc = s_names_reserve(plan);
    if (rc)
        return rc;
    uint32_t *slot = s_name_slot(plan, target, name);
    if (*slot)
        return 1;
    if (plan->n_groups == plan->cap_groups) {
        struct cwx_plan_group *g = cwx_array_grow(plan->groups, &plan->cap_groups, sizeof *g, 64);
        if (!g)
            return CWX_ENOMEM;
        plan->groups = g;
    }
    char *copy = strdup(name);
    if (!copy)
        return CWX_ENOMEM;
    plan->groups[plan->n_groups] = (struct cwx_plan_group){
        .name = copy,
        .target = target,
        .sel = sel,
        .wset = plan->sel_wset[plan->sel_base[t->account] + sel],
        .creation_ms = creation_ms,
        .retention_days = retention_days,
        .stored_bytes = stored_bytes,
    };
    *slot = (uint32_t)++plan->n_groups;
    return 0;
}

int cwx_plan_add_named_groups(struct cwx_plan *plan)
{
    for (uint32_t t = 0; t < plan->n_targets; t++) {
        const struct cwx_account *acc = &plan->cfg->accounts[plan->targets[t].account];
        for (uint32_t s = 0; s < acc->n_groups; s++) {
            const struct cwx_group_sel *gs = &acc->groups[s];
            if (gs->kind == CWX_GROUP_NAME) {
                int rc = cwx_plan_add_group(plan, t, s, gs->value, 0, 0, -1);
                if (rc < 0)
                    return rc;
                continue;
            }
            if (plan->n_unresolved == plan->cap_unresolved) {
                struct cwx_plan_unresolved *u = cwx_array_grow(
                    plan->unresolved, &plan->cap_unresolved, sizeof *u, 16);
                if (!u)
                    return CWX_ENOMEM;
                plan->unresolved = u;
            }
            plan->unresolved[plan->n_unresolved++] =
                (struct cwx_plan_unresolved){t, s};
        }
    }
    return 0;
}

/* ---- jobs ---- */

const struct cwx_plan_group *cwx_plan_job_group(const struct cwx_plan *plan,
                                                const struct cwx_job *job)
{
    return &plan->groups[job->group];
}

const struct cwx_window *cwx_plan_job_window(const struct cwx_plan *plan,
                                             const struct cwx_job *job)
{
    return &plan->wsets[plan->groups[job->group].wset].windows[job->window];
}

const struct cwx_plan_target *cwx_plan_job_target(const struct cwx_plan *plan,
                                                  const struct cwx_job *job)
{
    return &plan->targets[plan->groups[job->group].target];
}

const struct cwx_account *cwx_plan_job_account(const struct cwx_plan *plan,
                                               const struct cwx_job *job)
{
    return &plan->cfg->accounts[cwx_plan_job_target(plan, job)->account];
}

const struct cwx_group_sel *cwx_plan_job_sel(const struct cwx_plan *plan,
                                             const struct cwx_job *job)
{
    return &cwx_plan_job_account(plan, job)->groups[plan->groups[job->group].sel];
}

int cwx_plan_job_prefix(const struct cwx_plan *plan, const struct cwx_job *job,
                        struct cwx_buf *out)
{
    /* A report asks for the prefix of the job a lazy plan just named: the
     * prefix its task name was made from. */
    const struct cwx_plan_lazy *lz = plan->lazy;
    if (lz && lz->prefix_valid && out != &lz->prefix && job->group == lz->prefix_group &&
        job->window == lz->prefix_window && job->span <= 1)
        return cwx_buf_append(out, lz->prefix.ptr, lz->prefix.len);
    const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
    const struct cwx_plan_target *t = &plan->targets[g->target];
    const struct cwx_account *acc = &plan->cfg->accounts[t->account];
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    const char *why = NULL;
    struct cwx_template_vars v = {
        .account = acc->name,
        .account_id = t->account_id,
        .region = t->region,
        .log_group = g->name,
        .tz = ws->tz,
        .granularity = ws->granularity,
        .window = &ws->windows[job->window],
        .window_last = &ws->windows[cwx_plan_job_last(plan, job)],
    };
    return cwx_template_expand(acc->settings.destination.prefix, &v, out, &why);
}

int cwx_plan_job_marker_key(const struct cwx_plan *plan,
                            const struct cwx_job *job, struct cwx_buf *out)
{
    const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
    const struct cwx_plan_target *t = &plan->targets[g->target];
    if (!t->account_id)
        return CWX_ENOTFOUND;
    const struct cwx_account *acc = &plan->cfg->accounts[t->account];
    return cwx_marker_key(acc->settings.destination.state_prefix, t->account_id,
                          t->region, g->name, cwx_plan_job_window(plan, job)->label,
                          out);
}

void cwx_plan_job_identity(const struct cwx_plan *plan, const struct cwx_job *job,
                           const char *prefix, struct cwx_job_identity *out)
{
    const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
    const struct cwx_plan_target *t = &plan->targets[g->target];
    const struct cwx_window *w = cwx_plan_job_window(plan, job);
    const struct cwx_window *last = &plan->wsets[g->wset].windows[cwx_plan_job_last(plan, job)];
    *out = (struct cwx_job_identity){
        .account_id = t->account_id,
        .region = t->region,
        .log_group = g->name,
        .log_stream_prefix = cwx_plan_job_sel(plan, job)->log_stream_prefix,
        .from_ms = w->start_ms,
        .to_ms = last->end_ms - 1,
        .bucket = t->bucket,
        .prefix = prefix,
    };
}

size_t cwx_plan_max_jobs(const struct cwx_config *cfg)
{
    return cfg->max_jobs ? cfg->max_jobs : CWX_MAX_JOBS_DEFAULT;
}

uint64_t cwx_plan_job_count(const struct cwx_plan *plan)
{
    uint64_t n = 0;
    for (size_t i = 0; i < plan->n_groups; i++)
        n += plan->wsets[plan->groups[i].wset].n_windows;
    return n;
}

/* The oldest event time a group still holds: its retention horizon, or
 * INT64_MIN when it keeps its events forever (or its retention is unknown). */
static int64_t s_horizon(const struct cwx_plan *plan, const struct cwx_plan_group *g)
{
    return g->retention_days > 0 ? plan->now_ms - (int64_t)g->retention_days * 86400000
                                 : INT64_MIN;
}

int cwx__plan_job_name(const struct cwx_plan *plan, struct cwx_job *job, struct cwx_buf *prefix)
{
    const struct cwx_plan_target *t = cwx_plan_job_target(plan, job);
    if (!t->account_id || !t->bucket)
        return 0;
    cwx_buf_reset(prefix);
    int rc = cwx_plan_job_prefix(plan, job, prefix);
    if (rc)
        return rc;
    struct cwx_job_identity id;
    cwx_plan_job_identity(plan, job, prefix->ptr, &id);
    return cwx_job_task_name(&id, job->task_name);
}

/* Makes the job of window wi of group gi into *job: its status from the
 * group's creation and retention, and, when `named` and the account id and
 * bucket are known, its task name (prefix is scratch for its data prefix).
 * Returns 0 or the error of the prefix or the task name. */
static int s_make_job(const struct cwx_plan *plan, uint32_t gi, uint32_t wi, int64_t horizon,
                      int named, struct cwx_buf *prefix, struct cwx_job *job)
{
    const struct cwx_plan_group *g = &plan->groups[gi];
    const struct cwx_window *w = &plan->wsets[g->wset].windows[wi];
    *job = (struct cwx_job){.group = gi, .window = wi};
    if (g->creation_ms > 0 && w->end_ms <= g->creation_ms) {
        job->status = CWX_JOB_SKIPPED;
        job->reason = CWX_REASON_BEFORE_CREATION;
    } else if (w->end_ms <= horizon) {
        job->status = CWX_JOB_SKIPPED;
        job->reason = CWX_REASON_BEYOND_RETENTION;
    }
    return named ? cwx__plan_job_name(plan, job, prefix) : 0;
}

/* Sets every group's first_job and n_jobs and plan->n_jobs. CWX_ETOOBIG
 * when the jobs would be more than max_jobs. */
static int s_count_jobs(struct cwx_plan *plan)
{
    uint64_t n = cwx_plan_job_count(plan);
    if (n > cwx_plan_max_jobs(plan->cfg) || n > UINT32_MAX)
        return CWX_ETOOBIG;
    size_t j = 0;
    for (size_t gi = 0; gi < plan->n_groups; gi++) {
        struct cwx_plan_group *g = &plan->groups[gi];
        g->first_job = (uint32_t)j;
        g->n_jobs = (uint32_t)plan->wsets[g->wset].n_windows;
        j += g->n_jobs;
    }
    plan->n_jobs = j;
    return 0;
}

int cwx_plan_expand(struct cwx_plan *plan)
{
    int rc = s_count_jobs(plan);
    if (rc)
        return rc;
    free(plan->jobs);
    plan->jobs = calloc(plan->n_jobs ? plan->n_jobs : 1, sizeof *plan->jobs);
    if (!plan->jobs)
        return CWX_ENOMEM;
    struct cwx_buf prefix;
    cwx_buf_init(&prefix, CWX_S3_KEY_MAX);
    for (uint32_t gi = 0; gi < plan->n_groups && !rc; gi++) {
        const struct cwx_plan_group *g = &plan->groups[gi];
        int64_t horizon = s_horizon(plan, g);
        for (uint32_t wi = 0; wi < g->n_jobs && !rc; wi++)
            rc = s_make_job(plan, gi, wi, horizon, 1, &prefix,
                            &plan->jobs[g->first_job + wi]);
    }
    cwx_buf_free(&prefix);
    return rc;
}

int cwx_plan_expand_lazy(struct cwx_plan *plan)
{
    int rc = s_count_jobs(plan);
    if (rc)
        return rc;
    free(plan->jobs);
    plan->jobs = NULL;
    if (!plan->lazy) {
        plan->lazy = calloc(1, sizeof *plan->lazy);
        if (!plan->lazy)
            return CWX_ENOMEM;
        cwx_buf_init(&plan->lazy->prefix, CWX_S3_KEY_MAX);
    }
    /* Every window of a group expands the same template with a label of
     * the same length: its first window stands for all of them. */
    for (uint32_t gi = 0; gi < plan->n_groups && !rc; gi++) {
        struct cwx_job job;
        if (plan->groups[gi].n_jobs)
            rc = s_make_job(plan, gi, 0, s_horizon(plan, &plan->groups[gi]), 1,
                            &plan->lazy->prefix, &job);
    }
    return rc;
}

/* The group that holds job j of a lazy plan: the hint, the one after it,
 * or a binary search over the groups' first jobs. */
static uint32_t s_lazy_group(const struct cwx_plan *plan, size_t j)
{
    uint32_t h = plan->lazy->group;
    for (uint32_t k = h; k < plan->n_groups && k <= h + 1; k++) {
        const struct cwx_plan_group *g = &plan->groups[k];
        if (j >= g->first_job && j - g->first_job < g->n_jobs)
            return k;
    }
    size_t lo = 0, hi = plan->n_groups; /* the last group with first_job <= j */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (plan->groups[mid].first_job <= j)
            lo = mid;
        else
            hi = mid;
    }
    /* A group without jobs shares its first_job with the next group, so
     * the last one found is never empty. */
    return (uint32_t)lo;
}

const struct cwx_job *cwx_plan_job(const struct cwx_plan *plan, size_t j,
                                   struct cwx_job *tmp, int named)
{
    if (plan->jobs)
        return &plan->jobs[j];
    struct cwx_plan_lazy *lz = plan->lazy;
    uint32_t gi = s_lazy_group(plan, j);
    lz->group = gi;
    const struct cwx_plan_group *g = &plan->groups[gi];
    uint32_t wi = (uint32_t)(j - g->first_job);
    lz->prefix_valid = false;
    /* Checked by cwx_plan_expand_lazy: a failure here leaves the name "". */
    if (s_make_job(plan, gi, wi, s_horizon(plan, g), named, &lz->prefix, tmp))
        tmp->task_name[0] = '\0';
    else if (tmp->task_name[0])
        *lz = (struct cwx_plan_lazy){gi, lz->prefix, gi, wi, true};
    return tmp;
}

void cwx_plan_totals(const struct cwx_plan *plan, struct cwx_plan_totals *out)
{
    size_t c[5] = {0}, tasks = 0, no_events = 0;
    for (size_t i = 0; i < plan->n_jobs; i++) {
        struct cwx_job tmp;
        const struct cwx_job *job = cwx_plan_job(plan, i, &tmp, 0);
        c[job->status < 5 ? job->status : 0]++;
        if (job->covered)
            continue;
        if (job->status == CWX_JOB_PENDING || job->status == CWX_JOB_RUNNING)
            tasks++;
        else if (job->status == CWX_JOB_SKIPPED && job->reason == CWX_REASON_NO_EVENTS)
            no_events++;
    }
    *out = (struct cwx_plan_totals){
        .tasks = tasks,
        .no_events = no_events,
        .jobs = plan->n_jobs,
        .pending = c[CWX_JOB_PENDING],
        .done = c[CWX_JOB_DONE],
        .running = c[CWX_JOB_RUNNING],
        .skipped = c[CWX_JOB_SKIPPED],
        .failed = c[CWX_JOB_FAILED],
    };
}
