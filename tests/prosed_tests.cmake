# Daemon-side units of prosed that need no protocol engine: the configuration
# file and the control socket (library prose_daemon), and `prose ctl`.
if(TARGET prose_daemon)
  find_package(Threads REQUIRED)
  prose_add_test(test_config SOURCES unit/test_config.c LIBS prose_daemon)
  target_compile_definitions(test_config PRIVATE PROSE_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ctl.c)
    prose_add_test(test_ctl SOURCES unit/test_ctl.c LIBS prose_daemon Threads::Threads)
  endif()
  # A control server with canned answers, for the `prose ctl` script test.
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/cli/ctl_testserver.c)
    add_executable(ctl_testserver cli/ctl_testserver.c)
    target_link_libraries(ctl_testserver PRIVATE prose_daemon)
    prose_warnings(ctl_testserver)
    add_test(NAME cli_ctl COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_ctl.sh
                                  $<TARGET_FILE:prose> $<TARGET_FILE:ctl_testserver>)
  endif()
endif()
