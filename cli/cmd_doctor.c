/* `cwexport doctor`: preflight checks of a config against AWS, one pass/fail
 * line per account and destination with the fix for each failure
 * (preflight/preflight.h). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "preflight/preflight.h"

static void s_help(FILE *f)
{
    fprintf(f,
            "usage: cwexport doctor -c FILE [--publish-test] [--format table|json]\n\n"
            "Checks a config against AWS before a run and prints one line per check,\n"
            "with the fix for each failure:\n"
            "  credentials  sts:GetCallerIdentity with each account's credentials\n"
            "               (and the account id the config names, if any)\n"
            "  bucket       the destination bucket exists (s3:HeadBucket) and is in\n"
            "               the log groups' region\n"
            "  write        a small probe object put under the state prefix and\n"
            "               deleted again (s3:PutObject, s3:DeleteObject)\n"
            "  log group    each named log group exists (logs:DescribeLogGroups by\n"
            "               name); prefix and pattern selectors match something\n"
            "  sns topic    the notify topic exists (sns:GetTopicAttributes); with\n"
            "               --publish-test a test message is published instead\n\n"
            "  -c, --config FILE   the config\n"
            "      --publish-test  publish one test message to the SNS topic\n"
            "  -f, --format FMT    table (default) or json\n\n"
            "Exit codes: 0 every check passed (warnings allowed), 3 a credential or\n"
            "permission check failed, 1 any other check failed, 2 usage or config\n"
            "error.\n");
}

/* What the command line asks for. */
struct s_args {
    const char *format;
    struct cwx_doctor_opts o;
};

static int s_option(int c, const char *arg, void *args)
{
    struct s_args *a = args;
    if (c == 'f')
        a->format = arg;
    else
        a->o.publish_test = true;
    return 0;
}

static int s_check(const char *path, void *args)
{
    struct s_args *a = args;
    if (strcmp(a->format, "table") != 0 && strcmp(a->format, "json") != 0) {
        fprintf(stderr, "cwexport doctor: --format must be table or json, not \"%s\"\n",
                a->format);
        return -1;
    }
    if (!path) {
        fprintf(stderr, "cwexport doctor: -c FILE is required\n");
        return -1;
    }
    a->o.json = strcmp(a->format, "json") == 0;
    return 0;
}

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    struct s_args *a = args;
    (void)path;
    return cwx_preflight_doctor(cfg, &a->o, stdout);
}

static const struct cwx_cli_cmd s_cmd = {
    .name = "doctor", .shorts = "f:", .longs = "fP", .help = s_help,
    .option = s_option, .check = s_check, .run = s_run,
};

int cwx_cmd_doctor(int argc, char **argv)
{
    struct s_args a = {.format = "table"};
    return cwx_cli_main(&s_cmd, argc, argv, &a);
}
