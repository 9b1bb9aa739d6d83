# Call module tests: codec, SDP, group and private call machines.
prose_add_test(test_call_msg SOURCES unit/test_call_msg.c LIBS prose_call)
prose_add_test(test_call_sdp SOURCES unit/test_call_sdp.c LIBS prose_call)
foreach(unit group private)
  prose_add_test(test_call_${unit} SOURCES unit/test_call_${unit}.c unit/test_call_net.c
                 LIBS prose_call)
endforeach()
