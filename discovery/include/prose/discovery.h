/*
 * prose discovery: signed peer announcements and a sans-IO peer table.
 *
 * Every node multicasts an announcement ("I am here": MCPTT ID, KMS, key
 * period, unicast addresses and ports, capabilities, timestamp, sequence
 * number, TTL) signed with its ECCSI key for the current key period
 * (RFC 6507, TS 33.179 clause 7: no infrastructure, keys cached beforehand).
 * Receivers verify it against the KMS's KPAK and keep a bounded table of
 * peers, which expire when they fall silent. A private call finds the
 * callee's unicast address and call-control port here.
 *
 * The wire format is documented in docs/discovery.md.
 *
 * The engine prose_disc is sans-IO (DESIGN §2): bytes and the current time
 * come in through prose_disc_recv and prose_disc_on_timeout, announcements
 * go out through the send callback, table changes through the event
 * callback, and prose_disc_next_deadline says when to call back. It opens no
 * socket, reads no clock and draws randomness only from the injected RNG.
 *
 * Two clocks are passed in with every input:
 *  - now_ms: monotonic milliseconds (any origin); all timers use it;
 *  - now_ntp: wall-clock time as a 64-bit NTP timestamp (seconds since
 *    1900-01-01 in the upper 32 bits, binary fraction in the lower 32, as in
 *    the MIKEY T payload). It stamps our announcements and bounds the clock
 *    skew of received ones.
 *
 * Not thread-safe. The engine borrows the keyring (signing and verifying
 * update its verifier caches), so engine and keyring belong to one thread.
 */
#ifndef PROSE_DISCOVERY_H
#define PROSE_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/eccsi.h"
#include "prose/keyring.h"
#include "prose/rng.h"

/* ------------------------------------------------------------------------ */
/* Wire format limits (docs/discovery.md)                                    */
/* ------------------------------------------------------------------------ */

#define PROSE_DISC_MAGIC "PRSD"       /* first 4 octets of every announcement */
#define PROSE_DISC_VERSION 1u         /* the version this code sends and accepts */
#define PROSE_DISC_URI_MAX 255u       /* MCPTT ID and KMS URI, octets */
#define PROSE_DISC_MAX_PORTS 4u       /* extra (kind, port) pairs */
#define PROSE_DISC_EXT_MAX 256u       /* opaque extension block, octets */
#define PROSE_DISC_MIN_LEN 172u       /* shortest valid announcement */
#define PROSE_DISC_MAX_LEN 964u       /* longest valid announcement */
#define PROSE_DISC_CALL_PORT 8809u    /* TS 24.379 off-network call control */

/* Address presence bits of the wire format. */
#define PROSE_DISC_ADDR_IPV4 0x01u
#define PROSE_DISC_ADDR_IPV6 0x02u

/* Capability bits (bits 5..31 are reserved: sent as 0, kept when received). */
#define PROSE_DISC_CAP_GROUP_CALL 0x01u     /* off-network group calls */
#define PROSE_DISC_CAP_PRIVATE_CALL 0x02u   /* off-network private calls */
#define PROSE_DISC_CAP_EMERGENCY 0x04u      /* emergency calls and alerts */
#define PROSE_DISC_CAP_QUEUEING 0x08u       /* floor request queueing */
#define PROSE_DISC_CAP_IMMINENT_PERIL 0x10u /* imminent peril calls */

/* Kinds of the extra ports (other kinds are application-defined). */
#define PROSE_DISC_PORT_MEDIA 1u /* first RTP port a peer offers for calls */
#define PROSE_DISC_PORT_FLOOR 2u /* floor control (RTCP APP) port */

typedef struct prose_disc_port {
  uint8_t kind;
  uint16_t port; /* 1..65535 */
} prose_disc_port;

/*
 * A decoded (or to-be-encoded) announcement. Plain data with fixed-size
 * arrays: decoding never allocates and every field is bounded.
 */
