# Crypto module tests (one executable per unit, registered with CTest).
foreach(unit kdf eccsi sakke mikey media)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_${unit}.c)
    prose_add_test(test_${unit} SOURCES unit/test_${unit}.c LIBS prose_crypto)
  endif()
endforeach()
