/* Proleptic Gregorian calendar arithmetic on day numbers (days since
 * 1970-01-01), independent of the process's time zone (Howard Hinnant's
 * days_from_civil / civil_from_days). Valid for any int year. */
#ifndef CWX_COMMON_CIVIL_H
#define CWX_COMMON_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of year y, month m (1-12), day d (1-31). */
int64_t cwx_days_from_civil(int y, int m, int d);

/* The inverse of cwx_days_from_civil. */
void cwx_civil_from_days(int64_t days, int *y, int *m, int *d);

/* Days in month m (1-12) of year y. */
int cwx_days_in_month(int y, int m);

/* 0 = Monday … 6 = Sunday of the day `days` after 1970-01-01. */
int cwx_weekday(int64_t days);

/* Monday of ISO week 1 of iso_year, as days since the epoch. */
int64_t cwx_iso_week1_monday(int iso_year);

/* The ISO weeks of iso_year: 52 or 53. */
int cwx_iso_weeks_in_year(int iso_year);

#endif
