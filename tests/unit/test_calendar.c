/* Calendar windows: checked against reference windows computed with
 * Python's zoneinfo (tests/data/gen_calendar_ref.py), plus the cases the
 * reference file cannot express (errors, settling, footer-only zones). */
#include "testmain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "planner/calendar.h"

#define REF_PATH CWX_SOURCE_DIR "/tests/data/calendar_ref.txt"

struct ref_row {
    char zone[40];
    enum cwx_granularity g;
    char label[24];
    int64_t start_ms, end_ms;
};

struct ref {
    struct ref_row *rows;
    size_t n;
};

static enum cwx_granularity s_gran(const char *s)
{
    if (!strcmp(s, "month"))
        return CWX_WINDOW_MONTH;
    if (!strcmp(s, "week"))
        return CWX_WINDOW_WEEK;
    if (!strcmp(s, "day"))
        return CWX_WINDOW_DAY;
    assert_string_equal(s, "hour");
    return CWX_WINDOW_HOUR;
}

static void s_ref_load(struct ref *r)
{
    FILE *f = fopen(REF_PATH, "r");
    assert_non_null(f);
    size_t cap = 0;
    char line[256];
    r->rows = NULL;
    r->n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (r->n == cap) {
            cap = cap ? cap * 2 : 1024;
            r->rows = realloc(r->rows, cap * sizeof *r->rows);
            assert_non_null(r->rows);
        }
        struct ref_row *row = &r->rows[r->n];
        char gran[8];
        assert_int_equal(sscanf(line, "%39s %7s %23s %" SCNd64 " %" SCNd64, row->zone,
                                gran, row->label, &row->start_ms, &row->end_ms),
                         5);
        row->g = s_gran(gran);
        r->n++;
    }
    fclose(f);
    assert_true(r->n > 1000);
}

/* Loads zones as rows ask for them (rows are grouped by zone). */
struct zone_cache {
    char name[40];
    struct cwx_tz *tz;
};

static struct cwx_tz *s_zone(struct zone_cache *c, const char *name)
{
    if (!c->tz || strcmp(c->name, name) != 0) {
        cwx_tz_free(c->tz);
        c->tz = NULL;
        assert_int_equal(cwx_tz_load(name, &c->tz), 0);
        snprintf(c->name, sizeof c->name, "%s", name);
        assert_string_equal(cwx_tz_name(c->tz), name);
    }
    return c->tz;
}

static void s_expect(const struct ref_row *row, const struct cwx_window *w,
                     const char *how)
{
    if (strcmp(w->label, row->label) != 0 || w->start_ms != row->start_ms ||
        w->end_ms != row->end_ms) {
        print_error("%s %s %s: %s gave %s [%" PRId64 ", %" PRId64 "), want [%" PRId64
                    ", %" PRId64 ")\n",
                    row->zone, cwx_granularity_name(row->g), row->label, how,
                    w->label, w->start_ms, w->end_ms, row->start_ms, row->end_ms);
        fail();
    }
}

static void ref_window_at(void **state)
{
    (void)state;
    struct ref r;
    struct zone_cache zc = {0};
    s_ref_load(&r);
    for (size_t i = 0; i < r.n; i++) {
        const struct ref_row *row = &r.rows[i];
        struct cwx_tz *tz = s_zone(&zc, row->zone);
        struct cwx_window w;
        int64_t probes[3] = {row->start_ms, row->end_ms - 1,
                             row->start_ms + (row->end_ms - row->start_ms) / 2};
        for (int k = 0; k < 3; k++) {
            assert_int_equal(cwx_window_at(tz, row->g, probes[k], &w), 0);
            s_expect(row, &w, k == 0 ? "window_at(start)" : k == 1 ? "window_at(end-1)"
                                                                    : "window_at(mid)");
        }
    }
    cwx_tz_free(zc.tz);
    free(r.rows);
}

