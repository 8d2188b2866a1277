/* The AWS session (credentials, one client per account+region) and the
 * resolver: account ids and log-group selectors, then the plan's expansion. */
#include "orchestrator/orchestrator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/log.h"
#include "orchestrator/orchestrator_internal.h"
#include "workers/workers.h"

/* ---- session ------------------------------------------------------------- */

/* A wait of cwx_session_retry_later. */
struct s_wait {
    uv_timer_t timer;
    struct cwx_session *s;
    void (*fn)(void *ud);
    void *ud;
    struct s_wait *prev, *next;
};

static void s_wait_closed(uv_handle_t *h);

struct cwx_session {
    uv_loop_t *loop;
    struct s_wait *waits; /* pending */
    uint64_t n_waits;     /* started */
    int stopping;
    const struct cwx_config *cfg;
    const struct cwx_plan *plan;
    struct cwx_aws *aws;
    struct cwx_creds_provider **providers; /* per account */
    struct cwx_aws_client **clients;       /* per target */
    size_t n_providers, n_clients;
    struct cwx_creds_provider *base;       /* default chain, for SNS */
    struct cwx_aws_client *sns;
    char sns_region[32];
};

const char *cwx_session_profile(const struct cwx_config *cfg)
{
    const char *profile = cfg->n_accounts ? cfg->accounts[0].profile : NULL;
    for (size_t a = 1; a < cfg->n_accounts && profile; a++)
        if (!cfg->accounts[a].profile || strcmp(cfg->accounts[a].profile, profile) != 0)
            profile = NULL;
    return profile;
}

/* The account that must own target's bucket: the destination's
 * expected_bucket_owner, else the target's account id once it is known
 * (docs/trust.md). Sent with every S3 call of the target's client. */
static void s_session_owner(struct cwx_session *s, uint32_t target)
{
    const struct cwx_plan_target *tg = &s->plan->targets[target];
    const char *owner = s->cfg->accounts[tg->account].settings.destination.expected_bucket_owner;
    cwx_aws_client_set_expected_bucket_owner(s->clients[target],
                                             owner ? owner : tg->account_id);
}

int cwx_session_new(uv_loop_t *loop, const struct cwx_config *cfg,
                    const struct cwx_plan *plan, struct cwx_session **out, char *why,
                    size_t why_size)
{
    *out = NULL;
    struct cwx_session *s = calloc(1, sizeof(*s));
    if (!s)
        return CWX_ENOMEM;
    s->loop = loop;
    s->cfg = cfg;
    s->plan = plan;
    struct cwx_aws_options ao = {.profile = cwx_session_profile(cfg),
                                 .allow_insecure_http = cfg->allow_insecure_endpoint};
    int rc = cwx_aws_new(loop, &ao, &s->aws);
    if (rc) {
        snprintf(why, why_size, "cannot set up AWS: %s", cwx_strerror(rc));
        free(s);
        return rc;
    }
    s->providers = calloc(cfg->n_accounts ? cfg->n_accounts : 1, sizeof(*s->providers));
    s->clients = calloc(plan->n_targets ? plan->n_targets : 1, sizeof(*s->clients));
    if (!s->providers || !s->clients) {
        rc = CWX_ENOMEM;
        goto fail;
    }
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        const struct cwx_account *acc = &cfg->accounts[a];
        struct cwx_creds_options o = {
            .profile = acc->profile,
            .role_arn = acc->role_arn,
            .external_id = acc->external_id,
            .session_name = "cwexport",
            .region = acc->n_regions ? acc->regions[0] : acc->settings.region,
        };
        rc = cwx_creds_provider_new(s->aws, &o, &s->providers[a]);
        if (rc) {
            snprintf(why, why_size, "account %s: cannot set up credentials: %s", acc->name,
                     cwx_strerror(rc));
            goto fail;
        }
        s->n_providers = a + 1;
    }
    for (size_t t = 0; t < plan->n_targets; t++) {
        const struct cwx_plan_target *tg = &plan->targets[t];
        const struct cwx_account *acc = &cfg->accounts[tg->account];
        struct cwx_aws_client_options o = {
            .creds = s->providers[tg->account],
            .region = tg->region,
            .rate_per_s = acc->settings.api_rate,
        };
        rc = cwx_aws_client_new(s->aws, &o, &s->clients[t]);
        if (rc) {
            snprintf(why, why_size, "account %s, region %s: cannot make a client: %s", acc->name,
                     tg->region, cwx_strerror(rc));
            goto fail;
        }
        s->n_clients = t + 1;
        s_session_owner(s, (uint32_t)t);
    }
    *out = s;
    return 0;