typedef struct prose_disc_ann {
  char mcptt_id[PROSE_DISC_URI_MAX + 1]; /* NUL-terminated, 1..255 octets */
  char kms_uri[PROSE_DISC_URI_MAX + 1];  /* NUL-terminated, 1..255 octets */
  uint32_t period_no;                    /* key period of the signing key */
  uint64_t timestamp;                    /* NTP 64-bit (32.32) */
  uint32_t seq;                          /* per-sender sequence number */
  uint32_t ttl_ms;                       /* validity; 0 = the sender leaves */
  bool has_ipv4;
  uint8_t ipv4[4];
  bool has_ipv6;
  uint8_t ipv6[16];
  uint16_t call_port; /* TS 24.379 call control, 1..65535 (8809 by default) */
  size_t n_ports;
  prose_disc_port ports[PROSE_DISC_MAX_PORTS];
  uint32_t caps;
  size_t ext_len; /* opaque extension data, signed, ignored by version 1 */
  uint8_t ext[PROSE_DISC_EXT_MAX];
  uint8_t sig[PROSE_ECCSI_SIG_LEN]; /* ECCSI r || s || PVT over all octets before it */
} prose_disc_ann;

/*
 * Encode a (signed or not yet signed) announcement: every field, then a->sig.
 * *len receives the total length. out may be NULL with cap 0 to get the size.
 * Errors: PROSE_EINVAL (NULL a or len, an empty or overlong URI or one with
 * a control character, no address, a port 0, n_ports or ext_len above
 * their bounds), PROSE_EBUFSZ (cap too small).
 */
int prose_disc_ann_encode(const prose_disc_ann *a, uint8_t *out, size_t cap, size_t *len);

/*
 * Decode an announcement. The signed part is the first len - 129 octets.
 * Nothing is verified here except the format: see prose_disc_recv.
 * Errors: PROSE_EINVAL (NULL arguments), PROSE_ETRUNC (the message ends
 * early, or a length field runs past its end), PROSE_EDISC_MAGIC (not an
 * announcement), PROSE_EDISC_VERSION (another version), PROSE_EDISC_FIELD
 * (a field out of its bounds: an empty URI or one with a control character,
 * no address, unknown address bits, a port 0, too many ports, too long an
 * extension), PROSE_ETRAILING (octets after the signature). On error *a is
 * unspecified.
 */
int prose_disc_ann_decode(const uint8_t *buf, size_t len, prose_disc_ann *a);

/*
 * Sign and encode an announcement as the local user into out (cap octets;
 * PROSE_DISC_MAX_LEN always suffices): a->mcptt_id must be the keyring's own
 * URI, and the own key set of a->kms_uri for the key period of a->timestamp
 * signs it. a->period_no and a->sig are filled in.
 * Errors: those of prose_disc_ann_encode, PROSE_EINVAL (NULL arguments,
 * mcptt_id is not the keyring's identity), and those of prose_keyring_sign (PROSE_EUNKNOWN_KMS,
 * PROSE_EPERIOD when no own key set covers the timestamp, PROSE_ERNG).
 */
