/* IANA zones for the calendar (calendar.c): a zone is read once from its
 * TZif file (RFC 8536) under $TZDIR or /usr/share/zoneinfo and turned into
 * a sorted table of the instants at which the UTC offset changes. The
 * file's 64-bit (v2+) section is used; past its last transition the POSIX
 * TZ footer rule ("EST5EDT,M3.2.0,M11.1.0") is expanded into more
 * transitions, through the year S_TZ_LAST_YEAR, so "slim" files (which stop
 * at 2007 and leave the rest to the footer) and "fat" ones (Debian's, which
 * list transitions to 2037) give the same table. */
#include "planner/calendar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/array.h"
#include "common/civil.h"
#include "common/error.h"
#include "planner/planner_internal.h"

/* The footer rule is expanded through this year; later instants keep the
 * offset in force at its end (RFC 8536 allows footers to be evaluated
 * forever, but the planner has no use for the 26th century). */
#define S_TZ_LAST_YEAR 2500
#define TZIF_MAX_BYTES (4u << 20)

/* ---------------------------------------------------------------------- */
/* POSIX TZ footer rules (RFC 8536 §3.3, POSIX TZ with its extensions)     */
/* ---------------------------------------------------------------------- */

struct s_rule_date {
    char kind; /* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' (month.week.day) */
    int a, b, c;
    int64_t time; /* seconds after local midnight; may be negative or > 24h */
};

struct s_rule {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    int has_dst;
    struct s_rule_date start, end;
};

static int s_rule_name(const char **pp)
{
    const char *p = *pp;
    if (*p == '<') {
        const char *q = strchr(p, '>');
        if (!q || q - p < 4)
            return -1;
        *pp = q + 1;
        return 0;
    }
    const char *q = p;
    while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
        q++;
    if (q - p < 3)
        return -1;
    *pp = q;
    return 0;
}

/* [+-]h[h[h]][:mm[:ss]] into seconds; max_h bounds the hours. */
static int s_rule_hms(const char **pp, int max_h, int64_t *out)
{
    const char *p = *pp;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9')
        return -1;
    int64_t v[3] = {0, 0, 0};
    for (int part = 0; part < 3; part++) {
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            v[part] = v[part] * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || (part > 0 && (digits != 2 || v[part] > 59)))
            return -1;
        if (*p != ':' || part == 2)
            break;
        p++;
    }
    if (v[0] > max_h)
        return -1;
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    *pp = p;
    return 0;
}

static int s_rule_num(const char **pp, int lo, int hi, int *out)
{
    const char *p = *pp;
    int v = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || v < lo || v > hi)
        return -1;
    *out = v;
    *pp = p;
    return 0;
}

static int s_rule_date_parse(const char **pp, struct s_rule_date *d)
{
    const char *p = *pp;
    if (*p == 'J') {
        p++;
        d->kind = 'J';
        if (s_rule_num(&p, 1, 365, &d->a))
            return -1;
    } else if (*p == 'M') {
        p++;
        d->kind = 'M';
        if (s_rule_num(&p, 1, 12, &d->a) || *p++ != '.' ||
            s_rule_num(&p, 1, 5, &d->b) || *p++ != '.' || s_rule_num(&p, 0, 6, &d->c))
            return -1;
    } else {
        d->kind = 'D';
        if (s_rule_num(&p, 0, 365, &d->a))
            return -1;
    }
    d->time = 7200;
    if (*p == '/') {
        p++;
        if (s_rule_hms(&p, 167, &d->time))
            return -1;
    }
    *pp = p;
    return 0;
}