fail:
    cwx_session_free(s);
    return rc;
}

void cwx_session_free(struct cwx_session *s)
{
    if (!s)
        return;
    /* Waits left (an error path): closed without running. */
    while (s->waits) {
        struct s_wait *w = s->waits;
        s->waits = w->next;
        uv_close((uv_handle_t *)&w->timer, s_wait_closed);
    }
    if (s->sns)
        cwx_aws_client_free(s->sns);
    if (s->base)
        cwx_creds_provider_free(s->base);
    for (size_t i = 0; i < s->n_clients; i++)
        cwx_aws_client_free(s->clients[i]);
    for (size_t i = 0; i < s->n_providers; i++)
        cwx_creds_provider_free(s->providers[i]);
    free(s->clients);
    free(s->providers);
    cwx_aws_free(s->aws);
    free(s);
}

static void s_wait_closed(uv_handle_t *h)
{
    free(h->data);
}

static void s_wait_fired(uv_timer_t *t)
{
    struct s_wait *w = t->data;
    struct cwx_session *s = w->s;
    if (w->prev)
        w->prev->next = w->next;
    else
        s->waits = w->next;
    if (w->next)
        w->next->prev = w->prev;
    void (*fn)(void *) = w->fn;
    void *ud = w->ud;
    uv_close((uv_handle_t *)t, s_wait_closed);
    fn(ud);
}

static int s_session_after(struct cwx_session *s, uint64_t delay_ms, void (*fn)(void *ud),
                           void *ud)
{
    struct s_wait *w = calloc(1, sizeof(*w));
    if (!w)
        return CWX_ENOMEM;
    w->s = s;
    w->fn = fn;
    w->ud = ud;
    uv_timer_init(s->loop, &w->timer);
    w->timer.data = w;
    s->n_waits++;
    w->next = s->waits;
    if (s->waits)
        s->waits->prev = w;
    s->waits = w;
    uv_timer_start(&w->timer, s_wait_fired, s->stopping ? 0 : delay_ms, 0);
    return 0;
}

void cwx_session_stop(struct cwx_session *s)
{
    s->stopping = 1;
    for (struct s_wait *w = s->waits; w; w = w->next)
        uv_timer_start(&w->timer, s_wait_fired, 0, 0);
}

int cwx_session_retry_later(struct cwx_session *s, const struct cwx_settings *st, int *tries,
                            int status, const struct cwx_aws_error *err, const char *who,
                            const char *what, void (*fn)(void *ud), void *ud)
{
    if (!cwx_err_transient(status) || s->stopping || ++*tries >= CWX_PATIENCE_TRIES)
        return 0;
    struct cwx_patience p = cwx_patience_of(st);
    uint64_t delay = cwx_patience_delay(&p, *tries);
    char e[320] = "";
    if (err)
        cwx_aws_error_format(err, e, sizeof(e));
    CWX_LOGW("%s: %s failed (%s); trying again in %llu ms", who, what,
             e[0] ? e : cwx_strerror(status), (unsigned long long)delay);
    return s_session_after(s, delay, fn, ud) == 0;
}

uint64_t cwx_session_waits(const struct cwx_session *s)
{
    return s->n_waits;
}

int cwx_session_stopping(const struct cwx_session *s)
{
    return s->stopping;
}

struct cwx_aws *cwx_session_aws(struct cwx_session *s)
{
    return s->aws;
}

struct cwx_aws_client *cwx_session_client(struct cwx_session *s, uint32_t target)
{
    return target < s->n_clients ? s->clients[target] : NULL;
}