int prose_disc_ann_sign(prose_disc_ann *a, const prose_keyring *kr, const prose_rng *rng,
                        uint8_t *out, size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* The engine                                                                */
/* ------------------------------------------------------------------------ */

/* A transport address as the driver saw it (no socket types in the core). */
#define PROSE_DISC_AF_NONE 0u
#define PROSE_DISC_AF_IPV4 4u
#define PROSE_DISC_AF_IPV6 6u
typedef struct prose_disc_addr {
  uint8_t family; /* PROSE_DISC_AF_* */
  uint8_t ip[16]; /* IPv4 in the first 4 octets */
  uint16_t port;
} prose_disc_addr;

/* What this node says about itself. Changeable with prose_disc_set_local. */
typedef struct prose_disc_local {
  bool has_ipv4;
  uint8_t ipv4[4];
  bool has_ipv6;
  uint8_t ipv6[16];
  uint16_t call_port; /* default PROSE_DISC_CALL_PORT */
  size_t n_ports;
  prose_disc_port ports[PROSE_DISC_MAX_PORTS];
  uint32_t caps; /* default group + private calls */
} prose_disc_local;

/*
 * Engine settings. Start from prose_disc_settings_default() so fields added
 * later get sensible values. Defaults and why:
 *  - announce_interval_ms = 5000: a new peer is known within 5 s, and a
 *    10-node group sends 2 small datagrams per second in all;
 *  - announce_ttl_ms = 15000: three intervals, so two lost announcements in
 *    a row do not drop us from anyone's table;
 *  - max_peer_ttl_ms = 600000: the longest TTL we honour, so a peer that
 *    claims hours cannot pin a stale address in our table;
 *  - max_skew_ms = 120000: off-network clocks come from GNSS or were set
 *    while on-network; two minutes tolerates days of drift while keeping
 *    the window in which a captured announcement can be replayed short;
 *  - max_peers = 256: a large incident; the table is preallocated.
 * announce_interval_ms 0 means listen only (never announce).
 */
typedef struct prose_disc_settings {
  const char *kms_uri; /* KMS of the own key sets that sign (required; copied) */
  prose_disc_local local;
  uint32_t announce_interval_ms;
  uint32_t announce_ttl_ms;
  uint32_t max_peer_ttl_ms;
  uint32_t max_skew_ms;
  size_t max_peers;
} prose_disc_settings;

void prose_disc_settings_default(prose_disc_settings *s);

/* A peer in the table. Every field but the last four comes from its latest
 * verified announcement. */
typedef struct prose_disc_peer {
  prose_disc_ann ann;
  uint64_t first_seen_ms;
  uint64_t last_seen_ms;
  uint64_t expires_ms;     /* last_seen_ms + min(ann.ttl_ms, max_peer_ttl_ms) */
  prose_disc_addr last_src; /* datagram source of the latest one (unauthenticated) */
} prose_disc_peer;

typedef enum prose_disc_event_type {
  PROSE_DISC_EV_PEER_ADDED,    /* a new peer (or one that had expired) */
  PROSE_DISC_EV_PEER_UPDATED,  /* addresses, ports, capabilities or KMS changed */
  PROSE_DISC_EV_PEER_EXPIRED,  /* silent for its TTL */
  PROSE_DISC_EV_PEER_LEFT,     /* it announced TTL 0 */
  PROSE_DISC_EV_PEER_EVICTED,  /* dropped to make room (table full) */
  PROSE_DISC_EV_REJECTED,      /* an announcement was refused: see reason */
  PROSE_DISC_EV_ANNOUNCE_FAILED /* our own announcement could not be made */
} prose_disc_event_type;

typedef struct prose_disc_event {
  prose_disc_event_type type;
  /* Peer events: the peer (for EXPIRED, LEFT, EVICTED its last state). */
  const prose_disc_peer *peer;
  /* REJECTED and ANNOUNCE_FAILED: the prose error code. */
  int reason;
  /* REJECTED: the decoded announcement when it parsed (UNAUTHENTICATED:
   * whatever a forger wrote), else NULL; and the datagram source or NULL. */
  const prose_disc_ann *ann;
  const prose_disc_addr *from;
} prose_disc_event;

/*
 * Callbacks. Both are called synchronously from inside prose_disc_recv,
 * prose_disc_on_timeout, prose_disc_announce_now and prose_disc_leave. They
 * may call the query functions but must not feed the engine or free it.
 *  - send: transmit bytes (an announcement) to the discovery multicast group
 *    (and/or publish it through avahi). The buffer is valid during the call
 *    only. A non-zero return is counted in stats.send_failed; the engine
 *    carries on (the next interval retries).
 *  - event: table changes and rejections (may be NULL).
 */
typedef struct prose_disc_callbacks {
  int (*send)(void *user_data, const uint8_t *bytes, size_t len);
  void (*event)(void *user_data, const prose_disc_event *ev);
} prose_disc_callbacks;

/* Counters, for status displays and tests. */
typedef struct prose_disc_stats {
  uint64_t rx;            /* datagrams given to prose_disc_recv */
  uint64_t accepted;      /* verified and committed */
  uint64_t own;           /* our own announcements looped back (ignored) */
  uint64_t rej_malformed; /* any decode error */
  uint64_t rej_unknown_kms;
  uint64_t rej_period;   /* key period mismatch or not computable */
  uint64_t rej_time;     /* timestamp outside the skew window */
  uint64_t rej_sig;      /* signature did not verify */
  uint64_t rej_replay;   /* (timestamp, seq) not newer than the last accepted */
  uint64_t src_mismatch; /* accepted, but sent from an address it does not announce */
  uint64_t added, updated, expired, left, evicted;
  uint64_t sent, send_failed, announce_failed;
} prose_disc_stats;

typedef struct prose_disc prose_disc;

/*
 * Create an engine. kr and rng are borrowed and must outlive it; the
 * settings are copied. The first announcement is due at once:
 * prose_disc_next_deadline returns 0 until prose_disc_on_timeout sends it.
 * Errors: PROSE_EINVAL (NULL out, kr, rng, settings or callbacks, or a NULL
 * send callback), PROSE_ECONFIG (no kms_uri, max_peers 0 or above 65536,
 * max_skew_ms 0, a TTL of 0, a TTL below the interval, or a local
 * description that cannot be encoded), PROSE_EUNKNOWN_KMS (kms_uri is not
 * in the keyring), PROSE_ENOMEM.
 */
int prose_disc_new(prose_disc **out, prose_keyring *kr, const prose_rng *rng,
                   const prose_disc_settings *settings, const prose_disc_callbacks *cb,
                   void *user_data);
/* Free the engine (no events are emitted). NULL is a no-op. */
void prose_disc_free(prose_disc *d);

/*
 * Feed one received datagram (or one announcement from another transport,
 * such as an avahi TXT record). from may be NULL when unknown.
 *
 * Processing order (verify, then commit; DESIGN §3): decode; drop our own
 * announcement (multicast loop); timestamp within max_skew_ms of now_ntp;
 * (timestamp, seq) newer than the peer's last accepted one; KMS known; the
 * claimed key period is the period of the timestamp under that KMS; ECCSI
 * signature by the UID of the announced MCPTT ID for that period. Only then
 * is the table updated and events emitted. A rejected announcement changes
 * nothing but the counter of its reason, and emits PROSE_DISC_EV_REJECTED.
 *
 * The replay check runs before the signature so a flood of captured genuine
 * announcements costs no elliptic-curve work; a forgery with an old
 * timestamp is therefore reported as a replay.
 *
 * Returns 0 when accepted or when it was our own, else the reason:
 * decode errors (see prose_disc_ann_decode), PROSE_EUNKNOWN_KMS,
 * PROSE_ETIME, PROSE_EPERIOD, PROSE_EREPLAY, PROSE_ESIG. None is fatal:
 * the caller just goes on receiving.
 */
int prose_disc_recv(prose_disc *d, uint64_t now_ms, uint64_t now_ntp, const uint8_t *bytes,
                    size_t len, const prose_disc_addr *from);

/* Run the timers: send the announcement when due, expire silent peers,
 * forget replay state that can no longer matter. Always returns 0. */
int prose_disc_on_timeout(prose_disc *d, uint64_t now_ms, uint64_t now_ntp);

/* When prose_disc_on_timeout must next run (now_ms units), or UINT64_MAX. */
uint64_t prose_disc_next_deadline(const prose_disc *d);

/* Send an announcement now (e.g. after prose_disc_set_local) and restart
 * the interval. Returns 0 or the signing error (also reported as an
 * ANNOUNCE_FAILED event). */
int prose_disc_announce_now(prose_disc *d, uint64_t now_ms, uint64_t now_ntp);

/* Announce that we leave (TTL 0) and stop announcing until the next
 * prose_disc_announce_now. Returns 0 or the signing error. */
int prose_disc_leave(prose_disc *d, uint64_t now_ms, uint64_t now_ntp);

/* Replace what we announce about ourselves (takes effect with the next
 * announcement). Errors: PROSE_EINVAL, PROSE_ECONFIG (cannot be encoded). */
int prose_disc_set_local(prose_disc *d, const prose_disc_local *local);

/* The live peer with this MCPTT ID, or NULL. The pointer stays valid until
 * the next call that feeds the engine. */
const prose_disc_peer *prose_disc_find(const prose_disc *d, const char *mcptt_id);

/*
 * The address to reach a peer's call control for a private call: its
 * announced IPv6 address when prefer_ipv6 and it has one, else its IPv4
 * address, else its IPv6 address, with the announced call port.
 * Errors: PROSE_EINVAL (NULL arguments), PROSE_ENOENT (no live peer).
 */
int prose_disc_call_addr(const prose_disc *d, const char *mcptt_id, bool prefer_ipv6,
                         prose_disc_addr *out);

/* Iterate the live peers: start with *it = 0; returns NULL at the end. The
 * order is unspecified. Do not feed the engine while iterating. */
const prose_disc_peer *prose_disc_next_peer(const prose_disc *d, size_t *it);

/* Number of live peers. */
size_t prose_disc_peer_count(const prose_disc *d);

/* The counters. */
const prose_disc_stats *prose_disc_get_stats(const prose_disc *d);

#endif
