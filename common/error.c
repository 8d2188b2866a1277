#include "common/error.h"

const char *cwx_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define XX(name, msg)                                                         \
    case CWX_##name:                                                          \
        return msg;
        CWX_ERRNO_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

const char *cwx_err_name(int err)
{
    switch (err) {
    case 0:
        return "OK";
#define XX(name, msg)                                                         \
    case CWX_##name:                                                          \
        return #name;
        CWX_ERRNO_MAP(XX)
#undef XX
    default:
        return "EUNKNOWN";
    }
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
