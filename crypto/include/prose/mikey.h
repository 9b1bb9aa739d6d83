/*
 * MIKEY-SAKKE I_MESSAGE (RFC 3830, RFC 6043, RFC 6509, 3GPP TS 33.179 Rel-13
 * Annex E) carrying a group master key (GMK, E.2) or a private call key
 * (PCK, E.3).
 *
 * Three layers:
 *  1. prose_mikey_decode / prose_mikey_encode: the byte codec, no crypto.
 *     prose_mikey_msg describes every field; decode fills it with views that
 *     point into the caller's buffer, encode writes whatever the struct says
 *     (so tests can also build malformed messages).
 *  2. prose_mikey_create: the initiator (the GMS for a GMK, the caller for a
 *     PCK) builds a signed message for one receiver.
 *  3. prose_mikey_process: the receiving user parses, checks the time window
 *     and replays, verifies the ECCSI signature, SAKKE-decapsulates and
 *     derives the key ID. Verify, then commit: the keyring's replay cache
 *     changes only after every check passed.
 *
 * Wire layout (DIGEST §3): HDR, T, RAND, IDRi, IDRr, IDRkmsi, IDRkmsr, [SP],
 * SAKKE, [GenExt 6 SAKKE-to-self], [GenExt 7 key parameters], SIGN.
 *
 * Decisions (see also mikey.c):
 *  - Decode accepts the payloads between HDR and SIGN in any order (each at
 *    most once, IDR once per role), which covers GenExt before or after SAKKE
 *    as interoperating implementations send it. Encode writes the order above.
 *  - The 3GPP key parameters (GenExt type 7, 33.179 E.6) are carried in the
 *    clear inside the signed region: integrity and origin are protected by
 *    the ECCSI signature, confidentiality of the activation times and group
 *    IDs is not. The Rel-13 "protected payload" wrapper (E.6.8) is not
 *    implemented; its encryption is unverified (DIGEST §12 item 10).
 *  - Key-parameter times are 40-bit unsigned seconds since 1970-01-01 UTC,
 *    the encoding of every 5-octet time in the MONP rules E.6.1 points to
 *    (TS 24.379 Annex I, e.g. "Call start time" 15.2.14).
 */
#ifndef PROSE_MIKEY_H
#define PROSE_MIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/keyring.h"
#include "prose/rng.h"

/* HDR constants (RFC 3830 §6.1, RFC 6509 §4.1, RFC 6043 §6.1). */
#define PROSE_MIKEY_VERSION 1u
#define PROSE_MIKEY_DT_SAKKE_I 26u  /* data type: SAKKE I_MESSAGE */
#define PROSE_MIKEY_PRF_SHA256 1u   /* PRF-HMAC-SHA-256 */
#define PROSE_MIKEY_CSMAP_EMPTY 1u  /* CS ID map type: empty map */
#define PROSE_MIKEY_CSMAP_GENERIC 2u /* CS ID map type: GENERIC-ID */

/* Payload types (the "next payload" values). */
#define PROSE_MIKEY_PT_LAST 0u
#define PROSE_MIKEY_PT_SIGN 4u
#define PROSE_MIKEY_PT_T 5u
#define PROSE_MIKEY_PT_SP 10u
#define PROSE_MIKEY_PT_RAND 11u
#define PROSE_MIKEY_PT_IDR 14u
#define PROSE_MIKEY_PT_GENEXT 21u
#define PROSE_MIKEY_PT_SAKKE 26u
/* Pseudo type used in prose_mikey_msg.payloads[] for the common header. */
#define PROSE_MIKEY_PT_HDR 255u

#define PROSE_MIKEY_TS_NTP_UTC 0u /* T payload type (RFC 3830 §6.6) */

