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

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    (void)path;
    (void)args;
    struct cwx_whoami_opts opts = {
        .region = cwx_global.region,
        .profile = cwx_global.profile,
        .allow_insecure_endpoint = cwx_global.allow_insecure_endpoint,
    };
    return cwx_preflight_whoami(cfg, &opts, stdout);
}

static const struct cwx_cli_cmd s_cmd = {
    .name = "whoami", .help = s_help, .run = s_run, .config_optional = true,
};

int cwx_cmd_whoami(int argc, char **argv)
{
    return cwx_cli_main(&s_cmd, argc, argv, NULL);
}
