/*
 * avahi DNS-SD backend (see prose/discovery_avahi.h and docs/discovery.md).
 *
 * Object lifetimes follow avahi-client's rules: the client owns the entry
 * group, the browser and every resolver, and avahi_client_free frees them
 * all. So when the daemon connection drops, the pointers are forgotten (not
 * freed one by one) and the client is freed and created again, as the
 * avahi-publish tool does. Callbacks may run from inside the avahi_*_new
 * call that creates their object, before its return value is stored, so
 * each callback takes the object from its own argument.
 */
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/defs.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/timeval.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/discovery_avahi.h"
#include "prose/err.h"
#include "prose/util.h"

#define NAME_MAX_LEN 63u /* DNS label limit for the service instance name */
#define RECENT 16u       /* announcements remembered for duplicate detection */
#define B64_MAX (PROSE_DISC_AVAHI_CHUNK * PROSE_DISC_AVAHI_MAX_CHUNKS)
#define TICK_MS 1000u          /* resolvers are checked for staleness this often */
#define STALE_MIN_MS 1000u     /* never re-resolve a service more often */
#define UNKNOWN_STALE_MS 10000u /* re-resolve period when its peer is not in the table */
#define RETRY_MIN_MS 1000u     /* first retry after a failed resolve; doubles per failure */

/* One resolver per (interface, protocol, instance name) browsed, with a
 * record browser on the service's TXT record beside it. */
typedef struct resolver {
  bool used;               /* false: free slot */
  AvahiServiceResolver *r; /* NULL while used: failed, re-created by refresh_tick */
  /* Reports every TXT record that enters this daemon's cache (a service
   * resolver reports only some changes, see docs/discovery.md §7). NULL if
   * avahi refused it: the resolver and its refreshes still serve. */
  AvahiRecordBrowser *txt;
  AvahiIfIndex iface;
  AvahiProtocol proto;
  char name[NAME_MAX_LEN + 1];
  char domain[AVAHI_DOMAIN_NAME_MAX]; /* where the browser found it ("local") */
  /* The address and port the resolver last reported: the unauthenticated
   * source given with announcements from the TXT browser (none until the
   * resolver has found the service once). */
  bool have_addr;
  AvahiAddress addr;
  uint16_t port;
  /* The MCPTT ID of the last announcement this resolver reported (not
   * verified: only used to look up the engine's verified peer entry when
   * deciding whether to re-resolve), "" if none yet. */
  char id[PROSE_DISC_URI_MAX + 1];
  uint64_t since_ms; /* resolver (re)created at */
  uint64_t failed_ms; /* its last failure (a timeout, typically) */
  uint32_t fails;     /* failures since it last found the service */
} resolver;

struct prose_disc_avahi {
  const AvahiPoll *poll;
  prose_disc *d;
  prose_disc_avahi_settings s;
  char type[NAME_MAX_LEN + 1];
  AvahiClient *client;
  AvahiEntryGroup *group;
  AvahiServiceBrowser *browser;
  resolver *res; /* PROSE_DISC_AVAHI_MAX_RESOLVERS slots */
  AvahiTimeout *tick; /* staleness check of the resolvers (browsing only) */
  char name[NAME_MAX_LEN + 1]; /* service instance name ("" until the first publish) */
  uint16_t port;
  AvahiStringList *txt; /* the TXT record to publish, NULL until the first publish */
  bool registered;      /* the service is in the committed entry group */
  uint8_t recent[RECENT][32];
  size_t n_recent, recent_pos;
  prose_disc_avahi_stats st;
  uint8_t buf[PROSE_DISC_MAX_LEN];
};

void prose_disc_avahi_settings_default(prose_disc_avahi_settings *s) {
  if (!s) return;
  memset(s, 0, sizeof *s);
  s->service_type = PROSE_DISC_AVAHI_TYPE;
  s->publish = true;
  s->browse = true;
}

static void client_cb(AvahiClient *c, AvahiClientState state, void *ud);

/* ------------------------------------------------------------------------ */
/* Publishing                                                                */
/* ------------------------------------------------------------------------ */

static void set_error(prose_disc_avahi *av, int err) { av->st.last_error = err; }

