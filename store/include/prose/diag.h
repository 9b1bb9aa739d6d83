/*
 * Diagnostics for file-level operations (KMS XML, bundles, store imports).
 *
 * A failing import returns a specific negative error code (prose/err.h) and,
 * when the caller passes a prose_diag, a one-line message that names the
 * element or record that failed, e.g.
 *   "KmsKeySet[1] (KeyPeriodNo 625): UserID does not match the UID
 *    recomputed from UserUri, KmsUri and KeyPeriodNo".
 * Messages carry public facts only (element names, URIs, periods, key IDs,
 * positions); they never contain key material or text copied from a key
 * element.
 */
#ifndef PROSE_DIAG_H
#define PROSE_DIAG_H

#define PROSE_DIAG_MSG_MAX 256

typedef struct prose_diag {
  int code;                     /* the error returned, 0 while nothing failed */
  char msg[PROSE_DIAG_MSG_MAX]; /* NUL-terminated, empty while nothing failed */
} prose_diag;

/* Reset to "no error". d may be NULL. */
void prose_diag_clear(prose_diag *d);

/*
 * Record an error: sets d->code and formats d->msg (truncated to fit).
 * Returns code, so callers write `return prose_diag_set(d, PROSE_EXML, ...)`.
 * d may be NULL (the code is still returned). A diag that already holds an
 * error keeps the first one: the innermost failure is the most precise.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int prose_diag_set(prose_diag *d, int code, const char *fmt, ...);

/* Prefix the message already recorded with "prefix: " (keeps the code).
 * Used by outer layers to say where an inner failure happened. No-op when d
 * is NULL or holds no error. */
void prose_diag_prefix(prose_diag *d, const char *prefix);

#endif
