/* `cwexport doctor`: preflight checks of a config against AWS, one pass/fail
 * line per account and destination with the fix for each failure
 * (preflight/preflight.h). */
#include "cli/cli.h"

#include <getopt.h>
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

int cwx_cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"publish-test", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *format = "table";
    struct cwx_doctor_opts o = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'f': format = optarg; break;
        case 'P': o.publish_test = true; break;
        case 'h': s_help(stdout); return CWX_EXIT_OK;
        default: s_help(stderr); return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport doctor: unexpected argument \"%s\"\n", argv[optind]);
        return CWX_EXIT_USAGE;
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "cwexport doctor: --format must be table or json, not \"%s\"\n", format);
        return CWX_EXIT_USAGE;
    }
    if (!path) {
        fprintf(stderr, "cwexport doctor: -c FILE is required\n");
        return CWX_EXIT_USAGE;
    }
    struct cwx_config *cfg = cwx_cli_load_config(path);
    if (!cfg)
        return CWX_EXIT_USAGE;
    o.json = strcmp(format, "json") == 0;
    int exit_code = cwx_preflight_doctor(cfg, &o, stdout);
    cwx_config_free(cfg);
    return exit_code;
}
