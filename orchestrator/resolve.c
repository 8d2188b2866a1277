/* The resolver: each account's identity (sts:GetCallerIdentity), its
 * log-group selectors looked up or listed, then the plan's expansion. */
#include "orchestrator/orchestrator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/log.h"
#include "orchestrator/orchestrator_internal.h"

/* One group found for a (target, selector). */
struct s_found {
    char *name;
    int64_t creation_ms;
    int retention_days;
    int64_t stored_bytes;
    int found; /* named groups: 0 until AWS says it exists */
};

struct s_sel {
    struct s_found *items;
    size_t n, cap;
};

struct s_resolver {
    struct cwx_session *s;
    struct cwx_plan *plan;
    struct cwx_resolve_result *res;
    cwx_resolve_done_fn *cb;
    void *ud;
    int pending;
    int status;
    size_t *tbase;       /* per target: offset into sels */
    struct s_sel *sels;  /* per (target, selector) */
    size_t n_sels;
};

/* One call of the resolver in flight. */
struct s_call {
    struct s_resolver *r;
    uint32_t target;
    uint32_t sel;         /* selector for prefix/pattern listings */
    char **names;         /* identifiers (owned copies) */
    size_t n_names;
    int tries;            /* transient failures so far */
    int (*start)(struct s_call *c); /* makes the call (again) */
    const char *what;     /* the call, for messages */
};

/* Records that account gives up, and why. */
static void s_gives_up(struct s_resolver *r, uint32_t account, int status, const char *detail)
{
    char who[160];
    snprintf(who, sizeof(who), "account %s", r->plan->cfg->accounts[account].name);
    cwx__account_gives_up(r->res->account_error, r->res->account_detail, account, status,
                          detail, who);
}

static void s_account_fail(struct s_resolver *r, uint32_t account, int status,
                           const struct cwx_aws_error *err, const char *what)
{
    if (r->res->account_error[account])
        return;
    char e[320], detail[400];
    snprintf(detail, sizeof(detail), "%s: %s", what, cwx__why(status, err, e, sizeof(e)));
    s_gives_up(r, account, status, detail);
}

/* After a call of the account failed: 1 when it is to be made again later
 * (fn(ud) is scheduled), 0 when the account gives up (the caller records
 * why). */
static int s_retry_later(struct s_resolver *r, uint32_t account, int *tries, int status,
                         const struct cwx_aws_error *err, const char *what,
                         void (*fn)(void *ud), void *ud)
{
    if (r->res->account_error[account])
        return 0;
    const struct cwx_account *acc = &r->plan->cfg->accounts[account];
    char who[160];
    snprintf(who, sizeof(who), "account %s", acc->name);
    return cwx_session_retry_later(r->s, &acc->settings, tries, status, err, who, what, fn,
                                   ud);
}

static int s_push(struct s_sel *sel, const char *name, int64_t creation, int retention,
                  int64_t stored, int found)
{
    struct s_found *items = cwx_grow(sel->items, sel->n, &sel->cap, sizeof(*items), 8);
    if (!items)
        return CWX_ENOMEM;
    sel->items = items;
    char *copy = strdup(name);
    if (!copy)
        return CWX_ENOMEM;
    sel->items[sel->n++] = (struct s_found){copy, creation, retention, stored, found};
    return 0;
}

static void s_finish(struct s_resolver *r);

static void s_call_free(struct s_call *c)
{
    for (size_t i = 0; i < c->n_names; i++)
        free(c->names[i]);
    free(c->names);
    free(c);
}

static void s_done_one(struct s_resolver *r)
{
    if (--r->pending == 0)
        s_finish(r);
}

static const struct cwx_account *s_acc(struct s_resolver *r, uint32_t target)
{
    return &r->plan->cfg->accounts[r->plan->targets[target].account];
}

/* Fills the details of every item named `name` in target's selectors that
 * want details (named groups and pattern results). */
static void s_fill(struct s_resolver *r, uint32_t target, const struct cwx_logs_log_group *g)
{
    const struct cwx_account *acc = s_acc(r, target);
    for (size_t s = 0; s < acc->n_groups; s++) {
        struct s_sel *sel = &r->sels[r->tbase[target] + s];
        for (size_t i = 0; i < sel->n; i++) {
            struct s_found *f = &sel->items[i];
            if (strcmp(f->name, g->name) != 0)
                continue;
            f->found = 1;
            f->creation_ms = g->creation_time_ms;
            f->retention_days = g->retention_days;
            f->stored_bytes = g->stored_bytes;
        }
    }
}

