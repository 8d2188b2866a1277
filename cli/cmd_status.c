/* `cwexport status`: the active export tasks of every lane. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "orchestrator/orchestrator.h"

static void s_help(FILE *f)
{
    fprintf(f, "usage: cwexport status -c FILE [--json]\n\n"
               "Lists the active (PENDING or RUNNING) export tasks of every account and\n"
               "region of the config, whether cwexport created them (ours) or not\n"
               "(foreign). Changes nothing.\n\n"
               "  -c, --config FILE   the config\n"
               "      --json          print JSON instead of a table\n");
}

int cwx_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'j': json = true; break;
        case 'h': s_help(stdout); return CWX_EXIT_OK;
        default: s_help(stderr); return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport status: unexpected argument \"%s\"\n", argv[optind]);
        return CWX_EXIT_USAGE;
    }
    struct cwx_config *cfg = cwx_cli_load_config(path);
    if (!cfg)
        return CWX_EXIT_USAGE;
    int code = cwx_status(cfg, stdout, json);
    cwx_config_free(cfg);
    return code;
}