/* IDR roles (RFC 6043 §6.6, RFC 6509 §4.4; 8/9 from later 3GPP releases). */
#define PROSE_MIKEY_ROLE_I 1u
#define PROSE_MIKEY_ROLE_R 2u
#define PROSE_MIKEY_ROLE_KMSI 6u
#define PROSE_MIKEY_ROLE_KMSR 7u
#define PROSE_MIKEY_ROLE_UIDI 8u
#define PROSE_MIKEY_ROLE_UIDR 9u
/* IDR ID types. */
#define PROSE_MIKEY_IDT_URI 1u
#define PROSE_MIKEY_IDT_BYTES 2u

/* SAKKE payload (RFC 6509 §4.2) and the 3GPP hashed-UID identifier scheme. */
#define PROSE_MIKEY_SAKKE_PARAMS 1u
#define PROSE_MIKEY_SAKKE_SCHEME_UID 2u

/* General extension types (33.179 E.5, E.6). */
#define PROSE_MIKEY_EXT_SAKKE_SELF 6u
#define PROSE_MIKEY_EXT_KEY_PARAMS 7u

#define PROSE_MIKEY_SIGN_ECCSI 2u /* SIGN payload S type (RFC 6509 §4.3) */

#define PROSE_MIKEY_RAND_LEN 16u     /* RAND length prose sends */
#define PROSE_MIKEY_RAND_MIN 16u     /* RFC 3830 §6.11: at least 128 bits */
#define PROSE_MIKEY_KEY_LEN 16u      /* GMK and PCK */
#define PROSE_MIKEY_URI_MAX 255u     /* longest URI process/create handle */
#define PROSE_MIKEY_MAX_CS 4u        /* GENERIC-ID entries decoded */
#define PROSE_MIKEY_MAX_GROUPS 8u    /* group IDs in the key parameters */
#define PROSE_MIKEY_MAX_UNKNOWN_EXT 4u
#define PROSE_MIKEY_MAX_PAYLOADS 24u

/* Key parameters: the IEI prose writes before each group ID ([A]: the
 * Rel-13 value was not retrieved; decode accepts any IEI). */
#define PROSE_MIKEY_KP_GROUP_IEI 0x01u

/* The kind of key, equal to the 4-bit purpose tag of its key ID (DIGEST §2). */
typedef enum prose_mikey_kind {
  PROSE_MIKEY_GMK = 0,
  PROSE_MIKEY_PCK = 1
} prose_mikey_kind;

/* A borrowed octet range (decode: into the message; encode: caller data). */
typedef struct prose_mikey_view {
  const uint8_t *p;
  size_t len;
} prose_mikey_view;

/* One GENERIC-ID CS ID map entry (RFC 6043 §6.1.2). */
typedef struct prose_mikey_cs {
  uint8_t cs_id;
  uint8_t prot_type;        /* 0 = SRTP */
  bool s_flag;
  prose_mikey_view policies; /* #P policy numbers (Ps), at most 127 */
  prose_mikey_view session_data;
  prose_mikey_view spi;      /* GMK: GMK-ID || GUK-ID (8 octets) */
} prose_mikey_cs;

typedef struct prose_mikey_idr {
  bool present;
  uint8_t type; /* PROSE_MIKEY_IDT_* */
  prose_mikey_view id;
} prose_mikey_idr;

typedef struct prose_mikey_sakke {
  uint8_t params;    /* 1 */
  uint8_t id_scheme; /* 2 */
  prose_mikey_view data; /* R (257) || H (16) */
} prose_mikey_sakke;

/* Security policy payload (RFC 3830 §6.10); params is the raw
 * {type(1) len(1) value}* list, validated by decode. */
typedef struct prose_mikey_sp {
  uint8_t policy_no;
  uint8_t prot_type; /* 0 = SRTP */
  prose_mikey_view params;
} prose_mikey_sp;

