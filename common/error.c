#include "common/error.h"

#include <stddef.h>

/* Each code's name and description, in the order of the enum (the codes
 * follow CWX__ERRNO_FIRST one by one). */
static const struct s_error {
    const char *name;
    const char *msg;
} s_errors[] = {
#define XX(name, msg) {#name, msg},
    CWX_ERRNO_MAP(XX)
#undef XX
};

/* The entry of err, or NULL when err is not a CWX_E* value. */
static const struct s_error *s_entry(int err)
{
    if (err <= CWX__ERRNO_FIRST || err >= CWX__ERRNO_LAST)
        return NULL;
    return &s_errors[err - CWX__ERRNO_FIRST - 1];
}

const char *cwx_strerror(int err)
{
    const struct s_error *e = s_entry(err);
    return err == 0 ? "success" : e ? e->msg : "unknown error";
}

const char *cwx_err_name(int err)
{
    const struct s_error *e = s_entry(err);
    return err == 0 ? "OK" : e ? e->name : "EUNKNOWN";
}

int cwx_err_transient(int err)
{
    return err == CWX_EHTTP || err == CWX_ETIMEDOUT || err == CWX_ETHROTTLED ||
           err == CWX_EUNAVAIL || err == CWX_EPARSE;
}

int cwx_err_access(int err)
{
    return err == CWX_ECRED || err == CWX_EDENIED || err == CWX_ETLS || err == CWX_ENOTSUP ||
           err == CWX_EINSECURE;
}
