#include "cli/cli.h"

#include <stdio.h>

static void s_help(FILE *f)
{
    fprintf(f, "usage: cwexport validate -c FILE\n\n"
               "Loads and checks the config: syntax, types, names, windows and\n"
               "templates. Makes no AWS call. Exit 0 when valid; otherwise prints\n"
               "one line FILE:LINE:COL: error: ... and exits 2.\n");
}

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    (void)args;
    size_t groups = 0, regions = 0;
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        groups += cfg->accounts[a].n_groups;
        regions += cfg->accounts[a].n_regions;
    }
    printf("%s: valid: %zu account%s, %zu account-region target%s, %zu log group selector%s\n",
           path, cfg->n_accounts, cfg->n_accounts == 1 ? "" : "s", regions,
           regions == 1 ? "" : "s", groups, groups == 1 ? "" : "s");
    return CWX_EXIT_OK;
}

static const struct cwx_cli_cmd s_cmd = {.name = "validate", .help = s_help, .run = s_run};

int cwx_cmd_validate(int argc, char **argv)
{
    return cwx_cli_main(&s_cmd, argc, argv, NULL);
}