static void group_cb(AvahiEntryGroup *g, AvahiEntryGroupState state, void *ud);

/* Add the service under av->name, renaming on a local name collision
 * (another client of the same daemon already uses the name). */
static int add_service(prose_disc_avahi *av) {
  for (int tries = 0; tries < 16; tries++) {
    int rc = avahi_entry_group_add_service_strlst(av->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                  0, av->name, av->type, NULL, NULL, av->port,
                                                  av->txt);
    if (rc != AVAHI_ERR_COLLISION) return rc;
    char *alt = avahi_alternative_service_name(av->name);
    if (!alt) return AVAHI_ERR_NO_MEMORY;
    snprintf(av->name, sizeof av->name, "%s", alt);
    avahi_free(alt);
    av->st.collisions++;
  }
  return AVAHI_ERR_COLLISION;
}

/* Register the service, or update its TXT record if it is registered. A
 * no-op until the daemon runs and there is something to publish. */
static int register_service(prose_disc_avahi *av) {
  if (!av->s.publish || !av->txt || !av->client || !av->st.running) return 0;
  if (!av->group) {
    AvahiEntryGroup *g = avahi_entry_group_new(av->client, group_cb, av);
    if (!g) {
      set_error(av, avahi_client_errno(av->client));
      return PROSE_EIO;
    }
    av->group = g;
  }
  int rc;
  if (av->registered) {
    rc = avahi_entry_group_update_service_txt_strlst(av->group, AVAHI_IF_UNSPEC,
                                                     AVAHI_PROTO_UNSPEC, 0, av->name, av->type,
                                                     NULL, av->txt);
  } else {
    rc = add_service(av);
    if (rc == 0) rc = avahi_entry_group_commit(av->group);
    if (rc == 0) av->registered = true;
  }
  if (rc) {
    set_error(av, rc);
    return PROSE_EIO;
  }
  av->st.published++;
  return 0;
}

static void group_cb(AvahiEntryGroup *g, AvahiEntryGroupState state, void *ud) {
  prose_disc_avahi *av = ud;
  av->group = g;
  switch (state) {
    case AVAHI_ENTRY_GROUP_COLLISION: {
      /* Another host on the link uses our instance name: take the next
       * alternative ("name #2") and register again. */
      char *alt = avahi_alternative_service_name(av->name);
      if (alt) {
        snprintf(av->name, sizeof av->name, "%s", alt);
        avahi_free(alt);
      }
      av->st.collisions++;
      avahi_entry_group_reset(g);
      av->registered = false;
      (void)register_service(av);
      break;
    }
    case AVAHI_ENTRY_GROUP_FAILURE:
      set_error(av, avahi_client_errno(avahi_entry_group_get_client(g)));
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      break;
  }
}

/* The instance name: the MCPTT ID, cut to 63 octets without splitting a
 * UTF-8 sequence. It only has to be readable and unique; nothing trusts it. */
static void name_from_id(char out[NAME_MAX_LEN + 1], const char *id) {
  size_t n = strlen(id);
  if (n > NAME_MAX_LEN) {
    n = NAME_MAX_LEN;
    while (n > 0 && ((uint8_t)id[n] & 0xC0u) == 0x80u) n--;
  }
  memcpy(out, id, n);
  out[n] = '\0';
}

/* TXT strings "v=1", "a0=<first 250 base64 characters>", "a1=...". */
static AvahiStringList *make_txt(const uint8_t *bytes, size_t len) {
  char b64[B64_MAX + 8];
  size_t n = prose_b64_encoded_len(len);
  if (n > B64_MAX) return NULL;
  prose_b64_encode(bytes, len, b64);
  AvahiStringList *l = avahi_string_list_new("v=1", NULL);
  for (unsigned i = 0; l && i * PROSE_DISC_AVAHI_CHUNK < n; i++) {
    char item[4 + PROSE_DISC_AVAHI_CHUNK + 1];
    size_t off = i * PROSE_DISC_AVAHI_CHUNK;
    size_t m = n - off < PROSE_DISC_AVAHI_CHUNK ? n - off : PROSE_DISC_AVAHI_CHUNK;
    snprintf(item, sizeof item, "a%u=%.*s", i, (int)m, b64 + off);
    AvahiStringList *grown = avahi_string_list_add(l, item);
    if (!grown) avahi_string_list_free(l);
    l = grown;
  }
  return l ? avahi_string_list_reverse(l) : NULL;
}

