# Store module tests (one executable per unit, registered with CTest).
# They include store/src for the internal hooks (store digest, sealing).
foreach(unit kmsxml bundle store store_import store_authority)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_${unit}.c)
    prose_add_test(test_${unit} SOURCES unit/test_${unit}.c unit/test_store_fixture.c
                   LIBS prose_store)
    target_include_directories(test_${unit} PRIVATE ${CMAKE_SOURCE_DIR}/store/src)
  endif()
endforeach()
