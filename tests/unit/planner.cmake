cwx_unit_test(test_config test_config.c cwx_planner)
cwx_unit_test(test_calendar test_calendar.c cwx_planner)
cwx_unit_test(test_job test_job.c cwx_planner)
cwx_unit_test(test_lane_model test_lane_model.c cwx_planner)