int prose_disc_avahi_publish(prose_disc_avahi *av, const uint8_t *bytes, size_t len) {
  if (!av || !bytes || !av->s.publish) return PROSE_EINVAL;
  prose_disc_ann a;
  if (prose_disc_ann_decode(bytes, len, &a) != 0) return PROSE_EINVAL;
  AvahiStringList *txt = make_txt(bytes, len);
  if (!txt) return PROSE_ENOMEM;
  avahi_string_list_free(av->txt);
  av->txt = txt;
  if (!av->name[0]) name_from_id(av->name, a.mcptt_id);
  if (av->registered && av->port != a.call_port) {
    /* The SRV port is part of the registered service: re-add it. */
    avahi_entry_group_reset(av->group);
    av->registered = false;
  }
  av->port = a.call_port;
  return register_service(av);
}

/* ------------------------------------------------------------------------ */
/* Browsing                                                                  */
/* ------------------------------------------------------------------------ */

/* Reassemble the base64 chunks a0.. and decode them into av->buf. */
static int txt_to_announcement(prose_disc_avahi *av, AvahiStringList *txt, size_t *len) {
  char b64[B64_MAX + 1];
  size_t n = 0;
  AvahiStringList *v = avahi_string_list_find(txt, "v");
  if (!v || avahi_string_list_get_size(v) != 3 ||
      memcmp(avahi_string_list_get_text(v), "v=1", 3) != 0)
    return PROSE_EFORMAT;
  for (unsigned i = 0; i < PROSE_DISC_AVAHI_MAX_CHUNKS; i++) {
    char key[4];
    snprintf(key, sizeof key, "a%u", i);
    AvahiStringList *it = avahi_string_list_find(txt, key);
    if (!it) break;
    const uint8_t *t = avahi_string_list_get_text(it);
    size_t sz = avahi_string_list_get_size(it);
    /* The item is "aI=" followed by up to one chunk of base64. */
    if (sz < 3 || t[2] != '=' || sz - 3 > PROSE_DISC_AVAHI_CHUNK) return PROSE_EFORMAT;
    memcpy(b64 + n, t + 3, sz - 3);
    n += sz - 3;
  }
  if (n == 0) return PROSE_EFORMAT;
  return prose_b64_decode(b64, n, av->buf, sizeof av->buf, len);
}

/* The same announcement arrives once per protocol and interface it was
 * resolved on, and again whenever a resolver refreshes: remember the last
 * few so only the first copy reaches the engine (which would count the
 * others as replays). Exact-copy digests, so a forged variant is never
 * mistaken for a seen genuine one. */
static bool seen_before(prose_disc_avahi *av, const uint8_t *msg, size_t len) {
  uint8_t md[32];
  if (EVP_Digest(msg, len, md, NULL, EVP_sha256(), NULL) != 1) return false;
  for (size_t i = 0; i < av->n_recent; i++)
    if (memcmp(av->recent[i], md, sizeof md) == 0) return true;
  memcpy(av->recent[av->recent_pos], md, sizeof md);
  av->recent_pos = (av->recent_pos + 1) % RECENT;
  if (av->n_recent < RECENT) av->n_recent++;
  return false;
}

static void addr_from_avahi(prose_disc_addr *out, const AvahiAddress *a, uint16_t port) {
  memset(out, 0, sizeof *out);
  if (!a) return;
  if (a->proto == AVAHI_PROTO_INET) {
    out->family = PROSE_DISC_AF_IPV4;
    memcpy(out->ip, &a->data.ipv4.address, 4); /* already network order */
  } else if (a->proto == AVAHI_PROTO_INET6) {
    out->family = PROSE_DISC_AF_IPV6;
    memcpy(out->ip, a->data.ipv6.address, 16);
  }
  out->port = port;
}

