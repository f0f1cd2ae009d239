#!/usr/bin/env python3
"""Write sample HARs' stories as nginx JSON access logs (samples/logs/*.nginx.json.log).

The log is what an nginx gateway in front of the API would have written for the same calls,
with this log_format (docs/formats.md, "nginx JSON"):

    log_format harken_json escape=json '{"time_iso8601":"$time_iso8601",'
        '"remote_addr":"$remote_addr","remote_user":"$remote_user",'
        '"request_method":"$request_method","request_uri":"$request_uri",'
        '"server_protocol":"$server_protocol","http_host":"$host","status":"$status",'
        '"body_bytes_sent":"$body_bytes_sent","request_length":"$request_length",'
        '"request_time":"$request_time","http_user_agent":"$http_user_agent",'
        '"request_id":"$request_id","client_id":"$client_id"}';

where `$client_id` is the OAuth client the gateway's token introspection (auth_request) named:
the logged identity. Like any access log it has no headers, bodies or credentials. The OAuth
client of each token is taken from the HAR: the Basic user of the token request that issued it.

Usage: python3 samples/gen/har_to_log.py   (writes into samples/logs/)
"""

import base64
import hashlib
import json
import os
from datetime import datetime, timezone
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..")
STORIES = ["forum_followup_after_disconnect", "forum_proactive_invented_endpoint", "cause_endpoint_unknown"]


def header(entry_part, name):
    for h in entry_part.get("headers", []):
        if h["name"].lower() == name:
            return h["value"]
    return None


def convert(name):
    with open(os.path.join(SAMPLES, name + ".har")) as f:
        har = json.load(f)
    client_of_token = {}
    lines = []
    for i, e in enumerate(har["log"]["entries"]):
        req, resp = e["request"], e["response"]
        auth = header(req, "authorization") or ""
        client = ""
        if auth.lower().startswith("basic "):
            client = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            text = (resp.get("content") or {}).get("text") or ""
            try:
                token = json.loads(text).get("access_token")
            except ValueError:
                token = None
            if token:
                client_of_token[token] = client
        elif auth.lower().startswith("bearer "):
            client = client_of_token.get(auth[7:], "")
        u = urlsplit(req["url"])
        t = datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00")).astimezone(timezone.utc)
        body = (req.get("postData") or {}).get("text") or ""
        rec = {
            "time_iso8601": t.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "remote_addr": "198.51.100.23",
            "remote_user": "",
            "request_method": req["method"],
            "request_uri": u.path + ("?" + u.query if u.query else ""),
            "server_protocol": "HTTP/1.1",
            "http_host": u.hostname,
            "status": str(resp["status"]),
            "body_bytes_sent": str(max(0, (resp.get("content") or {}).get("size") or 0)),
            "request_length": str(len(body) + 400),
            "request_time": "%.3f" % (max(e.get("time") or 0, 0) / 1000),
            "http_user_agent": header(req, "user-agent") or "",
            "request_id": hashlib.sha256(f"{name}/{i}".encode()).hexdigest()[:32],
            "client_id": client,
        }
        lines.append(json.dumps(rec, separators=(",", ":")))
    out = os.path.join(SAMPLES, "logs", name + ".nginx.json.log")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(out)


if __name__ == "__main__":
    for s in STORIES:
        convert(s)
