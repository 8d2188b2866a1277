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
