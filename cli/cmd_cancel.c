/* `cwexport cancel`: cancel the active export tasks that cwexport created. */
#include "cli/cli.h"

#include <stdio.h>

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

/* What the command line asks for. */
struct s_args {
    bool json, dry_run, all;
};

static int s_option(int c, const char *arg, void *args)
{
    struct s_args *a = args;
    (void)arg;
    if (c == 'n')
        a->dry_run = true;
    else if (c == 'j')
        a->json = true;
    else
        a->all = true;
    return 0;
}

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    const struct s_args *a = args;
    (void)path;
    return cwx_cancel(cfg, stdout, a->json, a->dry_run, a->all);
}

static const struct cwx_cli_cmd s_cmd = {
    .name = "cancel", .shorts = "n", .longs = "njA", .help = s_help,
    .option = s_option, .run = s_run,
};

int cwx_cmd_cancel(int argc, char **argv)
{
    struct s_args a = {0};
    return cwx_cli_main(&s_cmd, argc, argv, &a);
}
