# Simulator tests: the scenario language, determinism (one seed, one trace
# hash), the medium's faults, the pcaps, and every built-in scenario's
# expectations (the 100-node one at 20 nodes).
if(TARGET prose_sim)
  prose_add_test(test_sim SOURCES unit/test_sim.c LIBS prose_sim)
  prose_add_test(test_sim_scenarios SOURCES unit/test_sim_scenarios.c LIBS prose_sim)
endif()

# `prose sim --netns`: scenarios with real prosed processes in network
# namespaces (root, iproute2, nftables, python3). Both builds run it, so the
# daemons run under the sanitizers in the ASan build.
if(TARGET prose_sim AND TARGET prosed AND TARGET prose)
  execute_process(COMMAND id -u OUTPUT_VARIABLE PROSE_SIM_UID OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_program(PROSE_SIM_IP ip PATHS /usr/sbin /sbin)
  find_program(PROSE_SIM_NFT nft PATHS /usr/sbin /sbin)
  find_program(PROSE_SIM_PYTHON3 python3)
  if(PROSE_SIM_UID STREQUAL "0" AND PROSE_SIM_IP AND PROSE_SIM_NFT AND PROSE_SIM_PYTHON3)
    add_test(NAME sim_netns COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sim/netns.sh
                                    $<TARGET_FILE:prose> $<TARGET_FILE:prosed>)
    set_tests_properties(sim_netns PROPERTIES TIMEOUT 300 PROCESSORS 2 SKIP_RETURN_CODE 77)
  else()
    message(STATUS "sim_netns not registered: needs root (uid ${PROSE_SIM_UID}), ip, nft, python3")
  endif()
endif()