static int s_rule_parse(const char *s, struct s_rule *r)
{
    const char *p = s;
    int64_t v;
    memset(r, 0, sizeof *r);
    if (s_rule_name(&p) || s_rule_hms(&p, 24, &v))
        return -1;
    r->std_off = (int32_t)-v; /* POSIX counts west as positive */
    if (!*p)
        return 0;
    if (s_rule_name(&p))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (s_rule_hms(&p, 24, &v))
            return -1;
        r->dst_off = (int32_t)-v;
    }
    if (*p != ',') {
        /* No rule: POSIX leaves it to the implementation; tzcode uses the
         * US rules. TZif footers always carry one, so refuse instead. */
        return -1;
    }
    p++;
    if (s_rule_date_parse(&p, &r->start) || *p++ != ',' ||
        s_rule_date_parse(&p, &r->end) || *p)
        return -1;
    return 0;
}

/* Local midnight (days since the epoch) of a rule date in year y. */
static int64_t s_rule_day(const struct s_rule_date *d, int y)
{
    int leap = cwx_days_in_month(y, 2) == 29;
    int64_t jan1 = cwx_days_from_civil(y, 1, 1);
    switch (d->kind) {
    case 'J':
        return jan1 + d->a - 1 + (leap && d->a >= 60);
    case 'D':
        return jan1 + d->a;
    default: {
        int64_t first = cwx_days_from_civil(y, d->a, 1);
        int wd_sun = (cwx_weekday(first) + 1) % 7; /* 0 = Sunday */
        int day = 1 + (d->c - wd_sun + 7) % 7 + 7 * (d->b - 1);
        while (day > cwx_days_in_month(y, d->a))
            day -= 7;
        return first + day - 1;
    }
    }
}

/* ---------------------------------------------------------------------- */
/* TZif loading                                                           */
/* ---------------------------------------------------------------------- */

struct s_trans {
    int64_t at;
    int32_t off;
};

/* A growable list of raw transitions, compacted at the end. */
struct s_list {
    struct s_trans *v;
    size_t n, cap;
};

static int s_list_push(struct s_list *l, int64_t at, int32_t off)
{
    if (l->n == l->cap) {
        struct s_trans *v = cwx_array_grow(l->v, &l->cap, sizeof *v, 256);
        if (!v)
            return CWX_ENOMEM;
        l->v = v;
    }
    l->v[l->n].at = at;
    l->v[l->n].off = off;
    l->n++;
    return 0;
}

static uint32_t s_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t s_be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)s_be32(p) << 32 | s_be32(p + 4));
}

static int s_year_of(int64_t t)
{
    int y, m, d;
    cwx_civil_from_days(cwx__floor_div(t, 86400), &y, &m, &d);
    return y;
}

/* The data block of a TZif image: its transitions into l and the offset
 * before the first one. *pos is left after the block (at the v2+ footer),
 * *tsize at 8 for a v2+ file, 4 for a v1 one. */
static int s_tzif_data(const unsigned char *buf, size_t len, struct s_list *l,
                       int32_t *first_off, size_t *pos, int *tsize)
{
    int version = buf[4];
    for (int pass = 0; pass < 2; pass++) {
        if (len - *pos < 44 || memcmp(buf + *pos, "TZif", 4) != 0)
            return CWX_EPARSE;
        const unsigned char *h = buf + *pos + 20;
        uint32_t isutcnt = s_be32(h), isstdcnt = s_be32(h + 4),
                 leapcnt = s_be32(h + 8), timecnt = s_be32(h + 12),
                 typecnt = s_be32(h + 16), charcnt = s_be32(h + 20);
        if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || charcnt > 65536 ||
            leapcnt > 100000 || isutcnt > typecnt || isstdcnt > typecnt)
            return CWX_EPARSE;
        size_t body = (size_t)timecnt * (size_t)*tsize + timecnt + typecnt * 6u +
                      charcnt + leapcnt * (size_t)(*tsize + 4) + isstdcnt + isutcnt;
        *pos += 44;
        if (len - *pos < body)
            return CWX_EPARSE;
        if (pass == 0 && version >= '2') {
            *pos += body; /* skip the 32-bit data: the 64-bit block follows */
            *tsize = 8;
            continue;
        }
        if (leapcnt)
            return CWX_EINVAL; /* "right/" zones count leap seconds: not civil time */
        const unsigned char *times = buf + *pos;
        const unsigned char *idx = times + (size_t)timecnt * *tsize;
        const unsigned char *types = idx + timecnt;
        *first_off = (int32_t)s_be32(types);
        for (uint32_t k = 0; k < timecnt; k++) {
            int64_t at = *tsize == 8 ? s_be64(times + (size_t)k * 8)
                                     : (int64_t)(int32_t)s_be32(times + (size_t)k * 4);
            if (idx[k] >= typecnt)
                return CWX_EPARSE;
            int rc = s_list_push(l, at, (int32_t)s_be32(types + idx[k] * 6u));
            if (rc)
                return rc;
        }
        *pos += body;
        break;
    }
    return 0;
}