static void ref_from_label(void **state)
{
    (void)state;
    struct ref r;
    struct zone_cache zc = {0};
    s_ref_load(&r);
    for (size_t i = 0; i < r.n; i++) {
        const struct ref_row *row = &r.rows[i];
        struct cwx_tz *tz = s_zone(&zc, row->zone);
        struct cwx_window w;
        memset(&w, 0, sizeof w);
        int rc = cwx_window_from_label(tz, row->g, row->label, &w);
        if (rc)
            print_error("%s %s: rc %d\n", row->zone, row->label, rc);
        assert_int_equal(rc, 0);
        s_expect(row, &w, "window_from_label");
    }
    cwx_tz_free(zc.tz);
    free(r.rows);
}

/* The window of a civil time is the first occurrence: every row without an
 * offset suffix is the window of its own label's civil start. */
static void ref_of_civil(void **state)
{
    (void)state;
    struct ref r;
    struct zone_cache zc = {0};
    s_ref_load(&r);
    size_t checked = 0;
    for (size_t i = 0; i < r.n; i++) {
        const struct ref_row *row = &r.rows[i];
        struct cwx_civil c;
        assert_int_equal(cwx_window_label_civil(row->label, &c), 0);
        assert_int_equal(c.written, row->g);
        if (strlen(row->label) > 13)
            continue;
        struct cwx_window w;
        assert_int_equal(cwx_window_of_civil(s_zone(&zc, row->zone), row->g, &c, &w), 0);
        s_expect(row, &w, "window_of_civil");
        checked++;
    }
    assert_true(checked > 1000);
    cwx_tz_free(zc.tz);
    free(r.rows);
}

static void ref_next_chain(void **state)
{
    (void)state;
    struct ref r;
    struct zone_cache zc = {0};
    s_ref_load(&r);
    size_t chained = 0;
    for (size_t i = 0; i + 1 < r.n; i++) {
        const struct ref_row *a = &r.rows[i], *b = &r.rows[i + 1];
        if (strcmp(a->zone, b->zone) || a->g != b->g || a->end_ms != b->start_ms)
            continue;
        struct cwx_window w = {.start_ms = a->start_ms, .end_ms = a->end_ms};
        snprintf(w.label, sizeof w.label, "%s", a->label);
        struct cwx_window next;
        assert_int_equal(cwx_window_next(s_zone(&zc, a->zone), a->g, &w, &next), 0);
        s_expect(b, &next, "window_next");
        chained++;
    }
    assert_true(chained > 1000);
    cwx_tz_free(zc.tz);
    free(r.rows);
}

/* Spot checks that document the semantics in docs/windows.md. */
static void dst_day_lengths(void **state)
{
    (void)state;
    struct cwx_tz *tz;
    struct cwx_window w;
    struct cwx_civil c = {.year = 2024, .month = 3, .day = 10};
    assert_int_equal(cwx_tz_load("America/New_York", &tz), 0);
    assert_int_equal(cwx_window_of_civil(tz, CWX_WINDOW_DAY, &c, &w), 0);
    assert_string_equal(w.label, "2024-03-10");
    assert_int_equal(w.end_ms - w.start_ms, 23 * 3600000LL);
    c.month = 11;
    c.day = 3;
    assert_int_equal(cwx_window_of_civil(tz, CWX_WINDOW_DAY, &c, &w), 0);
    assert_int_equal(w.end_ms - w.start_ms, 25 * 3600000LL);
    /* The repeated hour: two windows. */
    c.hour = 1;
    assert_int_equal(cwx_window_of_civil(tz, CWX_WINDOW_HOUR, &c, &w), 0);
    assert_string_equal(w.label, "2024-11-03T01");
    assert_int_equal(w.start_ms, 1730610000000LL); /* 05:00Z, EDT */
    assert_int_equal(cwx_window_next(tz, CWX_WINDOW_HOUR, &w, &w), 0);
    assert_string_equal(w.label, "2024-11-03T01-0500");
    assert_int_equal(w.start_ms, 1730613600000LL); /* 06:00Z, EST */
    assert_int_equal(w.end_ms, 1730617200000LL);
    /* The skipped hour has no window; its civil time maps to the next. */
    struct cwx_civil gap = {.year = 2024, .month = 3, .day = 10, .hour = 2};
    assert_int_equal(cwx_window_of_civil(tz, CWX_WINDOW_HOUR, &gap, &w), 0);
    assert_string_equal(w.label, "2024-03-10T03");
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-03-10T02", &w),
                     CWX_ENOTFOUND);
    cwx_tz_free(tz);
}

