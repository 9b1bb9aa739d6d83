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
    # The same with IPv6: two IPv6-only daemons and a dual-stack one, a
    # group call on an IPv6 multicast group and a private call over IPv6.
    add_test(NAME integ_netns_ipv6
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/netns_ipv6.sh
                     $<TARGET_FILE:prose> $<TARGET_FILE:prosed>)
    set_tests_properties(integ_netns_ipv6 PROPERTIES TIMEOUT 240 PROCESSORS 2
                                                     SKIP_RETURN_CODE 77)
  else()
    message(STATUS "integ_netns_calls not registered: needs root (uid ${PROSE_UID}), "
                   "ip, nft, tshark and dumpcap")
  endif()

  # Two daemons with [discovery] mode = avahi in network namespaces, each
  # with its own mount namespace, D-Bus and avahi-daemon: root, iproute2,
  # util-linux (unshare), dbus and avahi-daemon needed, and a prosed built
  # with avahi-client. RUN_SERIAL: mDNS probing and announcing are timed,
  # and a loaded machine stretches them.
  find_program(PROSE_UNSHARE unshare PATHS /usr/bin /bin)
  find_program(PROSE_DBUS_DAEMON dbus-daemon)
  find_program(PROSE_AVAHI_DAEMON avahi-daemon PATHS /usr/sbin /sbin)
  if(PROSE_HAVE_AVAHI AND PROSE_UID STREQUAL "0" AND PROSE_IP AND PROSE_UNSHARE
     AND PROSE_DBUS_DAEMON AND PROSE_AVAHI_DAEMON)
    add_test(NAME integ_avahi_daemon
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/avahi_daemon.sh
                     $<TARGET_FILE:prose> $<TARGET_FILE:prosed>)
    set_tests_properties(integ_avahi_daemon PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE
                                                       SKIP_RETURN_CODE 77)
  else()
    message(STATUS "integ_avahi_daemon not registered: needs avahi-client at build time, "
                   "root (uid ${PROSE_UID}), ip, unshare, dbus-daemon and avahi-daemon")
  endif()
endif()
