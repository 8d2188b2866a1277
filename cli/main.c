/* cwexport: archive CloudWatch Logs into S3 with export tasks. */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/log.h"

struct cwx_global_opts cwx_global;

typedef int cwx_cmd_fn(int argc, char **argv);

struct s_command {
    const char *name;
    cwx_cmd_fn *fn;
    const char *summary;
};

static const struct s_command s_commands[] = {
    {"validate", cwx_cmd_validate, "check a config file; no AWS calls"},
    {"plan", cwx_cmd_plan, "report what a run would do (dry run)"},
    {"run", cwx_cmd_run, "export every planned window"},
    {"status", cwx_cmd_status, "show active export tasks per lane"},
    {"cancel", cwx_cmd_cancel, "cancel active tasks that cwexport created"},
    {"whoami", cwx_cmd_whoami, "show the caller identity of each account"},
    {"bucket-policy", cwx_cmd_bucket_policy, "print the bucket policy statements needed"},
    {"doctor", cwx_cmd_doctor, "preflight checks: credentials, buckets, groups, SNS"},
    {"sfn", cwx_cmd_sfn, "write a Step Functions state machine that runs the plan"},
};

static void s_usage(FILE *f)
{
    fprintf(f, "usage: cwexport [global options] COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof *s_commands; i++)
        fprintf(f, "  %-14s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(f, "\nglobal options:\n"
               "  --region REGION      use this region for every account\n"
               "  --profile NAME       default credentials profile\n"
               "  --log-format FORMAT  text (default) or json\n"
               "  -v, -q               more or less logging (repeatable)\n"
               "  --allow-insecure-endpoint\n"
               "                       accept http:// endpoints to other machines (in clear)\n"
               "  --private-outputs    write summaries, events and reports with mode 0600\n"
               "  --version            print the version\n"
               "  -h, --help           this help; `cwexport COMMAND --help` for a command\n"
               "\nexit codes: 0 done, 1 some windows failed, 2 usage or config error,\n"
               "3 credential or permission error, 4 loop guard tripped, 130 interrupted\n");
}

/* Takes the global options out of argv wherever they stand. Returns -1 on a
 * usage error (printed), 1 when the program should exit 0, else 0. */
static int s_take_globals(int *argc, char **argv)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--region") == 0)
            slot = &cwx_global.region;
        else if (strcmp(a, "--profile") == 0)
            slot = &cwx_global.profile;
        if (slot || strcmp(a, "--log-format") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "cwexport: %s needs a value\n", a);
                return -1;
            }
            const char *v = argv[++i];
            if (slot) {
                *slot = v;
            } else if (strcmp(v, "json") == 0 || strcmp(v, "text") == 0) {
                cwx_global.log_json = v[0] == 'j';
            } else {
                fprintf(stderr, "cwexport: --log-format must be text or json, not \"%s\"\n", v);
                return -1;
            }
        } else if (strncmp(a, "--region=", 9) == 0) {
            cwx_global.region = a + 9;
        } else if (strncmp(a, "--profile=", 10) == 0) {
            cwx_global.profile = a + 10;
        } else if (strcmp(a, "--log-format=json") == 0 || strcmp(a, "--log-format=text") == 0) {
            cwx_global.log_json = a[13] == 'j';
        } else if (a[0] == '-' && a[1] != '-' && a[1] && strspn(a + 1, "vq") == strlen(a + 1)) {
            for (const char *p = a + 1; *p; p++)
                cwx_global.verbosity += *p == 'v' ? 1 : -1;
        } else if (strcmp(a, "--allow-insecure-endpoint") == 0) {
            cwx_global.allow_insecure_endpoint = true;
        } else if (strcmp(a, "--private-outputs") == 0) {
            cwx_global.private_outputs = true;
        } else if (strcmp(a, "--version") == 0) {
            printf("cwexport %s\n", CWX_VERSION);
            return 1;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

/* The process holds credentials: a core file or a ptrace attach by another
 * process of the same user would read them. Cores stay off and the process
 * undumpable until main returns, unless CWEXPORT_KEEP_CORE_DUMPS=1 (for
 * debugging a crash). A reader that went away (`cwexport plan | head`)
 * makes a write fail with EPIPE instead of killing the process. */
static void s_harden(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *keep = getenv("CWEXPORT_KEEP_CORE_DUMPS");
    if (keep && strcmp(keep, "1") == 0)
        return;
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Dumpable again once everything is freed: the leak checker of sanitized
 * builds attaches to the process at exit. */
static int s_unharden(int code)
{
    const char *keep = getenv("CWEXPORT_KEEP_CORE_DUMPS");
    if (!keep || strcmp(keep, "1") != 0)
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return code;
}

static int s_main(int argc, char **argv);

int main(int argc, char **argv)
{
    s_harden();
    return s_unharden(s_main(argc, argv));
}

static int s_main(int argc, char **argv)
{
    int rc = s_take_globals(&argc, argv);
    if (rc)
        return rc < 0 ? CWX_EXIT_USAGE : CWX_EXIT_OK;
    int level = CWX_LOG_INFO + cwx_global.verbosity;
    level = level < CWX_LOG_ERROR ? CWX_LOG_ERROR : level > CWX_LOG_TRACE ? CWX_LOG_TRACE : level;
    cwx_log_setup((enum cwx_log_level)level, cwx_global.log_json ? CWX_LOG_JSON : CWX_LOG_TEXT);

    if (argc < 2) {
        s_usage(stderr);
        return CWX_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        s_usage(stdout);
        return CWX_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof s_commands / sizeof *s_commands; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "cwexport: unknown command \"%s\"; see cwexport --help\n", argv[1]);
    return CWX_EXIT_USAGE;
}