static void lord_howe_half_hour(void **state)
{
    (void)state;
    struct cwx_tz *tz;
    struct cwx_window w;
    assert_int_equal(cwx_tz_load("Australia/Lord_Howe", &tz), 0);
    /* Fall-back 02:00 (+11) -> 01:30 (+10:30): T01 is an hour, then a
     * 30-minute repeat T01+1030, then T02. */
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-04-07T01", &w), 0);
    assert_int_equal(w.end_ms - w.start_ms, 3600000);
    assert_int_equal(cwx_window_next(tz, CWX_WINDOW_HOUR, &w, &w), 0);
    assert_string_equal(w.label, "2024-04-07T01+1030");
    assert_int_equal(w.end_ms - w.start_ms, 1800000);
    assert_int_equal(cwx_window_next(tz, CWX_WINDOW_HOUR, &w, &w), 0);
    assert_string_equal(w.label, "2024-04-07T02");
    assert_int_equal(w.end_ms - w.start_ms, 3600000);
    /* Spring-forward 02:00 (+10:30) -> 02:30 (+11): T02 is 30 minutes. */
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-10-06T02", &w), 0);
    assert_int_equal(w.end_ms - w.start_ms, 1800000);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_DAY, "2024-10-06", &w), 0);
    assert_int_equal(w.end_ms - w.start_ms, 23 * 3600000LL + 1800000);
    cwx_tz_free(tz);
}

static void skipped_midnight(void **state)
{
    (void)state;
    struct cwx_tz *tz;
    struct cwx_window w;
    /* Chile: 2024-09-08 00:00 does not exist (clocks go 23:59:59 -> 01:00). */
    assert_int_equal(cwx_tz_load("America/Santiago", &tz), 0);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_DAY, "2024-09-08", &w), 0);
    assert_int_equal(w.start_ms, 1725768000000LL); /* 04:00Z = 01:00 -03 */
    assert_int_equal(w.end_ms - w.start_ms, 23 * 3600000LL);
    cwx_tz_free(tz);
    /* Samoa skipped 2011-12-30 altogether: no window, next() jumps over it. */
    assert_int_equal(cwx_tz_load("Pacific/Apia", &tz), 0);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_DAY, "2011-12-30", &w),
                     CWX_ENOTFOUND);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_DAY, "2011-12-29", &w), 0);
    assert_int_equal(cwx_window_next(tz, CWX_WINDOW_DAY, &w, &w), 0);
    assert_string_equal(w.label, "2011-12-31");
    cwx_tz_free(tz);
}

static void iso_weeks(void **state)
{
    (void)state;
    struct cwx_tz *tz;
    struct cwx_window w;
    assert_int_equal(cwx_tz_load("UTC", &tz), 0);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_WEEK, "2026-W01", &w), 0);
    assert_int_equal(w.start_ms, 1766966400000LL); /* 2025-12-29 */
    assert_int_equal(cwx_window_at(tz, CWX_WINDOW_WEEK, 1609372800000LL, &w), 0);
    assert_string_equal(w.label, "2020-W53"); /* 2020-12-31 */
    assert_int_equal(cwx_window_next(tz, CWX_WINDOW_WEEK, &w, &w), 0);
    assert_string_equal(w.label, "2021-W01");
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_WEEK, "2021-W53", &w), CWX_EINVAL);
    struct cwx_civil c;
    assert_int_equal(cwx_window_label_civil("2026-W01", &c), 0);
    assert_int_equal(c.year, 2025);
    assert_int_equal(c.month, 12);
    assert_int_equal(c.day, 29);
    assert_int_equal(c.written, CWX_WINDOW_WEEK);
    cwx_tz_free(tz);
}

