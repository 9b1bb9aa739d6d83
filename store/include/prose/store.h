/*
 * The on-device key store.
 *
 * A store is a directory (mode 0700) holding one SQLite database
 * (store.db, WAL mode, files 0600) and, unless a passphrase is used, the
 * device key file device.key (0600, 32 random octets). Secret values (SSK,
 * RSK, GMK, PCK, KMS master secrets) are sealed with AES-256-GCM under the
 * device key; the AAD binds each sealed value to its store, table, column
 * and row identity so a value cannot be moved to another row. Public
 * material (KMS certificates, PVTs, UIDs, key IDs, times) stays in the
 * clear for listing. See docs/store.md.
 *
 * The same store serves three roles: a device (its user key sets, GMKs and
 * PCKs), an offline KMS (its master secrets, see prose/authority.h) and a
 * GMS (its own key sets, groups and GMKs).
 *
 * Time: every function that needs the time takes `t`, NTP seconds (seconds
 * since 1900-01-01 UTC; Unix time + 2208988800); the store never reads the
 * clock. PROSE_STORE_NEVER stands for "no expiry".
 *
 * Randomness (device key, scrypt salt, AES-GCM nonces, key generation in
 * the authority functions) comes from the prose_rng in the settings.
 *
 * Verify, then commit: every import parses and verifies a whole file into
 * temporaries and then writes it in one SQLite transaction; a failure leaves
 * the database exactly as it was.
 *
 * Not thread-safe: use one prose_store per thread (SQLite allows several
 * connections to one store; writers wait up to busy_timeout_ms).
 */
#ifndef PROSE_STORE_H
#define PROSE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/diag.h"
#include "prose/keyring.h"
#include "prose/rng.h"

#define PROSE_STORE_URI_MAX 256 /* longest URI or group ID kept, with NUL */
#define PROSE_STORE_NEVER ((uint64_t)INT64_MAX)
#define PROSE_STORE_RAND_MAX 255
#define PROSE_STORE_MAX_FILE (16u * 1024u * 1024u) /* prose_store_import_file bound */

typedef struct prose_store prose_store;

typedef enum prose_store_role {
  PROSE_STORE_DEVICE = 0, /* a user's device */
  PROSE_STORE_KMS = 1,    /* an offline KMS (prose_kms_*) */
  PROSE_STORE_GMS = 2     /* an offline GMS (prose_gms_*) */
} prose_store_role;

/*
 * Settings of prose_store_create and prose_store_open. Start from
 * prose_store_settings_default().
 *
 * Defaults and why:
 *  - passphrase NULL: the device key is a random 32-octet file, the usual
 *    choice for unattended devices; with a passphrase nothing secret is on
 *    disk and the key is scrypt(passphrase, salt, N, r, p).
 *  - scrypt N = 2^15, r = 8, p = 1 (about 32 MiB and 0.1 s here: the
 *    interactive-login parameters recommended by the scrypt paper). open
 *    uses the parameters recorded at create and refuses N outside
 *    [2^10, 2^20] (r <= 32, p <= 16, at most 1 GiB) so a tampered
 *    database cannot make open exhaust the machine.
 *  - busy_timeout_ms 5000: another process importing into the same store
 *    holds the write lock for at most a few hundred milliseconds.
 */
typedef struct prose_store_settings {
  prose_store_role role; /* create only */
  const char *owner_uri; /* create only: the device user's MCPTT ID (or the GMS URI).
                          * Key sets and I_MESSAGEs for other users are refused.
                          * NULL = a multi-user store that accepts any user. */
  const char *passphrase; /* NULL = device key file */
  size_t passphrase_len;
  uint64_t scrypt_n; /* create only */
  uint32_t scrypt_r; /* create only */
  uint32_t scrypt_p; /* create only */
  const prose_rng *rng; /* NULL = prose_rng_system(); borrowed: must outlive the store */
  int busy_timeout_ms;
} prose_store_settings;

void prose_store_settings_default(prose_store_settings *s);