/* 3GPP key parameters (33.179 E.6, Table E.6.1-1), carried in the clear. */
typedef struct prose_mikey_key_params {
  uint8_t key_type;    /* E.6.11: 0 GMK, 1 PCK (= purpose tag) */
  uint32_t status;     /* E.6.9 status word, opaque (bit meanings unverified) */
  uint64_t activation; /* 40-bit seconds since 1970-01-01 UTC */
  uint64_t expiry;     /* 40-bit seconds since 1970-01-01 UTC */
  prose_mikey_view text; /* UTF-8 name of the key */
  size_t n_groups;
  uint8_t group_iei[PROSE_MIKEY_MAX_GROUPS];
  prose_mikey_view groups[PROSE_MIKEY_MAX_GROUPS]; /* UTF-8 MCPTT group IDs */
} prose_mikey_key_params;

/* Where one payload sits in the message (decode only). */
typedef struct prose_mikey_payload {
  uint8_t type; /* PROSE_MIKEY_PT_*, PT_HDR for the common header */
  uint8_t sub;  /* IDR role or GenExt type, else 0 */
  size_t off;
  size_t len;
} prose_mikey_payload;

/*
 * A whole I_MESSAGE. Decode fills every field; encode reads the fields
 * marked (enc).
 */
typedef struct prose_mikey_msg {
  /* HDR (enc) */
  uint8_t version;   /* 1 */
  uint8_t data_type; /* 26 */
  uint8_t prf;       /* 1 */
  bool v_flag;
  uint32_t csb_id;   /* GMK: the receiver's GUK-ID; PCK: the PCK-ID */
  uint8_t n_cs;      /* #CS */
  uint8_t cs_map_type;
  prose_mikey_cs cs[PROSE_MIKEY_MAX_CS]; /* GENERIC-ID entries (n_cs of them) */
  /* T (enc) */
  uint8_t ts_type;
  uint64_t t; /* NTP-UTC: 32-bit seconds since 1900 || 32-bit fraction */
  /* RAND (enc) */
  prose_mikey_view rand;
  /* IDR payloads (enc; encoded in this order when present) */
  prose_mikey_idr idr_i, idr_r, idr_kmsi, idr_kmsr, uid_i, uid_r;
  /* SP (enc) */
  bool has_sp;
  prose_mikey_sp sp;
  /* SAKKE (enc) */
  prose_mikey_sakke sakke;
  /* GenExt type 6 (enc) */
  bool has_self;
  prose_mikey_sakke self;
  /* GenExt type 7 (enc) */
  bool has_kp;
  prose_mikey_key_params kp;
  bool kp_before_sakke; /* (enc) write GenExt 7 before SAKKE; decode reports where it was */
  size_t n_unknown_ext; /* GenExt payloads of other types, skipped (decode only) */
  /* SIGN (enc): sig.p NULL writes sig.len zero octets (a placeholder to sign) */
  uint8_t sig_type;
  prose_mikey_view sig;
  /* Layout (decode only) */
  size_t len;        /* total message length */
  size_t sign_off;   /* offset of the SIGN payload; [0, sign_off) is the variant signed form */
  size_t signed_len; /* sign_off + 2; [0, signed_len) is the RFC 3830 signed form */
  size_t n_payloads;
  prose_mikey_payload payloads[PROSE_MIKEY_MAX_PAYLOADS];
} prose_mikey_msg;

/*
 * Start a message for encode: zero everything and set version 1, data type
 * 26, PRF 1, T type NTP-UTC and SIGN type ECCSI, SAKKE params 1 / scheme 2,
 * and the CS ID map of the kind (GMK: GENERIC-ID with one entry, CS-ID 4,
 * SRTP, #P = 1, Ps = {0}; PCK: #CS = 0, empty map). The GMK SPI is left
 * empty; set m->cs[0].spi to the 8-octet GMK-ID || GUK-ID.
 */
void prose_mikey_msg_init(prose_mikey_msg *m, prose_mikey_kind kind);

/*
 * The default security policy of 33.179 Table E.2-1 (GMK) or E.3-1 (PCK):
 * policy 0, SRTP, params pointing to a static table.
 */
