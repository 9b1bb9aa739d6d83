/*
 * Offline provisioning bundle: one file that carries everything a device
 * needs (KMS certificates, its user key sets, the GMK I_MESSAGEs of its
 * groups, the GMS URIs it should trust). The format is documented in
 * docs/bundle.md; in short:
 *
 *   header  "PROSEBDL" | version u16 (= 1) | flags u16 (= 0) | count u32
 *   record  type u16 | flags u16 | length u32 | value (length octets)   x count
 *   trailer SHA-256 over every octet before it (32 octets)
 *
 * All integers are big-endian. Values keep their standard encodings (KMS
 * XML text, raw MIKEY I_MESSAGE octets), so the container adds no new
 * parsing of key material. The checksum detects damage in transit or
 * storage; it does not authenticate: the material itself is authenticated
 * on import (keys against the KMS certificate, I_MESSAGEs by their ECCSI
 * signature). A bundle holds user secrets in the clear (SSK, RSK in the KMS
 * XML): keep it 0600 and delete it after import.
 *
 * Reading validates the whole container (bounds, counts, checksum, unknown
 * critical records) before returning any record; records are views into the
 * caller's buffer.
 */
#ifndef PROSE_BUNDLE_H
#define PROSE_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "prose/diag.h"

#define PROSE_BUNDLE_MAGIC "PROSEBDL"
#define PROSE_BUNDLE_MAGIC_LEN 8u
#define PROSE_BUNDLE_VERSION 1u
#define PROSE_BUNDLE_HEADER_LEN 16u
#define PROSE_BUNDLE_RECORD_HEADER_LEN 8u
#define PROSE_BUNDLE_TRAILER_LEN 32u

/* Bounds that keep hostile files cheap. */
#define PROSE_BUNDLE_MAX_SIZE (16u * 1024u * 1024u)
#define PROSE_BUNDLE_MAX_RECORD (1024u * 1024u)
#define PROSE_BUNDLE_MAX_RECORDS 1024u

/* Record types. */
typedef enum prose_bundle_type {
  PROSE_BUNDLE_KMS_XML = 1,   /* a KMS XML document (certificates and/or key sets) */
  PROSE_BUNDLE_IMESSAGE = 2,  /* a MIKEY-SAKKE GMK I_MESSAGE (raw octets) */
  PROSE_BUNDLE_TRUST_GMS = 3, /* a GMS URI (UTF-8) the device should trust */
  PROSE_BUNDLE_NOTE = 4       /* free UTF-8 text for people (ignored on import) */
} prose_bundle_type;

/* Record flags. A reader that does not know a record's type skips it, unless
 * the record is CRITICAL, in which case the whole bundle is refused. */
#define PROSE_BUNDLE_F_CRITICAL 0x0001u

typedef struct prose_bundle_record {
  uint16_t type;
  uint16_t flags;
  const uint8_t *data; /* view into the parsed buffer */
  size_t len;
} prose_bundle_record;

typedef struct prose_bundle {
  uint16_t version;
  size_t n;
  prose_bundle_record *recs; /* owned array (malloc) of views */
} prose_bundle;

/*
 * Parse and check a bundle. buf is borrowed and must outlive *out.
 * On failure *out is empty.
 * Errors:
 *  PROSE_EINVAL   NULL argument.
 *  PROSE_EFORMAT  wrong magic, a version other than 1, non-zero header flags,
 *                 an unknown critical record type, or an empty bundle.
 *  PROSE_ETRUNC   the data ends inside the header, a record or the trailer.
 *  PROSE_EOVERLONG a record length beyond the file or the per-record bound,
 *                 a file over PROSE_BUNDLE_MAX_SIZE or more than 1024 records.
 *  PROSE_ETRAILING octets after the trailer.
 *  PROSE_EAUTH    the SHA-256 trailer does not match (the file is damaged).
 *  PROSE_ENOMEM.
 */
int prose_bundle_parse(const uint8_t *buf, size_t len, prose_bundle *out, prose_diag *d);
void prose_bundle_free(prose_bundle *b);

/* Human-readable name of a record type ("kms-xml", "imessage", ...;
 * "unknown" for others). */
const char *prose_bundle_type_name(uint16_t type);

/* Building a bundle. The writer copies what it is given and wipes its
 * buffers when freed, since records may hold secrets. */
typedef struct prose_bundle_writer prose_bundle_writer;

/* Errors: PROSE_EINVAL, PROSE_ENOMEM. */
int prose_bundle_writer_new(prose_bundle_writer **out);
/* Wipe and free. NULL is a no-op. */
void prose_bundle_writer_free(prose_bundle_writer *w);
/*
 * Append a record (data copied). Known types get flags 0 except
 * KMS_XML and IMESSAGE, which are written CRITICAL: a reader that cannot
 * understand them must not silently provision a device without them.
 * Errors: PROSE_EINVAL (NULL data with len > 0, type 0), PROSE_EOVERLONG
 * (record or bundle bounds), PROSE_ENOMEM.
 */
int prose_bundle_add(prose_bundle_writer *w, uint16_t type, const void *data, size_t len);
/* Same with explicit flags (for tests and future record types). */
int prose_bundle_add_flags(prose_bundle_writer *w, uint16_t type, uint16_t flags, const void *data,
                           size_t len);
/*
 * Produce the bundle: *out is a malloc'd buffer of *out_len octets that may
 * hold secrets; release it with prose_free_secret(*out, *out_len). The writer
 * stays usable (more records can be added and finish called again).
 * Errors: PROSE_EINVAL, PROSE_EFORMAT (no record), PROSE_ENOMEM.
 */
int prose_bundle_finish(const prose_bundle_writer *w, uint8_t **out, size_t *out_len);

#endif
