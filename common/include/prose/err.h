/*
 * prose error codes: one list, one enum, one name table, one message table.
 *
 * Every fallible function in prose returns 0 on success or one of the negative
 * codes below. The codes are grouped by category in ranges so a caller can ask
 * what kind of failure it got without knowing every code:
 *
 *   -1   .. -99    usage: the caller (or a person at the CLI) gave bad input
 *   -100 .. -199   malformed input from a peer or a file (parse failures)
 *   -200 .. -299   verification failures: a signature, a key, a time or a replay
 *   -300 .. -399   resources and the environment (memory, RNG, OpenSSL, files)
 *   -400 .. -499   store and provisioning state
 *   -900 .. -999   internal errors (a bug in prose)
 *
 * Add new codes at the end of their category. Never renumber a code: the
 * numbers appear in logs and in the control protocol.
 */
#ifndef PROSE_ERR_H
#define PROSE_ERR_H

#include <stdbool.h>

/* X(NAME, value, "message") */
#define PROSE_ERR_MAP(X)                                                                 \
  X(OK, 0, "success")                                                                    \
  /* usage */                                                                            \
  X(EINVAL, -1, "invalid argument")                                                      \
  X(EHEX, -2, "malformed hexadecimal string")                                            \
  X(ELEN, -3, "value has the wrong length")                                              \
  X(EBUFSZ, -4, "output buffer too small")                                               \
  X(ERANGE, -5, "value out of range")                                                    \
  X(EBASE64, -6, "malformed base64 string")                                              \
  X(EUSAGE, -7, "bad command line usage")                                                \
  X(ECONFIG, -8, "invalid configuration")                                                \
  X(EUNKNOWN_CMD, -9, "unknown command")                                                 \
  /* malformed input */                                                                  \
  X(ETRUNC, -100, "message truncated")                                                   \
  X(EOVERLONG, -101, "length field exceeds the data")                                    \
  X(ETRAILING, -102, "unexpected data after the end of the message")                     \
  X(EMIKEY_VERSION, -103, "MIKEY: unsupported version")                                  \
  X(EMIKEY_DATATYPE, -104, "MIKEY: wrong data type (not a SAKKE I_MESSAGE)")             \
  X(EMIKEY_PRF, -105, "MIKEY: unsupported PRF function")                                 \
  X(EMIKEY_PAYLOAD, -106, "MIKEY: unknown or unexpected payload")                        \
  X(EMIKEY_MISSING, -107, "MIKEY: a mandatory payload is missing")                       \
  X(EMIKEY_DUPLICATE, -108, "MIKEY: payload appears more than once")                     \
  X(EMIKEY_TS_TYPE, -109, "MIKEY: unsupported timestamp type")                           \
  X(EMIKEY_CSMAP, -110, "MIKEY: unsupported or malformed CS ID map")                     \
  X(EMIKEY_IDR, -111, "MIKEY: unsupported or malformed IDR payload")                     \
  X(EMIKEY_SAKKE, -112, "MIKEY: unsupported SAKKE parameters or ID scheme")              \
  X(EMIKEY_SIGN_TYPE, -113, "MIKEY: unsupported signature type or length")               \
  X(EMIKEY_RAND, -114, "MIKEY: RAND too short")                                          \
  X(EMIKEY_SP, -115, "MIKEY: malformed security policy payload")                         \
  X(EMIKEY_EXT, -116, "MIKEY: malformed general extension payload")                      \
  X(EMIKEY_KEYTYPE, -117, "MIKEY: key identifier has an unexpected purpose tag")         \
  X(EPOINT, -118, "point is not a valid point on the curve")                             \
  X(EXML, -119, "malformed XML document")                                                \
  X(EXML_NS, -120, "XML document has the wrong namespace or root element")               \
  X(EFORMAT, -121, "unsupported file format or version")                                 \
  X(EMONP_TYPE, -122, "MONP: unknown message type")                                      \
  X(EMONP_VALUE, -123, "MONP: information element value out of range")                   \
  X(EMONP_STRING, -124, "MONP: empty, overlong or malformed identity, SDP or text")      \
  X(EMONP_IE, -125, "MONP: malformed or comprehension-required optional IE")             \
  X(ESDP_SYNTAX, -126, "SDP: malformed line")                                            \
  X(ESDP_MISSING, -127, "SDP: a mandatory line is missing")                              \
  X(ESDP_VALUE, -128, "SDP: unsupported or out-of-range value")                          \
  X(ESDP_LIMIT, -129, "SDP: line, field or body exceeds a limit")                        \
  X(ESDP_KEYMGMT, -130, "SDP: malformed a=key-mgmt attribute")                           \
  X(EFLOOR_RTCP, -131, "floor control: bad RTCP header or not an APP \"MCPT\" packet")   \
  X(EFLOOR_TYPE, -132, "floor control: unknown message type")                            \
  X(EFLOOR_FIELD, -133, "floor control: field has a wrong length or value")              \
  X(EFLOOR_DUPLICATE, -134, "floor control: field appears more than once")               \
  X(EFLOOR_PADDING, -135, "floor control: non-zero padding after a field")               \
  X(EFLOOR_MISSING, -136, "floor control: a mandatory field is missing")                 \
  X(EFLOOR_QUEUE, -137, "floor control: malformed or oversized queue list")              \
  X(EDISC_MAGIC, -138, "discovery: not a prose announcement (bad magic)")                \
  X(EDISC_VERSION, -139, "discovery: unsupported announcement version")                  \
  X(EDISC_FIELD, -140, "discovery: announcement field empty, malformed or out of range") \
  X(EMEDIA_PKT, -141, "SRTP/SRTCP: malformed packet (version, lengths or E flag)")       \
  X(EJSON, -142, "malformed JSON")                                                       \
  /* verification */                                                                     \
  X(ESIG, -200, "signature verification failed")                                         \
  X(ESAKKE_TEST, -201, "SAKKE decapsulation check failed")                               \
  X(EKEY_INVALID, -202, "key material failed validation")                                \
  X(EWRONG_RECIPIENT, -203, "message is addressed to another user")                      \
  X(EUNKNOWN_KMS, -204, "message names an unknown KMS")                                  \
  X(EPERIOD, -205, "key period out of range (no key material for it)")                   \
  X(ETIME, -206, "timestamp outside the accepted window")                                \
  X(EREPLAY, -207, "replayed message")                                                   \
  X(EUID_MISMATCH, -208, "user identifier does not match the recomputed UID")            \
  X(EUNAUTHORISED, -209, "sender is not authorised for this key")                        \
  X(EEXPIRED, -210, "key material expired, revoked or not yet valid")                    \
  X(EAUTH, -211, "authentication failed (wrong key or passphrase, or data corrupted)")   \
  X(EMEDIA_MKI, -212, "SRTP/SRTCP: the MKI names no known key")                          \
  X(EMEDIA_AUTH, -213, "SRTP/SRTCP: authentication tag check failed")                    \
  /* resources */                                                                        \
  X(ENOMEM, -300, "out of memory")                                                       \
  X(ERNG, -301, "random number generator failed")                                        \
  X(ECRYPTO, -302, "cryptographic library failure")                                      \
  X(EIO, -303, "input/output error")                                                     \
  X(ENOENT, -304, "no such file or entry")                                               \
  X(EEXIST, -305, "already exists")                                                      \
  X(EPERM, -306, "permission denied")                                                    \
  X(EDB, -307, "database error")                                                         \
  X(ELIMIT, -308, "a limit was reached (size, count or queue)")                          \
  /* store */                                                                            \
  X(ENOKEY, -400, "no key material for this request")                                    \
  X(ESTORE_CORRUPT, -401, "key store is corrupted")                                      \
  /* internal */                                                                         \
  X(EINTERNAL, -900, "internal error")

typedef enum prose_err {
#define PROSE_ERR_ENUM(name, val, msg) PROSE_##name = (val),
  PROSE_ERR_MAP(PROSE_ERR_ENUM)
#undef PROSE_ERR_ENUM
} prose_err;

/* Short symbolic name of a code, e.g. "ESIG". Unknown codes give "EUNKNOWN". */
const char *prose_err_name(int err);
/* Human-readable message for a code. Unknown codes give "unknown error". */
const char *prose_strerror(int err);

/* Category predicates. */
static inline bool prose_err_is_usage(int err) { return err < 0 && err > -100; }
static inline bool prose_err_is_malformed(int err) { return err <= -100 && err > -200; }
static inline bool prose_err_is_verify(int err) { return err <= -200 && err > -300; }
/* A fatal error means the process or object cannot go on (memory, RNG, internal bug);
 * every other error concerns only the input that caused it. */
static inline bool prose_err_is_fatal(int err) {
  return err == PROSE_ENOMEM || err == PROSE_ERNG || err == PROSE_EINTERNAL || err == PROSE_ECRYPTO;
}

#endif
