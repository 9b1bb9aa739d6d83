# The avahi backend across two network namespaces (tests/discovery/avahi_netns.sh).
# Built when prose_discovery has the avahi backend; registered with CTest only
# when configuring as root with the namespace and avahi tools present. The
# script skips (exit 77) by itself too when run elsewhere.
if(NOT PROSE_HAVE_AVAHI)
  message(STATUS "discovery_avahi_netns: not registered (avahi-client not found)")
  return()
endif()

add_executable(avahi_peer ${CMAKE_CURRENT_LIST_DIR}/avahi_peer.c)
target_include_directories(avahi_peer PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
target_link_libraries(avahi_peer PRIVATE prose_discovery)
prose_warnings(avahi_peer)

execute_process(COMMAND id -u OUTPUT_VARIABLE PROSE_UID OUTPUT_STRIP_TRAILING_WHITESPACE)
set(prose_avahi_missing "")
foreach(tool ip unshare mount dbus-daemon avahi-daemon avahi-publish)
  find_program(PROSE_TOOL_${tool} ${tool} PATHS /usr/sbin /sbin)
  if(NOT PROSE_TOOL_${tool})
    list(APPEND prose_avahi_missing ${tool})
  endif()
endforeach()
if(NOT PROSE_UID STREQUAL "0")
  message(STATUS "discovery_avahi_netns: not registered (needs root for network namespaces)")
elseif(prose_avahi_missing)
  message(STATUS "discovery_avahi_netns: not registered (missing: ${prose_avahi_missing}; "
                 "apt-get install avahi-daemon avahi-utils dbus iproute2)")
else()
  add_test(NAME discovery_avahi_netns
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/avahi_netns.sh $<TARGET_FILE:avahi_peer>)
  # Two avahi daemons in namespaces: serial, so a loaded machine does not
  # stretch the mDNS timings of other tests or of this one.
  set_tests_properties(discovery_avahi_netns PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120
                                                        RUN_SERIAL TRUE)
endif()
