/* Date arithmetic shared by the planner's files (civil.c, calendar.c).
 * Not part of the planner's public interface. */
#ifndef CWX_PLANNER_PLANNER_INTERNAL_H
#define CWX_PLANNER_PLANNER_INTERNAL_H

#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil); valid for any int year. */
int64_t cwx__days_from_civil(int y, int m, int d);
/* The inverse of cwx__days_from_civil. */
void cwx__civil_from_days(int64_t z, int *y, int *m, int *d);
/* 28-31; m is 1-12. */
int cwx__days_in_month(int y, int m);
/* 0 = Monday … 6 = Sunday of the day z days after 1970-01-01. */
int cwx__weekday(int64_t z);
/* Monday of ISO week 1 of iso_year, as days since the epoch. */
int64_t cwx__iso_week1_monday(int iso_year);
/* 52 or 53. */
int cwx__iso_weeks_in_year(int iso_year);

#endif