/* Expands footer rule r into transitions after the last one of l, through
 * S_TZ_LAST_YEAR. */
static int s_rule_expand(const struct s_rule *r, struct s_list *l, int32_t *first_off)
{
    int64_t last = l->n ? l->v[l->n - 1].at : INT64_MIN;
    if (!r->has_dst) {
        if (!l->n)
            *first_off = r->std_off;
        else if (l->v[l->n - 1].off != r->std_off)
            return s_list_push(l, last, r->std_off); /* inconsistent file */
        return 0;
    }
    int y0 = l->n ? s_year_of(last) : 1900;
    if (y0 < 1900)
        y0 = 1900;
    for (int y = y0; y <= S_TZ_LAST_YEAR; y++) {
        int64_t on = s_rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
        int64_t off = s_rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
        struct s_trans pair[2] = {{on, r->dst_off}, {off, r->std_off}};
        if (off < on) {
            struct s_trans tmp = pair[0];
            pair[0] = pair[1];
            pair[1] = tmp;
        }
        for (int k = 0; k < 2; k++) {
            if (pair[k].at <= last)
                continue;
            int rc = s_list_push(l, pair[k].at, pair[k].off);
            if (rc)
                return rc;
            last = pair[k].at;
        }
    }
    return 0;
}

/* Parses a TZif image into the list of transitions and the offset before
 * the first one. */
static int s_tzif_parse(const unsigned char *buf, size_t len, struct s_list *l,
                        int32_t *first_off)
{
    if (len < 44 || memcmp(buf, "TZif", 4) != 0)
        return CWX_EPARSE;
    size_t pos = 0;
    int tsize = 4;
    int rc = s_tzif_data(buf, len, l, first_off, &pos, &tsize);
    if (rc || tsize == 4)
        return rc; /* v1: no footer */
    /* Footer: "\n<POSIX TZ>\n". */
    if (pos >= len || buf[pos] != '\n')
        return CWX_EPARSE;
    const unsigned char *nl = memchr(buf + pos + 1, '\n', len - pos - 1);
    if (!nl)
        return CWX_EPARSE;
    size_t flen = (size_t)(nl - (buf + pos + 1));
    if (flen == 0)
        return 0; /* no rule: the last type applies forever */
    char footer[128];
    if (flen >= sizeof footer)
        return CWX_EPARSE;
    memcpy(footer, buf + pos + 1, flen);
    footer[flen] = '\0';
    struct s_rule r;
    if (s_rule_parse(footer, &r))
        return CWX_EPARSE;
    return s_rule_expand(&r, l, first_off);
}

