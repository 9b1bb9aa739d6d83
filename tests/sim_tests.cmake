# Simulator tests: the scenario language, determinism (one seed, one trace
# hash), the medium's faults, the pcaps, and every built-in scenario's
# expectations (the 100-node one at 20 nodes).
if(TARGET prose_sim)
  prose_add_test(test_sim SOURCES unit/test_sim.c LIBS prose_sim)
  prose_add_test(test_sim_scenarios SOURCES unit/test_sim_scenarios.c LIBS prose_sim)
endif()