void prose_mikey_sp_default(prose_mikey_kind kind, prose_mikey_sp *sp);

/* Short name of a payload type ("HDR", "T", "RAND", "IDR", "SP", "SAKKE",
 * "GenExt", "SIGN", else "unknown"), for diagnostics. */
const char *prose_mikey_payload_name(uint8_t type);

/* Find parameter `type` in a decoded or default SP.
 * Errors: PROSE_ENOENT (absent), PROSE_EMIKEY_SP (params malformed). */
int prose_mikey_sp_find(const prose_mikey_sp *sp, uint8_t type, prose_mikey_view *value);

/*
 * Decode an I_MESSAGE without any cryptography (for `prose mikey decode` and
 * the fuzzer). Every length is checked against its container.
 *
 * msg: the message, borrowed; the views in *out point into it and are valid
 * as long as msg is. out: filled only on success.
 *
 * Errors (first failure found, in message order):
 *  PROSE_EINVAL          NULL argument.
 *  PROSE_ETRUNC          the message ends inside a fixed-size field.
 *  PROSE_EOVERLONG       a length field exceeds the octets that follow.
 *  PROSE_ETRAILING       octets after the signature.
 *  PROSE_EMIKEY_VERSION  version != 1.
 *  PROSE_EMIKEY_DATATYPE data type != 26 (SAKKE I_MESSAGE).
 *  PROSE_EMIKEY_PRF      PRF != 1 (PRF-HMAC-SHA-256).
 *  PROSE_EMIKEY_CSMAP    CS ID map type not 1/2, or more than 4 GENERIC-ID entries.
 *  PROSE_EMIKEY_PAYLOAD  unknown payload type, or more than 24 payloads.
 *  PROSE_EMIKEY_DUPLICATE a payload (IDR: a role; GenExt: type 6 or 7) repeated.
 *  PROSE_EMIKEY_MISSING  no T, RAND, SAKKE or SIGN.
 *  PROSE_EMIKEY_TS_TYPE  T type != 0 (NTP-UTC).
 *  PROSE_EMIKEY_RAND     RAND shorter than 16 octets.
 *  PROSE_EMIKEY_IDR      unknown role, ID type not URI for roles 1/2/6/7, not a
 *                        32-octet byte string for roles 8/9, or empty ID.
 *  PROSE_EMIKEY_SP       SP protocol type != 0 or malformed parameter list.
 *  PROSE_EMIKEY_SAKKE    SAKKE params != 1, ID scheme != 2 or data length != 273.
 *  PROSE_EMIKEY_EXT      malformed GenExt 6 or 7 contents, more than 8 group
 *                        IDs, or more than 4 unknown extensions.
 *  PROSE_EMIKEY_SIGN_TYPE SIGN type != 2 or signature length != 129.
 */
int prose_mikey_decode(const uint8_t *msg, size_t len, prose_mikey_msg *out);

/*
 * Encode m into out (cap octets; out may be NULL with cap 0 to only count).
 * *out_len receives the length written (or needed). The RFC 3830 signed
 * region is [0, *out_len - m->sig.len), the variant [0, *out_len - m->sig.len - 2).
 * Errors: PROSE_EINVAL (NULL m/out_len; a view longer than its length field
 * can express; n_cs > 4 with the GENERIC-ID map; more than 127 policies;
 * more than 8 groups; a present IDR, the SAKKE data or the RAND empty),
 * PROSE_EBUFSZ (cap too small; *out_len still gets the needed length).
 */
int prose_mikey_encode(const prose_mikey_msg *m, uint8_t *out, size_t cap, size_t *out_len);

