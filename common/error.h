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
    XX(EUNAVAIL, "AWS kept failing")                                          \
    XX(ETHROTTLED, "throttled")                                               \
    XX(ETLS, "TLS verification failed")                                       \
    XX(ESLOTBUSY, "export slot busy")                                         \
    XX(ECRED, "credentials unavailable")                                      \
    XX(EDENIED, "access denied")                                              \
    XX(ECANCELED, "canceled")                                                 \
    XX(ELOOPGUARD, "loop guard tripped")                                      \
    XX(ESTATE, "invalid state")                                               \
    XX(ENOTSUP, "not supported by the service")                              \
    XX(EINSECURE, "plain-http endpoint refused")

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

/* 1 when err is worth trying again later, the same request unchanged: the
 * connection failed or timed out, AWS throttled or answered 5xx on every
 * attempt (CWX_EUNAVAIL), or its answer was unreadable. */
int cwx_err_transient(int err);
/* 1 when err says AWS cannot be used as configured: no usable credentials,
 * a permission missing, an endpoint whose certificate does not verify, a
 * store without a feature the config relies on (conditional writes), or a
 * plain-http endpoint to another machine that was not allowed.
 * These end a command with exit code 3. */
int cwx_err_access(int err);

#endif
