/*
 * avahi DNS-SD backend for prose discovery (built only when pkg-config finds
 * avahi-client; the library then defines PROSE_HAVE_AVAHI).
 *
 * It publishes a DNS-SD service (_prose-ptt._udp by default) whose TXT
 * record carries the same signed announcement the engine multicasts, in
 * base64 over TXT strings "a0=", "a1=", ... (docs/discovery.md), and it
 * browses and resolves the services of other nodes and feeds their
 * announcements into the same prose_disc engine through prose_disc_recv.
 * Nothing from DNS-SD is trusted: a browsed peer is verified exactly like a
 * multicast one (signature, key period, timestamp window, replay).
 * Open service resolvers miss most TXT updates, so each browsed service
 * also has a record browser on its TXT record, which reports every record
 * that enters the daemon's cache; as a fallback, a resolver whose peer the
 * engine has not heard from for a third of its TTL is re-created, which
 * queries the network for the current record (docs/discovery.md §7). This
 * uses a timeout of the caller's poll.
 *
 * It can stand beside the multicast announcements or replace them: the
 * engine's send callback calls prose_disc_avahi_publish (and/or sends the
 * datagram), so every new announcement also updates the TXT record.
 *
 * The caller supplies the event loop as a const AvahiPoll * (avahi's simple
 * poll in tests, an adapter over libuv in the daemon) and the clocks. This
 * module does I/O through avahi only; it never reads a clock itself.
 * Everything runs on the thread of that poll.
 */
#ifndef PROSE_DISCOVERY_AVAHI_H
#define PROSE_DISCOVERY_AVAHI_H

#include <avahi-common/watch.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/discovery.h"

#define PROSE_DISC_AVAHI_TYPE "_prose-ptt._udp"
/* TXT keys: "v=1" (format version) and "a0=" ... "a7=" (base64 chunks). */
#define PROSE_DISC_AVAHI_CHUNK 250u     /* base64 characters per TXT string */
#define PROSE_DISC_AVAHI_MAX_CHUNKS 8u
#define PROSE_DISC_AVAHI_MAX_RESOLVERS 256u /* browsed services (peers x interfaces x protocols) */

typedef struct prose_disc_avahi_settings {
  const char *service_type; /* default PROSE_DISC_AVAHI_TYPE (copied) */
  bool publish;             /* publish our announcements (default true) */
  bool browse;              /* browse and feed other nodes' (default true) */
  /* Clocks for prose_disc_recv (required): monotonic ms and NTP 32.32. */
  uint64_t (*now_ms)(void *clock_ud);
  uint64_t (*now_ntp)(void *clock_ud);
  void *clock_ud;
  /* Called after every announcement fed to the engine, with its result, so
   * the driver can re-arm its timer from prose_disc_next_deadline (may be
   * NULL). */
  void (*fed)(void *clock_ud, int rc);
} prose_disc_avahi_settings;

void prose_disc_avahi_settings_default(prose_disc_avahi_settings *s);

typedef struct prose_disc_avahi_stats {
  uint64_t resolved;  /* TXT records seen by resolvers */
  uint64_t txt_seen;  /* TXT records seen by the TXT record browsers */
  uint64_t fed;       /* announcements given to prose_disc_recv */
  uint64_t accepted;  /* ... of which the engine accepted */
  uint64_t duplicate; /* the same announcement seen again (another protocol or interface) */
  uint64_t bad_txt;   /* TXT records without a well-formed announcement */
  uint64_t published; /* TXT records published or updated */
  uint64_t collisions; /* service name collisions (renamed) */
  uint64_t refreshed;  /* resolvers re-created (their peer went quiet, or is not in the table) */
  int last_error;      /* last avahi error code (AVAHI_ERR_*), 0 if none */
  bool running;        /* connected to a running avahi daemon */
} prose_disc_avahi_stats;

typedef struct prose_disc_avahi prose_disc_avahi;

/*
 * Connect to the avahi daemon through poll and start browsing (when
 * enabled). The engine d and poll are borrowed and must outlive the
 * backend. When the daemon is not (yet) running, the backend waits for it
 * and reconnects after a daemon restart.
 * Errors: PROSE_EINVAL (NULL arguments or clocks, a service type longer
 * than 63 octets), PROSE_ENOMEM, PROSE_EIO (avahi refused to create the
 * client; stats.last_error tells why).
 */
int prose_disc_avahi_new(prose_disc_avahi **out, const AvahiPoll *poll, prose_disc *d,
                         const prose_disc_avahi_settings *settings);

/* Withdraw the service and free everything. NULL is a no-op. */
void prose_disc_avahi_free(prose_disc_avahi *av);

/*
 * Publish a signed announcement (as produced by the engine's send callback)
 * as the service's TXT record, registering the service on first use and
 * updating the record afterwards. The service instance name is taken from
 * the announcement's MCPTT ID (shortened to 63 octets) and the SRV port from
 * its call port. The bytes are copied. When the daemon is not running the
 * record is kept and published once it is.
 * Errors: PROSE_EINVAL (NULL, not a decodable announcement, publishing
 * disabled), PROSE_ENOMEM, PROSE_EIO (avahi refused the record).
 */
int prose_disc_avahi_publish(prose_disc_avahi *av, const uint8_t *bytes, size_t len);

/* The counters. */
const prose_disc_avahi_stats *prose_disc_avahi_get_stats(const prose_disc_avahi *av);

#endif
