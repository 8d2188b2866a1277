# orchestrator/: loop guard, queue order.
# Its pure sources are compiled in directly, so these run whether or not the
# AWS layer (which the rest of the module needs) is complete.
cwx_unit_test(test_orchestrator test_orchestrator.c cwx_planner cwx_common m)
target_sources(test_orchestrator PRIVATE
  ${PROJECT_SOURCE_DIR}/orchestrator/guard.c
  ${PROJECT_SOURCE_DIR}/orchestrator/queue.c)
target_link_libraries(test_orchestrator PRIVATE PkgConfig::UV)

# The lane lease against a scripted S3 (its operations table).
cwx_unit_test(test_lease test_lease.c cwx_orchestrator)
target_link_libraries(test_lease PRIVATE PkgConfig::UV)

# The lane's state machine against scripted operations (its ops table).
cwx_unit_test(test_lane test_lane.c cwx_orchestrator)
target_link_libraries(test_lane PRIVATE PkgConfig::UV)
