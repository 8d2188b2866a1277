/* The marker document (docs/architecture.md §marker) and small helpers. */
#include "workers/workers.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "workers/workers_internal.h"

#ifndef CWX_VERSION
#define CWX_VERSION "0"
#endif

int cwx__is_write_test(const char *key)
{
    size_t n = strlen(key), m = sizeof(CWX__WRITE_TEST) - 1;
    if (n < m || strcmp(key + n - m, CWX__WRITE_TEST) != 0)
        return 0;
    return n == m || key[n - m - 1] == '/';
}

void cwx__iso_ms(long long ms, char *out, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char date[32];
    if (!gmtime_r(&s, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(out, size, "?");
        return;
    }
    snprintf(out, size, "%s.%03dZ", date, (int)(ms % 1000));
}

static int s_add_str(cJSON *o, const char *k, const char *v)
{
    cJSON *item = v ? cJSON_CreateString(v) : cJSON_CreateNull();
    return item && cJSON_AddItemToObject(o, k, item) ? 0 : CWX_ENOMEM;
}

static int s_add_num(cJSON *o, const char *k, double v)
{
    cJSON *item = cJSON_CreateNumber(v);
    return item && cJSON_AddItemToObject(o, k, item) ? 0 : CWX_ENOMEM;
}

static int s_add_time(cJSON *o, const char *k_ms, const char *k_iso, int64_t ms)
{
    if (!ms)
        return s_add_str(o, k_ms, NULL) || s_add_str(o, k_iso, NULL) ? CWX_ENOMEM : 0;
    char iso[40];
    cwx__iso_ms(ms, iso, sizeof(iso));
    return s_add_num(o, k_ms, (double)ms) || s_add_str(o, k_iso, iso) ? CWX_ENOMEM : 0;
}

int cwx_marker_build(const struct cwx_work_spec *spec, const char *task_id,
                     int64_t creation_ms, int64_t completion_ms, uint64_t objects,
                     uint64_t bytes, int64_t marked_ms, struct cwx_buf *out)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return CWX_ENOMEM;
    int rc = 0;
    rc = rc ? rc : s_add_num(o, "marker_version", 1);
    rc = rc ? rc : s_add_str(o, "cwexport_version", CWX_VERSION);
    rc = rc ? rc : s_add_str(o, "account", spec->account);
    rc = rc ? rc : s_add_str(o, "account_id", spec->account_id);
    rc = rc ? rc : s_add_str(o, "region", spec->region);
    rc = rc ? rc : s_add_str(o, "log_group", spec->log_group);
    rc = rc ? rc : s_add_str(o, "log_stream_prefix", spec->log_stream_prefix);
    rc = rc ? rc : s_add_str(o, "window", spec->window);
    rc = rc ? rc : s_add_num(o, "from", (double)spec->from_ms);
    rc = rc ? rc : s_add_num(o, "to", (double)spec->to_ms);
    rc = rc ? rc : s_add_str(o, "bucket", spec->bucket);
    rc = rc ? rc : s_add_str(o, "prefix", spec->prefix);
    rc = rc ? rc : s_add_str(o, "task_id", task_id);
    rc = rc ? rc : s_add_str(o, "task_name", spec->task_name);
    rc = rc ? rc : s_add_num(o, "objects", (double)objects);
    rc = rc ? rc : s_add_num(o, "bytes", (double)bytes);
    rc = rc ? rc : s_add_time(o, "task_creation_time", "task_created_at", creation_ms);
    rc = rc ? rc : s_add_time(o, "task_completion_time", "task_completed_at", completion_ms);
    rc = rc ? rc : s_add_time(o, "marked_time", "marked_at", marked_ms);
    if (!rc && spec->n_windows > 1) {
        cJSON *r = cJSON_AddObjectToObject(o, "range");
        rc = r ? 0 : CWX_ENOMEM;
        rc = rc ? rc : s_add_str(r, "from", spec->windows[0]);
        rc = rc ? rc : s_add_str(r, "to", spec->windows[spec->n_windows - 1]);
        rc = rc ? rc : s_add_num(r, "windows", (double)spec->n_windows);
    }
    if (rc == 0) {
        char *text = cJSON_PrintUnformatted(o);
        if (!text)
            rc = CWX_ENOMEM;
        else {
            rc = cwx_buf_puts(out, text);
            if (rc == 0)
                rc = cwx_buf_putc(out, '\n');
            cJSON_free(text);
        }
    }
    cJSON_Delete(o);
    return rc;
}