/* Parameters of prose_mikey_create. Start from prose_mikey_create_default(). */
typedef enum prose_mikey_idr_mode {
  PROSE_MIKEY_IDR_URI = 0,  /* roles 1/2 (Rel-13), the default */
  PROSE_MIKEY_IDR_UID = 1,  /* roles 8/9 only (32-octet UIDs) */
  PROSE_MIKEY_IDR_BOTH = 2  /* roles 1/2 and 8/9 */
} prose_mikey_idr_mode;

typedef struct prose_mikey_create_params {
  prose_mikey_kind kind;
  uint32_t key_id;            /* GMK-ID (tag 0) or PCK-ID (tag 1) */
  const uint8_t *key;         /* the 16-octet GMK or PCK (borrowed) */
  const char *responder_uri;  /* the receiver's MCPTT ID */
  const char *responder_kms;  /* the receiver's KMS URI (known to the keyring) */
  const char *initiator_kms;  /* own KMS URI; NULL = responder_kms */
  uint64_t t;                 /* T: 64-bit NTP timestamp; the key periods come from it */
  const uint8_t *rand;        /* RAND (16..255 octets) or NULL to draw 16 from rng;
                               * a GMS passes the one RAND of the GMK (DESIGN §3) */
  size_t rand_len;
  bool include_sp;            /* add the default SP (recommended; default true) */
  bool sakke_to_self;         /* add GenExt 6 (the key encrypted to own UID) */
  prose_mikey_idr_mode idr_mode;
  const prose_mikey_key_params *key_params; /* GMK only: GenExt 7, or NULL */
} prose_mikey_create_params;

void prose_mikey_create_default(prose_mikey_create_params *p);

/*
 * Create a signed I_MESSAGE for one receiver, as the keyring's own identity
 * (the initiator). Signs with the own key set for (initiator KMS, period of
 * T) over every octet up to and including the SIGN header (RFC 3830 §5.2),
 * and SAKKE-encrypts the key to the receiver's UID for the receiver KMS's
 * period of T with that KMS's Z. GMK: CSB ID = the receiver's GUK-ID and the
 * SPI = GMK-ID || GUK-ID; PCK: CSB ID = PCK-ID.
 *
 * kr: own identity and keys (read only). rng: for RAND when p->rand is NULL
 * and for the ECCSI nonce. out/cap: output buffer (about 700 octets for a PCK,
 * 1100 for a GMK with SAKKE-to-self); *out_len the length written.
 *
 * Errors: PROSE_EINVAL (NULL argument, empty URI, URI longer than 255,
 * key_id purpose tag not matching kind, key_params with a PCK, rand_len out
 * of 16..255), PROSE_EUNKNOWN_KMS (a KMS not in the keyring), PROSE_EPERIOD
 * (T before a KMS offset, or no own key set for the period of T),
 * PROSE_EBUFSZ, PROSE_ERNG, PROSE_ENOMEM, PROSE_ECRYPTO.
 * No secret is left in any temporary; out holds no secret (the key is
 * SAKKE-encrypted).
 */
int prose_mikey_create(const prose_keyring *kr, const prose_mikey_create_params *p,
                       const prose_rng *rng, uint8_t *out, size_t cap, size_t *out_len);

/* What the receiver learns from an accepted I_MESSAGE. */
typedef struct prose_mikey_result {
  prose_mikey_kind kind;
  uint8_t key[PROSE_MIKEY_KEY_LEN]; /* GMK or PCK: SECRET, the caller wipes it
                                     * (prose_mikey_result_clear) */
  uint32_t key_id;  /* GMK-ID or PCK-ID */
  uint32_t csb_id;  /* GMK: own GUK-ID; PCK: the PCK-ID */
  uint8_t rand[255];
  size_t rand_len;  /* the RAND, needed to derive SRTP keys (DIGEST §4.1) */
  uint64_t t;       /* the T payload (NTP) */
  /* The initiator (GMS or caller): its URI (empty when it sent only its UID,
   * role 8; a caller that authorises by URI must then refuse), its KMS and
   * its UID for the period of T. */
  char initiator_uri[PROSE_MIKEY_URI_MAX + 1];
  char initiator_kms[PROSE_MIKEY_URI_MAX + 1];
  uint8_t initiator_uid[32];
  bool sig_variant; /* the signature covered the message without the SIGN header */
  /* The decoded message: its views (key parameters, SP ...) point into the
   * buffer given to prose_mikey_process and are valid as long as it is. */
  prose_mikey_msg msg;
} prose_mikey_result;

