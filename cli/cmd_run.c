/* `cwexport run`: export every planned window (docs/architecture.md §core-semantics, §scheduler). */
#include "cli/cli.h"

#include <getopt.h>
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

int cwx_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"summary", required_argument, NULL, 's'},
        {"events", required_argument, NULL, 'e'},
        {"metrics", required_argument, NULL, 'm'},
        {"cancel-on-exit", no_argument, NULL, 'C'},
        {"progress", required_argument, NULL, 'p'},
        {"now", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cwx_run_options ro = {0};
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 's': ro.summary_path = optarg; break;
        case 'e': ro.events_path = optarg; break;
        case 'm': ro.metrics_path = optarg; break;
        case 'C': ro.cancel_on_exit = true; break;
        case 'p':
            if (strcmp(optarg, "auto") == 0)
                ro.progress = CWX_PROGRESS_AUTO;
            else if (strcmp(optarg, "live") == 0)
                ro.progress = CWX_PROGRESS_LIVE;
            else if (strcmp(optarg, "json") == 0)
                ro.progress = CWX_PROGRESS_JSON;
            else if (strcmp(optarg, "none") == 0)
                ro.progress = CWX_PROGRESS_NONE;
            else {
                fprintf(stderr, "cwexport run: --progress must be auto, live, json or none\n");
                return CWX_EXIT_USAGE;
            }
            break;
        case 'N': {
            char *end;
            ro.now_ms = strtoll(optarg, &end, 10);
            if (*end || ro.now_ms <= 0) {
                fprintf(stderr, "cwexport run: --now wants epoch milliseconds\n");
                return CWX_EXIT_USAGE;
            }
            break;
        }
        case 'h': s_help(stdout); return CWX_EXIT_OK;
        default: s_help(stderr); return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport run: unexpected argument \"%s\"\n", argv[optind]);
        return CWX_EXIT_USAGE;
    }
    struct cwx_config *cfg = cwx_cli_load_config(path);
    if (!cfg)
        return CWX_EXIT_USAGE;
    ro.cfg = cfg;
    ro.private_outputs = cwx_global.private_outputs;
    int code = cwx_run(&ro);
    cwx_config_free(cfg);
    return code;
}
