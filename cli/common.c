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

/* Every long option of the sub-commands, each once: the letter getopt
 * returns for it is the one a command's cwx_cli_cmd.longs names it by (and
 * its short option, where it has one). */
static const struct option s_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"offline", no_argument, NULL, 'O'},
    {"now", required_argument, NULL, 'N'},
    {"json", no_argument, NULL, 'j'},
    {"dry-run", no_argument, NULL, 'n'},
    {"all-cwexport", no_argument, NULL, 'A'},
    {"summary", required_argument, NULL, 's'},
    {"events", required_argument, NULL, 'e'},
    {"metrics", required_argument, NULL, 'm'},
    {"cancel-on-exit", no_argument, NULL, 'C'},
    {"progress", required_argument, NULL, 'p'},
    {"max-windows", required_argument, NULL, 'M'},
    {"publish-test", no_argument, NULL, 'P'},
};
#define S_N_OPTIONS (sizeof s_options / sizeof *s_options)

/* Parses argv into *path and, through cmd->option, args. Returns -1 to go
 * on, or the exit code to return (the usage printed for --help, or a usage
 * error reported). */
static int s_parse(const struct cwx_cli_cmd *cmd, int argc, char **argv, const char **path,
                   void *args)
{
    struct option all[S_N_OPTIONS + 1] = {{0}};
    size_t n = 0;
    for (size_t i = 0; i < S_N_OPTIONS; i++) {
        int val = s_options[i].val;
        if (val == 'c' || val == 'h' || (cmd->longs && strchr(cmd->longs, val)))
            all[n++] = s_options[i];
    }
    char shorts[64];
    snprintf(shorts, sizeof shorts, "c:h%s", cmd->shorts ? cmd->shorts : "");
    int c;
    *path = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
        if (c == 'c') {
            *path = optarg;
        } else if (c == 'h') {
            cmd->help(stdout);
            return CWX_EXIT_OK;
        } else if (c == '?' || c == ':' || !cmd->option) {
            cmd->help(stderr);
            return CWX_EXIT_USAGE;
        } else if (cmd->option(c, optarg, args)) {
            return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport %s: unexpected argument \"%s\"\n", cmd->name, argv[optind]);
        return CWX_EXIT_USAGE;
    }
    return -1;
}

int cwx_cli_main(const struct cwx_cli_cmd *cmd, int argc, char **argv, void *args)
{
    const char *path;
    int exit_code = s_parse(cmd, argc, argv, &path, args);
    if (exit_code >= 0)
        return exit_code;
    if (cmd->check && cmd->check(path, args))
        return CWX_EXIT_USAGE;
    struct cwx_config *cfg = NULL;
    if ((path || !cmd->config_optional) && !(cfg = cwx_cli_load_config(path)))
        return CWX_EXIT_USAGE;
    exit_code = cmd->run(cfg, path, args);
    cwx_config_free(cfg);
    return exit_code;
}
