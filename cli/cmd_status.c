/* `cwexport status`: the active export tasks of every lane. */
#include "cli/cli.h"

#include <stdio.h>

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

static int s_option(int c, const char *arg, void *args)
{
    (void)c;
    (void)arg;
    *(bool *)args = true; /* --json, the one option */
    return 0;
}

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    (void)path;
    return cwx_status(cfg, stdout, *(bool *)args);
}

static const struct cwx_cli_cmd s_cmd = {
    .name = "status", .longs = "j", .help = s_help, .option = s_option, .run = s_run,
};

int cwx_cmd_status(int argc, char **argv)
{
    bool json = false;
    return cwx_cli_main(&s_cmd, argc, argv, &json);
}
