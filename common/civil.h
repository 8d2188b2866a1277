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

#endif
