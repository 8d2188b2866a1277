#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>

static void s_help(FILE *f)
{
    fprintf(f, "usage: cwexport validate -c FILE\n\n"
               "Loads and checks the config: syntax, types, names, windows and\n"
               "templates. Makes no AWS call. Exit 0 when valid; otherwise prints\n"
               "one line FILE:LINE:COL: error: ... and exits 2.\n");
}

int cwx_cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'h': s_help(stdout); return CWX_EXIT_OK;
        default: s_help(stderr); return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport validate: unexpected argument \"%s\"\n", argv[optind]);
        return CWX_EXIT_USAGE;
    }
    struct cwx_config *cfg = cwx_cli_load_config(path);
    if (!cfg)
        return CWX_EXIT_USAGE;
    size_t groups = 0, regions = 0;
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        groups += cfg->accounts[a].n_groups;
        regions += cfg->accounts[a].n_regions;
    }
    printf("%s: valid: %zu account%s, %zu account-region target%s, %zu log group selector%s\n",
           path, cfg->n_accounts, cfg->n_accounts == 1 ? "" : "s", regions,
           regions == 1 ? "" : "s", groups, groups == 1 ? "" : "s");
    cwx_config_free(cfg);
    return CWX_EXIT_OK;
}
