#!/usr/bin/env python3
"""Hostile input for a running prosed (tests/integration/daemon_robustness.sh).
Standard library only.

  attack.py sniff IFACE SECONDS OUT.json GROUP:PORT... [raw:IP:PORT...]
      Record real datagrams for SECONDS: one socket per GROUP:PORT, bound to
      the group and joined on the interface with IPv4 address IFACE; with
      raw:IP:PORT (root only) also the unicast datagrams to IP:PORT, seen
      through a packet socket on lo. OUT.json maps each target to a list of
      [source "ip:port", hex datagram].
  attack.py udp IFACE SRC_IP DST_IP DST_PORT [CAPTURE.json KEY]
      Send garbage of many sizes, truncated and oversized datagrams, a plain
      RTP packet and, from the capture's datagrams under KEY: verbatim
      replays, truncations, one-bit forgeries, copies with a changed MKI
      and (discovery) announcements with a newer sequence number but the
      old signature. Prints what it sent, per kind.
  attack.py app IFACE SRC_IP DST_IP DST_PORT [rtp]
      For an APP port: what the application side must never turn into
      media: datagrams too short for RTP, of another RTP version, larger
      than the node's limit; with "rtp" also valid plain RTP (only for a
      node that does not hold the floor: the APP port is the local
      application's own interface, and a floor holder sends what it gets).
  attack.py ctl SOCKET [GROUP]   (GROUP: a configured group, for the group-only refusals)
      Abuse the control socket: malformed JSON, unknown commands, bad and
      missing arguments, an overlong line, more clients than allowed, half a
      line then a hang-up, a client that never reads. Checks each error
      reply; exit status 1 on a wrong or missing reply.

Multicast leaves only through IFACE (IP_MULTICAST_IF): never by the
default route, off the machine.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time

RNG = random.Random(0x5EED)


def mcast_sock(iface):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    return s


def is_mcast(ip):
    return 224 <= int(ip.split(".")[0]) <= 239


# ---------------------------------------------------------------------------
# sniff

def sniff(iface, seconds, out, targets):
    socks = {}
    raw = None
    raw_targets = {}
    for t in targets:
        if t.startswith("raw:"):
            _, ip, port = t.split(":")
            raw_targets[(socket.inet_aton(ip), int(port))] = t
            continue
        group, port = t.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((group, int(port)))
        mreq = socket.inet_aton(group) + socket.inet_aton(iface)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        socks[s] = t
    if raw_targets and os.geteuid() == 0:
        # ETH_P_IP on lo; only frames coming in (PACKET_HOST), so each
        # datagram is seen once.
        raw = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
        raw.bind(("lo", 0))
    got = {t: [] for t in targets}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rl = list(socks) + ([raw] if raw else [])
        r, _, _ = select.select(rl, [], [], 0.1)
        for s in r:
            if s is raw:
                pkt, addr = raw.recvfrom(65536)
                if addr[2] != socket.PACKET_HOST or len(pkt) < 28 or pkt[9] != 17:
                    continue
                ihl = (pkt[0] & 0x0F) * 4
                dst = (pkt[16:20], struct.unpack("!H", pkt[ihl + 2:ihl + 4])[0])
                key = raw_targets.get(dst)
                if key and len(got[key]) < 200:
                    src = "%s:%d" % (socket.inet_ntoa(pkt[12:16]),
                                     struct.unpack("!H", pkt[ihl:ihl + 2])[0])
                    got[key].append([src, pkt[ihl + 8:].hex()])
                continue
            data, src = s.recvfrom(65536)
            if len(got[socks[s]]) < 200:
                got[socks[s]].append(["%s:%d" % src, data.hex()])
    with open(out, "w") as f:
        json.dump(got, f)
    print(" ".join("%s=%d" % (t, len(v)) for t, v in got.items()))


# ---------------------------------------------------------------------------
# udp

def plain_rtp(i):
    body = (b"PLAINTEXT-attack-%05d-" % i).ljust(160, b"\x55")
    return struct.pack("!BBHII", 0x80, 0, 4000 + i, 160 * i, 0xA77AC4) + body


class Sender:
    def __init__(self, iface, src_ip, dst_ip, dst_port):
        self.s = mcast_sock(iface) if is_mcast(dst_ip) else socket.socket(socket.AF_INET,
                                                                         socket.SOCK_DGRAM)
        self.s.bind((src_ip, 0))
        self.dst = (dst_ip, dst_port)
        self.sent = {}

    def __call__(self, kind, data):
        s, dst, sent = self.s, self.dst, self.sent
        try:
            s.sendto(data, dst)
        except OSError as e:  # EMSGSIZE for the largest: still a try
            sent.setdefault(kind + "(refused:%s)" % e.errno, 0)
            return
        sent[kind] = sent.get(kind, 0) + 1
        # Pace the flood a little: the test is about handling, not about
        # overrunning the receive buffer (a drop there would hide a bug).
        if sum(sent.values()) % 16 == 0:
            time.sleep(0.002)

    def done(self):
        self.s.close()
        print("%s:%d %s" % (self.dst[0], self.dst[1],
                            " ".join("%s=%d" % kv for kv in sorted(self.sent.items()))))


def newer_announcement(c):
    """A discovery announcement stamped 30 s later than it was, so it passes
    the replay check (timestamp first, docs/discovery.md section 1) and must
    fail the signature; None when c is not one."""
    if len(c) < 40 or c[:4] != b"PRSD":
        return None
    off = 5
    off += 1 + c[off]  # MCPTT ID
    off += 1 + c[off]  # KMS URI
    off += 4  # key period
    if off + 8 > len(c):
        return None
    secs = (struct.unpack("!I", c[off:off + 4])[0] + 30) & 0xFFFFFFFF
    return c[:off] + struct.pack("!I", secs) + c[off + 4:]


def app(iface, src_ip, dst_ip, dst_port, with_rtp=False):
    out = Sender(iface, src_ip, dst_ip, dst_port)
    out("empty", b"")
    for n in (1, 2, 11, 12, 40, 172, 1000):
        for version in (0, 1, 3):
            b = bytearray(RNG.getrandbits(8) for _ in range(n))
            b[0] = (b[0] & 0x3F) | (version << 6)
            out("not-rtp" if n >= 12 else "short", bytes(b))
    for n in (2040, 3000, 65000):
        b = bytearray(RNG.getrandbits(8) for _ in range(n))
        b[0] = 0x80
        out("oversized", bytes(b))
    if with_rtp:
        for i in range(3):
            out("plain-rtp", plain_rtp(i))
    out.done()


def udp(iface, src_ip, dst_ip, dst_port, capture=None, key=None):
    out = Sender(iface, src_ip, dst_ip, dst_port)
    out("empty", b"")
    for n in (1, 2, 3, 7, 8, 11, 12, 13, 16, 20, 28, 40, 64, 100, 172, 200, 512, 1200, 1400):
        for _ in range(2):
            out("garbage", bytes(RNG.getrandbits(8) for _ in range(n)))
    # Garbage that looks like RTP/RTCP version 2 (gets past a first-octet check).
    for n in (12, 13, 40, 200, 1000):
        b = bytearray(RNG.getrandbits(8) for _ in range(n))
        b[0] = 0x80
        out("rtp-like", bytes(b))
        b[1] = 200 + (n % 5)
        out("rtcp-like", bytes(b))
    for n in (2049, 3000, 9000, 65000):
        out("oversized", bytes(RNG.getrandbits(8) for _ in range(n)))
    for i in range(3):
        out("plain-rtp", plain_rtp(i))
    caps = []
    if capture:
        with open(capture) as f:
            caps = [bytes.fromhex(h) for _, h in json.load(f).get(key, [])]
    for c in caps[:12]:
        out("replay", c)
        out("replay", c)
    for c in caps[:12]:
        for cut in (1, 4, 12, len(c) // 2, len(c) - 1, len(c) - 4, len(c) - 12):
            if 0 < cut < len(c):
                out("truncated", c[:cut])
        b = bytearray(c)
        b[len(b) // 2] ^= 0x01
        out("bitflip", bytes(b))
        if len(c) > 20:
            # Change the first octet of a 12-octet trailer (group SRTP:
            # GMK-ID; SRTCP: inside E|index || MKI): an unknown key or a
            # failed check, never a decryption.
            b = bytearray(c)
            b[-12] ^= 0x5A
            b[-8] ^= 0xA5
            out("mki", bytes(b))
            b = bytearray(c)
            b[-5] ^= 0xFF
            out("mki", bytes(b))
        out("appended", c + b"\x00" * 8)
        fake = newer_announcement(c)
        if fake:
            out("forged-time", fake)
    out.done()


# ---------------------------------------------------------------------------
# ctl

class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self, timeout=5.0):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return None
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def closed(self, timeout=5.0):
        """True when the server closed the connection (after any lines)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.s], [], [], 0.1)
            if r:
                try:
                    if not self.s.recv(65536):
                        return True
                except ConnectionResetError:
                    return True
        return False

    def close(self):
        self.s.close()