/* Remember which MCPTT ID a resolver reports (see resolver.id). */
static void note_id(resolver *slot, const uint8_t *msg, size_t len) {
  prose_disc_ann a;
  if (!slot || prose_disc_ann_decode(msg, len, &a) != 0) return;
  memcpy(slot->id, a.mcptt_id, sizeof slot->id);
  slot->id[sizeof slot->id - 1] = '\0';
}

static void feed(prose_disc_avahi *av, resolver *slot, AvahiStringList *txt,
                 const AvahiAddress *a, uint16_t port) {
  size_t len = 0;
  if (txt_to_announcement(av, txt, &len) != 0) {
    av->st.bad_txt++;
    return;
  }
  note_id(slot, av->buf, len);
  if (seen_before(av, av->buf, len)) {
    av->st.duplicate++;
    return;
  }
  prose_disc_addr from;
  addr_from_avahi(&from, a, port);
  uint64_t now_ms = av->s.now_ms(av->s.clock_ud), now_ntp = av->s.now_ntp(av->s.clock_ud);
  int rc = prose_disc_recv(av->d, now_ms, now_ntp, av->buf, len, a ? &from : NULL);
  av->st.fed++;
  if (rc == 0) av->st.accepted++;
  if (av->s.fed) av->s.fed(av->s.clock_ud, rc);
}

static resolver *find_resolver(prose_disc_avahi *av, const AvahiServiceResolver *r) {
  for (size_t i = 0; i < PROSE_DISC_AVAHI_MAX_RESOLVERS; i++)
    if (av->res[i].used && av->res[i].r == r) return &av->res[i];
  return NULL;
}

static resolver *find_free(prose_disc_avahi *av) {
  for (size_t i = 0; i < PROSE_DISC_AVAHI_MAX_RESOLVERS; i++)
    if (!av->res[i].used) return &av->res[i];
  return NULL;
}

static void resolve_cb(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
                       AvahiResolverEvent event, const char *name, const char *type,
                       const char *domain, const char *host, const AvahiAddress *a,
                       uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
                       void *ud) {
  (void)iface, (void)proto, (void)name, (void)type, (void)domain, (void)host, (void)flags;
  prose_disc_avahi *av = ud;
  switch (event) {
    case AVAHI_RESOLVER_FOUND: {
      /* Resolvers stay open: FOUND comes again for some TXT changes, not
       * all (the TXT record browser sees the others); refresh_tick
       * re-resolves services gone quiet. */
      resolver *slot = find_resolver(av, r);
      if (slot) {
        slot->fails = 0;
        if (a) {
          slot->addr = *a;
          slot->port = port;
          slot->have_addr = true;
        }
      }
      av->st.resolved++;
      feed(av, slot, txt, a, port);
      break;
    }
    case AVAHI_RESOLVER_FAILURE: {
      /* Typically a timeout (the publisher did not answer in time). The
       * service is still browsed, so keep the slot: refresh_tick tries
       * again; only the browser's REMOVE frees it. */
      set_error(av, avahi_client_errno(avahi_service_resolver_get_client(r)));
      resolver *slot = find_resolver(av, r);
      /* Not found: it failed inside avahi_service_resolver_new, whose
       * caller stores it next (and refreshes it later); left to the client,
       * which frees it with the rest. */
      if (slot) {
        slot->r = NULL;
        slot->failed_ms = av->s.now_ms(av->s.clock_ud);
        if (slot->fails < 16) slot->fails++;
        avahi_service_resolver_free(r);
      }
      break;
    }
  }
}

static resolver *find_txt_browser(prose_disc_avahi *av, const AvahiRecordBrowser *b) {
  for (size_t i = 0; i < PROSE_DISC_AVAHI_MAX_RESOLVERS; i++)
    if (av->res[i].used && av->res[i].txt == b) return &av->res[i];
  return NULL;
}

/* A TXT record of a browsed service entered (NEW) or left (REMOVE) this
 * daemon's cache. Each new one is fed like a resolved one, with the address
 * the resolver last found (an announcement that arrives before the first
 * resolve is fed without a source; the resolver feeds it again, as a
 * duplicate, once it finds the service). */
