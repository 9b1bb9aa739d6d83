/*
 * Media keying: SRTP and SRTCP contexts (libsrtp2, AEAD_AES_128_GCM with a
 * 16-octet tag, RFC 7714) keyed per TS 33.179 Rel-13 7.5 and 7.6 from GMKs
 * and PCKs (DESIGN §3, DIGEST §4.1 and §5).
 *
 * Group call (prose_media_group)
 *   - Each sender derives its own SRTP master key and salt from the GMK with
 *     CS-ID 4 (PROSE_CSID_GROUP), its own GUK-ID as CSB-ID and the RAND of the
 *     GMK's I_MESSAGE. Its packets carry MKI = GMK-ID ‖ GUK-ID (8 octets), so
 *     a receiver finds the GMK by GMK-ID and rebuilds that sender's key from
 *     the GUK-ID without trial decryption.
 *   - SRTP wire form: RTP header ‖ ciphertext ‖ tag(16) ‖ MKI(8) ‖ ROC(4). The
 *     trailing ROC is RFC 4771 RCCm3 with R = 1 (every packet), so a member
 *     who joins late decrypts the first packet it hears. Neither the MKI nor
 *     the ROC is authenticated; a changed ROC only changes the GCM IV and so
 *     makes the tag check fail.
 *   - SRTCP (floor control, 33.179 7.6): same master key, salt and MKI,
 *     header(8) ‖ ciphertext ‖ tag(16) ‖ E|index(4) ‖ MKI(8); no ROC.
 *   - Receiving: the context keeps one libsrtp session per (SSRC, MKI) it has
 *     authenticated, so after the first packet a sender costs one lookup and
 *     one unprotect. A new GMK-ID (rekey) simply means new MKIs and new
 *     sessions; old and new keys overlap until the node forgets the old one.
 *     Key material comes from the node through a lookup callback, so the
 *     context never holds a GMK longer than one derivation.
 *
 * Private call (prose_media_private)
 *   - Master keys from the PCK with CSB-ID = PCK-ID: CS-ID 0 for media the
 *     caller sends, CS-ID 1 for media the callee sends. MKI = PCK-ID
 *     (4 octets), no ROC field (the private profile tracks the ROC as in
 *     RFC 3711 §3.3.1). SRTCP uses the same keys and MKI.
 *
 * Rules common to both
 *   - Sans-IO: no sockets, no clocks. Packets are processed in place in the
 *     caller's buffer. A buffer given to a protect function must have
 *     PROSE_MEDIA_HEADROOM writable octets after the packet (cap >= len +
 *     PROSE_MEDIA_HEADROOM), because libsrtp may write SRTP_MAX_TRAILER_LEN
 *     (+4 for SRTCP) octets past the packet and the ROC follows the MKI.
 *   - Buffers must start on a 4-octet boundary (libsrtp reads the headers as
 *     32-bit words); misaligned buffers are refused with PROSE_EINVAL.
 *   - Nothing passes plaintext through: every packet sent is encrypted and
 *     authenticated, and an SRTCP packet without the E flag is refused.
 *   - A failed unprotect changes nothing that affects later packets (replay
 *     windows, ROC, cached sessions) and increments one drop counter; it may
 *     leave the buffer partly decrypted. A receive session is created only
 *     after its first packet authenticated, so forged packets can neither
 *     fill nor flush the cache.
 *   - The sender's RTP index (ROC ‖ SEQ) must increase strictly: a packet
 *     whose sequence number does not move forward is refused with
 *     PROSE_EREPLAY, since protecting it again would reuse a GCM nonce.
 *   - Master keys, salts and GMK/PCK copies are wiped (prose_wipe) as soon
 *     as libsrtp has expanded them and when a context is freed; nothing is
 *     logged.
 *   - Nonce safety across contexts is the caller's duty: choose a fresh
 *     random SSRC for every context and every tx key (RFC 3711 §9.1,
 *     RFC 7714 §8); a restarted node must not reuse an SSRC with a GMK it
 *     already sent with.
 *   - Threads: a context is not thread-safe; distinct contexts may be used
 *     from distinct threads. libsrtp is initialised once per process by
 *     prose_media_lib_init() (pthread_once), which every constructor calls.
 *     prose never calls srtp_shutdown().
 */