static void latest_settled(void **state)
{
    (void)state;
    struct cwx_tz *tz;
    struct cwx_window w;
    const int64_t h12 = 12 * 3600000LL;
    const int64_t mar1 = 1709251200000LL; /* 2024-03-01T00:00Z */
    assert_int_equal(cwx_tz_load("UTC", &tz), 0);
    assert_int_equal(cwx_window_latest_settled(tz, CWX_WINDOW_MONTH, mar1 + h12, h12, &w), 0);
    assert_string_equal(w.label, "2024-02"); /* end + settle == now: settled */
    assert_int_equal(cwx_window_latest_settled(tz, CWX_WINDOW_MONTH, mar1 + h12 - 1, h12, &w), 0);
    assert_string_equal(w.label, "2024-01");
    assert_int_equal(cwx_window_latest_settled(tz, CWX_WINDOW_HOUR, mar1 + h12, 0, &w), 0);
    assert_string_equal(w.label, "2024-03-01T11");
    assert_int_equal(cwx_window_latest_settled(tz, CWX_WINDOW_DAY, mar1, -1, &w), CWX_EINVAL);
    cwx_tz_free(tz);
    /* In Tokyo the same instant is later in the day. */
    assert_int_equal(cwx_tz_load("Asia/Tokyo", &tz), 0);
    assert_int_equal(cwx_window_latest_settled(tz, CWX_WINDOW_DAY, mar1 + h12, h12, &w), 0);
    assert_string_equal(w.label, "2024-02-29");
    assert_int_equal(w.start_ms, mar1 - 9 * 3600000LL - 86400000LL);
    cwx_tz_free(tz);
}

static void label_errors(void **state)
{
    (void)state;
    struct cwx_tz *tz;
    struct cwx_window w;
    struct cwx_civil c;
    assert_int_equal(cwx_tz_load("America/New_York", &tz), 0);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_DAY, "2024-03", &w), CWX_EINVAL);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_MONTH, "2024-13", &w), CWX_EINVAL);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-11-03T01-05", &w),
                     CWX_EINVAL);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-11-03T01-0400", &w),
                     CWX_ENOTFOUND);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-11-03T05-0500", &w),
                     CWX_ENOTFOUND);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_DAY, "2024-02-30", &w), CWX_EINVAL);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_DAY, NULL, &w), CWX_EINVAL);
    assert_int_equal(cwx_window_label_civil("2024-11-03T01-0500", &c), 0);
    assert_int_equal(c.hour, 1);
    assert_int_equal(c.written, CWX_WINDOW_HOUR);
    assert_int_equal(cwx_window_label_civil("2024-03-07T05", &c), 0);
    assert_int_equal(c.day, 7);
    assert_int_equal(c.hour, 5);
    assert_int_equal(cwx_window_label_civil("2024-03-07X05", &c), CWX_EINVAL);
    /* Before 1970 and after 9999 there are no windows. */
    assert_int_equal(cwx_window_at(tz, CWX_WINDOW_DAY, -86400000LL * 400, &w), CWX_EINVAL);
    assert_int_equal(cwx_window_at(tz, CWX_WINDOW_DAY, INT64_MAX, &w), CWX_EINVAL);
    assert_int_equal(cwx_window_at(tz, CWX_WINDOW_DAY, INT64_MIN, &w), CWX_EINVAL);
    assert_int_equal(cwx_window_at(tz, (enum cwx_granularity)7, 0, &w), CWX_EINVAL);
    cwx_tz_free(tz);
}

