/* cwexport sfn: the plan as a Step Functions state machine per account
 * (docs/step-functions.md). */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "orchestrator/orchestrator.h"
#include "planner/planner.h"

static void s_help(FILE *f)
{
    fprintf(f,
            "usage: cwexport sfn -c FILE -o DIR [--offline] [--max-windows N]\n\n"
            "Writes, for each account, DIR/<account>/state-machine.asl.json (a Step\n"
            "Functions state machine that runs the plan with AWS SDK integrations\n"
            "only), input.json (the account's pending windows: the execution input),\n"
            "execution-role-policy.json and template.yaml (CloudFormation). Against\n"
            "AWS the pending windows are those `cwexport plan` finds pending.\n\n"
            "  -c, --config FILE   the config (one region per account)\n"
            "  -o, --output DIR    where to write (created if missing)\n"
            "      --offline       make no AWS call: every window that is not\n"
            "                      skipped is pending (needs account_id in the config)\n"
            "      --max-windows N the oldest N pending windows of each account go\n"
            "                      into input.json (default 200, 0 for all): one\n"
            "                      execution's history holds 25,000 events; run\n"
            "                      cwexport sfn again for the rest once it has run\n"
            "      --now TIME      plan as if it were TIME (epoch ms; for tests)\n");
}

static void s_on_account(const struct cwx_sfn_account *info, void *ud)
{
    const char *dir = ud;
    printf("%s/%s: account %s (%s) in %s: %zu pending window%s, input %zu bytes\n", dir,
           info->account, info->account, info->account_id, info->region, info->jobs,
           info->jobs == 1 ? "" : "s", info->input_bytes);
    if (info->pending > info->jobs)
        printf("%s/%s: note: %zu more pending windows left out (--max-windows %zu): run "
               "cwexport sfn again once this input has run\n",
               dir, info->account, info->pending - info->jobs, info->jobs);
}

/* What the command line asks for. */
struct s_args {
    const char *dir;
    int offline;
    size_t max_windows;
    int64_t now_ms;
};

static int s_option(int c, const char *arg, void *args)
{
    struct s_args *a = args;
    switch (c) {
    case 'o': a->dir = arg; return 0;
    case 'O': a->offline = 1; return 0;
    case 'N': return cwx_cli_parse_now(arg, "sfn", &a->now_ms);
    default: break; /* 'M' */
    }
    char *end;
    long long v = strtoll(arg, &end, 10);
    if (*end || !arg[0] || v < 0) {
        fprintf(stderr, "cwexport sfn: --max-windows wants a number of windows (0 for "
                        "all), not \"%s\"\n", arg);
        return -1;
    }
    a->max_windows = (size_t)v;
    return 0;
}

static int s_check(const char *path, void *args)
{
    const struct s_args *a = args;
    (void)path;
    if (!a->dir || !a->dir[0]) {
        fprintf(stderr, "cwexport sfn: -o DIR is required (where the files go)\n");
        return -1;
    }
    return 0;
}

/* Offline, the plan of the named log groups: a selector by prefix or
 * pattern cannot be resolved. Returns an exit code. */
static int s_expand_offline(struct cwx_plan *plan)
{
    int rc = cwx_plan_add_named_groups(plan);
    if (!rc)
        rc = cwx_plan_expand(plan);
    if (!rc && plan->n_unresolved) {
        fprintf(stderr, "cwexport sfn: error: --offline cannot resolve prefix or pattern "
                        "selectors: name the log groups, or plan online\n");
        return CWX_EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "cwexport sfn: error: %s\n", cwx_strerror(rc));
        return CWX_EXIT_USAGE;
    }
    return CWX_EXIT_OK;
}

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    const struct s_args *a = args;
    (void)path;
    struct cwx_plan *plan = NULL;
    char why[512] = "";
    /* What cannot be expressed is said before any AWS call. */
    int rc = cwx_sfn_check_config(cfg, why, sizeof why);
    if (!rc)
        rc = cwx_plan_new(cfg, a->now_ms, &plan, why, sizeof why);
    if (rc) {
        fprintf(stderr, "cwexport sfn: error: %s\n", why[0] ? why : cwx_strerror(rc));
        return CWX_EXIT_USAGE;
    }
    int exit_code = a->offline ? s_expand_offline(plan)
                               : cwx_plan_online(plan, cfg, cwx_global.verbosity, stderr);
    if (exit_code == CWX_EXIT_OK) {
        rc = cwx_sfn_write(plan, a->dir, a->max_windows, s_on_account, (void *)a->dir, why,
                           sizeof why);
        if (rc) {
            fprintf(stderr, "cwexport sfn: error: %s\n", why[0] ? why : cwx_strerror(rc));
            exit_code = rc == CWX_EIO ? CWX_EXIT_FAILED : CWX_EXIT_USAGE;
        }
    }
    cwx_plan_free(plan);
    return exit_code;
}

static const struct cwx_cli_cmd s_cmd = {
    .name = "sfn", .shorts = "o:", .longs = "oONM", .help = s_help,
    .option = s_option, .check = s_check, .run = s_run,
};

int cwx_cmd_sfn(int argc, char **argv)
{
    struct s_args a = {.max_windows = 200, .now_ms = cwx_wall_ms()};
    return cwx_cli_main(&s_cmd, argc, argv, &a);
}
