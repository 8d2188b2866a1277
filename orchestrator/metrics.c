/* `run --metrics FILE`: the run's summary as Prometheus text exposition
 * (format 0.0.4), for node_exporter's textfile collector. Every value is
 * the last run's, so every metric is a gauge. The file is replaced
 * atomically (a temporary file in the same folder, renamed over it), as the
 * collector requires; the last success time is carried over from the file
 * the previous run wrote. docs/metrics.md lists the metrics. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "orchestrator/orchestrator_internal.h"

#define S_LAST_SUCCESS "cwexport_last_success_timestamp_seconds"

/* A label value with \, " and line feeds escaped. */
static int s_label(struct cwx_buf *b, const char *name, const char *v, int first)
{
    int rc = cwx_buf_printf(b, "%s%s=\"", first ? "" : ",", name);
    for (const char *p = v ? v : ""; !rc && *p; p++) {
        if (*p == '\\')
            rc = cwx_buf_puts(b, "\\\\");
        else if (*p == '"')
            rc = cwx_buf_puts(b, "\\\"");
        else if (*p == '\n')
            rc = cwx_buf_puts(b, "\\n");
        else
            rc = cwx_buf_putc(b, *p);
    }
    return rc ? rc : cwx_buf_putc(b, '"');
}

static int s_head(struct cwx_buf *b, const char *name, const char *help)
{
    return cwx_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static int s_value(struct cwx_buf *b, double v)
{
    if (v == floor(v) && fabs(v) < 9e15)
        return cwx_buf_printf(b, " %.0f\n", v);
    return cwx_buf_printf(b, " %.17g\n", v);
}

static double s_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1 : 0;
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *s_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* One metric per lane: name{lane,account,account_id[,extra=value]} v. */
struct s_lane_metric {
    const char *name;
    const char *help;
    const char *field;      /* in the summary's lane object */
    const char *extra;      /* an extra label's name, or NULL */
    const char *extra_value;
};

static const struct s_lane_metric s_lane_metrics[] = {
    {"cwexport_windows", "Windows of the last run by state (done, skipped, failed, pending).",
     "done", "state", "done"},
    {"cwexport_windows", NULL, "skipped", "state", "skipped"},
    {"cwexport_windows", NULL, "failed", "state", "failed"},
    {"cwexport_windows", NULL, "pending", "state", "pending"},
    {"cwexport_exported_bytes", "Bytes the last run's export tasks wrote to S3.", "bytes", NULL,
     NULL},
    {"cwexport_exported_objects", "Objects the last run's export tasks wrote to S3.", "objects",
     NULL, NULL},
    {"cwexport_export_tasks", "Export tasks the last run created.", "creates", NULL, NULL},
    {"cwexport_retries", "Retries of the last run: FAILED tasks created again (task), job steps "
                         "redone (step), AWS calls retried (api).",
     "retries", "kind", "task"},
    {"cwexport_retries", NULL, "step_retries", "kind", "step"},
    {"cwexport_retries", NULL, "api_retries", "kind", "api"},
    {"cwexport_api_calls", "AWS calls the last run made for the lane.", "api_calls", NULL, NULL},
    {"cwexport_api_throttles", "Throttling answers the last run met.", "api_throttles", NULL,
     NULL},
    {"cwexport_lane_duration_seconds", "How long the lane ran in the last run.", "duration_s",
     NULL, NULL},
    {"cwexport_lane_stopped", "1 when the last run stopped the lane (credentials, loop guard, "
                              "AWS unavailable).",
     "stopped", NULL, NULL},
};

int cwx__metrics_render(const cJSON *summary, double finished_s, double last_success_s,
                        struct cwx_buf *out)
{
    int rc = 0;
    double exit_code = s_num(summary, "exit_code");
    const cJSON *guard = cJSON_GetObjectItemCaseSensitive(summary, "loop_guard");
    struct {
        const char *name, *help;
        double v;
    } run[] = {
        {"cwexport_last_run_timestamp_seconds", "When the last run finished (Unix time).",
         finished_s},
        {"cwexport_last_run_duration_seconds", "How long the last run took.",
         s_num(summary, "duration_s")},
        {"cwexport_last_run_exit_code", "The last run's exit code (0 done, 1 some failed, 2 "
                                        "config, 3 credentials, 4 loop guard, 130 interrupted).",
         exit_code},
        {S_LAST_SUCCESS, "When a run last ended with every window done or skipped (Unix time; "
                         "0 = never).",
         last_success_s},
        {"cwexport_loop_guard_tripped", "1 when the last run tripped the loop guard.",
         s_num(guard, "tripped")},
    };
    for (size_t i = 0; !rc && i < sizeof(run) / sizeof(run[0]); i++) {
        rc = s_head(out, run[i].name, run[i].help);
        if (!rc)
            rc = cwx_buf_puts(out, run[i].name);
        if (!rc)
            rc = s_value(out, run[i].v);
    }
    const cJSON *lanes = cJSON_GetObjectItemCaseSensitive(summary, "lanes");
    for (size_t m = 0; !rc && m < sizeof(s_lane_metrics) / sizeof(s_lane_metrics[0]); m++) {
        const struct s_lane_metric *lm = &s_lane_metrics[m];
        if (lm->help)
            rc = s_head(out, lm->name, lm->help);
        const cJSON *lane;
        cJSON_ArrayForEach(lane, lanes)
        {
            if (rc)
                break;
            rc = cwx_buf_printf(out, "%s{", lm->name);
            if (!rc)
                rc = s_label(out, "lane", s_str(lane, "lane"), 1);
            if (!rc)
                rc = s_label(out, "account", s_str(lane, "account"), 0);
            if (!rc)
                rc = s_label(out, "account_id", s_str(lane, "account_id"), 0);
            if (!rc && lm->extra)
                rc = s_label(out, lm->extra, lm->extra_value, 0);
            if (!rc)
                rc = cwx_buf_putc(out, '}');
            if (!rc)
                rc = s_value(out, s_num(lane, lm->field));
        }
    }
    return rc;
}

/* The last success time the previous run wrote into path, or 0. */
static double s_previous_success(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    double v = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(S_LAST_SUCCESS);
        if (strncmp(line, S_LAST_SUCCESS, n) == 0 && line[n] == ' ') {
            char *end = NULL;
            double d = strtod(line + n + 1, &end);
            if (end != line + n + 1 && d > 0 && isfinite(d))
                v = d;
        }
    }
    fclose(f);
    return v;
}

int cwx__metrics_write(const char *path, const cJSON *summary, double finished_s, char *why,
                       size_t why_size)
{
    double last = s_num(summary, "exit_code") == 0 ? finished_s : s_previous_success(path);
    struct cwx_buf text;
    cwx_buf_init(&text, 16 * 1024 * 1024);
    int rc = cwx__metrics_render(summary, finished_s, last, &text);
    if (rc) {
        cwx_buf_free(&text);
        snprintf(why, why_size, "%s", cwx_strerror(rc));
        return rc;
    }
    rc = cwx_file_write_atomic(path, text.ptr, text.len, 0644, why, why_size);
    cwx_buf_free(&text);
    return rc;
}
