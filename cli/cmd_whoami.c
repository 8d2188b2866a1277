/* `cwexport whoami`: the caller identity of each configured account, the
 * credential source that supplied it, and the region and endpoints in
 * effect. Never prints a secret. */
#include "cli/cli.h"

#include <stdio.h>

#include "preflight/preflight.h"

static void s_help(FILE *f)
{
    fprintf(f, "usage: cwexport whoami [-c FILE]\n\n"
               "Asks sts:GetCallerIdentity for each account of the config (or, without\n"
               "a config, for the default credential chain) and prints the account,\n"
               "the caller ARN, the credential source, and the region and endpoints in\n"
               "effect. Secrets are never printed. Exit 0 when every identity was\n"
               "found (and matches the configured account_id), 3 otherwise.\n");
}

int cwx_cmd_whoami(int argc, char **argv)
{
    const char *path;
    int early = cwx_cli_config_only(argc, argv, "whoami", s_help, &path);
    if (early >= 0)
        return early;
    struct cwx_config *cfg = NULL;
    if (path && !(cfg = cwx_cli_load_config(path)))
        return CWX_EXIT_USAGE;
    struct cwx_whoami_opts opts = {
        .region = cwx_global.region,
        .profile = cwx_global.profile,
        .allow_insecure_endpoint = cwx_global.allow_insecure_endpoint,
    };
    int exit_code = cwx_preflight_whoami(cfg, &opts, stdout);
    cwx_config_free(cfg);
    return exit_code;
}