/*
 * Create a new store in dir (created with mode 0700 if absent; an existing
 * directory must not hold a store yet).
 * Errors: PROSE_EINVAL (NULL argument, bad settings), PROSE_EEXIST (dir
 * already holds a store), PROSE_EPERM / PROSE_EIO (file system),
 * PROSE_ERANGE (scrypt parameters out of range), PROSE_ERNG, PROSE_ECRYPTO,
 * PROSE_EDB, PROSE_ENOMEM. On error nothing is left behind except a
 * directory that was created.
 */
int prose_store_create(prose_store **out, const char *dir, const prose_store_settings *s,
                       prose_diag *d);

/*
 * Open an existing store. Checks the schema, runs SQLite's quick_check and
 * verifies the device key (or passphrase) before anything else.
 * Errors: PROSE_EINVAL, PROSE_ENOENT (no store in dir, or no device key file
 * when no passphrase is given), PROSE_EPERM (device key file readable by
 * others, or file permissions), PROSE_EAUTH (wrong passphrase or device key),
 * PROSE_ESTORE_CORRUPT (not a database, failed integrity check, malformed
 * metadata), PROSE_EFORMAT (unknown schema version), PROSE_EIO, PROSE_EDB,
 * PROSE_ENOMEM.
 */
int prose_store_open(prose_store **out, const char *dir, const prose_store_settings *s,
                     prose_diag *d);

/* Close, wiping the device key. NULL is a no-op. */
void prose_store_close(prose_store *st);

prose_store_role prose_store_get_role(const prose_store *st);
/* The owner URI given at create, "" for a multi-user store. */
const char *prose_store_owner(const prose_store *st);

/* ---- Import ------------------------------------------------------------ */

typedef enum prose_import_format {
  PROSE_IMPORT_UNKNOWN = 0,
  PROSE_IMPORT_BUNDLE = 1,  /* starts with "PROSEBDL" */
  PROSE_IMPORT_KMSXML = 2,  /* starts with '<' (after an optional BOM and white space) */
  PROSE_IMPORT_IMESSAGE = 3 /* starts with 01 1A (MIKEY version 1, SAKKE I_MESSAGE) */
} prose_import_format;

prose_import_format prose_store_detect_format(const uint8_t *data, size_t len);

typedef struct prose_import_summary {
  prose_import_format format;
  size_t certs;       /* KMS certificates added or updated */
  size_t keysets;     /* user key sets added or updated */
  size_t gmks;        /* GMK rows added (one per group the GMK is for) */
  size_t trusted_gms; /* GMS URIs added to the trust list */
  size_t unchanged;   /* items already stored identically */
} prose_import_summary;