static void txt_cb(AvahiRecordBrowser *b, AvahiIfIndex iface, AvahiProtocol proto,
                   AvahiBrowserEvent event, const char *name, uint16_t clazz, uint16_t type,
                   const void *rdata, size_t size, AvahiLookupResultFlags flags, void *ud) {
  (void)iface, (void)proto, (void)name, (void)clazz, (void)type, (void)flags;
  prose_disc_avahi *av = ud;
  switch (event) {
    case AVAHI_BROWSER_NEW: {
      resolver *slot = find_txt_browser(av, b);
      AvahiStringList *txt = NULL;
      av->st.txt_seen++;
      if (!rdata || avahi_string_list_parse(rdata, size, &txt) != 0) {
        av->st.bad_txt++;
        break;
      }
      feed(av, slot, txt, slot && slot->have_addr ? &slot->addr : NULL,
           slot ? slot->port : 0);
      avahi_string_list_free(txt);
      break;
    }
    case AVAHI_BROWSER_FAILURE: {
      /* The daemon dropped the browser: refresh_tick opens another. */
      set_error(av, avahi_client_errno(avahi_record_browser_get_client(b)));
      resolver *slot = find_txt_browser(av, b);
      /* Not found: it failed inside avahi_record_browser_new, whose caller
       * stores it next; left to the client, which frees it with the rest. */
      if (slot) {
        slot->txt = NULL;
        avahi_record_browser_free(b);
      }
      break;
    }
    case AVAHI_BROWSER_REMOVE:
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
      break;
  }
}

static void open_txt_browser(prose_disc_avahi *av, AvahiClient *c, resolver *slot) {
  char full[AVAHI_DOMAIN_NAME_MAX];
  if (avahi_service_name_join(full, sizeof full, slot->name, av->type, slot->domain) != 0) {
    set_error(av, AVAHI_ERR_INVALID_SERVICE_NAME);
    return;
  }
  slot->txt = avahi_record_browser_new(c, slot->iface, slot->proto, full, AVAHI_DNS_CLASS_IN,
                                       AVAHI_DNS_TYPE_TXT, 0, txt_cb, av);
  if (!slot->txt) set_error(av, avahi_client_errno(c));
}

static void open_resolver(prose_disc_avahi *av, AvahiClient *c, resolver *slot) {
  slot->since_ms = av->s.now_ms(av->s.clock_ud);
  /* NULL domain: the browser's default domain, where it found the service. */
  slot->r = avahi_service_resolver_new(c, slot->iface, slot->proto, slot->name, av->type, NULL,
                                       AVAHI_PROTO_UNSPEC, 0, resolve_cb, av);
  if (!slot->r) set_error(av, avahi_client_errno(c));
}

/* When this resolver should be re-created: once the engine has heard
 * nothing new from its peer for a third of the peer's announced TTL (two
 * refreshes can fail before the peer expires), or every UNKNOWN_STALE_MS
 * when the peer is not (or no longer) in the table. Both clocks count from
 * the resolver's own start too, so a service is re-resolved at most every
 * STALE_MIN_MS. */
static uint64_t refresh_due(const prose_disc_avahi *av, const resolver *x) {
  /* A resolve that failed (the publisher did not answer in time: a busy
   * or lossy network, a daemon still starting) is tried again soon, 1 s
   * then doubling up to the unknown-peer period, rather than only at that
   * period: a peer that missed its first resolve is otherwise unknown for
   * 10 s or more. */
  if (x->r == NULL && x->fails > 0) {
    uint64_t wait = (uint64_t)RETRY_MIN_MS << (x->fails - 1u < 8u ? x->fails - 1u : 8u);
    return x->failed_ms + (wait < UNKNOWN_STALE_MS ? wait : UNKNOWN_STALE_MS);
  }
  const prose_disc_peer *p = x->id[0] ? prose_disc_find(av->d, x->id) : NULL;
  if (!p) return x->since_ms + UNKNOWN_STALE_MS;
  uint64_t ttl = p->expires_ms > p->last_seen_ms ? p->expires_ms - p->last_seen_ms : 0;
  uint64_t quiet = ttl / 3 > STALE_MIN_MS ? ttl / 3 : STALE_MIN_MS;
  if (p->last_seen_ms > x->since_ms) return p->last_seen_ms + quiet;
  /* Nothing accepted since this resolver was (re)created: its refresh
   * brought nothing new (the daemon's cache was stale, its query or the
   * answer lost on a busy link). Ask again at half the period, so a peer
   * gets four more refreshes before it expires rather than two. */
  uint64_t again = quiet / 2 > STALE_MIN_MS ? quiet / 2 : STALE_MIN_MS;
  return x->since_ms + again;
}

