#!/usr/bin/env python3
"""A stand-in for the application behind prosed's APP ports, for the
integration tests (tests/integration/*.sh). Standard library only.

  rtpapp.py send BIND_IP BIND_PORT TO_IP TO_PORT TAG FIRST COUNT [GAP_MS]
      Send COUNT plain RTP packets (PT 0, 160-octet payload) numbered FIRST..
      to the node's APP port, GAP_MS apart (default 20).
  rtpapp.py recv BIND_IP BIND_PORT SUMMARY_FILE SECONDS
      Receive the node's decrypted RTP for at most SECONDS and keep
      SUMMARY_FILE up to date (rewritten atomically after every packet), so a
      test can read what arrived so far while the receiver runs on.
  rtpapp.py count SUMMARY_FILE TAG FIRST COUNT
      Print "EXACT BAD DUP": how many of the packets TAG FIRST..FIRST+COUNT-1
      arrived byte-exact, how many packets arrived damaged (any tag) and how
      many of the wanted ones arrived more than once.
  rtpapp.py payload TAG INDEX
      Print the hex payload of one packet (for the wire checks).

The payload of packet (TAG, i) is a fixed function of both, so the receiver
can check every octet without being told what was sent. It starts with the
marker PLAINTEXT- so a capture can be searched for it.
"""
import json
import os
import re
import select
import socket
import struct
import sys
import time

PAYLOAD_LEN = 160
MARKER = b"PLAINTEXT-"


def payload(tag, i):
    head = MARKER + b"%s-%05d-" % (tag.encode(), i)
    body = bytes((i * 7 + k) & 0xFF for k in range(PAYLOAD_LEN - len(head)))
    return head + body


def parse(pkt):
    """(tag, index) of an intact packet, or None."""
    if len(pkt) != 12 + PAYLOAD_LEN or pkt[0] >> 6 != 2 or (pkt[1] & 0x7F) != 0:
        return None
    body = pkt[12:]
    m = re.match(rb"PLAINTEXT-([!-~]+?)-([0-9]{5})-", body)
    if m is None:
        return None
    tag, idx = m.group(1).decode(), int(m.group(2))
    return (tag, idx) if body == payload(tag, idx) else None


def send(bind_ip, bind_port, to_ip, to_port, tag, first, count, gap_ms=20):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # The receiver of the same application may hold BIND_PORT already: the
    # node does not care where the application sends from, so fall back to
    # an ephemeral port.
    try:
        s.bind((bind_ip, bind_port))
    except OSError:
        s.bind((bind_ip, 0))
    ssrc = 0x51A70000 + (hash(tag) & 0xFFFF)
    for k in range(count):
        i = first + k
        hdr = struct.pack("!BBHII", 0x80, (0x80 if k == 0 else 0), (1000 + i) & 0xFFFF,
                          (160 * i) & 0xFFFFFFFF, ssrc)
        try:
            s.sendto(hdr + payload(tag, i), (to_ip, to_port))
        except OSError:
            pass  # a test's packet filter (EPERM): that packet is lost
        time.sleep(gap_ms / 1000.0)
    s.close()


def recv(bind_ip, bind_port, summary, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind_ip, bind_port))
    got = {}  # "tag:index" -> times received
    bad = 0
    end = time.monotonic() + seconds

    def write():
        tmp = summary + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"got": got, "bad": bad}, f)
        os.replace(tmp, summary)

    write()
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.2)
        if not r:
            continue
        pkt = s.recv(65536)
        key = parse(pkt)
        if key is None:
            bad += 1
        else:
            k = "%s:%d" % key
            got[k] = got.get(k, 0) + 1
        write()


def count(summary, tag, first, n):
    try:
        with open(summary) as f:
            d = json.load(f)
    except (OSError, ValueError):
        print("0 0 0")
        return
    got = d["got"]
    exact = sum(1 for i in range(first, first + n) if got.get("%s:%d" % (tag, i), 0) >= 1)
    dup = sum(1 for i in range(first, first + n) if got.get("%s:%d" % (tag, i), 0) > 1)
    print(exact, d["bad"], dup)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    a = argv[2:]
    if cmd == "send" and len(a) in (7, 8):
        send(a[0], int(a[1]), a[2], int(a[3]), a[4], int(a[5]), int(a[6]),
             float(a[7]) if len(a) == 8 else 20)
    elif cmd == "recv" and len(a) == 4:
        recv(a[0], int(a[1]), a[2], float(a[3]))
    elif cmd == "count" and len(a) == 4:
        count(a[0], a[1], int(a[2]), int(a[3]))
    elif cmd == "payload" and len(a) == 2:
        print(payload(a[0], int(a[1])).hex())
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