static void zone_errors(void **state)
{
    (void)state;
    struct cwx_tz *tz = (struct cwx_tz *)1;
    const char *bad[] = {"Mars/Olympus_Mons", "", "../../etc/passwd", "/etc/localtime",
                         "America//New_York", "America/", ".hidden", "America/../UTC",
                         "Europe/London\n", "posixrules2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cwx_tz_load(bad[i], &tz), CWX_ENOTFOUND);
        assert_null(tz);
    }
    /* A directory, not a zone file. */
    assert_int_equal(cwx_tz_load("America", &tz), CWX_ENOTFOUND);
    assert_int_equal(cwx_tz_load(NULL, &tz), CWX_EINVAL);
    assert_string_equal(cwx_granularity_name(CWX_WINDOW_MONTH), "month");
    assert_string_equal(cwx_granularity_name(CWX_WINDOW_WEEK), "week");
    assert_string_equal(cwx_granularity_name(CWX_WINDOW_DAY), "day");
    assert_string_equal(cwx_granularity_name(CWX_WINDOW_HOUR), "hour");
    cwx_tz_free(NULL);
}

/* Writes a footer-only ("slim", no transitions) TZif v2 file. */
static void s_write_slim(const char *dir, const char *name, const char *abbr,
                         int32_t utoff, const char *footer)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char hdr[44] = {'T', 'Z', 'i', 'f', '2'};
    size_t alen = strlen(abbr) + 1;
    hdr[20 + 16 + 3] = 1;                 /* typecnt */
    hdr[20 + 20 + 3] = (unsigned char)alen; /* charcnt */
    unsigned char type[6] = {(unsigned char)(utoff >> 24), (unsigned char)(utoff >> 16),
                             (unsigned char)(utoff >> 8), (unsigned char)utoff, 0, 0};
    for (int pass = 0; pass < 2; pass++) {
        fwrite(hdr, 1, sizeof hdr, f);
        fwrite(type, 1, sizeof type, f);
        fwrite(abbr, 1, alen, f);
    }
    fprintf(f, "\n%s\n", footer);
    fclose(f);
}

/* A zone given only by its POSIX footer rule matches the full zone file
 * wherever the rule is in force: the path Debian's "fat" files take only
 * after 2037, and "slim" files take from 2007 on. */
