# Discovery module tests: the codec and keyring additions, the engine, and
# (as root, with avahi tooling present) the avahi backend across two network
# namespaces.
if(TARGET prose_discovery)
  foreach(unit discovery discovery_engine)
    prose_add_test(test_${unit} SOURCES unit/test_${unit}.c LIBS prose_discovery)
    # The tests reuse the deterministic KMS fixture of the MIKEY fuzz target.
    target_include_directories(test_${unit} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz
                                                    ${CMAKE_CURRENT_SOURCE_DIR}/unit)
  endforeach()
  include(${CMAKE_CURRENT_SOURCE_DIR}/discovery/avahi.cmake OPTIONAL)
endif()