#ifndef PROSE_MEDIA_H
#define PROSE_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROSE_MEDIA_KEY_LEN 16        /* GMK and PCK */
#define PROSE_MEDIA_RAND_MIN 16       /* RFC 3830 §6.11 */
#define PROSE_MEDIA_RAND_MAX 255      /* one length octet */
#define PROSE_MEDIA_TAG_LEN 16        /* AEAD_AES_128_GCM tag, RFC 7714 §14.2 */
#define PROSE_MEDIA_GROUP_MKI_LEN 8   /* GMK-ID ‖ GUK-ID */
#define PROSE_MEDIA_LEGACY_MKI_LEN 4  /* GUK-ID only (DIGEST §12 item 1) */
#define PROSE_MEDIA_PRIVATE_MKI_LEN 4 /* PCK-ID */
#define PROSE_MEDIA_ROC_LEN 4         /* RCCm3 trailer */
#define PROSE_MEDIA_SRTCP_INDEX_LEN 4 /* E flag ‖ 31-bit SRTCP index */

/* Octets a protect call adds to a packet. */
#define PROSE_MEDIA_GROUP_RTP_OVERHEAD \
  (PROSE_MEDIA_TAG_LEN + PROSE_MEDIA_GROUP_MKI_LEN + PROSE_MEDIA_ROC_LEN)
#define PROSE_MEDIA_GROUP_RTCP_OVERHEAD \
  (PROSE_MEDIA_TAG_LEN + PROSE_MEDIA_SRTCP_INDEX_LEN + PROSE_MEDIA_GROUP_MKI_LEN)
#define PROSE_MEDIA_PRIVATE_RTP_OVERHEAD (PROSE_MEDIA_TAG_LEN + PROSE_MEDIA_PRIVATE_MKI_LEN)
#define PROSE_MEDIA_PRIVATE_RTCP_OVERHEAD \
  (PROSE_MEDIA_TAG_LEN + PROSE_MEDIA_SRTCP_INDEX_LEN + PROSE_MEDIA_PRIVATE_MKI_LEN)

/* Writable octets a protect call needs after the packet: libsrtp's
 * SRTP_MAX_TRAILER_LEN (16 + 128) + 4 for the SRTCP index, + 8 MKI + 4 ROC.
 * media.c checks this against the libsrtp headers at compile time. */
#define PROSE_MEDIA_HEADROOM 160u

/* Initialise libsrtp once per process (thread-safe, pthread_once). Every
 * constructor below calls it; an embedder that also uses libsrtp directly
 * calls this instead of srtp_init(). 0 or PROSE_ECRYPTO. */
int prose_media_lib_init(void);

/* Counters a node can read at any time (monotonic over a context's life). */
typedef struct prose_media_counters {
  uint64_t tx_rtp, tx_rtcp; /* packets protected */
  uint64_t rx_rtp, rx_rtcp; /* packets accepted */
  /* Dropped on receive, one counter per reason: */
  uint64_t drop_malformed;   /* too short, not version 2, bad lengths, E=0 */
  uint64_t drop_unknown_mki; /* the MKI names no key (PROSE_EMEDIA_MKI) */
  uint64_t drop_no_key;      /* the key exists but cannot be used */
  uint64_t drop_auth;        /* GCM tag check failed (PROSE_EMEDIA_AUTH) */
  uint64_t drop_replay;      /* replayed, too old or own packet reflected */
  uint64_t streams_created;  /* group: per-sender sessions created */
  uint64_t streams_evicted;  /* group: sessions dropped by the LRU bound */
} prose_media_counters;

/*
 * Key material handed to a group context by the node's lookup callback.
 * media.c wipes it right after deriving the master key.
 */
typedef struct prose_media_key {
  uint8_t tgk[PROSE_MEDIA_KEY_LEN];   /* the GMK */
  uint32_t key_id;                    /* its GMK-ID */
  uint8_t rand[PROSE_MEDIA_RAND_MAX]; /* RAND of the GMK's I_MESSAGE */
  size_t rand_len;                    /* PROSE_MEDIA_RAND_MIN..MAX */
} prose_media_key;

