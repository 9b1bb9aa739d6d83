/*
 * Known-answer self-test of the crypto module: the published test data of
 * RFC 6507 (ECCSI), RFC 6508/6509 (SAKKE), TS 33.179 F.2.1 (UID), F.1.3
 * (GUK-ID) and the MIKEY PRF, built into the library so a device can check
 * its own build at start-up and a person can run `prose crypto selftest`.
 */
#ifndef PROSE_SELFTEST_H
#define PROSE_SELFTEST_H

/* Called once per algorithm: name, 0 or the error code, and a short detail. */
typedef void (*prose_selftest_cb)(void *ud, const char *name, int result, const char *detail);

/* Run every known-answer test. Returns 0 if all passed, else the first
 * failure's code (PROSE_EINTERNAL for a wrong answer). */
int prose_crypto_selftest(prose_selftest_cb cb, void *ud);

#endif
