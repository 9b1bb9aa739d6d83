/*
 * TS 24.380 floor control messages: the RTCP APP "MCPT" codec (clause 8).
 *
 * Each floor control message is one RTCP APP packet (RFC 3550 6.7):
 *
 *   0: V=2 P subtype(5)   1: PT=204   2-3: length (32-bit words - 1)
 *   4-7: SSRC of the sender   8-11: name "MCPT"   12..: fields
 *
 * The 5-bit subtype is the acknowledgement-required bit (0x10) followed by
 * the 4-bit message type (24.380 8.2.2). The fields (8.2.3) are
 *
 *   ID(1) || length(1) || value || zero padding to a 4-octet boundary
 *
 * and, for field IDs 192 and above, ID(1) || length(2) || value || padding.
 * The padding is counted from the first octet of the field, so every field
 * starts on a 32-bit boundary of the packet.
 *
 * prose_floor_msg describes every field prose knows; decode fills it with
 * views that point into the caller's buffer, encode writes whatever the
 * struct says (so tests can also build odd messages). Both are pure
 * functions: no allocation, no I/O.
 *
 * Decisions (see floor_msg.c for the reasons):
 *  - Send the current field IDs (0..14, 24.380 >= v13.3.0); accept the old
 *    numbering (102..116, v13.0.x) on receive as well, field by field.
 *  - Unknown field IDs, and Track Info (11/114, on-network only), are
 *    skipped; they are counted in n_unknown.
 *  - A field other than the queue-list fields may appear at most once.
 *  - After a Queue Size field, each SSRC field opens one entry of the queue
 *    list and the Queued User ID / Queue Info fields that follow fill it
 *    (the Floor Granted layout of 24.380 8.2.4). The list must hold exactly
 *    Queue Size entries and at most PROSE_FLOOR_QUEUE_MAX.
 *  - Padding octets must be zero; strings (user IDs) must not be empty.
 *  - Each off-network message must carry the fields the floor participant
 *    needs to act on it (see prose_floor_msg_decode).
 */
#ifndef PROSE_FLOOR_MSG_H
#define PROSE_FLOOR_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROSE_FLOOR_RTCP_APP 204u /* RTCP packet type APP (RFC 3550) */
#define PROSE_FLOOR_NAME "MCPT"   /* APP name of floor control (24.380 8.2.2) */
#define PROSE_FLOOR_ACK_BIT 0x10u /* subtype bit: acknowledgement required */
#define PROSE_FLOOR_HDR_LEN 12u   /* RTCP APP header including the name */
#define PROSE_FLOOR_ID_MAX 255u   /* longest MCPTT ID a 1-octet length carries */
#define PROSE_FLOOR_QUEUE_MAX 16u /* queue entries a message may list */
/* Largest message prose encodes: header, every singleton field with
 * 255-octet strings, and a full queue list. */
#define PROSE_FLOOR_MSG_MAX 5632u

/* Message types: the low 4 bits of the subtype (24.380 8.2.2, Table 8.2.2-1). */
typedef enum prose_floor_msg_type {
  PROSE_FLOOR_MSG_REQUEST = 0,
  PROSE_FLOOR_MSG_GRANTED = 1,
  PROSE_FLOOR_MSG_TAKEN = 2,
  PROSE_FLOOR_MSG_DENY = 3,
  PROSE_FLOOR_MSG_RELEASE = 4,
  PROSE_FLOOR_MSG_IDLE = 5,   /* on-network only */
  PROSE_FLOOR_MSG_REVOKE = 6, /* on-network only */
  PROSE_FLOOR_MSG_QUEUE_POS_REQUEST = 8,
  PROSE_FLOOR_MSG_QUEUE_POS_INFO = 9,
  PROSE_FLOOR_MSG_ACK = 10 /* on-network only */
} prose_floor_msg_type;

/* Field IDs, current numbering (24.380 8.2.3.1). The old numbering is
 * PROSE_FLOOR_FLD_* + 102 (except Permission and later, + 103). */
