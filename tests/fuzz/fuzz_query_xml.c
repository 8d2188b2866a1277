/* libFuzzer target: the Query protocol answers of STS and SNS
 * (aws/query_parse.c and the shared cwx__xml_extract). Every input goes
 * through Publish, GetCallerIdentity, AssumeRole and
 * AssumeRoleWithWebIdentity. Checked beyond "no crash": on failure the out
 * values are NULL/zeroed (nothing to free); on success the required fields
 * are present, and credentials survive a deep copy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"
#include "common/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_zeroed(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    char msg[256];

    char *message_id = NULL;
    int rc = cwx_sns_parse_publish(body, size, &message_id, msg, sizeof msg);
    if (rc == 0) {
        if (!message_id || !message_id[0])
            abort();
        free(message_id);
    } else if (message_id) {
        abort();
    }

    struct cwx__sts_identity id;
    rc = cwx_sts_parse_get_caller_identity(body, size, &id, msg, sizeof msg);
    if (rc == 0) {
        if (!id.account)
            abort();
        cwx__sts_identity_free(&id);
    } else if (!s_zeroed(&id, sizeof id)) {
        abort();
    }

    static const char *const ops[] = {"AssumeRole", "AssumeRoleWithWebIdentity"};
    for (size_t i = 0; i < 2; i++) {
        struct cwx_sts_assumed_role role;
        memset(&role, 0xA5, sizeof role); /* the parser must not trust *out */
        rc = cwx_sts_parse_assume_role(body, size, ops[i], &role, msg, sizeof msg);
        if (rc == 0) {
            if (!role.access_key_id || !role.secret_access_key || !role.session_token ||
                !role.assumed_role_arn || !role.assumed_role_id)
                abort();
            struct cwx_sts_assumed_role copy;
            if (cwx_sts_assumed_role_copy(&copy, &role) == 0) {
                if (strcmp(copy.secret_access_key, role.secret_access_key) != 0)
                    abort();
                cwx_sts_assumed_role_free(&copy);
            }
            cwx_sts_assumed_role_free(&role);
        } else if (!s_zeroed(&role, sizeof role)) {
            abort();
        }
    }
    if (!memchr(msg, 0, sizeof msg))
        abort();

    /* The generic extractor with a nested path, an optional field and the
     * secret flag (the credentials path uses it). */
    char *a = NULL, *b = NULL, *c = NULL;
    struct cwx__xml_field f[] = {
        {"ErrorResponse/Error/Code", &a, 0},
        {"ErrorResponse/RequestId", &b, 0},
        {"A/B/C/D", &c, 1},
    };
    rc = cwx__xml_extract(body, size, f, 3, 1, msg, sizeof msg);
    if (rc == 0) {
        if (!c)
            abort();
    } else if (a || b || c) {
        abort();
    }
    cwx_secret_free(a);
    cwx_secret_free(b);
    cwx_secret_free(c);
    return 0;
}
