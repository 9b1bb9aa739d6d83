/*
 * The in-memory keyring used to create and process MIKEY-SAKKE I_MESSAGEs.
 *
 * It holds, for one local identity (an MCPTT ID, or the GMS URI on a GMS):
 *  - KMS certificates (33.179 Annex D KmsCertificate): URI, user key period
 *    length and offset, KPAK (ECCSI) and Z (SAKKE), each turned once into a
 *    prose_eccsi_verifier and a prose_sakke_pub;
 *  - the own user key sets per (KMS, key period number): SSK, PVT and RSK,
 *    validated when added (RFC 6507 §5.1.2, RFC 6508 §6.1.2) against the UID
 *    recomputed from the own URI, the KMS and the period (33.179 F.2.1);
 *  - the replay cache of accepted I_MESSAGEs and the timestamp windows.
 *
 * The keyring is sans-IO: no files, no clock, no randomness of its own. The
 * store (a later module) fills it from SQLite; tests fill it directly.
 *
 * Not thread-safe: prose_mikey_process updates the replay cache and the
 * verifiers' caches. Use one keyring per thread, or lock around it.
 */
#ifndef PROSE_KEYRING_H
#define PROSE_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/rng.h"

/* A window value meaning "no limit on this side". */
#define PROSE_WINDOW_UNLIMITED UINT64_MAX

/*
 * How far the MIKEY T payload of an accepted I_MESSAGE may lie from the
 * caller's clock, in seconds: T in [now - max_past, now + max_future].
 */
typedef struct prose_time_window {
  uint64_t max_past;
  uint64_t max_future;
} prose_time_window;

/*
 * Keyring settings. Always start from prose_keyring_settings_default() so
 * fields added later get sensible values.
 *
 * Defaults and why:
 *  - pck_window = {300, 300}: a PCK I_MESSAGE travels in the PRIVATE CALL
 *    SETUP REQUEST and is used at once, so it is real time; 300 s is the
 *    customary MIKEY replay window (RFC 3830 §5.4 leaves the value to the
 *    implementation) and tolerates unsynchronised off-network clocks.
 *  - gmk_window = {unlimited, 300}: a GMS distributes GMKs long before their
 *    activation time (33.179 7.3.1), possibly while the device was on-network
 *    days earlier, so only clock skew into the future is bounded. The key
 *    period check (a key set must exist for the period of T) still bounds the
 *    age in practice.
 *  - replay_capacity = 1024 entries per key kind (GMK, PCK).
 */
typedef struct prose_keyring_settings {
  prose_time_window pck_window;
  prose_time_window gmk_window;
  size_t replay_capacity;
} prose_keyring_settings;

void prose_keyring_settings_default(prose_keyring_settings *s);

/* A KMS certificate (public). All fields are copied by prose_keyring_add_kms. */
typedef struct prose_kms_cert {
  const char *uri;     /* KmsUri, e.g. "kms.example.org" (UTF-8, NUL-terminated) */
  uint64_t period;     /* UserKeyPeriod in seconds (> 0) */
  uint64_t offset;     /* UserKeyOffset in seconds */
  uint8_t kpak[65];    /* PubAuthKey: ECCSI KPAK, 04 || X || Y on P-256 */
  uint8_t z[257];      /* PubEncKey: SAKKE Z, 04 || X || Y */
} prose_kms_cert;

/* One own user key set (33.179 Annex D KmsKeySet). Copied on add; the caller
 * keeps and wipes its own copy of ssk and rsk. */
typedef struct prose_keyset {
  const char *kms_uri; /* the KMS that issued it (must be added first) */
  uint64_t period_no;  /* KeyPeriodNo */
  uint8_t ssk[32];     /* UserSigningKeySSK (secret) */
  uint8_t pvt[65];     /* UserPubTokenPVT */
  uint8_t rsk[257];    /* UserDecryptKey (secret) */
  const uint8_t *uid;  /* optional <UserID> to compare with the recomputed UID, or NULL */
} prose_keyset;

typedef struct prose_keyring prose_keyring;

/*
 * Create an empty keyring for the local identity own_uri (copied).
 * settings may be NULL for the defaults.
 * Errors: PROSE_EINVAL (NULL out or own_uri, empty own_uri, replay_capacity 0,
 * own_uri longer than 65535 octets), PROSE_ENOMEM.
 */
int prose_keyring_new(prose_keyring **out, const char *own_uri,
                      const prose_keyring_settings *settings);
/* Free the keyring, wiping every secret it holds. NULL is a no-op. */
void prose_keyring_free(prose_keyring *kr);

/* The local identity given to prose_keyring_new (owned by the keyring). */
const char *prose_keyring_own_uri(const prose_keyring *kr);

