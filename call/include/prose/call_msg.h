/*
 * MONP: the MCPTT off-network protocol messages of TS 24.379 clause 15
 * (message types 1-20), their byte codec and nothing else.
 *
 * Wire format (24.379 Annex I, formats as in TS 24.007 clause 11): octet 0 is
 * the message type; the mandatory IEs follow without IEI in the order of the
 * message's table (V: fixed length, LV-E: 2-octet length then the value);
 * optional IEs follow them, each starting with its IEI (T: the IEI alone,
 * TLV-E: IEI, 2-octet length, value). Multi-octet integers are big-endian.
 *
 * Decisions (DIGEST §7.3, §7.4, §12 items 7 and 8):
 *  - IEIs are read as hexadecimal, as 24.007 tables print them: confirm mode
 *    indication 0x80, probe response 0x81 (type 2, bit 8 set), user location
 *    0x78 (TLV-E). Decode also accepts 0x50/0x51 in a GROUP CALL ANNOUNCEMENT
 *    for confirm mode / probe response, the decimal reading NIST ns-3 and the
 *    Alea dissector use, so announcements from those implementations join.
 *  - GROUP CALL EMERGENCY END / IMMINENT PERIL END carry: call identifier,
 *    last call type change time, last user to change call type, MCPTT group
 *    ID, sending MCPTT user ID (the Alea dissector's order; [A], the Rel-13
 *    table was not retrieved).
 *  - Unknown optional IEs follow 24.007 11.2.4/11.2.5 and 24.008 8.6: an IEI
 *    with bits 8-5 = 0000 is "comprehension required" and rejects the message
 *    (PROSE_EMONP_IE); an IEI with bit 8 set is a one-octet IE and is
 *    skipped; 0x70-0x7F is TLV-E and any other IEI is TLV (1-octet length),
 *    both skipped after a bounds check. A known optional IE that the message
 *    does not define is treated as unknown. A repeated optional IE: the first
 *    occurrence counts and later ones are ignored (24.008 8.6.3).
 *  - Strings (MCPTT IDs, group IDs, SDP, organization name) must be 1..max
 *    octets of UTF-8 without NUL; an empty or invalid one is PROSE_EMONP_STRING.
 *  - The reject reason is passed through whatever its value (a later release
 *    may add reasons); call type, commencement mode and refresh interval are
 *    checked (PROSE_EMONP_VALUE).
 */
#ifndef PROSE_CALL_MSG_H
#define PROSE_CALL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROSE_MONP_PORT 8809u  /* UDP port of every MONP message (24.379 10.2.1) */
#define PROSE_MONP_ID_MAX 255u /* longest MCPTT ID or group ID decoded */
#define PROSE_MONP_SDP_MAX 4096u
#define PROSE_MONP_TEXT_MAX 255u      /* organization name */
#define PROSE_MONP_LOCATION_MAX 1024u /* user location value, opaque octets */
/* Upper bound of an encoded message: four strings, an SDP, a location, fields. */
#define PROSE_MONP_MSG_MAX \
  (64u + 4u * (2u + PROSE_MONP_ID_MAX) + 2u + PROSE_MONP_SDP_MAX + 3u + PROSE_MONP_LOCATION_MAX)

/* Optional IE identifiers (hexadecimal, see above). */
#define PROSE_MONP_IEI_CONFIRM_MODE 0x80u
#define PROSE_MONP_IEI_PROBE_RESPONSE 0x81u
#define PROSE_MONP_IEI_USER_LOCATION 0x78u
#define PROSE_MONP_IEI_CONFIRM_MODE_DEC 0x50u   /* decode-only alias */
#define PROSE_MONP_IEI_PROBE_RESPONSE_DEC 0x51u /* decode-only alias */

/* Message types (24.379 15.2.2, DIGEST §7.2). */
typedef enum prose_monp_type {
  PROSE_MONP_GROUP_CALL_PROBE = 1,
  PROSE_MONP_GROUP_CALL_ANNOUNCEMENT = 2,
  PROSE_MONP_GROUP_CALL_ACCEPT = 3,
  PROSE_MONP_GROUP_CALL_EMERGENCY_END = 4,
  PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END = 5,
  PROSE_MONP_GROUP_CALL_BROADCAST = 6,
  PROSE_MONP_GROUP_CALL_BROADCAST_END = 7,
  PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST = 8,
  PROSE_MONP_PRIVATE_CALL_RINGING = 9,
  PROSE_MONP_PRIVATE_CALL_ACCEPT = 10,
  PROSE_MONP_PRIVATE_CALL_REJECT = 11,
  PROSE_MONP_PRIVATE_CALL_RELEASE = 12,
  PROSE_MONP_PRIVATE_CALL_RELEASE_ACK = 13,
  PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK = 14,
  PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL = 15,
  PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK = 16,
  PROSE_MONP_GROUP_EMERGENCY_ALERT = 17,
  PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK = 18,
  PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL = 19,
  PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL_ACK = 20
} prose_monp_type;

#define PROSE_MONP_TYPE_MIN 1
#define PROSE_MONP_TYPE_MAX 20

/* Call type (24.379 15.2.11). */
typedef enum prose_monp_call_type {
  PROSE_MONP_CALL_BASIC_GROUP = 1,
  PROSE_MONP_CALL_BROADCAST_GROUP = 2,
  PROSE_MONP_CALL_EMERGENCY_GROUP = 3,
  PROSE_MONP_CALL_IMMINENT_PERIL_GROUP = 4,
  PROSE_MONP_CALL_PRIVATE = 5,
  PROSE_MONP_CALL_EMERGENCY_PRIVATE = 6
} prose_monp_call_type;