/*
 * Find the GMK named by gmk_id. Return 0 with *out filled, PROSE_ENOKEY if
 * the ID names no key (counted as unknown MKI, PROSE_EMEDIA_MKI), or another
 * negative code (for example PROSE_EEXPIRED for a revoked or expired key):
 * the packet is then dropped as "no key" and that code is returned.
 * Called only for the first packet of a new (SSRC, MKI); keep it cheap
 * (an in-memory index), since unknown MKIs reach it on every packet.
 */
typedef int (*prose_media_gmk_lookup_fn)(void *user, uint32_t gmk_id, prose_media_key *out);
/*
 * Optional, for a peer that sends the 4-octet GUK-ID-only MKI (DIGEST §12
 * item 1): find the GMK whose GUK-ID for some group member is guk_id
 * (GMK-ID = GUK-ID XOR salt of that member, 33.179 F.1.3) and fill *out
 * including out->key_id = the GMK-ID. Same return values as above.
 */
typedef int (*prose_media_guk_lookup_fn)(void *user, uint32_t guk_id, prose_media_key *out);

typedef struct prose_media_group_config {
  prose_media_gmk_lookup_fn lookup_gmk; /* NULL: the context cannot receive */
  prose_media_guk_lookup_fn lookup_guk; /* NULL: no 4-octet MKIs accepted */
  void *user;                           /* passed to both callbacks */
  size_t max_senders;                   /* receive sessions kept; 0 = 32 */
} prose_media_group_config;

/* Who sent an accepted group packet (from its MKI and header). */
typedef struct prose_media_rx_info {
  uint32_t ssrc;
  uint32_t gmk_id;
  uint32_t guk_id; /* the sender's GUK-ID */
  uint32_t roc;    /* RTP: the RCCm3 ROC carried; RTCP: 0 */
  size_t mki_len;  /* 8, or 4 for a legacy GUK-ID-only MKI */
} prose_media_rx_info;

typedef struct prose_media_group prose_media_group;

/* PROSE_EINVAL (cfg or out NULL), PROSE_ENOMEM, PROSE_ECRYPTO. */
int prose_media_group_new(const prose_media_group_config *cfg, prose_media_group **out);
/* Frees every session and wipes all key copies. NULL is allowed. */
void prose_media_group_free(prose_media_group *g);

/*
 * Install the key this member sends with: the GMK, its GMK-ID, the own
 * GUK-ID (the CSB ID of the own I_MESSAGE), the GMK's RAND and the SSRC of
 * the packets it will protect. A new key creates a new libsrtp session
 * (never srtp_update, see PLATFORM.md). With the same SSRC the RTP index
 * carries on, so receivers see one stream whose MKI changes. Installing the
 * identical key and SSRC again is a no-op (the SRTCP index continues).
 * Installing the key of the previous installation with its SSRC again is
 * refused (PROSE_EINVAL): its SRTCP index would restart and reuse nonces.
 * Errors: PROSE_EINVAL, PROSE_ELEN (rand_len), PROSE_EMIKEY_KEYTYPE (GMK-ID
 * or GUK-ID purpose tag not GMK, or tags differ), PROSE_ENOMEM,
 * PROSE_ECRYPTO. On error the previous key stays in force.
 */
int prose_media_group_set_tx_key(prose_media_group *g, const uint8_t gmk[PROSE_MEDIA_KEY_LEN],
                                 uint32_t gmk_id, uint32_t guk_id, const uint8_t *rand,
                                 size_t rand_len, uint32_t ssrc);

/*
 * Protect one RTP packet of len octets in buf (cap >= len +
 * PROSE_MEDIA_HEADROOM) into hdr ‖ ct ‖ tag ‖ MKI ‖ ROC; *out_len gets the
 * SRTP length (len + PROSE_MEDIA_GROUP_RTP_OVERHEAD). The packet's SSRC must
 * be the tx SSRC. Errors: PROSE_EINVAL (NULL, misaligned, other SSRC),
 * PROSE_ERANGE (len > 65535), PROSE_EBUFSZ, PROSE_ENOKEY (no tx key),
 * PROSE_ETRUNC / PROSE_EMEDIA_PKT (not an RTP packet), PROSE_EREPLAY (index
 * not increasing), PROSE_EEXPIRED (2^48 packets sent), PROSE_ECRYPTO.
 */