/* Makes a group call again after a wait (or gives up: stopping). */
static void s_call_again(void *ud)
{
    struct s_call *c = ud;
    struct s_resolver *r = c->r;
    int rc = cwx_session_stopping(r->s) ? CWX_ECANCELED : c->start(c);
    if (rc) {
        s_account_fail(r, r->plan->targets[c->target].account, rc, NULL, c->what);
        s_call_free(c);
        s_done_one(r);
    }
}

/* A group call answered: 1 when it failed transiently and is made again
 * later (return at once); else 0, the account given up when it failed. */
static int s_call_retried(struct s_call *c, int status, const struct cwx_aws_error *err)
{
    struct s_resolver *r = c->r;
    uint32_t account = r->plan->targets[c->target].account;
    if (!status)
        return 0;
    if (s_retry_later(r, account, &c->tries, status, err, c->what, s_call_again, c))
        return 1;
    s_account_fail(r, account, status, err, c->what);
    return 0;
}

/* A call of target's account, made (again) by start; NULL (and r->status
 * set) when out of memory. */
static struct s_call *s_call_new(struct s_resolver *r, uint32_t target,
                                 int (*start)(struct s_call *c), const char *what)
{
    struct s_call *c = calloc(1, sizeof(*c));
    if (!c) {
        r->status = CWX_ENOMEM;
        return NULL;
    }
    c->r = r;
    c->target = target;
    c->start = start;
    c->what = what;
    return c;
}

/* Makes c's call for the first time; one that cannot start gives the
 * account up. */
static void s_call_first(struct s_call *c)
{
    struct s_resolver *r = c->r;
    r->pending++;
    int rc = c->start(c);
    if (rc) {
        r->pending--;
        s_account_fail(r, r->plan->targets[c->target].account, rc, NULL, c->what);
        s_call_free(c);
    }
}

static void s_on_details(int status, struct cwx_logs_log_groups *all,
                         const struct cwx_aws_error *err, void *ud);
static void s_on_listing(int status, struct cwx_logs_log_groups *all,
                         const struct cwx_aws_error *err, void *ud);

/* DescribeLogGroups: by name when c has names (s_on_details answers), else
 * the listing of c's prefix or pattern selector (s_on_listing answers). */
static int s_groups_start(struct s_call *c)
{
    struct cwx_logs_describe_log_groups_req req = {
        .identifiers = (const char *const *)c->names,
        .n_identifiers = c->n_names,
    };
    if (!c->names) {
        const struct cwx_group_sel *gs = &s_acc(c->r, c->target)->groups[c->sel];
        req.prefix = gs->kind == CWX_GROUP_PREFIX ? gs->value : NULL;
        req.pattern = gs->kind == CWX_GROUP_PATTERN ? gs->value : NULL;
    }
    return cwx_logs_describe_log_groups_all(cwx_session_client(c->r->s, c->target), &req, 0,
                                            c->names ? s_on_details : s_on_listing, c);
}

static void s_on_details(int status, struct cwx_logs_log_groups *all,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_call *c = ud;
    struct s_resolver *r = c->r;
    if (s_call_retried(c, status, err))
        return;
    if (!status) {
        for (size_t i = 0; i < all->n; i++)
            s_fill(r, c->target, &all->groups[i]);
        cwx_logs_log_groups_free(all);
    }
    s_call_free(c);
    s_done_one(r);
}

