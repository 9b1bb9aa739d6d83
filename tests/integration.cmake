# Integration tests with real prosed processes (STYLE 16: few, and they clean
# up after themselves). Both scripts take the CLI and the daemon of this
# build, so the ASan build runs them under the sanitizers too; they fail on
# a sanitizer report in a daemon's log (or its log_path file).
if(TARGET prosed AND TARGET prose)
  find_program(PROSE_PYTHON3 python3)
  if(NOT PROSE_PYTHON3)
    message(STATUS "integration tests not registered: python3 not found")
    return()
  endif()

  # Bad input to running daemons on loopback addresses: needs no root.
  add_test(NAME integ_daemon_robustness
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/daemon_robustness.sh
                   $<TARGET_FILE:prose> $<TARGET_FILE:prosed>)
  # PROCESSORS 2: with `ctest -j2` on the 2-core CI machine nothing else
  # runs beside it, so the daemons' timers are not starved by a parallel
  # sanitizer test.
  set_tests_properties(integ_daemon_robustness PROPERTIES TIMEOUT 240 PROCESSORS 2)

  # Three daemons in network namespaces on a bridge: root, iproute2,
  # nftables and tshark (dumpcap) needed. Without them it is not registered;
  # where namespaces cannot be made at run time it reports a skip (77).
  execute_process(COMMAND id -u OUTPUT_VARIABLE PROSE_UID OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_program(PROSE_IP ip PATHS /usr/sbin /sbin)
  find_program(PROSE_NFT nft PATHS /usr/sbin /sbin)
  find_program(PROSE_TSHARK tshark)
  find_program(PROSE_DUMPCAP dumpcap)
  if(PROSE_UID STREQUAL "0" AND PROSE_IP AND PROSE_NFT AND PROSE_TSHARK AND PROSE_DUMPCAP)
    add_test(NAME integ_netns_calls
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/netns_calls.sh
                     $<TARGET_FILE:prose> $<TARGET_FILE:prosed>)
    set_tests_properties(integ_netns_calls PROPERTIES TIMEOUT 240 PROCESSORS 2
                                                      SKIP_RETURN_CODE 77)
  else()
    message(STATUS "integ_netns_calls not registered: needs root (uid ${PROSE_UID}), "
                   "ip, nft, tshark and dumpcap")
  endif()

endif()