/* Wipe the key and reset the result. */
void prose_mikey_result_clear(prose_mikey_result *r);

/*
 * Process an incoming I_MESSAGE as the keyring's own identity (the receiver).
 *
 * Order (33.179 E, DIGEST §3.4): decode; structural checks of the kind
 * (purpose tag of the CSB ID, CS map, SPI, SP profile, key-parameter key
 * type, IDR presence); T against the window of the kind; replay cache; KMS
 * lookup (IDRkmsi for the sender, IDRkmsr or else IDRkmsi for the receiver);
 * the receiver identity; own key set for the period of T; the sender UID for
 * the period of T (never the local clock); ECCSI verification over the RFC
 * form, then the variant that stops before SIGN; SAKKE decapsulation with
 * the TEST check; the key ID (PCK: CSB ID; GMK: GUK-ID XOR salt, compared
 * with the SPI's GMK-ID). Only then is the replay cache updated.
 *
 * now_ntp: the caller's wall clock, seconds since 1900 (Unix + 2208988800).
 * msg/len: borrowed (res->msg points into it). res: written only on success.
 *
 * Errors (on every error the keyring is unchanged and no secret remains):
 *  any error of prose_mikey_decode;
 *  PROSE_EINVAL          NULL argument;
 *  PROSE_EMIKEY_KEYTYPE  CSB ID purpose tag not GMK (0) or PCK (1), the key
 *                        parameters' key type differs from it, or the derived
 *                        GMK-ID does not carry tag 0;
 *  PROSE_EMIKEY_CSMAP    GMK with a CS map that is not empty or one
 *                        GENERIC-ID entry with an SPI of 0 or 8 octets whose
 *                        GUK-ID equals the CSB ID;
 *  PROSE_EMIKEY_SP       SP present with an encryption algorithm, key, salt
 *                        or AEAD tag length other than AES-GCM 16/12/16;
 *  PROSE_EMIKEY_MISSING  no initiator (role 1 or 8), receiver (2 or 9) or
 *                        IDRkmsi;
 *  PROSE_EMIKEY_IDR      a URI longer than 255 octets or containing NUL;
 *  PROSE_ETIME           T outside the window of its kind;
 *  PROSE_EREPLAY         (CSB ID, T, RAND) already accepted, or T not newer
 *                        than an entry the full cache had to evict;
 *  PROSE_EUNKNOWN_KMS    IDRkmsi or IDRkmsr names a KMS not in the keyring;
 *  PROSE_EWRONG_RECIPIENT IDRr is not the own URI, or (without IDRr) the
 *                        UIDr is not the own UID;
 *  PROSE_EPERIOD         T before a KMS offset, or no own key set for the
 *                        period of T;
 *  PROSE_EUID_MISMATCH   UIDi / UIDr differ from the UID computed from the
 *                        URI in the same message;
 *  PROSE_ESIG            the signature fails in both forms (including a PVT
 *                        that is not a valid point);
 *  PROSE_ESAKKE_TEST     decapsulation fails (TEST check, or R not a point);
 *  PROSE_EKEY_INVALID    GMK: the GMK-ID computed from the key (GUK-ID XOR
 *                        salt) differs from the GMK-ID in the SPI;
 *  PROSE_ENOMEM, PROSE_ECRYPTO.
 */
int prose_mikey_process(prose_keyring *kr, uint64_t now_ntp, const uint8_t *msg, size_t len,
                        prose_mikey_result *res);

#endif
