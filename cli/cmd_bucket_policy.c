/* `cwexport bucket-policy`: the policies a config needs, as one JSON document
 * ready to paste (docs/plan.md "bucket-policy"). */
#include "cli/cli.h"

#include <stdio.h>

#include "common/error.h"
#include "preflight/preflight.h"

static void s_help(FILE *f)
{
    fprintf(f,
            "usage: cwexport bucket-policy -c FILE\n\n"
            "Prints, as one JSON document, the policies the config needs:\n"
            "  bucket_policies    per destination bucket and region: what CloudWatch\n"
            "                     Logs needs to export into it (paste .policy)\n"
            "  key_policies       per destination with kms_key_arn: the key-policy\n"
            "                     statement for CloudWatch Logs\n"
            "  identity_policies  per account: what cwexport's own credentials need\n"
            "  notes              placeholders to fill in and other remarks\n"
            "Makes no AWS call. Accounts without account_id get a placeholder.\n\n"
            "  -c, --config FILE   the config\n");
}

static int s_run(struct cwx_config *cfg, const char *path, void *args)
{
    (void)path;
    (void)args;
    struct cwx_buf doc;
    cwx_buf_init(&doc, 0);
    int rc = cwx_preflight_bucket_policy(cfg, &doc);
    int exit_code = CWX_EXIT_OK;
    if (rc) {
        fprintf(stderr, "cwexport bucket-policy: error: %s\n", cwx_strerror(rc));
        exit_code = CWX_EXIT_FAILED;
    } else if (fwrite(doc.ptr, 1, doc.len, stdout) != doc.len || fflush(stdout) != 0) {
        perror("cwexport bucket-policy: stdout");
        exit_code = CWX_EXIT_FAILED;
    }
    cwx_buf_free(&doc);
    return exit_code;
}

static const struct cwx_cli_cmd s_cmd = {.name = "bucket-policy", .help = s_help, .run = s_run};

int cwx_cmd_bucket_policy(int argc, char **argv)
{
    return cwx_cli_main(&s_cmd, argc, argv, NULL);
}
