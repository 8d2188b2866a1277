/* libFuzzer target: the config loader (planner/config.c) on arbitrary bytes.
 * A load either succeeds (and the config is freed) or fails with a
 * one-line "FILE:LINE:COL: error: ..." message; it never crashes, leaks or
 * reads past the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "planner/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    /* ${ENV} expansion reads the environment: make it deterministic. */
    static int once;
    if (!once) {
        setenv("CWX_FUZZ_VAR", "fuzz-value", 1);
        once = 1;
    }
    memset(&err, 0, sizeof err);
    int rc = cwx_config_load_string("fuzz.yaml", (const char *)data, size, &cfg, &err);
    if (rc == 0) {
        if (!cfg)
            abort();
        cwx_config_free(cfg);
    } else {
        if (cfg)
            abort();
        char line[2048];
        cwx_config_error_format(&err, line, sizeof line);
        if (!memchr(err.msg, 0, sizeof err.msg) || strchr(line, '\n'))
            abort(); /* an error is one terminated line */
    }
    return 0;
}
