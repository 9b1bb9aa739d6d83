/*
 * KMS provisioning XML (3GPP TS 33.179 Annex D; element names as in 33.180):
 * the documents a KMS returns to Initialize (KmsInit: KMS certificates) and
 * KeyProvision (KmsKeyProv: user key sets), under the namespace
 * urn:3gpp:ns:mcsecKMSInterface:1.0. See DIGEST §1.3 for the layout.
 *
 * Reading is strict about what prose needs and lenient about the rest:
 *  - the root must be KmsResponse (or SignedKmsResponse wrapping one; its
 *    XML-DSig is not verified, the keys themselves are validated on import)
 *    in the namespace above, else PROSE_EXML_NS;
 *  - unknown elements (any namespace) and attributes are skipped anywhere,
 *    so documents from newer KMS versions import as they are;
 *  - known elements may come in any order but at most once each;
 *  - no DTD is accepted (no external entities, no entity expansion, no
 *    network access), documents are at most PROSE_KMSXML_MAX_DOC octets.
 *
 * Parsing only decodes: it checks hex, lengths and numbers but does no
 * cryptography. Points on the curves, the UID and the keys are checked by
 * the store's import (prose/store.h).
 *
 * Times (Time, ValidFrom, ValidTo) are xs:dateTime values, held as NTP
 * seconds (seconds since 1900-01-01 00:00 UTC). A value without a zone is
 * read as UTC; the writer always appends "Z".
 */
#ifndef PROSE_KMSXML_H
#define PROSE_KMSXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prose/diag.h"

#define PROSE_KMSXML_NS "urn:3gpp:ns:mcsecKMSInterface:1.0"
/* Longest URI or text field kept, including the terminating NUL. */
#define PROSE_KMSXML_URI_MAX 256
/* Bounds that keep hostile documents cheap. */
#define PROSE_KMSXML_MAX_DOC (1024u * 1024u)
#define PROSE_KMSXML_MAX_CERTS 16u
#define PROSE_KMSXML_MAX_KEYSETS 64u

typedef enum prose_kmsxml_role {
  PROSE_KMSXML_ROLE_ROOT = 0,    /* Role="Root" (also when absent) */
  PROSE_KMSXML_ROLE_EXTERNAL = 1 /* Role="External" */
} prose_kmsxml_role;

/* A KmsCertificate (public). */
typedef struct prose_kmsxml_cert {
  char kms_uri[PROSE_KMSXML_URI_MAX];  /* KmsUri (mandatory) */
  char cert_uri[PROSE_KMSXML_URI_MAX]; /* CertUri (optional, "" when absent) */
  char issuer[PROSE_KMSXML_URI_MAX];   /* Issuer (optional) */
  prose_kmsxml_role role;
  bool has_valid_from, has_valid_to;
  uint64_t valid_from, valid_to; /* NTP seconds */
  bool revoked;                  /* Revoked (optional, default false) */
  uint32_t user_id_format;       /* UserIdFormat (mandatory; 2 = 33.179 F.2.1 UID) */
  uint64_t period;               /* UserKeyPeriod, seconds (mandatory, > 0) */
  uint64_t offset;               /* UserKeyOffset, seconds (mandatory) */
  uint8_t z[257];                /* PubEncKey: SAKKE Z (mandatory) */
  uint8_t kpak[65];              /* PubAuthKey: ECCSI KPAK (mandatory) */
  uint32_t param_set;            /* ParameterSet (optional, default 1; only 1 accepted) */
} prose_kmsxml_cert;

/* A KmsKeySet. ssk and rsk are SECRET: wipe with prose_kmsxml_keyset_wipe. */
typedef struct prose_kmsxml_keyset {
  char kms_uri[PROSE_KMSXML_URI_MAX];  /* KmsUri (mandatory) */
  char cert_uri[PROSE_KMSXML_URI_MAX]; /* CertUri (optional) */
  char issuer[PROSE_KMSXML_URI_MAX];   /* Issuer (optional) */
  char user_uri[PROSE_KMSXML_URI_MAX]; /* UserUri (mandatory) */
  uint8_t uid[32];                     /* UserID (mandatory, 64 hex characters) */
  uint64_t period_no;                  /* KeyPeriodNo (mandatory) */
  bool has_valid_from, has_valid_to;
  uint64_t valid_from, valid_to;
  bool revoked;
  uint8_t rsk[257]; /* UserDecryptKey (mandatory, secret) */
  uint8_t ssk[32];  /* UserSigningKeySSK (mandatory, secret) */
  uint8_t pvt[65];  /* UserPubTokenPVT (mandatory) */
} prose_kmsxml_keyset;