/*
 * Import a bundle, a KMS XML document or a raw GMK I_MESSAGE (detected from
 * the content). Everything is parsed and verified first:
 *  - KMS certificates: points on their curves, ParameterSet 1, not expired
 *    at t; a certificate whose keys differ from a stored one with the same
 *    KmsUri is refused (EEXIST);
 *  - key sets: a known (stored or imported) non-revoked certificate, the
 *    store owner as UserUri, UserID equal to the UID recomputed from
 *    (UserUri, KmsUri, period, offset, KeyPeriodNo), SSK/PVT against KPAK
 *    (RFC 6507 §5.1.2), RSK against Z (RFC 6508 §6.1.2), period and ValidTo
 *    not over at t;
 *  - GMK I_MESSAGEs: addressed to the owner, not seen before, verified and
 *    decapsulated by prose_mikey_process with a key set of the receiver for
 *    the period of T, sent by a trusted GMS (URI in the trust list or in a
 *    TRUST_GMS record of the same bundle), with key parameters naming at
 *    least one group, a GMK-ID consistent with the GUK-ID, not expired at t;
 * then written in one transaction. Revocation is sticky: re-importing a
 * revoked key set or certificate without Revoked=true does not revive it.
 *
 * data/len: borrowed. t: NTP seconds (now). sum, d: optional.
 * Errors (the store is unchanged on every error; d names the element or
 * bundle record):
 *  PROSE_EINVAL, PROSE_EFORMAT (unknown format; a PCK I_MESSAGE; a KMS
 *  document with nothing to import), the errors of prose_bundle_parse,
 *  prose_kmsxml_parse and prose_mikey_process, and
 *  PROSE_EPOINT          a key or certificate point not on its curve;
 *  PROSE_EUNKNOWN_KMS    a key set or I_MESSAGE for a KMS with no certificate;
 *  PROSE_EWRONG_RECIPIENT a key set or I_MESSAGE for another user than the owner;
 *  PROSE_EUID_MISMATCH   UserID differs from the recomputed UID;
 *  PROSE_EKEY_INVALID / PROSE_ERANGE  SSK/PVT or RSK fail validation;
 *  PROSE_EEXPIRED        material expired at t, or a key set of a revoked certificate;
 *  PROSE_EREPLAY         an I_MESSAGE (CSB ID, T, RAND) already imported;
 *  PROSE_EUNAUTHORISED   the I_MESSAGE's GMS is not trusted;
 *  PROSE_EMIKEY_MISSING  a GMK I_MESSAGE without key parameters or group ID;
 *  PROSE_EEXIST          a different certificate or GMK under a stored ID;
 *  PROSE_EPERIOD         no key set of the receiver for the period of T;
 *  PROSE_ESTORE_CORRUPT  a stored sealed value fails to open;
 *  PROSE_EDB, PROSE_ENOMEM, PROSE_ERNG, PROSE_ECRYPTO.
 */
int prose_store_import(prose_store *st, const uint8_t *data, size_t len, uint64_t t,
                       prose_import_summary *sum, prose_diag *d);

/* Read a file (at most PROSE_STORE_MAX_FILE octets, else PROSE_ELEN) and
 * import it. Adds PROSE_ENOENT / PROSE_EIO / PROSE_EPERM for the file. */
int prose_store_import_file(prose_store *st, const char *path, uint64_t t,
                            prose_import_summary *sum, prose_diag *d);

/* ---- GMS trust list ------------------------------------------------------ */

/* Trust GMK I_MESSAGEs signed by gms_uri (idempotent).
 * Errors: PROSE_EINVAL (NULL, empty, longer than 255 or with control
 * characters), PROSE_EDB. */
int prose_store_trust_gms(prose_store *st, const char *gms_uri);
/* Errors: PROSE_EINVAL, PROSE_ENOENT (not in the list), PROSE_EDB. */
int prose_store_untrust_gms(prose_store *st, const char *gms_uri);
bool prose_store_gms_is_trusted(prose_store *st, const char *gms_uri);

/* ---- Queries --------------------------------------------------------- */

/* A stored KMS certificate (public). */
typedef struct prose_store_kms {
  char kms_uri[PROSE_STORE_URI_MAX];
  char cert_uri[PROSE_STORE_URI_MAX];
  char issuer[PROSE_STORE_URI_MAX];
  int role; /* prose_kmsxml_role */
  uint64_t period, offset;
  uint64_t valid_from; /* 0 when absent */
  uint64_t valid_to;   /* PROSE_STORE_NEVER when absent */
  bool revoked;
  uint8_t kpak[65];
  uint8_t z[257];
} prose_store_kms;

/* Errors: PROSE_EINVAL, PROSE_ENOKEY (no such certificate), PROSE_EDB. */
int prose_store_kms_get(prose_store *st, const char *kms_uri, prose_store_kms *out);

/* A user key set. ssk and rsk are SECRET: prose_store_keyset_wipe after use. */
typedef struct prose_store_keyset {
  char kms_uri[PROSE_STORE_URI_MAX];
  char user_uri[PROSE_STORE_URI_MAX];
  uint64_t period_no;
  uint64_t start, end; /* NTP seconds, [start, end) */
  uint8_t uid[32];
  uint8_t pvt[65];
  uint8_t ssk[32];
  uint8_t rsk[257];
} prose_store_keyset;

