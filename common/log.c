#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "common/buf.h"

static enum cwx_log_level s_level = CWX_LOG_INFO;
static enum cwx_log_format s_format = CWX_LOG_TEXT;

static const char *const s_names[] = {"error", "warn", "info", "debug",
                                      "trace"};

void cwx_log_setup(enum cwx_log_level level, enum cwx_log_format format)
{
    s_level = level;
    s_format = format;
}

int cwx_log_enabled(enum cwx_log_level level)
{
    return level <= s_level;
}

enum cwx_log_format cwx_log_get_format(void)
{
    return s_format;
}

void cwx_log(enum cwx_log_level level, const char *fmt, ...)
{
    if (level > s_level)
        return;
    struct cwx_buf msg, line;
    cwx_buf_init(&msg, 64 * 1024);
    cwx_buf_init(&line, 0);
    va_list ap;
    va_start(ap, fmt);
    int rc = cwx_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (rc) {
        cwx_buf_free(&msg);
        return;
    }
    if (s_format == CWX_LOG_JSON) {
        struct timespec ts;
        struct tm tm;
        char stamp[40];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        rc = cwx_buf_printf(&line, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":",
                            stamp, ts.tv_nsec / 1000000, s_names[level]);
        if (!rc)
            rc = cwx_buf_json_str(&line, msg.ptr);
        if (!rc)
            rc = cwx_buf_puts(&line, "}\n");
    } else {
        /* Text from AWS (names, error messages) may hold control
         * characters: escaped, a log line stays one line of plain text. */
        rc = cwx_buf_printf(&line, "cwexport: %s: ", s_names[level]);
        if (!rc)
            rc = cwx_buf_escape_ctl(&line, msg.ptr);
        if (!rc)
            rc = cwx_buf_putc(&line, '\n');
    }
    if (!rc)
        fwrite(line.ptr, 1, line.len, stderr);
    cwx_buf_free(&msg);
    cwx_buf_free(&line);
}
