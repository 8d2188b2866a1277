# bench/aws_client: client CPU per AWS call, calls/s and TCP connections
# against the fake (see the comment at the top of aws_client.c).
add_executable(bench_aws_client ${CMAKE_CURRENT_LIST_DIR}/aws_client.c)
set_target_properties(bench_aws_client PROPERTIES OUTPUT_NAME aws_client)
target_compile_options(bench_aws_client PRIVATE ${CWX_WARNINGS})
target_compile_definitions(bench_aws_client PRIVATE CWX_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(bench_aws_client PRIVATE cwx_aws)