void prose_store_keyset_wipe(prose_store_keyset *ks);

/*
 * The key set of user_uri (NULL = the owner) for the key period that
 * contains t + ahead periods (ahead 0 = current, 1 = next), under any
 * non-revoked certificate valid at t (the first by KMS URI when several
 * match). Revoked key sets and key sets outside ValidFrom/ValidTo are
 * never returned.
 * Errors: PROSE_EINVAL, PROSE_ENOKEY (none stored), PROSE_EEXPIRED (one is
 * stored but revoked or outside its validity), PROSE_ESTORE_CORRUPT,
 * PROSE_EDB.
 */
int prose_store_keyset_at(prose_store *st, const char *user_uri, uint64_t t, unsigned ahead,
                          prose_store_keyset *out);

/* A GMK as the device holds it. gmk is SECRET: prose_store_gmk_wipe. */
typedef struct prose_store_gmk {
  char group_id[PROSE_STORE_URI_MAX];
  char user_uri[PROSE_STORE_URI_MAX]; /* the receiving user (own GUK-ID belongs to it) */
  char gms_uri[PROSE_STORE_URI_MAX];
  uint32_t gmk_id;
  uint32_t guk_id; /* the own GUK-ID: CSB ID of the own SRTP master key */
  uint64_t activation, expiry; /* NTP seconds; expiry PROSE_STORE_NEVER = none */
  uint32_t status;             /* key-parameters status word (opaque) */
  uint8_t rand[PROSE_STORE_RAND_MAX];
  size_t rand_len;
  uint8_t gmk[16];
} prose_store_gmk;

void prose_store_gmk_wipe(prose_store_gmk *g);

/*
 * The GMK group_id transmits with at t: the one with the latest activation
 * time <= t among those not expired at t (so a rekey takes over at its
 * activation time while the previous GMK stays available for receiving).
 * Errors: PROSE_EINVAL, PROSE_ENOKEY (no GMK active at t), PROSE_ESTORE_CORRUPT,
 * PROSE_EDB.
 */
int prose_store_gmk_tx(prose_store *st, const char *group_id, uint64_t t, prose_store_gmk *out);

/*
 * The GMK a received GMK-ID names (group_id NULL = any group; the latest
 * activation wins if several groups share the ID). Activation is not
 * checked (a sender may switch a little before us); expiry is.
 * Errors: PROSE_EINVAL, PROSE_ENOKEY (unknown GMK-ID), PROSE_EEXPIRED
 * (known but expired at t), PROSE_ESTORE_CORRUPT, PROSE_EDB.
 */
int prose_store_gmk_rx(prose_store *st, uint32_t gmk_id, const char *group_id, uint64_t t,
                       prose_store_gmk *out);

/* A private call key. pck is SECRET: prose_store_pck_wipe. */
typedef struct prose_store_pck {
  uint32_t pck_id; /* purpose tag 1 */
  char peer_uri[PROSE_STORE_URI_MAX];
  uint8_t pck[16];
  uint8_t rand[PROSE_STORE_RAND_MAX];
  size_t rand_len;
  uint64_t created; /* NTP seconds */
  uint64_t expires; /* NTP seconds, the end of the key's lifetime */
} prose_store_pck;

void prose_store_pck_wipe(prose_store_pck *p);

/* Store a PCK. Errors: PROSE_EINVAL (tag not 1, rand_len > 255, expires <=
 * created), PROSE_EEXIST (the PCK-ID is taken), PROSE_ERNG, PROSE_EDB. */
int prose_store_pck_put(prose_store *st, const prose_store_pck *p);
/* Errors: PROSE_ENOKEY, PROSE_EEXPIRED (expires <= t), PROSE_ESTORE_CORRUPT, PROSE_EDB. */
int prose_store_pck_get(prose_store *st, uint32_t pck_id, uint64_t t, prose_store_pck *out);
/* Errors: PROSE_ENOENT, PROSE_EDB. */
int prose_store_pck_delete(prose_store *st, uint32_t pck_id);