typedef enum prose_floor_field {
  PROSE_FLOOR_FLD_PRIORITY = 0,       /* Floor Priority */
  PROSE_FLOOR_FLD_DURATION = 1,       /* Duration */
  PROSE_FLOOR_FLD_REJECT_CAUSE = 2,   /* Reject Cause */
  PROSE_FLOOR_FLD_QUEUE_INFO = 3,     /* Queue Info */
  PROSE_FLOOR_FLD_GRANTED_PARTY = 4,  /* Granted Party's Identity */
  PROSE_FLOOR_FLD_PERMISSION = 5,     /* Permission to Request the Floor */
  PROSE_FLOOR_FLD_USER_ID = 6,        /* User ID */
  PROSE_FLOOR_FLD_QUEUE_SIZE = 7,     /* Queue Size */
  PROSE_FLOOR_FLD_SEQ = 8,            /* Message Sequence Number */
  PROSE_FLOOR_FLD_QUEUED_USER_ID = 9, /* Queued User ID */
  PROSE_FLOOR_FLD_SOURCE = 10,        /* Source */
  PROSE_FLOOR_FLD_TRACK_INFO = 11,    /* Track Info (skipped) */
  PROSE_FLOOR_FLD_MESSAGE_TYPE = 12,  /* Message Type */
  PROSE_FLOOR_FLD_INDICATOR = 13,     /* Floor Indicator */
  PROSE_FLOOR_FLD_SSRC = 14           /* SSRC of the granted or queued participant */
} prose_floor_field;

/* Bit of prose_floor_msg.present for a field. */
#define PROSE_FLOOR_HAS(fld) (1u << (unsigned)(fld))

/* Floor Indicator bits (24.380 8.2.3.13). */
#define PROSE_FLOOR_IND_NORMAL 0x8000u
#define PROSE_FLOOR_IND_BROADCAST 0x4000u
#define PROSE_FLOOR_IND_SYSTEM 0x2000u
#define PROSE_FLOOR_IND_EMERGENCY 0x1000u
#define PROSE_FLOOR_IND_IMMINENT_PERIL 0x0800u
#define PROSE_FLOOR_IND_QUEUEING 0x0400u
#define PROSE_FLOOR_IND_DUAL_FLOOR 0x0200u
#define PROSE_FLOOR_IND_TEMPORARY_GROUP 0x0100u
#define PROSE_FLOOR_IND_MULTI_TALKER 0x0080u

/* Reject causes in Floor Deny (24.380 8.2.6.2). */
#define PROSE_FLOOR_CAUSE_OTHER_HAS_PERMISSION 1u
#define PROSE_FLOOR_CAUSE_INTERNAL_ERROR 2u
#define PROSE_FLOOR_CAUSE_ONLY_ONE_PARTICIPANT 3u
#define PROSE_FLOOR_CAUSE_RETRY_AFTER 4u
#define PROSE_FLOOR_CAUSE_RECEIVE_ONLY 5u
#define PROSE_FLOOR_CAUSE_NO_RESOURCES 6u
#define PROSE_FLOOR_CAUSE_QUEUE_FULL 7u
#define PROSE_FLOOR_CAUSE_OTHER 255u

/* Queue Info position values with a special meaning (8.2.3.4). */
#define PROSE_FLOOR_QPOS_NOT_QUEUED 254u
#define PROSE_FLOOR_QPOS_UNKNOWN 255u

/* A borrowed octet range (decode: into the packet; encode: caller data). */
typedef struct prose_floor_view {
  const uint8_t *p;
  size_t len;
} prose_floor_view;

/* One entry of the queue list in Floor Granted. */
typedef struct prose_floor_qentry {
  uint32_t ssrc;            /* SSRC field (always present: it opens the entry) */
  prose_floor_view user_id; /* Queued User ID; len 0 = absent */
  bool has_info;            /* Queue Info present */
  uint8_t position;         /* Queue Info: position */
  uint8_t priority;         /* Queue Info: queue priority level */
} prose_floor_qentry;

