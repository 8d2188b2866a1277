#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "planner/planner.h"

static void s_help(FILE *f)
{
    fprintf(f,
            "usage: cwexport plan -c FILE [--offline] [--format FORMAT] [-o OUT]\n\n"
            "Expands the config into export jobs (log group x window) and reports\n"
            "each job's status. Changes nothing in AWS.\n\n"
            "  -c, --config FILE   the config\n"
            "      --offline       make no AWS call: log groups given by prefix or\n"
            "                      pattern are listed as unresolved, every job that\n"
            "                      is not skipped is pending\n"
            "  -f, --format FMT    table (default), json, csv, markdown, html\n"
            "  -o, --output OUT    write the report to OUT instead of stdout\n"
            "      --now TIME      plan as if it were TIME (epoch ms; for tests)\n");
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cwx_cmd_plan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"offline", no_argument, NULL, 'O'},
        {"now", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *output = NULL, *format = "table";
    int offline = 0;
    int64_t now_ms = s_now_ms();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'O': offline = 1; break;
        case 'N': {
            char *end;
            now_ms = strtoll(optarg, &end, 10);
            if (*end || now_ms <= 0) {
                fprintf(stderr, "cwexport plan: --now wants epoch milliseconds\n");
                return CWX_EXIT_USAGE;
            }
            break;
        }
        case 'h': s_help(stdout); return CWX_EXIT_OK;
        default: s_help(stderr); return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport plan: unexpected argument \"%s\"\n", argv[optind]);
        return CWX_EXIT_USAGE;
    }
    enum cwx_report_format fmt;
    if (cwx_report_format_parse(format, &fmt)) {
        fprintf(stderr, "cwexport plan: --format must be table, json, csv, markdown or html, "
                        "not \"%s\"\n",
                format);
        return CWX_EXIT_USAGE;
    }
    if (!offline) {
        fprintf(stderr, "cwexport plan: planning against AWS is not available in this "
                        "build yet; use --offline\n");
        return CWX_EXIT_USAGE;
    }
    struct cwx_config *cfg = cwx_cli_load_config(path);
    if (!cfg)
        return CWX_EXIT_USAGE;

    int exit_code = CWX_EXIT_OK;
    struct cwx_plan *plan = NULL;
    FILE *f = stdout;
    char why[256];
    int rc = cwx_plan_new(cfg, now_ms, &plan, why, sizeof why);
    if (rc) {
        fprintf(stderr, "cwexport plan: error: %s\n", why[0] ? why : cwx_strerror(rc));
        exit_code = CWX_EXIT_USAGE;
        goto cleanup;
    }
    rc = cwx_plan_add_named_groups(plan);
    if (!rc)
        rc = cwx_plan_expand(plan);
    if (rc) {
        fprintf(stderr, "cwexport plan: error: %s\n", cwx_strerror(rc));
        exit_code = CWX_EXIT_USAGE;
        goto cleanup;
    }
    if (output && !(f = fopen(output, "w"))) {
        perror(output);
        f = stdout;
        exit_code = CWX_EXIT_USAGE;
        goto cleanup;
    }
    struct cwx_report_options ro = {
        .color = fmt == CWX_REPORT_TABLE && !output && isatty(STDOUT_FILENO),
        .offline = offline,
    };
    rc = cwx_report_write(plan, fmt, &ro, f);
    if (rc) {
        fprintf(stderr, "cwexport plan: cannot write the report: %s\n", cwx_strerror(rc));
        exit_code = CWX_EXIT_FAILED;
    }
cleanup:
    if (f != stdout && fclose(f) != 0 && exit_code == CWX_EXIT_OK) {
        perror(output);
        exit_code = CWX_EXIT_FAILED;
    }
    cwx_plan_free(plan);
    cwx_config_free(cfg);
    return exit_code;
}
