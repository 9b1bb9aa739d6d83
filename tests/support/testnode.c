/* Node settings for the devices of the test domain (testnode.h). */
#include "testnode.h"

#include <string.h>

prose_node_addr ts_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  prose_node_addr x;
  memset(&x, 0, sizeof x);
  x.family = PROSE_DISC_AF_IPV4;
  x.ip[0] = a, x.ip[1] = b, x.ip[2] = c, x.ip[3] = d;
  x.port = port;
  return x;
}

void ts_node_settings(const ts_domain *d, size_t i, prose_node_settings *s) {
  const ts_device *dev = &d->dev[i];
  prose_node_settings_default(s);
  s->uri = dev->uri;
  s->kms_uri = TS_KMS;
  s->store = dev->store;
  s->keyring = dev->kr;
  s->unicast4 = ts_ipv4(10, 0, 0, (uint8_t)(i + 1), 0);
  s->n_groups = 1;
  s->groups[0].id = TS_GROUP;
  s->groups[0].mcast = ts_ipv4(239, 1, 1, 1, 0);
  s->groups[0].media_port = TS_MEDIA_PORT;
  s->groups[0].floor_port = TS_FLOOR_PORT;
  s->groups[0].app_port = TS_APP_PORT;
}