/* A new resolver asks the network again (a query whose known answers are
 * the cached records, so the publisher answers with its current TXT record
 * if it differs) and reports the cache's current record at once. */
static void refresh_tick(AvahiTimeout *t, void *ud) {
  prose_disc_avahi *av = ud;
  if (av->client && av->st.running) {
    uint64_t now = av->s.now_ms(av->s.clock_ud);
    for (size_t i = 0; i < PROSE_DISC_AVAHI_MAX_RESOLVERS; i++) {
      resolver *x = &av->res[i];
      if (!x->used) continue;
      if (!x->txt) open_txt_browser(av, av->client, x);
      if (now < refresh_due(av, x)) continue;
      if (x->r) avahi_service_resolver_free(x->r);
      x->r = NULL;
      open_resolver(av, av->client, x);
      if (x->r) av->st.refreshed++;
    }
  }
  struct timeval tv;
  av->poll->timeout_update(t, avahi_elapse_time(&tv, TICK_MS, 0));
}

static resolver *find_browsed(prose_disc_avahi *av, AvahiIfIndex iface, AvahiProtocol proto,
                              const char *name) {
  for (size_t i = 0; i < PROSE_DISC_AVAHI_MAX_RESOLVERS; i++) {
    resolver *x = &av->res[i];
    if (x->used && x->iface == iface && x->proto == proto && strcmp(x->name, name) == 0) return x;
  }
  return NULL;
}

/* A resolver per (interface, protocol, name) the browser reports; our own
 * service is skipped. Beyond PROSE_DISC_AVAHI_MAX_RESOLVERS, new services
 * are ignored until others go (linear lookups are fine at that bound). */
static void browse_new(prose_disc_avahi *av, AvahiServiceBrowser *b, AvahiIfIndex iface,
                       AvahiProtocol proto, const char *name, const char *type,
                       const char *domain) {
  if (strlen(name) > NAME_MAX_LEN || find_browsed(av, iface, proto, name)) return;
  resolver *slot = find_free(av);
  if (!slot) return;
  (void)type; /* ours */
  slot->used = true;
  slot->iface = iface;
  slot->proto = proto;
  memcpy(slot->name, name, strlen(name) + 1);
  snprintf(slot->domain, sizeof slot->domain, "%s", domain ? domain : "local");
  slot->id[0] = '\0';
  slot->fails = 0;
  slot->have_addr = false;
  open_resolver(av, avahi_service_browser_get_client(b), slot);
  open_txt_browser(av, avahi_service_browser_get_client(b), slot);
}

/* The service went away: stop resolving it. The engine keeps the peer
 * until its TTL runs out (or its goodbye announcement said it left), as
 * for multicast; DNS-SD removals are unauthenticated. */
static void browse_remove(prose_disc_avahi *av, AvahiIfIndex iface, AvahiProtocol proto,
                          const char *name) {
  resolver *x = find_browsed(av, iface, proto, name);
  if (!x) return;
  if (x->r) avahi_service_resolver_free(x->r);
  if (x->txt) avahi_record_browser_free(x->txt);
  x->r = NULL;
  x->txt = NULL;
  x->used = false;
}

static void browse_cb(AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto,
                      AvahiBrowserEvent event, const char *name, const char *type,
                      const char *domain, AvahiLookupResultFlags flags, void *ud) {
  prose_disc_avahi *av = ud;
  av->browser = b;
  switch (event) {
    case AVAHI_BROWSER_NEW:
      if (!(flags & AVAHI_LOOKUP_RESULT_OUR_OWN)) browse_new(av, b, iface, proto, name, type, domain);
      break;
    case AVAHI_BROWSER_REMOVE:
      browse_remove(av, iface, proto, name);
      break;
    case AVAHI_BROWSER_FAILURE:
      set_error(av, avahi_client_errno(avahi_service_browser_get_client(b)));
      break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
      break;
  }
}

