#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

int cwx_cli_parse_now(const char *arg, const char *cmd, int64_t *now_ms)
{
    char *end;
    long long v = strtoll(arg, &end, 10);
    if (*end || v <= 0) {
        fprintf(stderr, "cwexport %s: --now wants epoch milliseconds\n", cmd);
        return -1;
    }
    *now_ms = v;
    return 0;
}

/* Replaces every account's regions with the one from --region. */
static int s_override_region(struct cwx_config *cfg, const char *region)
{
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        struct cwx_account *acc = &cfg->accounts[a];
        char *copy = strdup(region);
        char **regions = malloc(sizeof *regions);
        if (!copy || !regions) {
            free(copy);
            free(regions);
            return CWX_ENOMEM;
        }
        for (size_t r = 0; r < acc->n_regions; r++)
            free(acc->regions[r]);
        free(acc->regions);
        regions[0] = copy;
        acc->regions = regions;
        acc->n_regions = 1;
    }
    return 0;
}

/* Gives --profile to the accounts that name neither a profile nor a role. */
static int s_default_profile(struct cwx_config *cfg, const char *profile)
{
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        struct cwx_account *acc = &cfg->accounts[a];
        if (acc->profile || acc->role_arn)
            continue;
        acc->profile = strdup(profile);
        if (!acc->profile)
            return CWX_ENOMEM;
    }
    return 0;
}

struct cwx_config *cwx_cli_load_config(const char *path)
{
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    if (!path) {
        fprintf(stderr, "cwexport: error: no config given; use -c FILE\n");
        return NULL;
    }
    int rc = cwx_config_load(path, &cfg, &err);
    if (rc) {
        char line[1200];
        cwx_config_error_format(&err, line, sizeof line);
        fprintf(stderr, "%s\n", line);
        return NULL;
    }
    rc = 0;
    if (cwx_global.allow_insecure_endpoint)
        cfg->allow_insecure_endpoint = true;
    if (cwx_global.region)
        rc = s_override_region(cfg, cwx_global.region);
    if (!rc && cwx_global.profile)
        rc = s_default_profile(cfg, cwx_global.profile);
    if (rc) {
        fprintf(stderr, "cwexport: error: %s\n", cwx_strerror(rc));
        cwx_config_free(cfg);
        return NULL;
    }
    return cfg;
}

int cwx_cli_config_only(int argc, char **argv, const char *cmd,
                        void (*help)(FILE *f), const char **path)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *path = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': *path = optarg; break;
        case 'h': help(stdout); return CWX_EXIT_OK;
        default: help(stderr); return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport %s: unexpected argument \"%s\"\n", cmd, argv[optind]);
        return CWX_EXIT_USAGE;
    }
    return -1;
}
