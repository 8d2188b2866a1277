/* Sub-commands of the cwexport binary and what they share. */
#ifndef CWX_CLI_CLI_H
#define CWX_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/exit.h"
#include "planner/planner.h"


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

/* What a sub-command is, for cwx_cli_main: its options besides -c/--config
 * and -h/--help, and the steps that parse, check and run it. args is the
 * command's own struct of what the command line asks for. */
struct cwx_cli_cmd {
    const char *name;           /* as in its messages: "cwexport NAME: ..." */
    const char *shorts;         /* its short options besides "c:h" ("f:o:"), or NULL */
    const char *longs;          /* its long options besides --config and --help, by
                                 * their letter in cli/common.c's table ("foON"), or NULL */
    void (*help)(FILE *f);      /* prints its usage */
    /* Takes option c (its getopt value) with its argument (NULL for a flag)
     * into args. Returns 0, or nonzero after printing why the argument is
     * refused (a usage error). NULL when the command has no options of its
     * own. */
    int (*option)(int c, const char *arg, void *args);
    /* Checks what was parsed before the config is loaded (path is NULL
     * when no -c was given). Returns 0, or nonzero after printing what is
     * wrong (a usage error). NULL when there is nothing to check. */
    int (*check)(const char *path, void *args);
    /* Does the command's work with the loaded config (NULL only when
     * config_optional and no -c was given; it is freed after run returns)
     * and returns the exit code. */
    int (*run)(struct cwx_config *cfg, const char *path, void *args);
    bool config_optional; /* runs without -c FILE (whoami) */
};

/* The frame every sub-command shares: parses argv (argv[0] is the
 * sub-command), prints the usage for --help, refuses arguments that are
 * not options, loads the config (cwx_cli_load_config) and calls cmd->run.
 * Returns the exit code. */
int cwx_cli_main(const struct cwx_cli_cmd *cmd, int argc, char **argv, void *args);

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
