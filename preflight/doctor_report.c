/* The doctor's report: a table with a fix under each failure, or JSON. */
#include "preflight/preflight_internal.h"

#include <string.h>

#include "common/buf.h"

static const char *const s_result_name[] = {"?", "pass", "FAIL", "warn", "not checked"};
static const char *const s_result_json[] = {"?", "pass", "fail", "warn", "skip"};

static void s_json_str(FILE *f, const char *s)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    if (s && cwx_buf_json_str(&b, s) == 0)
        fputs(b.ptr, f);
    else
        fputs("null", f);
    cwx_buf_free(&b);
}

static const char *s_account_name(const struct cwx_config *cfg, const struct cwx__check *c)
{
    return c->account < cfg->n_accounts ? cfg->accounts[c->account].name : NULL;
}

static void s_print_json(const struct cwx_config *cfg, const struct cwx__check *checks, size_t n,
                         const size_t *counts, FILE *f, int exit_code)
{
    fputs("{\"version\": 1, \"checks\": [", f);
    for (size_t i = 0; i < n; i++) {
        const struct cwx__check *c = &checks[i];
        fputs(i ? ",\n  {" : "\n  {", f);
        fputs("\"account\": ", f);
        s_json_str(f, s_account_name(cfg, c));
        fputs(", \"region\": ", f);
        s_json_str(f, c->region);
        fprintf(f, ", \"check\": \"%s\", \"subject\": ", c->check);
        s_json_str(f, c->subject);
        fprintf(f, ", \"result\": \"%s\", \"permission\": %s, \"detail\": ",
                s_result_json[c->result], c->permission ? "true" : "false");
        s_json_str(f, c->detail);
        fputs(", \"fix\": ", f);
        s_json_str(f, c->fix[0] ? c->fix : NULL);
        fputc('}', f);
    }
    fprintf(f, "],\n\"totals\": {\"checks\": %zu, \"pass\": %zu, \"fail\": %zu, "
               "\"warn\": %zu, \"skip\": %zu},\n\"exit_code\": %d}\n",
            n, counts[CWX_CHECK_PASS], counts[CWX_CHECK_FAIL], counts[CWX_CHECK_WARN],
            counts[CWX_CHECK_SKIP], exit_code);
}

static int s_max(int a, int b)
{
    return a > b ? a : b;
}

static void s_print_table(const struct cwx_config *cfg, const struct cwx__check *checks,
                          size_t n, const size_t *counts, FILE *f)
{
    int wa = 7, wr = 6, wc = 5, ws = 7;
    for (size_t i = 0; i < n; i++) {
        const struct cwx__check *c = &checks[i];
        const char *name = s_account_name(cfg, c);
        wa = s_max(wa, name ? (int)strlen(name) : 1);
        wr = s_max(wr, c->region ? (int)strlen(c->region) : 1);
        wc = s_max(wc, (int)strlen(c->check));
        int m = (int)strlen(c->subject);
        ws = m > ws ? (m < 60 ? m : 60) : ws;
    }
    fprintf(f, "%-*s  %-*s  %-*s  %-*s  %-11s  %s\n", wa, "ACCOUNT", wr, "REGION", wc, "CHECK", ws,
            "SUBJECT", "RESULT", "DETAIL");
    for (size_t i = 0; i < n; i++) {
        const struct cwx__check *c = &checks[i];
        const char *name = s_account_name(cfg, c);
        fprintf(f, "%-*s  %-*s  %-*s  %-*s  %-11s  %s\n", wa, name ? name : "-", wr,
                c->region ? c->region : "-", wc, c->check, ws, c->subject,
                s_result_name[c->result], c->detail);
        if (c->fix[0] && (c->result == CWX_CHECK_FAIL || c->result == CWX_CHECK_WARN))
            fprintf(f, "%*s  fix: %s\n", wa + wr + wc + ws + 8 + 11, "", c->fix);
    }
    fprintf(f, "\n%zu checks: %zu passed, %zu failed, %zu warnings, %zu not checked\n", n,
            counts[CWX_CHECK_PASS], counts[CWX_CHECK_FAIL], counts[CWX_CHECK_WARN],
            counts[CWX_CHECK_SKIP]);
}

void cwx__doctor_print(const struct cwx_config *cfg, const struct cwx__check *checks, size_t n,
                       FILE *f, int json, int exit_code)
{
    size_t counts[5] = {0};
    for (size_t i = 0; i < n; i++)
        counts[checks[i].result]++;
    if (json)
        s_print_json(cfg, checks, n, counts, f, exit_code);
    else
        s_print_table(cfg, checks, n, counts, f);
}
