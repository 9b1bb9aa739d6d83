/*
 * Offline authority functions: an offline KMS (domain master secrets, user
 * key issue) and an offline GMS (groups, GMKs, GMK I_MESSAGE distribution).
 * Both keep their state in a prose_store created with the matching role
 * (prose/store.h), so their secrets are sealed at rest like a device's.
 *
 * Times are NTP seconds and randomness comes from the store's prose_rng.
 */
#ifndef PROSE_AUTHORITY_H
#define PROSE_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>

#include "prose/diag.h"
#include "prose/store.h"

/* ---- KMS --------------------------------------------------------------- */

#define PROSE_KMS_DEFAULT_PERIOD 2592000u /* 30 days */

/* Start from prose_kms_settings_default(). */
typedef struct prose_kms_settings {
  const char *kms_uri;  /* e.g. "kms.example.org" (required) */
  uint64_t period;      /* UserKeyPeriod, seconds (default 2592000) */
  uint64_t offset;      /* UserKeyOffset, seconds (default 0) */
  const char *cert_uri; /* CertUri (optional) */
  const char *issuer;   /* Issuer (optional) */
  uint64_t valid_from;  /* NTP seconds, 0 = not stated */
  uint64_t valid_to;    /* NTP seconds, 0 = not stated */
} prose_kms_settings;

void prose_kms_settings_default(prose_kms_settings *s);

/*
 * Create the domain's master secrets (ECCSI KSAK, SAKKE z) and its public
 * certificate (KPAK, Z) in a KMS-role store: the secrets sealed in the
 * kms_master table, the certificate in kms_cert.
 * Errors: PROSE_EINVAL (NULL, empty URI, period 0, not a KMS store),
 * PROSE_EEXIST (master secrets for this URI exist), PROSE_ERNG,
 * PROSE_ECRYPTO, PROSE_EDB.
 */
int prose_kms_init(prose_store *st, const prose_kms_settings *s, prose_diag *d);

/*
 * The certificate of kms_uri (NULL = the only one in the store) as a KMS
 * XML KmsResponse/KmsInit document with <Time> t. *xml is malloc'd (free()),
 * NUL-terminated, public.
 * Errors: PROSE_EINVAL, PROSE_ENOKEY (no such certificate, or several and
 * kms_uri NULL), PROSE_EDB, PROSE_ENOMEM.
 */
int prose_kms_cert_xml(prose_store *st, const char *kms_uri, uint64_t t, char **xml,
                       size_t *xml_len, prose_diag *d);

/* Start from prose_kms_issue_params_default(). */
typedef struct prose_kms_issue_params {
  const char *kms_uri;  /* NULL = the only KMS whose master secrets the store holds */
  const char *user_uri; /* the MCPTT ID (or GMS URI) to issue for (required) */
  uint64_t t;           /* the first key set is for the period containing t */
  uint32_t count;       /* consecutive periods, 1..64 (default 2: current and next) */
  bool include_cert;    /* also put the KMS certificate (KmsInit) in the document */
} prose_kms_issue_params;

void prose_kms_issue_params_default(prose_kms_issue_params *p);

/*
 * Issue count key sets (SSK, PVT for ECCSI, RSK for SAKKE, the UID, the
 * period number) for user_uri as a KMS XML KmsResponse/KmsKeyProv document.
 * *xml holds secrets: release it with prose_free_secret(*xml, *xml_len).
 * Errors: PROSE_EINVAL (NULL, empty user URI, count out of range, t before
 * the offset), PROSE_ENOKEY (no master secrets), PROSE_ESTORE_CORRUPT,
 * PROSE_ERNG, PROSE_ECRYPTO, PROSE_EDB, PROSE_ENOMEM.
 */
int prose_kms_issue(prose_store *st, const prose_kms_issue_params *p, char **xml,
                    size_t *xml_len, prose_diag *d);

/* ---- GMS --------------------------------------------------------------- */

