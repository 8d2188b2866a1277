/* The planner module's public header: config, calendar, jobs, plan, reports. */
#ifndef CWX_PLANNER_PLANNER_H
#define CWX_PLANNER_PLANNER_H

#include "planner/calendar.h"
#include "planner/config.h"
#include "planner/job.h"
#include "planner/plan.h"
#include "planner/report.h"

#endif