/* A whole KmsResponse: its header fields, every certificate of KmsInit (or
 * KmsCertCache) and every key set of KmsKeyProv, in document order. */
typedef struct prose_kmsxml_doc {
  char user_uri[PROSE_KMSXML_URI_MAX]; /* KmsResponse/UserUri ("" when absent) */
  char kms_uri[PROSE_KMSXML_URI_MAX];  /* KmsResponse/KmsUri ("" when absent) */
  char client_req_url[PROSE_KMSXML_URI_MAX];
  bool has_time;
  uint64_t time; /* KmsResponse/Time, NTP seconds */
  size_t n_certs;
  prose_kmsxml_cert *certs; /* owned (malloc) */
  size_t n_keysets;
  prose_kmsxml_keyset *keysets; /* owned (malloc), holds secrets */
} prose_kmsxml_doc;

/* An empty document (all zero). */
void prose_kmsxml_doc_init(prose_kmsxml_doc *doc);
/* Wipe the key sets and free the arrays; the document is empty afterwards. */
void prose_kmsxml_doc_free(prose_kmsxml_doc *doc);
void prose_kmsxml_keyset_wipe(prose_kmsxml_keyset *ks);

/*
 * Parse a KMS XML document.
 *
 * xml/len: the document (borrowed; need not be NUL-terminated).
 * out: initialised by the call; on success the caller frees it with
 * prose_kmsxml_doc_free, on failure it is left empty.
 * d: optional diagnostics naming the failing element.
 *
 * Errors:
 *  PROSE_EINVAL  NULL xml or out.
 *  PROSE_ELEN    document larger than PROSE_KMSXML_MAX_DOC, a text field
 *                longer than PROSE_KMSXML_URI_MAX - 1, or a key of the wrong
 *                length.
 *  PROSE_EXML    not well-formed (also: truncated), a DTD present, a known
 *                element repeated or missing, a key element holding child
 *                elements, a bad number, date or boolean, more than 16
 *                certificates or 64 key sets.
 *  PROSE_EXML_NS root element not KmsResponse/SignedKmsResponse in the
 *                namespace urn:3gpp:ns:mcsecKMSInterface:1.0.
 *  PROSE_EHEX    a key element that is not hexadecimal.
 *  PROSE_EFORMAT ParameterSet other than 1, or a key wrapped as
 *                xenc:EncryptedKey (a Transport Key is not supported).
 *  PROSE_ENOMEM.
 * A document with neither certificates nor key sets parses successfully
 * (n_certs == n_keysets == 0); the importer refuses it.
 */
int prose_kmsxml_parse(const uint8_t *xml, size_t len, prose_kmsxml_doc *out, prose_diag *d);

/*
 * Write a KmsResponse holding a KmsMessage with a KmsInit (when the document
 * has certificates) and a KmsKeyProv (when it has key sets), children in the
 * order of DIGEST §1.3, times as "YYYY-MM-DDTHH:MM:SSZ".
 *
 * *out receives a NUL-terminated malloc'd string and *out_len its length
 * (without the NUL). When the document has key sets the output holds secrets
 * in hex: free it with prose_free_secret(*out, *out_len).
 * Errors: PROSE_EINVAL (NULL argument, empty mandatory URI, a string with a
 * control character), PROSE_ENOMEM.
 */
int prose_kmsxml_write(const prose_kmsxml_doc *doc, char **out, size_t *out_len);

/*
 * xs:dateTime <-> NTP seconds. Parsing accepts "YYYY-MM-DDTHH:MM:SS" with
 * optional fractional seconds (dropped) and an optional zone ("Z" or
 * "+HH:MM"/"-HH:MM"); years 1900..9999. Errors: PROSE_EXML (malformed or
 * out of range). Formatting writes 20 characters plus NUL into out[21].
 */
int prose_kmsxml_parse_time(const char *s, uint64_t *ntp);
void prose_kmsxml_format_time(uint64_t ntp, char out[21]);

#endif
