/*
 * Node settings for the devices of the test domain (testdomain.h), shared
 * by the node tests' in-memory network (tests/unit/test_node_net.c) and
 * `prose-bench node`. Built into prose_testsupport only when the node is.
 */
#ifndef PROSE_TESTNODE_H
#define PROSE_TESTNODE_H

#include <stddef.h>
#include <stdint.h>

#include "prose/node.h"
#include "testdomain.h"

#define TS_MEDIA_PORT 30000
#define TS_FLOOR_PORT 30001
#define TS_APP_PORT 40000

/* An IPv4 node address. */
prose_node_addr ts_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

/* The defaults (prose_node_settings_default) for device i of d: its URI,
 * store and keyring, KMS TS_KMS, unicast 10.0.0.(i+1), and one group
 * TS_GROUP on 239.1.1.1 with TS_MEDIA_PORT, TS_FLOOR_PORT and TS_APP_PORT.
 * The caller sets s->rng. */
void ts_node_settings(const ts_domain *d, size_t i, prose_node_settings *s);

#endif