/*
 * A GMS is a GMS-role store whose owner URI is the GMS identity (e.g.
 * sip:gms@example.org) and into which its KMS certificate and its own key
 * sets were imported with prose_store_import (the GMS signs with them).
 */

#define PROSE_GMS_MAX_MEMBERS 1024u

/* Start from prose_gms_group_params_default(). */
typedef struct prose_gms_group_params {
  const char *group_id;       /* MCPTT group ID (required) */
  const char *const *members; /* member MCPTT IDs */
  size_t n_members;
  uint64_t activation; /* NTP seconds: the first GMK's activation time */
  uint64_t expiry;     /* NTP seconds, PROSE_STORE_NEVER (default) = none */
} prose_gms_group_params;

void prose_gms_group_params_default(prose_gms_group_params *p);

/*
 * Create a group with its first GMK: 16 random octets, a GMK-ID with purpose
 * tag 0 and 28 random bits, and one 16-octet RAND used in every member's
 * I_MESSAGE for this GMK (DESIGN §3).
 * Errors: PROSE_EINVAL (NULL, empty group ID, a bad member URI, duplicate
 * members, more than 1024, expiry <= activation, not a GMS store),
 * PROSE_EEXIST (group exists), PROSE_ERNG, PROSE_EDB.
 */
int prose_gms_group_create(prose_store *st, const prose_gms_group_params *p, uint32_t *gmk_id,
                           prose_diag *d);

/* Add members (already present ones are skipped).
 * Errors: PROSE_EINVAL, PROSE_ENOENT (no such group), PROSE_EDB. */
int prose_gms_group_add_members(prose_store *st, const char *group_id,
                                const char *const *members, size_t n_members, prose_diag *d);

/*
 * Rekey: a new GMK (new GMK-ID and RAND) activated at `activation`, which
 * must be later than every existing GMK's activation; the previous GMK stays
 * valid (for transmission until then, for reception until its expiry).
 * Errors: PROSE_EINVAL, PROSE_ENOENT (no such group), PROSE_ERANGE
 * (activation not later, or expiry <= activation), PROSE_ERNG, PROSE_EDB.
 */
int prose_gms_group_rekey(prose_store *st, const char *group_id, uint64_t activation,
                          uint64_t expiry, uint32_t *gmk_id, prose_diag *d);

/* Start from prose_gms_distribute_params_default(). */
typedef struct prose_gms_distribute_params {
  const char *member_uri; /* the receiving member (required) */
  const char *group_id;   /* NULL = every group the member belongs to */
  uint32_t gmk_id;        /* 0 = every GMK of the group(s) not expired at t */
  uint64_t t;             /* NTP seconds: the I_MESSAGE's T; the periods come from it */
  const char *member_kms; /* the member's KMS URI, NULL = the GMS's own KMS */
} prose_gms_distribute_params;

void prose_gms_distribute_params_default(prose_gms_distribute_params *p);

/* Receives each I_MESSAGE (public octets, valid during the call). Return
 * non-zero to stop; prose_gms_distribute then returns it. */
typedef int (*prose_gms_msg_cb)(void *ud, const char *group_id, uint32_t gmk_id,
                                const uint8_t *msg, size_t len);

/*
 * Make the member's GMK I_MESSAGEs: each SAKKE-encrypted to the member's UID
 * for the period of t, signed by the GMS with its key set for that period,
 * with the member's GUK-ID as CSB ID (SPI = GMK-ID || GUK-ID) and the key
 * parameters (key type 0, activation, expiry, the group ID). Messages are
 * produced group by group, GMKs by activation time.
 * Errors: PROSE_EINVAL, PROSE_ENOENT (no such group, the member is not in
 * the group, or no GMK matched), PROSE_ENOKEY (no GMS key set for the period
 * of t), PROSE_EUNKNOWN_KMS, PROSE_ESTORE_CORRUPT, the errors of
 * prose_mikey_create, PROSE_EDB, or cb's non-zero value.
 */
int prose_gms_distribute(prose_store *st, const prose_gms_distribute_params *p,
                         prose_gms_msg_cb cb, void *ud, prose_diag *d);

#endif
