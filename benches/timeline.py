#!/usr/bin/env python3
"""Benchmark `harken timeline`: a HAR of N conversations (the follow-up scenario repeated with
fresh ids), timed end to end.

    python3 benches/timeline.py [N] [path/to/harken]     # default 20000 conversations, target/release/harken

Prints entries, file size, wall seconds and peak RSS (from /usr/bin/time when available).
"""
import json, os, subprocess, sys, tempfile, time, uuid

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
BIN = sys.argv[2] if len(sys.argv) > 2 else "target/release/harken"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
src = json.load(open(os.path.join(ROOT, "samples/conv_followup_after_disconnect.har")))
cid = src["log"]["entries"][2]["response"]["content"]["text"]
cid = json.loads(cid)["id"]
template = json.dumps(src["log"]["entries"])

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "big.har")
    with open(path, "w") as f:
        f.write('{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"pages":[],"entries":[')
        for i in range(N):
            new = str(uuid.UUID(int=i + 1))
            entries = template.replace(cid, new)
            f.write(("," if i else "") + entries[1:-1])
        f.write("]}}")
    size = os.path.getsize(path)
    cmd = [BIN, "timeline", "--format", "json", path]
    timer = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    t0 = time.time()
    p = subprocess.run(timer + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.time() - t0
    rss = p.stderr.strip().splitlines()[-1] if timer else "?"
    print(f"{N} conversations, {N * 6} entries, {size / 1e6:.1f} MB: {dt:.2f} s, peak RSS {rss} KB, exit {p.returncode}")