/*
 * Load the KMS certificates (non-revoked, valid at t) and the key sets of
 * the keyring's own identity for the previous (if still stored), current
 * and next key periods at t into kr. Material already in kr is skipped.
 * Each key set is validated again by the keyring (tens of milliseconds).
 * Errors: PROSE_EINVAL, PROSE_ENOKEY (no key set for the current period),
 * PROSE_ESTORE_CORRUPT, PROSE_EDB, and the errors of prose_keyring_add_kms /
 * prose_keyring_add_keyset. On error kr may hold part of the material.
 */
int prose_store_load_keyring(prose_store *st, prose_keyring *kr, uint64_t t, prose_diag *d);

/* ---- Listing and expiry ------------------------------------------------ */

typedef enum prose_store_item_kind {
  PROSE_ITEM_KMS = 0,         /* uri = KMS URI; period, offset; start/end = validity */
  PROSE_ITEM_KEYSET = 1,      /* uri = user, kms_uri, period_no, start/end, uid */
  PROSE_ITEM_TRUSTED_GMS = 2, /* uri = GMS URI */
  PROSE_ITEM_GMK = 3,         /* group_id, uri = receiving user, gms_uri, key_id = GMK-ID,
                               * key_id2 = GUK-ID, start/end = activation/expiry */
  PROSE_ITEM_PCK = 4,         /* uri = peer, key_id = PCK-ID, start/end = created/expires */
  PROSE_ITEM_KMS_MASTER = 5,  /* KMS role: uri = KMS URI whose master secrets are held */
  PROSE_ITEM_GMS_GROUP = 6,   /* GMS role: group_id, n_members */
  PROSE_ITEM_GMS_MEMBER = 7,  /* GMS role: group_id, uri = member */
  PROSE_ITEM_GMS_GMK = 8      /* GMS role: group_id, key_id = GMK-ID, start/end */
} prose_store_item_kind;

typedef enum prose_store_state {
  PROSE_STATE_VALID = 0,
  PROSE_STATE_PENDING = 1, /* not yet valid / active at t */
  PROSE_STATE_EXPIRED = 2,
  PROSE_STATE_REVOKED = 3
} prose_store_state;

/* One listed item: public facts only, never key bytes. Fields not named for
 * a kind are zero / empty. Strings are valid only during the callback. */
typedef struct prose_store_item {
  prose_store_item_kind kind;
  prose_store_state state; /* at the t given to prose_store_list */
  const char *uri;
  const char *kms_uri;
  const char *group_id;
  const char *gms_uri;
  uint64_t period, offset, period_no;
  uint64_t start, end;
  uint32_t key_id, key_id2;
  uint8_t uid[32];
  size_t n_members;
} prose_store_item;

const char *prose_store_item_kind_name(prose_store_item_kind k); /* "kms", "keyset", ... */
const char *prose_store_state_name(prose_store_state s);         /* "valid", "pending", ... */

/* Return non-zero to stop the listing; prose_store_list then returns it. */
typedef int (*prose_store_list_cb)(void *ud, const prose_store_item *item);

/*
 * Call cb for every item, grouped by kind in the enum order and sorted
 * within a kind. Errors: PROSE_EINVAL, PROSE_EDB, or cb's non-zero value.
 */
int prose_store_list(prose_store *st, uint64_t t, prose_store_list_cb cb, void *ud);

typedef struct prose_expire_summary {
  size_t certs, keysets, gmks, pcks, gms_gmks;
} prose_expire_summary;

/*
 * Remove material that can no longer be used at t, in one transaction:
 * key sets whose period or ValidTo ended (or that are revoked), GMKs and
 * GMS GMKs past their expiry, PCKs past their lifetime, and on device and
 * GMS stores the certificates past ValidTo or revoked, with their key sets.
 * The replay record of imported I_MESSAGEs is kept.
 * Errors: PROSE_EINVAL, PROSE_EDB.
 */
int prose_store_expire(prose_store *st, uint64_t t, prose_expire_summary *out);

#endif
