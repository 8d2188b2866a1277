/* `cwexport run`: export every planned window (docs/architecture.md §core-semantics, §scheduler). */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/orchestrator.h"

static void s_help(FILE *f)
{
    fprintf(f,
            "usage: cwexport run -c FILE [--summary FILE] [--events FILE] [--metrics FILE]\n"
            "                    [--cancel-on-exit]\n"
            "                    [--progress auto|live|json|none]\n\n"
            "Exports every planned window that is not done yet, one export task at a\n"
            "time per account lane, and writes a marker for each window exported.\n"
            "Safe to run again at any time: done windows are never exported twice and\n"
            "tasks left running by an earlier run are adopted.\n\n"
            "  -c, --config FILE      the config\n"
            "      --summary FILE     write a JSON summary (per lane and totals)\n"
            "      --events FILE      append every job transition as JSON lines\n"
            "      --metrics FILE     write Prometheus metrics (node_exporter textfile\n"
            "                         collector format), replaced atomically\n"
            "      --cancel-on-exit   on SIGINT/SIGTERM cancel the active tasks instead of\n"
            "                         waiting for them\n"
            "      --progress MODE    auto (live on a terminal, else JSON lines on stderr),\n"
            "                         live, json or none\n"
            "      --now MS           plan as if it were MS (epoch ms; for tests)\n\n"
            "A first SIGINT/SIGTERM starts no new task and waits for the active ones; a\n"
            "second exits at once (the next run adopts what was left running).\n\n"
            "exit codes: 0 every window done or skipped, 1 some failed, 2 usage or config\n"
            "error, 3 credential or permission error, 4 loop guard tripped, 130 interrupted\n");
}

/* The values of --progress. */
static const struct {
    const char *name;
    enum cwx_progress_mode mode;
} s_progress[] = {
    {"auto", CWX_PROGRESS_AUTO},
    {"live", CWX_PROGRESS_LIVE},
    {"json", CWX_PROGRESS_JSON},
    {"none", CWX_PROGRESS_NONE},
};

/* Takes the value of --progress into ro. */
static int s_progress_of(const char *arg, struct cwx_run_options *ro)
{
    for (size_t i = 0; i < sizeof s_progress / sizeof *s_progress; i++) {
        if (strcmp(arg, s_progress[i].name) == 0) {
            ro->progress = s_progress[i].mode;
            return 0;
        }
    }
    fprintf(stderr, "cwexport run: --progress must be auto, live, json or none\n");
    return -1;
}

static int s_option(int c, const char *arg, void *args)
{
    struct cwx_run_options *ro = args;
    switch (c) {
    case 's': ro->summary_path = arg; return 0;
    case 'e': ro->events_path = arg; return 0;
    case 'm': ro->metrics_path = arg; return 0;
    case 'C': ro->cancel_on_exit = true; return 0;
    case 'N': return cwx_cli_parse_now(arg, "run", &ro->now_ms);
    default: return s_progress_of(arg, ro); /* 'p' */
    }
}

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    struct cwx_run_options *ro = args;
    (void)path;
    ro->cfg = cfg;
    ro->private_outputs = cwx_global.private_outputs;
    return cwx_run(ro);
}

static const struct cwx_cli_cmd s_cmd = {
    .name = "run", .longs = "semCpN", .help = s_help, .option = s_option, .run = s_run,
};

int cwx_cmd_run(int argc, char **argv)
{
    struct cwx_run_options ro = {0};
    return cwx_cli_main(&s_cmd, argc, argv, &ro);
}
