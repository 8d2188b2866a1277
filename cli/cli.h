/* Sub-commands of the cwexport binary and what they share. */
#ifndef CWX_CLI_CLI_H
#define CWX_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/exit.h"
#include "planner/config.h"


/* Options every sub-command accepts (parsed by main before the command). */
struct cwx_global_opts {
    const char *region;  /* --region: overrides every account's regions */
    const char *profile; /* --profile: default profile for accounts without one */
    bool log_json;       /* --log-format json */
    int verbosity;       /* -v adds 1, -q subtracts 1 */
    bool allow_insecure_endpoint; /* --allow-insecure-endpoint */
    bool private_outputs;         /* --private-outputs: files written 0600 */
};

extern struct cwx_global_opts cwx_global;

/* Loads and validates the config at path, applying --region/--profile.
 * Prints the one-line error and returns NULL on failure. */
struct cwx_config *cwx_cli_load_config(const char *path);

/* Parses the options of a command that takes only "-c FILE" and "--help".
 * Returns -1 with *path set (NULL when no -c was given) to go on, or the
 * exit code to return (help printed, or a usage error reported). */
int cwx_cli_config_only(int argc, char **argv, const char *cmd,
                        void (*help)(FILE *f), const char **path);

/* Parses the value of --now (epoch milliseconds) into *now_ms; prints
 * "cwexport CMD: --now wants epoch milliseconds" and returns -1 when it is
 * not one, else 0. */
int cwx_cli_parse_now(const char *arg, const char *cmd, int64_t *now_ms);

/* Each sub-command: argv[0] is the sub-command's name; returns the exit code. */
int cwx_cmd_validate(int argc, char **argv);
int cwx_cmd_plan(int argc, char **argv);
int cwx_cmd_run(int argc, char **argv);
int cwx_cmd_status(int argc, char **argv);
int cwx_cmd_cancel(int argc, char **argv);
int cwx_cmd_whoami(int argc, char **argv);
int cwx_cmd_bucket_policy(int argc, char **argv);
int cwx_cmd_doctor(int argc, char **argv);
int cwx_cmd_sfn(int argc, char **argv);

#endif