/*
 * Add a KMS certificate. The keyring makes its ECCSI verifier and SAKKE
 * public-key tables once here.
 * Errors: PROSE_EINVAL (NULL or empty URI, URI longer than 255 octets,
 * period 0), PROSE_EEXIST (a KMS with this URI is already present),
 * PROSE_EPOINT (KPAK or Z is not a valid point), PROSE_ENOMEM.
 * On error the keyring is unchanged.
 */
int prose_keyring_add_kms(prose_keyring *kr, const prose_kms_cert *cert);

/*
 * Add an own key set. The UID is recomputed from (own URI, KMS URI, KMS
 * period, KMS offset, period_no) per 33.179 F.2.1 and the keys are validated
 * (prose_eccsi_signer_new, prose_sakke_recipient_new; the latter takes tens
 * of milliseconds).
 * Errors: PROSE_EINVAL (NULL arguments), PROSE_EUNKNOWN_KMS (kms_uri not
 * added), PROSE_EEXIST (a key set for this KMS and period exists),
 * PROSE_EUID_MISMATCH (ks->uid given and different from the recomputed UID),
 * PROSE_EPOINT / PROSE_ERANGE / PROSE_EKEY_INVALID (the keys fail
 * validation), PROSE_ENOMEM. On error the keyring is unchanged.
 */
int prose_keyring_add_keyset(prose_keyring *kr, const prose_keyset *ks);

/* Remove and wipe the own key set for (kms_uri, period_no).
 * Errors: PROSE_EINVAL, PROSE_ENOENT (no such key set). */
int prose_keyring_remove_keyset(prose_keyring *kr, const char *kms_uri, uint64_t period_no);

/* True when an own key set for (kms_uri, period_no) is present. */
bool prose_keyring_has_keyset(const prose_keyring *kr, const char *kms_uri, uint64_t period_no);

/*
 * The UID of any user uri under a known KMS for the key period that contains
 * NTP time t_ntp_sec (seconds since 1900).
 * Errors: PROSE_EINVAL, PROSE_EUNKNOWN_KMS, PROSE_EPERIOD (t before the KMS
 * offset).
 */
int prose_keyring_uid(const prose_keyring *kr, const char *uri, const char *kms_uri,
                      uint64_t t_ntp_sec, uint8_t uid[32]);

/*
 * Sign msg (any octet string, e.g. a discovery announcement) with the own
 * key set of KMS kms_uri for the key period that contains NTP time t_ntp_sec
 * (seconds since 1900). The ECCSI identifier is the own UID for that period
 * (33.179 F.2.1); rng supplies the ephemeral j. sig receives 129 octets
 * r || s || PVT (RFC 6507 §5.2.1).
 *
 * period_no, when not NULL, receives the key period number used. With sig
 * NULL (msg may then be NULL with msg_len 0) nothing is signed: the call only
 * reports the period number and whether an own key set exists for it, so a
 * caller can write that number into the message it is about to sign.
 *
 * Errors: PROSE_EINVAL (NULL kr, kms_uri or rng, or msg NULL with msg_len > 0
 * while signing), PROSE_EUNKNOWN_KMS (kms_uri not added), PROSE_EPERIOD (t
 * before the KMS offset, or no own key set for the period of t),
 * PROSE_ERNG, PROSE_ECRYPTO. The keyring is not changed.
 */
int prose_keyring_sign(const prose_keyring *kr, const prose_rng *rng, const char *kms_uri,
                       uint64_t t_ntp_sec, const uint8_t *msg, size_t msg_len, uint8_t *sig,
                       uint64_t *period_no);

/*
 * Verify an ECCSI signature (RFC 6507 §5.2.2) made by user uri under KMS
 * kms_uri with the key set of the period that contains NTP time t_ntp_sec,
 * which must come from the signed message itself (DESIGN §3), not from the
 * local clock. The signer's UID is computed from (uri, KMS URI, KMS period,
 * offset, period number); the KMS's cached verifier is used.
 *
 * expect_period_no, when not NULL, is the period number the message claims:
 * PROSE_EPERIOD is returned, before any signature arithmetic, when t lies in
 * another period.
 *
 * Returns 0 when the signature is valid. Errors: PROSE_EINVAL (NULL
 * arguments), PROSE_EUNKNOWN_KMS, PROSE_EPERIOD (t before the KMS offset, or
 * the period mismatch above), PROSE_ELEN (sig_len is not 129), PROSE_ESIG
 * (wrong signature, or a PVT inside it that is not a valid point).
 * Updates the verifier's cache, hence the non-const keyring.
 */
int prose_keyring_verify(prose_keyring *kr, const char *uri, const char *kms_uri,
                         uint64_t t_ntp_sec, const uint64_t *expect_period_no,
                         const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                         size_t sig_len);

/* Number of accepted messages remembered by the replay cache (both kinds). */
size_t prose_keyring_replay_count(const prose_keyring *kr);
/* Forget every replay entry (for a fuzzer or a test harness; a daemon never
 * needs it). */
void prose_keyring_replay_reset(prose_keyring *kr);

#endif
