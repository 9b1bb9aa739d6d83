# The node (prose/node.h): one sans-IO object per device composing the key
# store, discovery, call control, floor control and media keying. Both
# drivers link it: the daemon prosed and the simulator.
# The engines land as separate modules; the node is built once all exist.
if(TARGET prose_call AND TARGET prose_floor AND TARGET prose_discovery)
  add_library(prose_node STATIC
    ${CMAKE_CURRENT_LIST_DIR}/src/node.c
    ${CMAKE_CURRENT_LIST_DIR}/src/node_call.c
    ${CMAKE_CURRENT_LIST_DIR}/src/node_media.c)
  target_include_directories(prose_node PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include
                                        PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src)
  target_link_libraries(prose_node PUBLIC prose_call prose_floor prose_discovery prose_store
                                          prose_crypto prose_common)
  prose_warnings(prose_node)
endif()
