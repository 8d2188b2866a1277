#include "cli/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/file.h"
#include "orchestrator/orchestrator.h"
#include "planner/planner.h"

static void s_help(FILE *f)
{
    fprintf(f,
            "usage: cwexport plan -c FILE [--offline] [--format FORMAT] [-o OUT]\n\n"
            "Expands the config into export jobs (log group x window) and reports\n"
            "each job's status with estimates of bytes, time and AWS calls. Against\n"
            "AWS it resolves account ids and prefix and pattern selectors, reads\n"
            "each lane's marker index (one paginated listing), with `detect:\n"
            "objects` each group's data root (one listing a group), and the export\n"
            "tasks (active ones are `running`). Changes nothing in AWS.\n\n"
            "  -c, --config FILE   the config\n"
            "      --offline       make no AWS call: log groups given by prefix or\n"
            "                      pattern are listed as unresolved, every job that\n"
            "                      is not skipped is pending\n"
            "  -f, --format FMT    table (default), json, csv, markdown, html\n"
            "  -o, --output OUT    write the report to OUT instead of stdout\n"
            "      --now TIME      plan as if it were TIME (epoch ms; for tests)\n");
}

/* What the command line asks for. */
struct s_args {
    const char *output;
    const char *format; /* --format as given; fmt once checked */
    enum cwx_report_format fmt;
    int offline;
    int64_t now_ms;
};

static int s_option(int c, const char *arg, void *args)
{
    struct s_args *a = args;
    switch (c) {
    case 'f': a->format = arg; return 0;
    case 'o': a->output = arg; return 0;
    case 'O': a->offline = 1; return 0;
    default: return cwx_cli_parse_now(arg, "plan", &a->now_ms); /* 'N' */
    }
}

static int s_check(const char *path, void *args)
{
    struct s_args *a = args;
    (void)path;
    if (cwx_report_format_parse(a->format, &a->fmt)) {
        fprintf(stderr, "cwexport plan: --format must be table, json, csv, markdown or html, "
                        "not \"%s\"\n",
                a->format);
        return -1;
    }
    return 0;
}

/* Makes the plan into *out: online, or offline as a lazy plan (nothing
 * changes its jobs, so the report makes each one as it writes it and the
 * memory stays flat with the job count). Returns an exit code; *out is set
 * (to be freed by the caller) when the report can still be written. */
static int s_make_plan(const struct s_args *a, const struct cwx_config *cfg,
                       struct cwx_plan **out)
{
    char why[256] = "";
    int rc = cwx_plan_new(cfg, a->now_ms, out, why, sizeof why);
    if (rc) {
        fprintf(stderr, "cwexport plan: error: %s\n", why[0] ? why : cwx_strerror(rc));
        return CWX_EXIT_USAGE;
    }
    if (!a->offline)
        return cwx_plan_online(*out, cfg, cwx_global.verbosity, stderr);
    rc = cwx_plan_add_named_groups(*out);
    if (!rc)
        rc = cwx_plan_expand_lazy(*out);
    if (rc == CWX_ETOOBIG) {
        fprintf(stderr,
                "cwexport plan: error: the plan would hold %llu jobs, more than max_jobs "
                "(%zu): narrow the range, use a coarser window, or raise max_jobs\n",
                (unsigned long long)cwx_plan_job_count(*out), cwx_plan_max_jobs(cfg));
        return CWX_EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "cwexport plan: error: %s\n", cwx_strerror(rc));
        return CWX_EXIT_USAGE;
    }
    return CWX_EXIT_OK;
}

/* Writes the report to stdout or, replaced whole (written beside it, then
 * renamed), to a->output. Returns an exit code. */
static int s_write_report(const struct s_args *a, const struct cwx_plan *plan)
{
    struct cwx_file_atomic out_file = {0};
    FILE *f = stdout;
    if (a->output) {
        if (cwx_file_atomic_open(&out_file, a->output,
                                 cwx_global.private_outputs ? 0600 : 0644)) {
            perror(a->output);
            return CWX_EXIT_USAGE;
        }
        f = out_file.f;
    }
    struct cwx_report_options ro = {
        .color = a->fmt == CWX_REPORT_TABLE && !a->output && isatty(STDOUT_FILENO),
        .offline = a->offline,
    };
    int exit_code = CWX_EXIT_OK;
    int rc = cwx_report_write(plan, a->fmt, &ro, f);
    if (rc) {
        fprintf(stderr, "cwexport plan: cannot write the report: %s\n", cwx_strerror(rc));
        exit_code = CWX_EXIT_FAILED;
    }
    if (a->output && rc) {
        cwx_file_atomic_abort(&out_file);
    } else if (a->output && cwx_file_atomic_commit(&out_file)) {
        perror(a->output);
        exit_code = CWX_EXIT_FAILED;
    }
    return exit_code;
}

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    const struct s_args *a = args;
    (void)path;
    struct cwx_plan *plan = NULL;
    int exit_code = s_make_plan(a, cfg, &plan);
    /* An account that failed online still leaves the others' report. */
    if (exit_code == CWX_EXIT_OK || exit_code == CWX_EXIT_CREDENTIALS) {
        int wrote = s_write_report(a, plan);
        if (wrote != CWX_EXIT_OK)
            exit_code = wrote;
    }
    cwx_plan_free(plan);
    return exit_code;
}

static const struct cwx_cli_cmd s_cmd = {
    .name = "plan", .shorts = "f:o:", .longs = "foON", .help = s_help,
    .option = s_option, .check = s_check, .run = s_run,
};

int cwx_cmd_plan(int argc, char **argv)
{
    struct s_args a = {.format = "table", .now_ms = cwx_wall_ms()};
    return cwx_cli_main(&s_cmd, argc, argv, &a);
}
