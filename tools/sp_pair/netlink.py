"""Minimal rtnetlink: dump links and IPv4 addresses, parse them with struct, and decide who
holds the floating address. The decision functions are pure (unit-tested in
tests/system/test_harness_unit.py)."""

import ctypes
import os
import socket
import struct

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 16, 18, 20, 21, 22
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
IFF_UP = 0x1
IFA_ADDRESS, IFA_LOCAL = 1, 2
IFLA_IFNAME = 3
CLONE_NEWNET = 0x40000000

NLMSGHDR = struct.Struct("=IHHII")     # len, type, flags, seq, pid
IFINFOMSG = struct.Struct("=BxHiII")   # family, type, index, flags, change
IFADDRMSG = struct.Struct("=BBBBi")    # family, prefixlen, flags, scope, index
RTATTR = struct.Struct("=HH")          # len, type


def _align(n):
    return (n + 3) & ~3


def messages(data):
    """Yields (type, payload) for each netlink message in a datagram."""
    off = 0
    for _ in range(100000):
        if off + NLMSGHDR.size > len(data):
            return
        length, mtype, _, _, _ = NLMSGHDR.unpack_from(data, off)
        if length < NLMSGHDR.size:
            return
        yield mtype, data[off + NLMSGHDR.size:off + length]
        off += _align(length)


def attributes(data, off):
    out = {}
    for _ in range(10000):
        if off + RTATTR.size > len(data):
            break
        alen, atype = RTATTR.unpack_from(data, off)
        if alen < RTATTR.size:
            break
        out[atype] = data[off + RTATTR.size:off + alen]
        off += _align(alen)
    return out


def parse_link(payload):
    """(ifindex, flags) of an RTM_NEWLINK payload."""
    _, _, index, flags, _ = IFINFOMSG.unpack_from(payload, 0)
    return index, flags


def parse_link_name(payload):
    """(ifname, ifindex) of an RTM_NEWLINK payload ('' when it carries no name)."""
    _, _, index, _, _ = IFINFOMSG.unpack_from(payload, 0)
    raw = attributes(payload, IFINFOMSG.size).get(IFLA_IFNAME, b"")
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace"), index


def rtattr(atype, value):
    return RTATTR.pack(RTATTR.size + len(value), atype) + value + b"\0" * (
        _align(len(value)) - len(value))


def parse_addr(payload):
    """(ifindex, 'a.b.c.d') of an AF_INET RTM_NEWADDR payload, or None."""
    family, _, _, _, index = IFADDRMSG.unpack_from(payload, 0)
    if family != socket.AF_INET:
        return None
    attrs = attributes(payload, IFADDRMSG.size)
    raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
    if raw is None or len(raw) != 4:
        return None
    return index, socket.inet_ntoa(raw)


def holds_floating(links, addrs, floating):
    """Pure: does a namespace hold the floating address?
    links: {ifindex: flags}; addrs: [(ifindex, 'a.b.c.d')]. Held = the address is on an
    interface whose IFF_UP flag is set (a downed link answers nobody)."""
    return any(addr == floating and links.get(index, 0) & IFF_UP for index, addr in addrs)


def sandwich_violation(r0, r1, r2):
    """Pure: three consecutive readings (sp, holds) of alternating namespaces X, Y, X. Two
    holders only when X held in both of its readings and Y held between them, so a release
    and a takeover that merely straddle two non-atomic reads never raise a false alarm."""
    return r0[0] == r2[0] != r1[0] and r0[1] and r1[1] and r2[1]


class RouteSocket:
    """An rtnetlink socket; it stays in the network namespace it was created in."""

    def __init__(self, sock):
        self.sock = sock
        self.seq = 0

    @classmethod
    def in_netns(cls, path):
        """Opens the socket inside the namespace file `path` (e.g. /run/netns/dualsp-spa)
        from a short-lived thread, so the calling thread never changes namespace."""
        import threading
        result = {}

        def worker():
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open(path, os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        e = ctypes.get_errno()
                        raise OSError(e, "setns(%s): %s" % (path, os.strerror(e)))
                finally:
                    os.close(fd)
                s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
                s.bind((0, 0))
                result["sock"] = s
            except Exception as e:  # reported to the caller
                result["error"] = e

        t = threading.Thread(target=worker, daemon=True)
        t.start()
        t.join(5)
        if "error" in result:
            raise result["error"]
        if "sock" not in result:
            raise OSError("could not open a netlink socket in %s" % path)
        return cls(result["sock"])

    @classmethod
    def here(cls):
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        s.bind((0, 0))
        return cls(s)

    def dump(self, mtype, body):
        self.seq += 1
        req = NLMSGHDR.pack(NLMSGHDR.size + len(body), mtype, NLM_F_REQUEST | NLM_F_DUMP,
                            self.seq, 0) + body
        self.sock.sendto(req, (0, 0))
        out = []
        for _ in range(10000):
            data = self.sock.recv(65536)
            for t, payload in messages(data):
                if t == NLMSG_DONE:
                    return out
                if t == NLMSG_ERROR:
                    code = struct.unpack_from("=i", payload, 0)[0]
                    if code:
                        raise OSError(-code, "netlink dump: %s" % os.strerror(-code))
                    return out
                out.append((t, payload))
        return out

    def request(self, mtype, body):
        """One change (NLM_F_ACK); raises OSError with the kernel's error."""
        self.seq += 1
        req = NLMSGHDR.pack(NLMSGHDR.size + len(body), mtype, NLM_F_REQUEST | NLM_F_ACK,
                            self.seq, 0) + body
        self.sock.sendto(req, (0, 0))
        for _ in range(100):
            data = self.sock.recv(65536)
            for t, payload in messages(data):
                if t == NLMSG_ERROR:
                    code = struct.unpack_from("=i", payload, 0)[0]
                    if code:
                        raise OSError(-code, "netlink: %s" % os.strerror(-code))
                    return
        raise OSError("netlink: no acknowledgement")

    def link_indexes(self):
        """{ifname: ifindex}."""
        body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        return dict(parse_link_name(p) for t, p in self.dump(RTM_GETLINK, body)
                    if t == RTM_NEWLINK)

    def set_link_down(self, index):
        """`ip link set dev X down`."""
        self.request(RTM_NEWLINK, IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, 0, IFF_UP))

    def del_addr(self, index, addr, prefix):
        """`ip addr del addr/prefix dev X`."""
        raw = socket.inet_aton(addr)
        self.request(RTM_DELADDR, IFADDRMSG.pack(socket.AF_INET, prefix, 0, 0, index) +
                     rtattr(IFA_LOCAL, raw) + rtattr(IFA_ADDRESS, raw))

    def links(self):
        body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        return dict(parse_link(p) for t, p in self.dump(RTM_GETLINK, body) if t == RTM_NEWLINK)

    def addrs(self):
        body = IFADDRMSG.pack(socket.AF_INET, 0, 0, 0, 0)
        out = []
        for t, p in self.dump(RTM_GETADDR, body):
            if t == RTM_NEWADDR:
                a = parse_addr(p)
                if a:
                    out.append(a)
        return out

    def holds(self, floating):
        links = self.links()
        return holds_floating(links, self.addrs(), floating)

    def close(self):
        self.sock.close()
