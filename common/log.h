/* Diagnostics on stderr, as text or JSON lines. Never pass secrets in. */
#ifndef CWX_COMMON_LOG_H
#define CWX_COMMON_LOG_H

enum cwx_log_level {
    CWX_LOG_ERROR = 0,
    CWX_LOG_WARN,
    CWX_LOG_INFO,
    CWX_LOG_DEBUG,
    CWX_LOG_TRACE,
};

enum cwx_log_format { CWX_LOG_TEXT, CWX_LOG_JSON };

/* Process-wide settings, set once by main before any work starts. */
void cwx_log_setup(enum cwx_log_level level, enum cwx_log_format format);
int cwx_log_enabled(enum cwx_log_level level);
enum cwx_log_format cwx_log_get_format(void);

/* Logs one line. In JSON mode the line is
 * {"ts":"…","level":"info","msg":"…"}; in text mode "cwexport: level: msg". */
void cwx_log(enum cwx_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define CWX_LOGE(...) cwx_log(CWX_LOG_ERROR, __VA_ARGS__)
#define CWX_LOGW(...) cwx_log(CWX_LOG_WARN, __VA_ARGS__)
#define CWX_LOGI(...) cwx_log(CWX_LOG_INFO, __VA_ARGS__)
#define CWX_LOGD(...)                                                         \
    do {                                                                      \
        if (cwx_log_enabled(CWX_LOG_DEBUG))                                   \
            cwx_log(CWX_LOG_DEBUG, __VA_ARGS__);                              \
    } while (0)

#endif
