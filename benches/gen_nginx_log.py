#!/usr/bin/env python3
"""Write a large nginx combined access log (with $http_x_forwarded_for) for benches/logs.sh.

Realistic mix: API paths with ids, 2% 401, 3% 403, some remote users, long user agents.
Usage: gen_nginx_log.py OUT --size-mb N [--seed S]
Lines are generated for the first 64 MB; that block is then repeated up to the size, each copy
dated a year later (Python would take an hour to make 1 GB of distinct lines; the parser's work
per line is the same).
"""
import argparse
import random
import time

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--size-mb", type=int, default=1000)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
rnd = random.Random(a.seed)
uas = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "PureCloud-SDK/java 190.0.0",
]
paths = [
    "/api/v2/conversations/messages/{id}",
    "/api/v2/users/me",
    "/api/v2/analytics/conversations/details/query",
    "/api/v2/routing/queues/{id}/members?pageSize=100",
    "/static/app.{id}.js",
]
users = ["-"] * 8 + ["alice", "bob", "svc-orders"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
t = 1704067200
target = a.size_mb * 1_000_000
block_size = min(target, 64_000_000)
written = 0
with open(a.out, "w") as f:
    buf = []
    while written < block_size:
        t += rnd.random() * 0.01
        tm = time.gmtime(t)
        ts = f"{tm.tm_mday:02d}/{months[tm.tm_mon - 1]}/{tm.tm_year}:{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000"
        r = rnd.random()
        status = 401 if r < 0.02 else 403 if r < 0.05 else 404 if r < 0.08 else 200
        path = rnd.choice(paths).replace("{id}", "%08x-%04x" % (rnd.getrandbits(32), rnd.getrandbits(16)))
        method = "POST" if "query" in path else "GET"
        line = (
            f'10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)} - {rnd.choice(users)} [{ts}] '
            f'"{method} {path} HTTP/1.1" {status} {rnd.randrange(100, 50000)} "-" "{rnd.choice(uas)}" '
            f'"203.0.113.{rnd.randrange(256)}"\n'
        )
        buf.append(line)
        written += len(line)
        if len(buf) >= 10000:
            f.write("".join(buf))
            buf = []
    f.write("".join(buf))
with open(a.out, "rb") as f:
    block = f.read()
year = 2024
with open(a.out, "ab") as f:
    while written < target:
        # Each copy a year later, so the log stays in time order as a real one is (a copy with
        # the same times would put most rows out of order for `exchanges`' reorder window).
        year += 1
        f.write(block.replace(b"/2024:", b"/%d:" % year))
        written += len(block)