typedef struct prose_floor_msg {
  uint8_t type;      /* prose_floor_msg_type */
  bool ack_required; /* the A bit of the subtype */
  uint32_t ssrc;     /* SSRC of the sender (RTCP header) */
  uint32_t present;  /* PROSE_FLOOR_HAS(field) for each single field present */
  uint8_t priority;  /* Floor Priority (the spare octet is sent as 0) */
  uint16_t duration; /* Duration, seconds */
  uint16_t reject_cause;
  prose_floor_view reject_phrase; /* optional text after the cause */
  uint8_t queue_position;         /* Queue Info outside the queue list */
  uint8_t queue_priority;
  prose_floor_view granted_party;  /* Granted Party's Identity */
  uint16_t permission;             /* Permission to Request the Floor: 0 or 1 */
  prose_floor_view user_id;        /* User ID */
  uint16_t queue_size;             /* Queue Size */
  uint16_t seq;                    /* Message Sequence Number */
  prose_floor_view queued_user_id; /* Queued User ID outside the queue list */
  uint16_t source;                 /* Source: 0..3 */
  uint8_t acked_type;              /* Message Type: the acknowledged subtype */
  uint16_t indicator;              /* Floor Indicator */
  uint32_t field_ssrc;             /* SSRC field outside the queue list */
  size_t n_queue;                  /* queue list entries (after Queue Size) */
  prose_floor_qentry queue[PROSE_FLOOR_QUEUE_MAX];
  /* Decode only. */
  bool legacy_ids;    /* at least one field used the 102.. numbering */
  uint16_t n_unknown; /* fields skipped (unknown IDs, Track Info) */
} prose_floor_msg;

/* Zero a message and set its type, sender SSRC and no fields. */
void prose_floor_msg_init(prose_floor_msg *m, prose_floor_msg_type type, uint32_t ssrc);

/*
 * Split a datagram into RTCP packets: read the common header of the packet
 * at the start of buf (len octets left) and give its total length in
 * *pkt_len and its packet type in *pt.
 * Errors: PROSE_ETRUNC (fewer than 4 octets), PROSE_EFLOOR_RTCP (version is
 * not 2), PROSE_EOVERLONG (the length field runs past len).
 */
int prose_floor_rtcp_next(const uint8_t *buf, size_t len, size_t *pkt_len, uint8_t *pt);

/*
 * Decode one RTCP APP "MCPT" packet of exactly len octets into *m. Views in
 * *m point into pkt, which the caller keeps alive while it uses them.
 * Beyond the field rules above, each off-network message must carry:
 * Floor Request, Release, Queue Position Request: User ID; Floor Granted:
 * User ID or SSRC; Floor Deny: Reject Cause and User ID; Floor Taken:
 * Granted Party's Identity or User ID; Queue Position Info: Queue Info and
 * Queued User ID or SSRC.
 * Errors (the first problem found; *m is then unspecified):
 *   PROSE_ETRUNC      the packet, a field header or a field's padding is cut short
 *   PROSE_EOVERLONG   the RTCP length or a field length runs past the data
 *   PROSE_ETRAILING   octets after the RTCP packet
 *   PROSE_EFLOOR_RTCP not V=2, PT=204 and name "MCPT", or bad RTCP padding
 *   PROSE_EFLOOR_TYPE unknown message type (7, 11..15)
 *   PROSE_EFLOOR_FIELD fixed-size field of the wrong size, empty string, value out of range
 *   PROSE_EFLOOR_DUPLICATE a single field appears twice
 *   PROSE_EFLOOR_PADDING non-zero padding octet
 *   PROSE_EFLOOR_MISSING a field listed above is absent
 *   PROSE_EFLOOR_QUEUE queue list malformed, longer than PROSE_FLOOR_QUEUE_MAX
 *                      or not equal to Queue Size
 */
int prose_floor_msg_decode(const uint8_t *pkt, size_t len, prose_floor_msg *m);

/*
 * Encode *m as one RTCP APP "MCPT" packet into out (cap octets); *out_len
 * gets its length. Fields are written in the order of the 24.380 message
 * tables (then any other present field), with the current field IDs.
 * With out == NULL and cap == 0 only *out_len is computed.
 * Errors: PROSE_EINVAL (type above 15, a view longer than 255 octets or
 * n_queue above PROSE_FLOOR_QUEUE_MAX), PROSE_EBUFSZ (cap too small).
 */
int prose_floor_msg_encode(const prose_floor_msg *m, uint8_t *out, size_t cap, size_t *out_len);

/* "Floor Request", "Floor Granted", ... ; "unknown" for other values. */
const char *prose_floor_msg_type_name(unsigned type);

#endif
