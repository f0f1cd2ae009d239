#!/usr/bin/env python3
"""Benchmark `harken tokens` on a HAR of N token lifecycles: each issued by a refresh of the
previous one (a lineage N long), used twice, revoked through RFC 7009 every 10th, introspected
every 7th. This is the shape that makes per-issue scans over all known tokens quadratic.

    python3 benches/tokens.py [N] [path/to/harken]   # default 20000, target/release/harken

For the generic large HAR (one JWT per request):
    python3 ../shared/bench/gen_har.py bench-out/b.har --size-mb 100
    /usr/bin/time -f '%e s %M KB' target/release/harken tokens --format json bench-out/b.har >/dev/null

Prints entries, file size, wall seconds and peak RSS (from /usr/bin/time when available).
"""
import json, os, subprocess, sys, tempfile, time
from datetime import datetime, timedelta, timezone

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
BIN = sys.argv[2] if len(sys.argv) > 2 else "target/release/harken"
T0 = datetime(2024, 5, 14, 9, 0, 0, tzinfo=timezone.utc)
LOGIN = "https://login.mypurecloud.ie/oauth"
API = "https://api.mypurecloud.ie/api/v2/users/me"


def entry(t, method, url, headers, body, status, reply):
    e = {"startedDateTime": (T0 + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "time": 50.0,
         "request": {"method": method, "url": url, "httpVersion": "http/2.0",
                     "headers": [{"name": k, "value": v} for k, v in headers],
                     "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1},
         "response": {"status": status, "statusText": "", "httpVersion": "http/2.0",
                      "headers": [{"name": "content-type", "value": "application/json"}], "cookies": [],
                      "content": {"size": len(reply), "mimeType": "application/json", "text": reply},
                      "redirectURL": "", "headersSize": -1, "bodySize": -1},
         "cache": {}, "timings": {"send": 1, "wait": 48, "receive": 1}}
    if body:
        e["request"]["headers"].append({"name": "content-type", "value": "application/x-www-form-urlencoded"})
        e["request"]["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": body}
    return json.dumps(e)


def entries():
    t = 0
    for i in range(N):
        acc, ref = "bench-access-%08d-xxxxxxxxxxxxxxxx" % i, "bench-refresh-%08d-xxxxxxxxxxxxxxx" % i
        body = "grant_type=refresh_token&refresh_token=bench-refresh-%08d-xxxxxxxxxxxxxxx" % (i - 1) if i else \
            "grant_type=authorization_code&code=c"
        yield entry(t, "POST", LOGIN + "/token", [], body, 200,
                    json.dumps({"access_token": acc, "refresh_token": ref, "expires_in": 600}))
        for k in range(2):
            yield entry(t + 1 + k, "GET", API, [("authorization", "Bearer " + acc)], None, 200, "{}")
        if i % 7 == 0:
            yield entry(t + 3, "POST", LOGIN + "/introspect", [], "token=" + acc, 200,
                        json.dumps({"active": True, "scope": "a b", "exp": 1715680800}))
        if i % 10 == 0:
            yield entry(t + 4, "POST", LOGIN + "/revoke", [], "token=" + ref, 200, "{}")
        t += 5


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "tokens.har")
    n = 0
    with open(path, "w") as f:
        f.write('{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"pages":[],"entries":[')
        for e in entries():
            f.write(("," if n else "") + e)
            n += 1
        f.write("]}}")
    size = os.path.getsize(path)
    timer = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    t0 = time.time()
    p = subprocess.run(timer + [BIN, "tokens", "--format", "json", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.time() - t0
    rss = p.stderr.strip().splitlines()[-1] if timer else "?"
    print(f"{N} token lifecycles, {n} entries, {size / 1e6:.1f} MB: {dt:.2f} s, peak RSS {rss} KB, exit {p.returncode}")