struct cwx_aws_client *cwx_session_sns_client(struct cwx_session *s, const char *topic_arn)
{
    if (s->sns)
        return s->sns;
    /* arn:aws:sns:REGION:ACCOUNT:NAME */
    const char *p = topic_arn;
    for (int i = 0; i < 3 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    const char *end = p ? strchr(p, ':') : NULL;
    if (!p || !end || end == p || (size_t)(end - p) >= sizeof(s->sns_region))
        return NULL;
    memcpy(s->sns_region, p, (size_t)(end - p));
    s->sns_region[end - p] = 0;
    struct cwx_creds_options o = {.session_name = "cwexport", .region = s->sns_region};
    if (!s->base && cwx_creds_provider_new(s->aws, &o, &s->base))
        return NULL;
    struct cwx_aws_client_options co = {.creds = s->base, .region = s->sns_region};
    if (cwx_aws_client_new(s->aws, &co, &s->sns))
        s->sns = NULL;
    return s->sns;
}

uint64_t cwx_session_api_calls(const struct cwx_session *s)
{
    uint64_t n = 0;
    struct cwx_aws_client_stats st;
    for (size_t i = 0; i < s->n_clients; i++) {
        cwx_aws_client_get_stats(s->clients[i], &st);
        n += st.calls;
    }
    if (s->sns) {
        cwx_aws_client_get_stats(s->sns, &st);
        n += st.calls;
    }
    return n;
}

void cwx_session_target_stats(const struct cwx_session *s, uint32_t target,
                              struct cwx_session_stats *out)
{
    if (target >= s->n_clients)
        return;
    struct cwx_aws_client_stats st;
    cwx_aws_client_get_stats(s->clients[target], &st);
    out->calls += st.calls;
    out->retries += st.retries;
    out->throttles += st.throttles;
}

void cwx_session_account_stats(const struct cwx_session *s, uint32_t account,
                               struct cwx_session_stats *out)
{
    if (account >= s->n_providers)
        return;
    struct cwx_creds_stats st;
    cwx_creds_get_stats(s->providers[account], &st);
    out->cred_fetches += st.fetches;
    out->cred_failures += st.failures;
}

/* ---- resolver ------------------------------------------------------------ */

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

static void s_account_fail(struct s_resolver *r, uint32_t account, int status,
                           const struct cwx_aws_error *err, const char *what)
{
    if (r->res->account_error[account])
        return;
    char detail[400];
    char e[320] = "";
    if (err)
        cwx_aws_error_format(err, e, sizeof(e));
    snprintf(detail, sizeof(detail), "%s: %s", what, e[0] ? e : cwx_strerror(status));
    r->res->account_error[account] = status;
    free(r->res->account_detail[account]);
    r->res->account_detail[account] = strdup(detail);
    CWX_LOGE("account %s: %s", r->plan->cfg->accounts[account].name, detail);
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
    if (sel->n == sel->cap) {
        size_t cap = sel->cap ? sel->cap * 2 : 8;
        struct s_found *items = realloc(sel->items, cap * sizeof(*items));
        if (!items)
            return CWX_ENOMEM;
        sel->items = items;
        sel->cap = cap;
    }
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

static int s_details_start(struct s_call *c)
{
    struct cwx_logs_describe_log_groups_req req = {
        .identifiers = (const char *const *)c->names,
        .n_identifiers = c->n_names,
    };
    return cwx_logs_describe_log_groups_all(cwx_session_client(c->r->s, c->target), &req, 0,
                                            s_on_details, c);
}

static void s_on_details(int status, struct cwx_logs_log_groups *all,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_call *c = ud;
    struct s_resolver *r = c->r;
    uint32_t account = r->plan->targets[c->target].account;
    if (status) {
        if (s_retry_later(r, account, &c->tries, status, err, c->what, s_call_again, c))
            return;
        s_account_fail(r, account, status, err, c->what);
    } else {
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
            s_call_new(r, target, s_details_start, "logs:DescribeLogGroups (by name)");
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
                         const struct cwx_aws_error *err, void *ud);

static int s_listing_start(struct s_call *c)
{
    const struct cwx_group_sel *gs = &s_acc(c->r, c->target)->groups[c->sel];
    struct cwx_logs_describe_log_groups_req req = {
        .prefix = gs->kind == CWX_GROUP_PREFIX ? gs->value : NULL,
        .pattern = gs->kind == CWX_GROUP_PATTERN ? gs->value : NULL,
    };
    return cwx_logs_describe_log_groups_all(cwx_session_client(c->r->s, c->target), &req, 0,
                                            s_on_listing, c);
}

static void s_on_listing(int status, struct cwx_logs_log_groups *all,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_call *c = ud;
    struct s_resolver *r = c->r;
    const struct cwx_group_sel *gs = &s_acc(r, c->target)->groups[c->sel];
    uint32_t account = r->plan->targets[c->target].account;
    if (status) {
        if (s_retry_later(r, account, &c->tries, status, err, c->what, s_call_again, c))
            return;
        s_account_fail(r, account, status, err, c->what);
    } else {
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
        struct s_call *c = s_call_new(r, target, s_listing_start, "logs:DescribeLogGroups");
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
            s_session_owner(r->s, t);
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
        r->res->account_error[account] = CWX_EDENIED;
        free(r->res->account_detail[account]);
        r->res->account_detail[account] = strdup(detail);
        CWX_LOGE("account %s: %s", r->plan->cfg->accounts[account].name, detail);
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
    for (size_t i = 0; i < r->n_sels; i++) {
        for (size_t k = 0; k < r->sels[i].n; k++)
            free(r->sels[i].items[k].name);
        free(r->sels[i].items);
    }
    free(r->sels);
    free(r->tbase);
    cwx_resolve_done_fn *cb = r->cb;
    void *ud = r->ud;
    free(r);
    cb(rc, ud);
}

void cwx_resolve_result_free(struct cwx_resolve_result *r)
{
    if (!r)
        return;
    free(r->account_error);
    for (size_t i = 0; r->account_detail && i < r->n_accounts; i++)
        free(r->account_detail[i]);
    free(r->account_detail);
    free(r->group_missing);
    memset(r, 0, sizeof(*r));
}

static void s_soon_closed(uv_handle_t *h)
{
    free(h);
}

static void s_soon_fired(uv_timer_t *h)
{
    struct s_resolver *r = h->data;
    uv_close((uv_handle_t *)h, s_soon_closed);
    s_done_one(r);
}

int cwx_resolve(struct cwx_session *s, struct cwx_plan *plan, struct cwx_resolve_result *res,
                cwx_resolve_done_fn *cb, void *ud)
{
    const struct cwx_config *cfg = plan->cfg;
    memset(res, 0, sizeof(*res));
    res->account_error = calloc(cfg->n_accounts + 1, sizeof(int));
    res->account_detail = calloc(cfg->n_accounts + 1, sizeof(char *));
    struct s_resolver *r = calloc(1, sizeof(*r));
    uv_timer_t *soon = malloc(sizeof(*soon));
    if (!res->account_error || !res->account_detail || !r || !soon) {
        free(r);
        free(soon);
        free(res->account_error);
        free(res->account_detail);
        memset(res, 0, sizeof(*res));
        return CWX_ENOMEM;
    }
    res->n_accounts = cfg->n_accounts;
    r->s = s;
    r->plan = plan;
    r->res = res;
    r->cb = cb;
    r->ud = ud;
    r->tbase = calloc(plan->n_targets + 1, sizeof(*r->tbase));
    for (uint32_t t = 0; r->tbase && t < plan->n_targets; t++)
        r->tbase[t + 1] = r->tbase[t] + s_acc(r, t)->n_groups;
    r->n_sels = r->tbase ? r->tbase[plan->n_targets] : 0;
    r->sels = calloc(r->n_sels + 1, sizeof(*r->sels));
    if (!r->tbase || !r->sels) {
        free(r->tbase);
        free(r->sels);
        free(r);
        free(soon);
        cwx_resolve_result_free(res);
        return CWX_ENOMEM;
    }
    /* One count held while starting; dropped from the loop so that cb never
     * runs inside this call. */
    r->pending = 1;
    for (uint32_t a = 0; a < cfg->n_accounts; a++) {
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
    uv_timer_init(cwx_aws_loop(cwx_session_aws(s)), soon);
    soon->data = r;
    uv_timer_start(soon, s_soon_fired, 1, 0);
    return 0;
}
