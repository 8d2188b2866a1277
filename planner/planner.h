/* The planner module's public header: config, calendar, jobs, plan, its
 * estimates, the lane time model and the reports. Other folders include
 * only this; the other planner headers are for planner/ and its unit
 * tests. */
#ifndef CWX_PLANNER_PLANNER_H
#define CWX_PLANNER_PLANNER_H

#include "planner/calendar.h"
#include "planner/config.h"
#include "planner/estimate.h"
#include "planner/job.h"
#include "planner/lane_model.h"
#include "planner/plan.h"
#include "planner/report.h"

#endif
