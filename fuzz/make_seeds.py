#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the HAR samples in samples/.

Writes fuzz/seeds/<target>/: the HARs themselves; pcap and pcapng files holding the samples'
first exchanges as HTTP/1 over TCP; segment lists for the tcp_* harnesses (see fuzz/src/lib.rs:
a control byte, a length byte, the payload); HTTP/2 frames with HPACK headers; websocket frames;
and the JWTs and URLs the samples send. Deterministic: re-running gives the same files.

    python3 fuzz/make_seeds.py
"""
import base64, glob, json, os, struct, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "seeds")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def http1(entry):
    rq, rs = entry["request"], entry["response"]
    path = rq["url"].split("://", 1)[-1]
    host, _, path = path.partition("/")
    body = (rq.get("postData") or {}).get("text", "").encode()
    head = f"{rq['method']} /{path} HTTP/1.1\r\nHost: {host}\r\n"
    for h in rq.get("headers", []):
        if h["name"].lower() not in ("host", "content-length") and not h["name"].startswith(":"):
            head += f"{h['name']}: {h['value']}\r\n"
    req = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    rbody = (rs.get("content") or {}).get("text", "").encode()
    rh = f"HTTP/1.1 {rs['status']} {rs.get('statusText') or 'X'}\r\n"
    for h in rs.get("headers", []):
        if h["name"].lower() not in ("content-length", "content-encoding", "transfer-encoding"):
            rh += f"{h['name']}: {h['value']}\r\n"
    resp = (rh + f"Content-Length: {len(rbody)}\r\n\r\n").encode() + rbody
    return req, resp


def segments(pairs):
    """The tcp_* harness encoding: control byte (bit 0 = server), length byte, payload."""
    out = b""
    for d, data in pairs:
        for i in range(0, len(data), 255):
            chunk = data[i : i + 255]
            out += bytes([d, len(chunk)]) + chunk
    return out


def ipv4_tcp(src, dst, sport, dport, seq, flags, payload):
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, bytes(src), bytes(dst))
    return ip + tcp


def frames(pairs):
    c, s = [10, 0, 0, 1], [10, 0, 0, 2]
    seq = [1000, 5000]
    out = [ipv4_tcp(c, s, 40000, 80, 999, 0x02, b""), ipv4_tcp(s, c, 80, 40000, 4999, 0x12, b"")]
    for d, data in pairs:
        for i in range(0, len(data), 1400):
            chunk = data[i : i + 1400]
            a, b, sp, dp = (c, s, 40000, 80) if d == 0 else (s, c, 80, 40000)
            out.append(ipv4_tcp(a, b, sp, dp, seq[d], 0x18, chunk))
            seq[d] += len(chunk)
    out.append(ipv4_tcp(c, s, 40000, 80, seq[0], 0x11, b""))
    return out


def pcap(pkts):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
    for i, p in enumerate(pkts):
        out += struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)) + p
    return out


def pcapng(pkts):
    def block(t, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", t, n) + body + struct.pack("<I", n)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 101, 0, 65535))
    for i, p in enumerate(pkts):
        ts = (1700000000 + i) * 1_000_000
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(p), len(p)) + p)
    return out


def hpack_literal(name, value):
    """Literal header field with incremental indexing, new name, no Huffman."""
    def s(x):
        x = x.encode()
        assert len(x) < 127
        return bytes([len(x)]) + x
    return b"\x40" + s(name) + s(value)


def h2frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def h2(entry):
    rq, rs = entry["request"], entry["response"]
    host, _, path = rq["url"].split("://", 1)[-1].partition("/")
    block = b"\x82\x87" + hpack_literal(":path", "/" + path[:100]) + hpack_literal(":authority", host)
    for h in rq.get("headers", [])[:4]:
        if not h["name"].startswith(":") and len(h["value"]) < 120:
            block += hpack_literal(h["name"].lower(), h["value"])
    client = h2frame(4, 0, 0, b"") + h2frame(1, 5, 1, block) + h2frame(1, 5, 3, b"\x82\x87\xbe\xbf")
    rbody = (rs.get("content") or {}).get("text", "").encode()[:1000]
    rblock = hpack_literal(":status", str(rs["status"])) + hpack_literal("content-type", "application/json")
    server = h2frame(4, 0, 0, b"") + h2frame(1, 4, 1, rblock) + h2frame(0, 1, 1, rbody)
    server += h2frame(1, 5, 3, b"\xbe\xbf")
    return client, server


def ws(payload, mask, fin=True, opcode=1):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    head = bytes([b0, (0x80 if mask else 0) | (n if n < 126 else 126)])
    if n >= 126:
        head += struct.pack(">H", n)
    if mask:
        key = b"\x01\x02\x03\x04"
        return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return head + payload


def deflated(text):
    c = zlib.compressobj(wbits=-15)
    return (c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def tn(v, tag):
    v = v if isinstance(v, bytes) else v.encode()
    return str(len(v)).encode() + b":" + v + tag.encode()


def tdict(items):
    return tn(b"".join(tn(k, ";") + v for k, v in items), "}")


def mitm_flow(entry):
    rq, rs = entry["request"], entry["response"]
    host, _, path = rq["url"].split("://", 1)[-1].partition("/")
    hdrs = b"".join(tn(tn(h["name"], ",") + tn(h["value"], ","), "]") for h in rq.get("headers", [])
                    if not h["name"].startswith(":"))
    req = tdict([("method", tn(rq["method"], ",")), ("scheme", tn("https", ",")), ("host", tn(host, ";")),
                 ("port", tn("443", "#")), ("path", tn("/" + path, ",")), ("http_version", tn("HTTP/1.1", ",")),
                 ("headers", tn(hdrs, "]")), ("content", tn((rq.get("postData") or {}).get("text", ""), ",")),
                 ("timestamp_start", tn("1700000000.5", "^"))])
    rhdrs = b"".join(tn(tn(h["name"], ",") + tn(h["value"], ","), "]") for h in rs.get("headers", []))
    resp = tdict([("status_code", tn(str(rs["status"]), "#")), ("reason", tn("X", ",")),
                  ("http_version", tn("HTTP/1.1", ",")), ("headers", tn(rhdrs, "]")),
                  ("content", tn((rs.get("content") or {}).get("text", ""), ",")),
                  ("timestamp_start", tn("1700000001.0", "^")), ("timestamp_end", tn("1700000001.5", "^"))])
    return tdict([("version", tn("21", "#")), ("type", tn("http", ";")), ("request", req), ("response", resp)])


def burp(pairs, url):
    items = "".join(
        f'<item><time>Mon May 01 12:00:00 UTC 2024</time><url><![CDATA[{url}]]></url><host>h</host><port>443</port>'
        f'<protocol>https</protocol><method>GET</method><path>/</path><status>200</status>'
        f'<request base64="true">{base64.b64encode(rq).decode()}</request>'
        f'<response base64="true">{base64.b64encode(rs).decode()}</response></item>'
        for rq, rs in pairs)
    return f'<?xml version="1.0"?>\n<items burpVersion="2024.1">{items}</items>'.encode()


def saz(pairs):
    import io, zipfile
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (rq, rs) in enumerate(pairs, 1):
            z.writestr(f"raw/{i:02d}_c.txt", rq)
            z.writestr(f"raw/{i:02d}_s.txt", rs)
            z.writestr(f"raw/{i:02d}_m.xml", '<Session><SessionTimers ClientBeginRequest="2024-05-01T12:00:00.000Z" '
                       'ServerDoneResponse="2024-05-01T12:00:00.100Z"/></Session>')
    return b.getvalue()


def main():
    hars = sorted(glob.glob(os.path.join(ROOT, "samples", "*.har")))
    jwts, urls = set(), set()
    for path in hars:
        name = os.path.splitext(os.path.basename(path))[0]
        raw = open(path, "rb").read()
        put("har", name + ".har", raw)
        entries = json.loads(raw)["log"]["entries"]
        pairs = []
        for e in entries[:4]:
            rq, rs = http1(e)
            pairs += [(0, rq), (1, rs)]
        pkts = frames(pairs)
        put("pcap", name + ".pcap", pcap(pkts))
        put("pcap", name + ".pcapng", pcapng(pkts))
        put("tcp_http1", name, segments(pairs))
        put("mitm", name, b"".join(mitm_flow(e) for e in entries[:4]))
        reqs = [(a, b) for (_, a), (_, b) in zip(pairs[0::2], pairs[1::2])]
        put("burp", name + ".xml", burp(reqs, entries[0]["request"]["url"]))
        put("saz", name + ".saz", saz(reqs))
        c, s = h2(entries[0])
        put("tcp_http2", name, segments([(0, c), (1, s)]))
        for e in entries:
            urls.add(e["request"]["url"])
            for h in e["request"].get("headers", []):
                v = h["value"]
                if v.lower().startswith("bearer ") and v.count(".") == 2:
                    jwts.add(v[7:])
    for d, target in [("tests/fixtures/logs", "logs"), ("tests/fixtures/proxy", "chlsj")]:
        for f in sorted(glob.glob(os.path.join(ROOT, d, "*"))):
            if not f.endswith(".py"):
                put(target, os.path.basename(f), open(f, "rb").read())
    msgs = [b'{"type":"message","action":"echo","token":"x"}', b'{"class":"SessionResponse","code":401}']
    put("tcp_websocket", "text", segments([(0, ws(msgs[0], True)), (1, ws(msgs[1], False))]))
    put("tcp_websocket", "fragmented", segments([(0, ws(msgs[0][:10], True, False)), (0, ws(msgs[0][10:], True, True, 0))]))
    put("tcp_websocket", "deflate", segments([(1, bytes([0xC1, len(deflated(msgs[1]))]) + deflated(msgs[1]))]))
    put("tcp_websocket", "ping_close", segments([(0, ws(b"hi", True, True, 9)), (1, ws(b"\x03\xe8", False, True, 8))]))
    for i, t in enumerate(sorted(jwts)[:8]):
        put("jwt", f"jwt{i}", t.encode())
    for i, u in enumerate(sorted(urls)[:8]):
        put("jwt", f"url{i}", u.encode())
    put("jwt", "challenge", b'Basic realm="x", Bearer error="insufficient_scope", scope="a b", Negotiate')
    jwks = json.dumps({"keys": [{"kty": "oct", "kid": "k", "k": base64.urlsafe_b64encode(b"secret").decode().rstrip("=")}]})
    if jwts:
        put("jwt", "jwks", (jwks + "\n" + sorted(jwts)[0]).encode())


if __name__ == "__main__":
    main()