static void footer_rules(void **state)
{
    (void)state;
    char dir[] = "/tmp/cwx_tzdir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_write_slim(dir, "NY", "EST", -18000, "EST5EDT,M3.2.0,M11.1.0");
    s_write_slim(dir, "LH", "+1030", 37800, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
    s_write_slim(dir, "Nuuk", "-02", -7200, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    s_write_slim(dir, "Jst", "JST", 32400, "JST-9");
    s_write_slim(dir, "Bad", "XXX", 0, "XXX0YYY,M13.1.0,M1.1.0");
    struct {
        const char *mine, *real;
        int from_year;
    } pairs[] = {{"NY", "America/New_York", 2008},
                 {"LH", "Australia/Lord_Howe", 2009},
                 {"Nuuk", "America/Nuuk", 2024},
                 {"Jst", "Asia/Tokyo", 1990}};
    const char *old = getenv("TZDIR");
    char *saved = old ? strdup(old) : NULL;
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        struct cwx_tz *mine, *real;
        assert_int_equal(setenv("TZDIR", dir, 1), 0);
        assert_int_equal(cwx_tz_load(pairs[p].mine, &mine), 0);
        if (saved)
            setenv("TZDIR", saved, 1);
        else
            unsetenv("TZDIR");
        assert_int_equal(cwx_tz_load(pairs[p].real, &real), 0);
        struct cwx_civil c = {.year = pairs[p].from_year, .month = 1, .day = 1};
        struct cwx_window a, b;
        for (int g = CWX_WINDOW_DAY; g <= CWX_WINDOW_HOUR; g++) {
            assert_int_equal(cwx_window_of_civil(mine, g, &c, &a), 0);
            assert_int_equal(cwx_window_of_civil(real, g, &c, &b), 0);
            /* Days through 2100; hours for a few years, across every change. */
            int64_t until = g == CWX_WINDOW_DAY ? 4133980800000LL : b.start_ms + 3LL * 366 * 86400000;
            while (b.start_ms < until) {
                assert_string_equal(a.label, b.label);
                assert_int_equal(a.start_ms, b.start_ms);
                assert_int_equal(a.end_ms, b.end_ms);
                assert_int_equal(cwx_window_next(mine, g, &a, &a), 0);
                assert_int_equal(cwx_window_next(real, g, &b, &b), 0);
            }
        }
        cwx_tz_free(mine);
        cwx_tz_free(real);
    }
    struct cwx_tz *tz = NULL;
    assert_int_equal(setenv("TZDIR", dir, 1), 0);
    assert_int_equal(cwx_tz_load("Bad", &tz), CWX_ENOTFOUND);
    if (saved)
        setenv("TZDIR", saved, 1);
    else
        unsetenv("TZDIR");
    free(saved);
    const char *names[] = {"NY", "LH", "Nuuk", "Jst", "Bad"};
    for (size_t i = 0; i < 5; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Writes a TZif v2 file with transitions at[i] to offset off[i] (types
 * are one per offset; type 0, offset 0, applies before the first). */
static void s_write_tzif(const char *path, size_t n, const int64_t *at,
                         const int32_t *off, const char *footer)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char hdr[44] = {'T', 'Z', 'i', 'f', '2'};
    hdr[20 + 12 + 3] = (unsigned char)n;     /* timecnt */
    hdr[20 + 16 + 3] = (unsigned char)(n + 1); /* typecnt */
    hdr[20 + 20 + 3] = 4;                    /* charcnt: "ZZZ\0" */
    /* Empty v1 block: counts zero but typecnt/charcnt. */
    unsigned char hdr1[44];
    memcpy(hdr1, hdr, sizeof hdr);
    hdr1[20 + 12 + 3] = 0;
    hdr1[20 + 16 + 3] = 1;
    fwrite(hdr1, 1, sizeof hdr1, f);
    fwrite("\0\0\0\0\0\0ZZZ", 1, 10, f);
    fwrite(hdr, 1, sizeof hdr, f);
    for (size_t i = 0; i < n; i++) {
        unsigned char b[8];
        for (int k = 0; k < 8; k++)
            b[k] = (unsigned char)((uint64_t)at[i] >> (56 - 8 * k));
        fwrite(b, 1, 8, f);
    }
    for (size_t i = 0; i < n; i++)
        fputc((int)(i + 1), f);
    for (size_t i = 0; i <= n; i++) {
        int32_t o = i ? off[i - 1] : 0;
        unsigned char t[6] = {(unsigned char)(o >> 24), (unsigned char)(o >> 16),
                              (unsigned char)(o >> 8), (unsigned char)o, 0, 0};
        fwrite(t, 1, 6, f);
    }
    fwrite("ZZZ", 1, 4, f);
    fprintf(f, "\n%s\n", footer);
    fclose(f);
}

static void s_expect_hour(const struct cwx_window *w, const char *label, int64_t s, int64_t e)
{
    assert_string_equal(w->label, label);
    assert_int_equal(w->start_ms, s * 1000);
    assert_int_equal(w->end_ms, e * 1000);
}

/* Offset changes that are not whole hours, in a made-up zone: a forward
 * jump inside an hour keeps the hour one (shorter) window; a backward jump
 * inside an hour repeats the part the clock shows again; a two-hour
 * fall-back repeats two hours. */
static void synthetic_shifts(void **state)
{
    (void)state;
    char dir[] = "/tmp/cwx_tzdir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/Synth", dir);
    const int64_t d1 = 1704067200; /* 2024-01-01T00:00Z */
    const int64_t d2 = d1 + 86400, d3 = d1 + 2 * 86400;
    int64_t at[] = {d1 + 1200, d2, d3 + 3 * 3600};
    int32_t off[] = {1200, 0, -7200};
    s_write_tzif(path, 3, at, off, "ZZZ2");
    const char *old = getenv("TZDIR");
    char *saved = old ? strdup(old) : NULL;
    assert_int_equal(setenv("TZDIR", dir, 1), 0);
    struct cwx_tz *tz;
    assert_int_equal(cwx_tz_load("Synth", &tz), 0);
    if (saved)
        setenv("TZDIR", saved, 1);
    else
        unsetenv("TZDIR");
    free(saved);
    struct cwx_window w;
    /* 00:20 -> 00:40 on day 1: hour 00 is [00:00Z, 00:40Z) from either side. */
    assert_int_equal(cwx_window_at(tz, CWX_WINDOW_HOUR, (d1 + 600) * 1000, &w), 0);
    s_expect_hour(&w, "2024-01-01T00", d1, d1 + 2400);
    assert_int_equal(cwx_window_at(tz, CWX_WINDOW_HOUR, (d1 + 1800) * 1000, &w), 0);
    s_expect_hour(&w, "2024-01-01T00", d1, d1 + 2400);
    assert_int_equal(cwx_window_next(tz, CWX_WINDOW_HOUR, &w, &w), 0);
    s_expect_hour(&w, "2024-01-01T01", d1 + 2400, d1 + 6000);
    /* 00:20 -> 00:00 on day 2: hour 00 first for 20 minutes, then again. */
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-01-02T00", &w), 0);
    s_expect_hour(&w, "2024-01-02T00", d2 - 1200, d2);
    assert_int_equal(cwx_window_next(tz, CWX_WINDOW_HOUR, &w, &w), 0);
    s_expect_hour(&w, "2024-01-02T00+0000", d2, d2 + 3600);
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-01-02T00+0000", &w), 0);
    s_expect_hour(&w, "2024-01-02T00+0000", d2, d2 + 3600);
    /* 03:00 -> 01:00 on day 3: hours 01 and 02 repeat. */
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, "2024-01-03T02", &w), 0);
    s_expect_hour(&w, "2024-01-03T02", d3 + 2 * 3600, d3 + 3 * 3600);
    const char *want[] = {"2024-01-03T01-0200", "2024-01-03T02-0200", "2024-01-03T03"};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(cwx_window_next(tz, CWX_WINDOW_HOUR, &w, &w), 0);
        s_expect_hour(&w, want[k], d3 + (3 + k) * 3600, d3 + (4 + k) * 3600);
        struct cwx_window back;
        assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_HOUR, want[k], &back), 0);
        s_expect_hour(&back, want[k], d3 + (3 + k) * 3600, d3 + (4 + k) * 3600);
    }
    /* Day 3 holds its two repeated hours: 26 hours long. */
    assert_int_equal(cwx_window_from_label(tz, CWX_WINDOW_DAY, "2024-01-03", &w), 0);
    assert_int_equal(w.end_ms - w.start_ms, 26 * 3600000LL);
    cwx_tz_free(tz);
    unlink(path);
    rmdir(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(ref_window_at),
    cmocka_unit_test(ref_from_label),
    cmocka_unit_test(ref_of_civil),
    cmocka_unit_test(ref_next_chain),
    cmocka_unit_test(dst_day_lengths),
    cmocka_unit_test(lord_howe_half_hour),
    cmocka_unit_test(skipped_midnight),
    cmocka_unit_test(iso_weeks),
    cmocka_unit_test(latest_settled),
    cmocka_unit_test(label_errors),
    cmocka_unit_test(zone_errors),
    cmocka_unit_test(footer_rules),
    cmocka_unit_test(synthetic_shifts),
};

CWX_TEST_MAIN(tests)
