# Floor control (TS 24.380 clause 7) tests: codec, state machine, multi-node
# scenarios, and a tshark cross-check of the encoder.
add_library(prose_floor_testlib STATIC floor/floor_testlib.c)
target_include_directories(prose_floor_testlib PUBLIC floor)
target_link_libraries(prose_floor_testlib PUBLIC prose_floor PkgConfig::CRITERION)
prose_warnings(prose_floor_testlib)
target_compile_options(prose_floor_testlib PRIVATE -Wno-pedantic)

foreach(unit floor_msg floor_fsm floor_scenario floor_tshark)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_${unit}.c)
    prose_add_test(test_${unit} SOURCES unit/test_${unit}.c LIBS prose_floor_testlib prose_floor)
  endif()
endforeach()
