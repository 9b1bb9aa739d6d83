# Node tests: three or four nodes with real keys (a throwaway KMS, GMS and
# device stores provisioned by the authority code) wired back to back through
# an in-memory network in virtual time.
if(TARGET prose_node AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_node.c)
  prose_add_test(test_node SOURCES unit/test_node.c unit/test_node_net.c LIBS prose_node)
endif()