static int s_read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR ? CWX_ENOTFOUND : CWX_EIO;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return CWX_ENOTFOUND; /* "America" is a directory, not a zone */
    }
    size_t cap = 8192, n = 0;
    unsigned char *buf = malloc(cap);
    int rc = buf ? 0 : CWX_ENOMEM;
    while (!rc) {
        if (n == cap) {
            if (cap >= TZIF_MAX_BYTES) {
                rc = CWX_ETOOBIG;
                break;
            }
            unsigned char *p = cwx_array_grow(buf, &cap, 1, 8192);
            if (!p) {
                rc = CWX_ENOMEM;
                break;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = CWX_EIO;
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* IANA names: letters, digits, '_', '-', '+', '/' between components, no
 * "." or ".." component, no leading '/'. */
static int s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || name[0] == '/' || name[n - 1] == '/')
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' ||
              c == '/' || c == '.'))
            return 0;
        if (c == '.' && (p == name || p[-1] == '/'))
            return 0; /* no hidden files, no "." or ".." */
        if (c == '/' && p[1] == '/')
            return 0;
    }
    return 1;
}

/* A zone of up to n transitions in one block: the struct, its instants,
 * its n + 1 offsets and a copy of its name, in that order (each part
 * aligned for its type, since the struct holds pointers and each table's
 * elements are no larger than the one before). NULL when out of memory. */
static struct cwx_tz *s_tz_alloc(const char *name, size_t n)
{
    size_t name_len = strlen(name) + 1;
    if (n > (SIZE_MAX - sizeof(struct cwx_tz) - name_len) / 16)
        return NULL;
    size_t at_bytes = n * sizeof(int64_t), off_bytes = (n + 1) * sizeof(int32_t);
    struct cwx_tz *tz = malloc(sizeof *tz + at_bytes + off_bytes + name_len);
    if (!tz)
        return NULL;
    char *p = (char *)(tz + 1);
    *tz = (struct cwx_tz){.at = (int64_t *)p, .off = (int32_t *)(p + at_bytes),
                          .name = p + at_bytes + off_bytes};
    memcpy(tz->name, name, name_len);
    return tz;
}

int cwx_tz_load(const char *name, struct cwx_tz **out)
{
    if (!name || !out)
        return CWX_EINVAL;
    *out = NULL;
    if (!s_name_ok(name))
        return CWX_ENOTFOUND;
    const char *dir = getenv("TZDIR");
    if (!dir || !dir[0])
        dir = "/usr/share/zoneinfo";
    char path[512];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return CWX_ENOTFOUND;
    unsigned char *buf = NULL;
    size_t len = 0;
    struct s_list l = {0};
    int32_t first_off = 0;
    int rc = s_read_file(path, &buf, &len);
    if (rc == CWX_ENOTFOUND &&
        (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "GMT")))
        rc = 0; /* no tzdata installed: UTC needs none */
    else if (!rc)
        rc = s_tzif_parse(buf, len, &l, &first_off);
    free(buf);
    if (rc == CWX_EPARSE || rc == CWX_EINVAL)
        rc = CWX_ENOTFOUND; /* not a usable zone file */
    struct cwx_tz *tz = NULL;
    if (!rc && !(tz = s_tz_alloc(name, l.n)))
        rc = CWX_ENOMEM;
    if (!rc) {
        /* Keep increasing instants that change the offset; a later entry at
         * the same instant replaces an earlier one. */
        tz->off[0] = first_off;
        size_t n = 0;
        for (size_t k = 0; k < l.n; k++) {
            if (n && l.v[k].at <= tz->at[n - 1]) {
                tz->off[n] = l.v[k].off;
                if (tz->off[n] == tz->off[n - 1])
                    n--;
                continue;
            }
            if (l.v[k].off == tz->off[n])
                continue;
            tz->at[n] = l.v[k].at;
            tz->off[++n] = l.v[k].off;
        }
        tz->n = n;
        *out = tz;
        tz = NULL;
    }
    free(l.v);
    cwx_tz_free(tz);
    return rc;
}

void cwx_tz_free(struct cwx_tz *tz)
{
    free(tz); /* one block with its tables and its name (s_tz_alloc) */
}

const char *cwx_tz_name(const struct cwx_tz *tz)
{
    return tz ? tz->name : NULL;
}