int prose_media_group_protect_rtp(prose_media_group *g, uint8_t *buf, size_t len, size_t cap,
                                  size_t *out_len);
/* Protect one RTCP packet (compound allowed; length a multiple of 4, SSRC =
 * tx SSRC) as SRTCP with the tx key and MKI. Same errors. */
int prose_media_group_protect_rtcp(prose_media_group *g, uint8_t *buf, size_t len, size_t cap,
                                   size_t *out_len);

/*
 * Unprotect one SRTP packet (at most 65535 octets) from any member in
 * place; *out_len gets the RTP length, *info (optional) who sent it. Errors
 * (each counted once):
 *   PROSE_ETRUNC, PROSE_EMEDIA_PKT      drop_malformed
 *   PROSE_EMEDIA_MKI                    drop_unknown_mki
 *   PROSE_ENOKEY or the callback's code drop_no_key
 *   PROSE_EMEDIA_AUTH                   drop_auth
 *   PROSE_EREPLAY                       drop_replay (also an own packet
 *                                       reflected back: MKI = own tx MKI)
 * and PROSE_EINVAL, PROSE_ENOMEM, PROSE_ECRYPTO (not counted).
 */
int prose_media_group_unprotect_rtp(prose_media_group *g, uint8_t *buf, size_t len, size_t *out_len,
                                    prose_media_rx_info *info);
/* The same for SRTCP (floor control); info->roc is 0. */
int prose_media_group_unprotect_rtcp(prose_media_group *g, uint8_t *buf, size_t len,
                                     size_t *out_len, prose_media_rx_info *info);

/* Drop every receive session keyed from gmk_id (the GMK expired or was
 * revoked). Returns how many were dropped. */
size_t prose_media_group_forget_gmk(prose_media_group *g, uint32_t gmk_id);
/* Receive sessions currently cached. */
size_t prose_media_group_sessions(const prose_media_group *g);
void prose_media_group_counters(const prose_media_group *g, prose_media_counters *out);

/* ---- private calls ---- */

typedef enum prose_media_role {
  PROSE_MEDIA_CALLER = 0, /* sends with CS-ID 0, receives CS-ID 1 */
  PROSE_MEDIA_CALLEE = 1  /* sends with CS-ID 1, receives CS-ID 0 */
} prose_media_role;

typedef struct prose_media_private prose_media_private;

/*
 * A private call context from the PCK, its PCK-ID (purpose tag 1), the RAND
 * of the PCK's I_MESSAGE, the own role and the own tx SSRC. The peer's SSRC
 * is learnt from its first authenticated packet.
 * Errors: PROSE_EINVAL, PROSE_ELEN, PROSE_EMIKEY_KEYTYPE, PROSE_ENOMEM,
 * PROSE_ECRYPTO.
 */
int prose_media_private_new(const uint8_t pck[PROSE_MEDIA_KEY_LEN], uint32_t pck_id,
                            const uint8_t *rand, size_t rand_len, prose_media_role role,
                            uint32_t tx_ssrc, prose_media_private **out);
void prose_media_private_free(prose_media_private *p);

/* hdr ‖ ct ‖ tag ‖ PCK-ID; errors as for the group protect calls. */
int prose_media_private_protect_rtp(prose_media_private *p, uint8_t *buf, size_t len, size_t cap,
                                    size_t *out_len);
int prose_media_private_protect_rtcp(prose_media_private *p, uint8_t *buf, size_t len, size_t cap,
                                     size_t *out_len);
/* Errors and counters as for the group unprotect calls (a different PCK-ID
 * is PROSE_EMEDIA_MKI). */
int prose_media_private_unprotect_rtp(prose_media_private *p, uint8_t *buf, size_t len,
                                      size_t *out_len);
int prose_media_private_unprotect_rtcp(prose_media_private *p, uint8_t *buf, size_t len,
                                       size_t *out_len);
void prose_media_private_counters(const prose_media_private *p, prose_media_counters *out);

#endif