def ctl(path, group=None):
    errors = []

    def expect(what, reply, code):
        got = None if reply is None else (reply.get("error") or {}).get("code")
        if reply is None or reply.get("ok") is not False or got != code:
            errors.append("%s: want %s, got %r" % (what, code, reply))

    c = Client(path)
    bad = [
        ("not json", b"this is not json\n", "EJSON"),
        ("open brace", b"{\n", "EJSON"),
        ("duplicate member", b'{"cmd":"status","cmd":"status"}\n', "EJSON"),
        ("invalid utf-8", b'{"cmd":"st\xff\xfeatus"}\n', "EJSON"),
        ("NUL in line", b'{"cmd":"sta\x00tus"}\n', "EJSON"),
        ("deep nesting", b"[" * 5000 + b"]" * 5000 + b"\n", "EJSON"),
        ("array", b"[1,2,3]\n", "EUSAGE"),
        ("number cmd", b'{"cmd":5}\n', "EUSAGE"),
        ("unknown member", b'{"cmd":"status","bogus":1}\n', "EUSAGE"),
        ("args not object", b'{"cmd":"status","args":[1]}\n', "EUSAGE"),
        ("bad id", b'{"id":[1],"cmd":"status"}\n', "EUSAGE"),
        ("unknown cmd", b'{"cmd":"format_disk"}\n', "EUNKNOWN_CMD"),
        ("empty cmd", b'{"cmd":""}\n', "EUSAGE"),
        ("missing arg", b'{"cmd":"call_group","args":{}}\n', "EUSAGE"),
        ("unknown arg", b'{"cmd":"peers","args":{"x":1}}\n', "EUSAGE"),
        ("priority range", b'{"cmd":"ptt_press","args":{"priority":999}}\n', "EUSAGE"),
        ("priority type", b'{"cmd":"ptt_press","args":{"priority":"high"}}\n', "EUSAGE"),
        ("bad call type", b'{"cmd":"call_group","args":{"group":"x","type":"loud"}}\n', "EUSAGE"),
        ("control char", b'{"cmd":"call_private","args":{"uri":"sip:a\\u0001b"}}\n', "EUSAGE"),
        ("long arg", b'{"cmd":"call_private","args":{"uri":"' + b"x" * 300 + b'"}}\n', "EUSAGE"),
        ("unknown group", b'{"cmd":"call_group","args":{"group":"no-such-group"}}\n', "ENOENT"),
        ("unknown peer", b'{"cmd":"call_private","args":{"uri":"sip:nobody@example.org"}}\n',
         "ENOENT"),
        ("ptt in an unknown group", b'{"cmd":"ptt_press","args":{"group":"no-such-group"}}\n',
         "ENOENT"),
        ("ptt in an unknown private call",
         b'{"cmd":"ptt_press","args":{"call":"sip:nobody@example.org"}}\n', "ENOENT"),
        ("hang up an unknown group", b'{"cmd":"hangup","args":{"group":"no-such-group"}}\n',
         "ENOENT"),
        ("hang up an unknown call", b'{"cmd":"hangup","args":{"call":"sip:nobody@example.org"}}\n',
         "ENOENT"),
        ("accept with nothing ringing", b'{"cmd":"accept"}\n', "ENOENT"),
        ("reject a caller not ringing", b'{"cmd":"reject","args":{"call":"sip:nobody@example.org"}}\n',
         "ENOENT"),
    ]
    if group:
        bad.append(("accept a group call", b'{"cmd":"accept","args":{"group":"%s"}}\n' % group.encode(),
                    "EINVAL"))
    for what, line, code in bad:
        c.send(line)
        expect(what, c.line(), code)
    # Pipelined: many requests in one write, answered in order.
    c.send(b"".join(b'{"id":%d,"cmd":"nope%d"}\n' % (i, i) for i in range(200)))
    for i in range(200):
        r = c.line()
        expect("pipelined %d" % i, r, "EUNKNOWN_CMD")
        if r is not None and r.get("id") != i:
            errors.append("pipelined reply %d has id %r" % (i, r.get("id")))
    # The connection still works.
    c.send(b'{"id":"alive","cmd":"status"}\n')
    r = c.line()
    if not r or not r.get("ok") or r.get("id") != "alive":
        errors.append("status after errors: %r" % r)
    c.close()

    # An overlong line: ELIMIT, then the server hangs up.
    c = Client(path)
    try:
        c.send(b'{"cmd":"status","pad":"' + b"A" * 70000)
    except OSError:
        pass
    expect("overlong line", c.line(), "ELIMIT")
    if not c.closed():
        errors.append("overlong line: connection not closed")
    c.close()

    # Half a line, then a hang-up; and a hang-up right after a request.
    c = Client(path)
    c.send(b'{"cmd":"sta')
    c.close()
    c = Client(path)
    c.send(b'{"cmd":"counters"}\n')
    c.close()

    # More clients than allowed: the extra ones get ELIMIT and are closed,
    # the first ones are served.
    many = []
    refused = 0
    for _ in range(40):
        k = Client(path)
        many.append(k)
    time.sleep(0.3)
    for k in many:
        r, _, _ = select.select([k.s], [], [], 0)
        if r:
            rep = k.line(timeout=0.5)
            if rep is not None and (rep.get("error") or {}).get("code") == "ELIMIT":
                refused += 1
    if refused < 40 - 16:
        errors.append("too many clients: only %d refused" % refused)
    for k in many:
        k.close()
    time.sleep(0.2)

    # A client that never reads: the daemon must drop it, not block on it.
    c = Client(path)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = b'{"cmd":"counters"}\n' * 256
    slow_sent = 0
    c.s.setblocking(False)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            c.s.send(req)
            slow_sent += 256
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            break
    c.close()

    # Still serving.
    c = Client(path)
    c.send(b'{"cmd":"status"}\n')
    r = c.line()
    if not r or not r.get("ok"):
        errors.append("status at the end: %r" % r)
    c.close()
    print("control: %d bad requests, 200 pipelined, overlong, %d refused clients, slow reader "
          "after %d requests" % (len(bad), refused, slow_sent))
    for e in errors:
        print("ctl error:", e)
    return 1 if errors else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    a = argv[2:]
    if cmd == "sniff" and len(a) >= 4:
        sniff(a[0], float(a[1]), a[2], a[3:])
    elif cmd == "udp" and len(a) in (4, 6):
        udp(a[0], a[1], a[2], int(a[3]), *(a[4:6] if len(a) == 6 else ()))
    elif cmd == "app" and len(a) in (4, 5):
        app(a[0], a[1], a[2], int(a[3]), len(a) == 5 and a[4] == "rtp")
    elif cmd == "ctl" and len(a) in (1, 2):
        return ctl(*a)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
