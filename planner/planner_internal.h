/* ISO-week arithmetic shared by the planner's files (civil.c, calendar.c);
 * day numbers come from common/civil.h.
 * Not part of the planner's public interface. */
#ifndef CWX_PLANNER_PLANNER_INTERNAL_H
#define CWX_PLANNER_PLANNER_INTERNAL_H

#include <stdint.h>

#include "common/civil.h"

/* 0 = Monday … 6 = Sunday of the day z days after 1970-01-01. */
int cwx__weekday(int64_t z);
/* Monday of ISO week 1 of iso_year, as days since the epoch. */
int64_t cwx__iso_week1_monday(int iso_year);
/* 52 or 53. */
int cwx__iso_weeks_in_year(int iso_year);

#endif
