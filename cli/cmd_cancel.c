/* `cwexport cancel`: cancel the active export tasks that cwexport created. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "orchestrator/orchestrator.h"

static void s_help(FILE *f)
{
    fprintf(f, "usage: cwexport cancel -c FILE [--dry-run] [--json] [--all-cwexport]\n\n"
               "Cancels the active export tasks of the config's accounts and regions that\n"
               "belong to the config's jobs (their task names are those of its windows).\n"
               "cwexport tasks of other configs and tasks of other tools are listed, never\n"
               "cancelled. Cancelled windows are exported by the next run.\n\n"
               "  -c, --config FILE   the config\n"
               "  -n, --dry-run       list what would be cancelled; cancel nothing\n"
               "      --all-cwexport  cancel every cwexport-<16 hex> task of these accounts\n"
               "                      and regions, also other configs'\n"
               "      --json          print JSON instead of a table\n");
}

int cwx_cmd_cancel(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"dry-run", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"all-cwexport", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool json = false, dry_run = false, all = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'n': dry_run = true; break;
        case 'j': json = true; break;
        case 'A': all = true; break;
        case 'h': s_help(stdout); return CWX_EXIT_OK;
        default: s_help(stderr); return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport cancel: unexpected argument \"%s\"\n", argv[optind]);
        return CWX_EXIT_USAGE;
    }
    struct cwx_config *cfg = cwx_cli_load_config(path);
    if (!cfg)
        return CWX_EXIT_USAGE;
    int code = cwx_cancel(cfg, stdout, json, dry_run, all);
    cwx_config_free(cfg);
    return code;
}
