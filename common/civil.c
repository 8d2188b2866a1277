/* Calendar arithmetic on day numbers; see civil.h. */
#include "common/civil.h"

int64_t cwx_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void cwx_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int cwx_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

int cwx_weekday(int64_t days)
{
    return (int)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
}

int64_t cwx_iso_week1_monday(int iso_year)
{
    int64_t jan4 = cwx_days_from_civil(iso_year, 1, 4);
    return jan4 - cwx_weekday(jan4);
}

int cwx_iso_weeks_in_year(int iso_year)
{
    return (int)((cwx_iso_week1_monday(iso_year + 1) - cwx_iso_week1_monday(iso_year)) / 7);
}