/* Commencement mode (24.379 15.2.7). */
typedef enum prose_monp_commencement {
  PROSE_MONP_COMMENCEMENT_AUTOMATIC = 0,
  PROSE_MONP_COMMENCEMENT_MANUAL = 1
} prose_monp_commencement;

/* Reason of PRIVATE CALL REJECT (24.379 15.2.8). Value 1 read "no answer" in
 * early Rel-13 texts and "media failure" later. */
typedef enum prose_monp_reason {
  PROSE_MONP_REASON_REJECT = 0,
  PROSE_MONP_REASON_MEDIA_FAILURE = 1,
  PROSE_MONP_REASON_BUSY = 2,
  PROSE_MONP_REASON_E2E_SECURITY = 3,
  PROSE_MONP_REASON_FAILED = 4
} prose_monp_reason;

/* A borrowed octet string: decode points into the caller's buffer (not
 * NUL-terminated); encode reads whatever the caller points at. */
typedef struct prose_monp_str {
  const char *p;
  size_t len;
} prose_monp_str;

/*
 * One MONP message. Only the fields of the message's type are meaningful;
 * the table in call_msg.c says which (DIGEST §7.4):
 *
 *   PROBE                  group_id
 *   ANNOUNCEMENT           call_id call_type refresh_interval call_start_time
 *                          last_change_time group_id sdp originating_user
 *                          last_change_user [confirm_mode] [probe_response]
 *   ACCEPT (group)         call_id call_type group_id sending_user
 *   EMERGENCY END,
 *   IMMINENT PERIL END     call_id last_change_time last_change_user group_id
 *                          sending_user
 *   BROADCAST              call_id call_type originating_user group_id sdp
 *   BROADCAST END          call_id group_id originating_user
 *   SETUP REQUEST          call_id commencement call_type caller callee sdp
 *                          [user_location]
 *   RINGING, RELEASE, RELEASE ACK, ACCEPT ACK,
 *   EMERGENCY CALL CANCEL (+ACK)   call_id caller callee
 *   ACCEPT (private)       call_id caller callee sdp
 *   REJECT                 call_id reason caller callee
 *   EMERGENCY ALERT        group_id originating_user organization [user_location]
 *   ALERT ACK, ALERT CANCEL (+ACK)  group_id originating_user sending_user
 */
typedef struct prose_monp_msg {
  prose_monp_type type;
  uint16_t call_id;
  uint8_t call_type;        /* prose_monp_call_type */
  uint8_t commencement;     /* prose_monp_commencement */
  uint8_t reason;           /* prose_monp_reason (any value decodes) */
  uint16_t refresh_interval; /* milliseconds, > 0 */
  uint64_t call_start_time;  /* 40-bit UTC seconds since 1970 */
  uint64_t last_change_time; /* 40-bit UTC seconds since 1970 */
  prose_monp_str group_id;
  prose_monp_str sdp;
  prose_monp_str originating_user;
  prose_monp_str last_change_user;
  prose_monp_str sending_user;
  prose_monp_str caller;
  prose_monp_str callee;
  prose_monp_str organization;
  bool confirm_mode;   /* IEI 0x80 present */
  bool probe_response; /* IEI 0x81 present */
  bool has_user_location;
  prose_monp_str user_location; /* opaque octets of IEI 0x78 */
} prose_monp_msg;

/*
 * Decode one datagram into *m (zeroed first). String fields point into buf,
 * which the caller keeps alive while it uses *m.
 * Returns 0 or:
 *   PROSE_EINVAL         NULL argument;
 *   PROSE_ETRUNC         the message ends inside a field or an IE header;
 *   PROSE_EOVERLONG      an LV-E/TLV/TLV-E length runs past the end;
 *   PROSE_EMONP_TYPE     unknown message type (0, 21 and up);
 *   PROSE_EMONP_VALUE    call type not allowed for the message, commencement
 *                        mode other than 0/1, refresh interval 0;
 *   PROSE_EMONP_STRING   empty, overlong (see the _MAX limits), non-UTF-8 or
 *                        NUL-containing string;
 *   PROSE_EMONP_IE       comprehension-required unknown IE, or a known
 *                        optional IE with a wrong length.
 * Every error concerns the datagram only: drop it.
 */
int prose_monp_decode(const uint8_t *buf, size_t len, prose_monp_msg *m);

/*
 * Encode *m into out[cap]; *len receives the octet count. The fields of the
 * message's type are written as they are (no semantic checks, so tests can
 * build messages that decode rejects), except what cannot be represented.
 * Returns 0 or PROSE_EINVAL (NULL argument, unknown type, a needed string
 * with p == NULL and len > 0), PROSE_ERANGE (a string longer than 65535 or a
 * time wider than 40 bits), PROSE_EBUFSZ (out too small).
 */
int prose_monp_encode(const prose_monp_msg *m, uint8_t *out, size_t cap, size_t *len);

/* "GROUP CALL PROBE", ... or "UNKNOWN". */
const char *prose_monp_type_name(int type);

/* True when the message belongs to a group call, broadcast or alert (sent to
 * the group's multicast address), false for the private call messages. */
bool prose_monp_is_group(prose_monp_type type);

/* Compare a borrowed string with a NUL-terminated one. */
bool prose_monp_str_eq(prose_monp_str s, const char *z);
/* A prose_monp_str view of a NUL-terminated string (NULL gives an empty view). */
prose_monp_str prose_monp_str_of(const char *z);

#endif