/* Looks names up by logGroupIdentifiers, 50 at a time. Takes the names. */
static void s_lookup(struct s_resolver *r, uint32_t target, char **names, size_t n)
{
    for (size_t off = 0; off < n; off += 50) {
        size_t k = n - off < 50 ? n - off : 50;
        struct s_call *c =
            s_call_new(r, target, s_groups_start, "logs:DescribeLogGroups (by name)");
        char **batch = malloc(k * sizeof(*batch));
        if (!c || !batch) {
            free(c);
            free(batch);
            r->status = CWX_ENOMEM;
            continue;
        }
        c->names = batch;
        for (size_t i = 0; i < k; i++) {
            batch[i] = names[off + i];
            names[off + i] = NULL;
        }
        c->n_names = k;
        s_call_first(c);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void s_on_listing(int status, struct cwx_logs_log_groups *all,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_call *c = ud;
    struct s_resolver *r = c->r;
    const struct cwx_group_sel *gs = &s_acc(r, c->target)->groups[c->sel];
    if (s_call_retried(c, status, err))
        return;
    if (!status) {
        struct s_sel *sel = &r->sels[r->tbase[c->target] + c->sel];
        int pattern = gs->kind == CWX_GROUP_PATTERN;
        char **names = pattern ? calloc(all->n ? all->n : 1, sizeof(*names)) : NULL;
        size_t n_names = 0;
        for (size_t i = 0; i < all->n; i++) {
            const struct cwx_logs_log_group *g = &all->groups[i];
            if (s_push(sel, g->name, g->creation_time_ms, g->retention_days,
                       pattern ? -1 : g->stored_bytes, 1))
                r->status = CWX_ENOMEM;
            if (names && (names[n_names] = strdup(g->name)) != NULL)
                n_names++;
        }
        cwx_logs_log_groups_free(all);
        /* A pattern search does not report storedBytes or retention. */
        if (names)
            s_lookup(r, c->target, names, n_names);
    }
    s_call_free(c);
    s_done_one(r);
}

/* Starts the group lookups of one target (account id known). */
static void s_start_target(struct s_resolver *r, uint32_t target)
{
    const struct cwx_account *acc = s_acc(r, target);
    char **names = calloc(acc->n_groups ? acc->n_groups : 1, sizeof(*names));
    size_t n_names = 0;
    for (uint32_t s = 0; s < acc->n_groups; s++) {
        const struct cwx_group_sel *gs = &acc->groups[s];
        struct s_sel *sel = &r->sels[r->tbase[target] + s];
        if (gs->kind == CWX_GROUP_NAME) {
            if (s_push(sel, gs->value, 0, 0, -1, 0))
                r->status = CWX_ENOMEM;
            if (names && (names[n_names] = strdup(gs->value)) != NULL)
                n_names++;
            continue;
        }
        struct s_call *c = s_call_new(r, target, s_groups_start, "logs:DescribeLogGroups");
        if (!c)
            continue;
        c->sel = s;
        s_call_first(c);
    }
    if (names)
        s_lookup(r, target, names, n_names);
}

static void s_start_account(struct s_resolver *r, uint32_t account)
{
    for (uint32_t t = 0; t < r->plan->n_targets; t++)
        if (r->plan->targets[t].account == account) {
            cwx__session_owner(r->s, t);
            s_start_target(r, t);
        }
}

static void s_on_identity(int status, const struct cwx_sts_identity *res,
                          const struct cwx_aws_error *err, void *ud);

/* The account of the credentials, asked once per account (its credential
 * source) with the client of its first target: it becomes the account id
 * when the config has none, and must equal the config's otherwise. */
static int s_identity_start(struct s_call *c)
{
    return cwx_sts_get_caller_identity(cwx_session_client(c->r->s, c->target), s_on_identity,
                                       c);
}

static void s_on_identity(int status, const struct cwx_sts_identity *res,
                          const struct cwx_aws_error *err, void *ud)
{
    struct s_call *c = ud;
    struct s_resolver *r = c->r;
    uint32_t account = r->plan->targets[c->target].account;
    if (status && s_retry_later(r, account, &c->tries, status, err, c->what, s_call_again, c))
        return;
    const char *want = r->plan->targets[c->target].account_id;
    if (status == 0 && res && res->account && res->account[0] && want &&
        strcmp(want, res->account) != 0) {
        /* The credentials are another account's: nothing of this account
         * is looked at, let alone exported under its prefix. */
        char detail[300];
        snprintf(detail, sizeof(detail),
                 "the credentials belong to account %.20s, but the config says account_id "
                 "%.20s: nothing of this account is planned or exported",
                 res->account, want);
        s_gives_up(r, account, CWX_EDENIED, detail);
    } else if (status == 0 && res && res->account && res->account[0]) {
        int rc = want ? 0 : cwx_plan_set_account_id(r->plan, account, res->account);
        if (rc)
            r->status = rc;
        else
            s_start_account(r, account);
    } else {
        s_account_fail(r, account, status ? status : CWX_EPARSE, err, c->what);
    }
    s_call_free(c);
    s_done_one(r);
}

/* Frees r (not the result). */
static void s_resolver_free(struct s_resolver *r)
{
    for (size_t i = 0; r->sels && i < r->n_sels; i++) {
        for (size_t k = 0; k < r->sels[i].n; k++)
            free(r->sels[i].items[k].name);
        free(r->sels[i].items);
    }
    free(r->sels);
    free(r->tbase);
    free(r);
}

static void s_finish(struct s_resolver *r)
{
    struct cwx_plan *plan = r->plan;
    int rc = r->status;
    /* Add the groups in config order. */
    size_t missing_cap = 0;
    for (uint32_t t = 0; t < plan->n_targets && !rc; t++) {
        const struct cwx_account *acc = s_acc(r, t);
        if (r->res->account_error[plan->targets[t].account])
            continue;
        for (uint32_t s = 0; s < acc->n_groups && !rc; s++) {
            struct s_sel *sel = &r->sels[r->tbase[t] + s];
            for (size_t i = 0; i < sel->n && !rc; i++) {
                struct s_found *f = &sel->items[i];
                int added = cwx_plan_add_group(plan, t, s, f->name, f->creation_ms,
                                               f->retention_days, f->stored_bytes);
                if (added < 0) {
                    rc = added;
                    break;
                }
                if (added == 0 && !f->found) {
                    size_t gi = plan->n_groups - 1;
                    if (gi >= missing_cap) {
                        size_t cap = plan->n_groups * 2 + 16;
                        unsigned char *m = realloc(r->res->group_missing, cap);
                        if (!m) {
                            rc = CWX_ENOMEM;
                            break;
                        }
                        memset(m + missing_cap, 0, cap - missing_cap);
                        r->res->group_missing = m;
                        missing_cap = cap;
                    }
                    r->res->group_missing[gi] = 1;
                    CWX_LOGW("account %s, region %s: log group %s does not exist", acc->name,
                             plan->targets[t].region, f->name);
                }
            }
        }
    }
    if (!rc)
        rc = cwx_plan_expand(plan);
    if (rc == CWX_ETOOBIG)
        CWX_LOGE("the plan would hold %llu jobs, more than max_jobs (%zu): narrow the range, "
                 "use a coarser window, or raise max_jobs",
                 (unsigned long long)cwx_plan_job_count(plan), cwx_plan_max_jobs(plan->cfg));
    if (!rc) {
        unsigned char *m = realloc(r->res->group_missing, plan->n_groups ? plan->n_groups : 1);
        if (!m)
            rc = CWX_ENOMEM;
        else {
            if (plan->n_groups > missing_cap)
                memset(m + missing_cap, 0, plan->n_groups - missing_cap);
            r->res->group_missing = m;
            r->res->n_groups = plan->n_groups;
            for (size_t g = 0; g < plan->n_groups; g++) {
                if (!m[g])
                    continue;
                const struct cwx_plan_group *pg = &plan->groups[g];
                for (uint32_t j = 0; j < pg->n_jobs; j++) {
                    struct cwx_job *job = &plan->jobs[pg->first_job + j];
                    job->status = CWX_JOB_FAILED;
                    job->reason = CWX_REASON_NO_GROUP;
                }
            }
        }
    }
    r->res->api_calls = cwx_session_api_calls(r->s);
    cwx_resolve_done_fn *cb = r->cb;
    void *ud = r->ud;
    s_resolver_free(r);
    cb(rc, ud);
}

void cwx_resolve_result_free(struct cwx_resolve_result *r)
{
    if (!r)
        return;
    cwx__account_errors_free(r->n_accounts, r->account_error, r->account_detail);
    free(r->group_missing);
    memset(r, 0, sizeof(*r));
}

static void s_soon(void *ud)
{
    s_done_one(ud);
}

/* Asks each account's identity, with the client of its first target. */
static void s_start(struct s_resolver *r)
{
    const struct cwx_plan *plan = r->plan;
    for (uint32_t a = 0; a < plan->cfg->n_accounts; a++) {
        uint32_t first = UINT32_MAX;
        for (uint32_t t = 0; t < plan->n_targets && first == UINT32_MAX; t++)
            if (plan->targets[t].account == a)
                first = t;
        if (first == UINT32_MAX)
            continue;
        /* Always asked, also when the config names the account id: the
         * credentials must be that account's (docs/trust.md). */
        struct s_call *c = s_call_new(r, first, s_identity_start, "sts:GetCallerIdentity");
        if (c)
            s_call_first(c);
    }
}

int cwx_resolve(struct cwx_session *s, struct cwx_plan *plan, struct cwx_resolve_result *res,
                cwx_resolve_done_fn *cb, void *ud)
{
    memset(res, 0, sizeof(*res));
    res->n_accounts = plan->cfg->n_accounts;
    struct s_resolver *r = malloc(sizeof(*r));
    if (!r || cwx__account_errors_new(res->n_accounts, &res->account_error,
                                      &res->account_detail)) {
        free(r);
        memset(res, 0, sizeof(*res));
        return CWX_ENOMEM;
    }
    *r = (struct s_resolver){.s = s, .plan = plan, .res = res, .cb = cb, .ud = ud};
    r->tbase = calloc(plan->n_targets + 1, sizeof(*r->tbase));
    for (uint32_t t = 0; r->tbase && t < plan->n_targets; t++)
        r->tbase[t + 1] = r->tbase[t] + s_acc(r, t)->n_groups;
    r->n_sels = r->tbase ? r->tbase[plan->n_targets] : 0;
    r->sels = calloc(r->n_sels + 1, sizeof(*r->sels));
    /* One count held while starting; dropped from the loop so that cb never
     * runs inside this call. */
    if (!r->tbase || !r->sels || cwx__session_soon(s, s_soon, r)) {
        s_resolver_free(r);
        cwx_resolve_result_free(res);
        return CWX_ENOMEM;
    }
    r->pending = 1;
    s_start(r);
    return 0;
}