/* ------------------------------------------------------------------------ */
/* Client lifecycle                                                          */
/* ------------------------------------------------------------------------ */

static void start_browsing(prose_disc_avahi *av) {
  if (!av->s.browse || av->browser || !av->client) return;
  av->browser = avahi_service_browser_new(av->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                          av->type, NULL, 0, browse_cb, av);
  if (!av->browser) set_error(av, avahi_client_errno(av->client));
}

/* The client frees its group, browser and resolvers itself; forget them. */
static void forget_children(prose_disc_avahi *av) {
  av->group = NULL;
  av->browser = NULL;
  av->registered = false;
  for (size_t i = 0; i < PROSE_DISC_AVAHI_MAX_RESOLVERS; i++) {
    av->res[i].r = NULL;
    av->res[i].txt = NULL;
    av->res[i].used = false;
  }
}

static void reconnect(prose_disc_avahi *av, AvahiClient *c) {
  int err = 0;
  forget_children(av);
  avahi_client_free(c);
  av->client = avahi_client_new(av->poll, AVAHI_CLIENT_NO_FAIL, client_cb, av, &err);
  if (!av->client) set_error(av, err);
}

static void client_cb(AvahiClient *c, AvahiClientState state, void *ud) {
  prose_disc_avahi *av = ud;
  av->client = c;
  switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      av->st.running = true;
      start_browsing(av);
      (void)register_service(av);
      break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
      /* The daemon is (re)registering its host name: our records go and
       * are registered again once it runs. */
      av->st.running = false;
      if (av->group) avahi_entry_group_reset(av->group);
      av->registered = false;
      break;
    case AVAHI_CLIENT_FAILURE:
      av->st.running = false;
      set_error(av, avahi_client_errno(c));
      if (avahi_client_errno(c) == AVAHI_ERR_DISCONNECTED) reconnect(av, c);
      break;
    case AVAHI_CLIENT_CONNECTING:
      av->st.running = false;
      break;
  }
}

int prose_disc_avahi_new(prose_disc_avahi **out, const AvahiPoll *poll, prose_disc *d,
                         const prose_disc_avahi_settings *settings) {
  if (!out || !poll || !d || !settings || !settings->now_ms || !settings->now_ntp)
    return PROSE_EINVAL;
  const char *type = settings->service_type ? settings->service_type : PROSE_DISC_AVAHI_TYPE;
  if (strlen(type) > NAME_MAX_LEN) return PROSE_EINVAL;
  prose_disc_avahi *av = calloc(1, sizeof *av);
  if (!av) return PROSE_ENOMEM;
  av->res = calloc(PROSE_DISC_AVAHI_MAX_RESOLVERS, sizeof *av->res);
  if (!av->res) {
    free(av);
    return PROSE_ENOMEM;
  }
  av->poll = poll;
  av->d = d;
  av->s = *settings;
  memcpy(av->type, type, strlen(type) + 1);
  av->s.service_type = av->type;
  int err = 0;
  if (av->s.browse) {
    struct timeval tv;
    av->tick = poll->timeout_new(poll, avahi_elapse_time(&tv, TICK_MS, 0), refresh_tick, av);
    if (!av->tick) {
      free(av->res);
      free(av);
      return PROSE_ENOMEM;
    }
  }
  av->client = avahi_client_new(poll, AVAHI_CLIENT_NO_FAIL, client_cb, av, &err);
  if (!av->client) {
    if (av->tick) poll->timeout_free(av->tick);
    free(av->res);
    free(av);
    return PROSE_EIO;
  }
  *out = av;
  return 0;
}

void prose_disc_avahi_free(prose_disc_avahi *av) {
  if (!av) return;
  /* Freeing the client withdraws the service (avahi sends the goodbye
   * records) and frees the group, browser and resolvers. */
  if (av->client) avahi_client_free(av->client);
  if (av->tick) av->poll->timeout_free(av->tick);
  avahi_string_list_free(av->txt);
  free(av->res);
  free(av);
}

const prose_disc_avahi_stats *prose_disc_avahi_get_stats(const prose_disc_avahi *av) {
  return av ? &av->st : NULL;
}
