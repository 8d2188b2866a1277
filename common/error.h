/* cwexport error codes: 0 is success, failures are negative CWX_E* values. */
#ifndef CWX_COMMON_ERROR_H
#define CWX_COMMON_ERROR_H

/* One table produces the enum, cwx_strerror() and cwx_err_name(). */
#define CWX_ERRNO_MAP(XX)                                                     \
    XX(ENOMEM, "out of memory")                                               \
    XX(EINVAL, "invalid argument")                                            \
    XX(ECONFIG, "configuration error")                                        \
    XX(EIO, "input/output error")                                             \
    XX(EPARSE, "malformed response")                                          \
    XX(ETOOBIG, "size limit exceeded")                                        \
    XX(ENOTFOUND, "not found")                                                \
    XX(EHTTP, "transport error")                                              \
    XX(ETIMEDOUT, "timed out")                                                \
    XX(EAWS, "AWS error")                                                     \
    XX(ETHROTTLED, "throttled")                                               \
    XX(ESLOTBUSY, "export slot busy")                                         \
    XX(ECRED, "credentials unavailable")                                      \
    XX(EDENIED, "access denied")                                              \
    XX(ECANCELED, "canceled")                                                 \
    XX(ELOOPGUARD, "loop guard tripped")                                      \
    XX(ESTATE, "invalid state")

enum cwx_errno {
    CWX_OK = 0,
#define XX(name, msg) CWX_##name,
    CWX__ERRNO_FIRST = -1000,
    CWX_ERRNO_MAP(XX)
#undef XX
    CWX__ERRNO_LAST
};

/* A static, human-readable description of err (0 or a CWX_E* value). */
const char *cwx_strerror(int err);
/* The symbolic name of err, e.g. "ECONFIG". */
const char *cwx_err_name(int err);

#endif
