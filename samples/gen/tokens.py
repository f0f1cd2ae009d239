#!/usr/bin/env python3
"""Generate the token scenario captures in samples/ (deterministic: same bytes every run).

    python3 samples/gen/tokens.py        # writes samples/tokens_*.har and tokens_guest_jwks.json

Each file is a Chrome-style HAR 1.2 (creator WebInspector 537.36, HTTP/2 pseudo-headers,
timings, `_webSocketMessages`) of a scenario harken must explain. Every token, secret, id and
name is made up here from fixed seeds; nothing comes from a real tenant. Genesys Cloud hosts,
paths, grant names and reply fields follow ../shared/docs/genesys-cloud-facts.md §3-§6, §9.
Platform access tokens are opaque (~80 base64url characters, no dots, facts §4); the guest
JWT is HS256-signed with the key written to tokens_guest_jwks.json (the real signing scheme of
guest JWTs is unverified; the sample only needs a JOSE token harken can check with --jwks).
Only the Python standard library is used.
"""

import base64
import hashlib
import hmac
import json
import os
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import quote, urlencode, urlsplit

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.0.0 Safari/537.36")
SEC_CH_UA = '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'
IPS = {
    "login.mypurecloud.ie": "52.31.204.18",
    "api.mypurecloud.ie": "52.49.61.107",
    "api.mypurecloud.com": "52.2.125.3",
    "webmessaging.mypurecloud.ie": "34.246.10.77",
    "agent.example-retail.com": "203.0.113.40",
    "tools.example-retail.com": "203.0.113.41",
    "shop.example-retail.com": "203.0.113.42",
}


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def opaque(seed):
    """An ~80-character base64url platform token without dots."""
    return b64u(hashlib.sha512(("harken-sample:" + seed).encode()).digest()[:60])


def uid(seed):
    return str(uuid.UUID(bytes=hashlib.sha256(seed.encode()).digest()[:16], version=4))


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def http_date(t):
    return format_datetime(t.replace(microsecond=0), usegmt=True)


def jwt_hs256(claims, key, kid):
    h = b64u(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}, separators=(",", ":")).encode())
    p = b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(key, (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64u(sig)


class Har:
    def __init__(self, title, page_url, start, skew_s=0.0):
        self.start = start
        self.skew = timedelta(seconds=skew_s)  # server clock minus capture clock
        self.page = {
            "startedDateTime": ts(start),
            "id": "page_1",
            "title": page_url,
            "pageTimings": {"onContentLoad": 412.6, "onLoad": 655.1},
        }
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(page_url))
        self.referer = page_url
        self.entries = []
        self.conn = 48211

    def add(self, t, method, url, status, req_headers=(), body=None, body_mime=None,
            resp_json=None, resp_text="", resp_mime="application/json", resp_headers=(),
            wait=95.0, resource="fetch", ws=None, document=False):
        u = urlsplit(url)
        host = u.hostname
        path = u.path + ("?" + u.query if u.query else "")
        scheme = u.scheme
        hdrs = [
            {"name": ":authority", "value": host},
            {"name": ":method", "value": method},
            {"name": ":path", "value": path},
            {"name": ":scheme", "value": "https" if scheme in ("https", "wss") else scheme},
        ]
        if document:
            hdrs.append({"name": "accept", "value": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"})
        else:
            hdrs.append({"name": "accept", "value": "application/json, text/plain, */*"})
        hdrs += [
            {"name": "accept-encoding", "value": "gzip, deflate, br, zstd"},
            {"name": "accept-language", "value": "en-GB,en-US;q=0.9,en;q=0.8"},
        ]
        for k, v in req_headers:
            hdrs.append({"name": k, "value": v})
        if body is not None:
            hdrs.append({"name": "content-length", "value": str(len(body.encode()))})
            hdrs.append({"name": "content-type", "value": body_mime})
        if not document:
            hdrs.append({"name": "origin", "value": self.origin})
        hdrs += [
            {"name": "priority", "value": "u=1, i" if not document else "u=0, i"},
            {"name": "referer", "value": self.referer},
            {"name": "sec-ch-ua", "value": SEC_CH_UA},
            {"name": "sec-ch-ua-mobile", "value": "?0"},
            {"name": "sec-ch-ua-platform", "value": '"Windows"'},
            {"name": "sec-fetch-dest", "value": "document" if document else "empty"},
            {"name": "sec-fetch-mode", "value": "navigate" if document else "cors"},
            {"name": "sec-fetch-site", "value": "cross-site"},
            {"name": "user-agent", "value": UA},
        ]
        query = [{"name": k, "value": v} for k, v in
                 (p.split("=", 1) if "=" in p else (p, "") for p in u.query.split("&") if p)]
        req = {
            "method": method,
            "url": url,
            "httpVersion": "http/2.0" if ws is None else "HTTP/1.1",
            "headers": hdrs,
            "queryString": query,
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(body.encode()) if body is not None else 0,
        }
        if body is not None:
            pd = {"mimeType": body_mime, "text": body}
            if body_mime == "application/x-www-form-urlencoded":
                pd["params"] = [{"name": k, "value": v} for k, v in
                                (p.split("=", 1) for p in body.split("&"))]
            req["postData"] = pd
        if resp_json is not None:
            resp_text = json.dumps(resp_json, separators=(",", ":"))
        timings = {"blocked": 1.204, "dns": -1, "ssl": -1, "connect": -1, "send": 0.158,
                   "wait": wait, "receive": 1.872, "_blocked_queueing": 0.731,
                   "_workerStart": -1, "_workerReady": -1, "_workerFetchStart": -1,
                   "_workerRespondWithSettled": -1}
        if not self.entries or ws is not None:
            timings.update({"dns": 0.012, "connect": 41.377, "ssl": 27.903})
        total = sum(v for k, v in timings.items() if k in ("blocked", "dns", "connect", "send", "wait", "receive") and v > 0)
        server_t = t + timedelta(milliseconds=total - timings["receive"]) + self.skew
        rh = [{"name": "date", "value": http_date(server_t)}]
        if status == 101:
            rh = [{"name": "Connection", "value": "Upgrade"},
                  {"name": "Date", "value": http_date(server_t)},
                  {"name": "Sec-WebSocket-Accept", "value": b64u(hashlib.sha1(url.encode()).digest()) + "="},
                  {"name": "Upgrade", "value": "websocket"}]
        else:
            if resp_text:
                rh.append({"name": "content-type", "value": resp_mime + ("; charset=UTF-8" if "json" in resp_mime else "")})
                rh.append({"name": "content-length", "value": str(len(resp_text.encode()))})
            if status not in (204, 302):
                rh.append({"name": "cache-control", "value": "no-cache, no-store, must-revalidate"})
            rh.append({"name": "strict-transport-security", "value": "max-age=31536000; includeSubDomains"})
            if not document:
                rh.append({"name": "access-control-allow-origin", "value": self.origin})
                rh.append({"name": "access-control-allow-credentials", "value": "true"})
            rh.append({"name": "vary", "value": "Origin, Accept-Encoding"})
        location = ""
        for k, v in resp_headers:
            rh.append({"name": k, "value": v})
            if k.lower() == "location":
                location = v
        entry = {
            "_connectionId": str(self.conn),
            "_initiator": {"type": "other"} if document else {"type": "script", "stack": {"callFrames": [
                {"functionName": "request", "scriptId": "47", "url": self.origin + "/static/js/main.8f3c2a1d.js",
                 "lineNumber": 1, "columnNumber": 184233}]}},
            "_priority": "VeryHigh" if document else "High",
            "_resourceType": "websocket" if ws is not None else ("document" if document else resource),
            "cache": {},
            "connection": str(self.conn),
            "pageref": "page_1",
            "request": req,
            "response": {
                "status": status,
                "statusText": {101: "Switching Protocols"}.get(status, ""),
                "httpVersion": "http/2.0" if ws is None else "HTTP/1.1",
                "headers": rh,
                "cookies": [],
                "content": {"size": len(resp_text.encode()), "mimeType": resp_mime if resp_text else "x-unknown"},
                "redirectURL": location,
                "headersSize": -1,
                "bodySize": -1,
                "_transferSize": len(resp_text.encode()) + 180,
                "_error": None,
                "_fetchedViaServiceWorker": False,
            },
            "serverIPAddress": IPS.get(host, "203.0.113.9"),
            "startedDateTime": ts(t),
            "time": round(total, 3),
            "timings": timings,
        }
        if resp_text:
            entry["response"]["content"]["text"] = resp_text
        if ws is not None:
            entry["_webSocketMessages"] = [
                {"type": d, "time": round(wt.timestamp(), 6), "opcode": 1, "data": data} for d, wt, data in ws
            ]
        self.conn += 7
        self.entries.append(entry)

    def write(self, name):
        doc = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                       "pages": [self.page], "entries": sorted(self.entries, key=lambda e: e["startedDateTime"])}}
        with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")


def basic(client_id, secret):
    return "Basic " + base64.b64encode((client_id + ":" + secret).encode()).decode()


def bad_credentials():
    return {"message": "Invalid login credentials.", "code": "bad.credentials", "status": 401,
            "messageParams": {}, "contextId": uid("ctx-" + str(len(AUDIT))), "details": [], "errors": []}


AUDIT = []


def form(d):
    return urlencode(d, quote_via=quote)


def t0(s):
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


def agentless_body(to):
    return json.dumps({"fromAddress": "+353860000001", "toAddress": to, "toAddressMessengerType": "sms",
                       "textBody": "Your order has shipped."}, separators=(",", ":"))


def client_credentials_expiry():
    """A client-credentials token (lifetime 300 s, the minimum) expires mid-capture."""
    start = t0("2024-05-14T09:12:03.412")
    h = Har("Messaging tool", "https://tools.example-retail.com/notify", start, skew_s=1.0)
    cid, secret = uid("cc-client"), opaque("cc-client-secret")[:43]
    tok = opaque("cc-token-1")
    h.add(start, "POST", "https://login.mypurecloud.ie/oauth/token", 200,
          req_headers=[("authorization", basic(cid, secret))],
          body="grant_type=client_credentials", body_mime="application/x-www-form-urlencoded",
          resp_json={"access_token": tok, "token_type": "bearer", "expires_in": 300}, wait=176.4)
    agentless = "https://api.mypurecloud.ie/api/v2/conversations/messages/agentless"
    for i, (when, status) in enumerate([(0.9, 200), (147.0, 200), (307.2, 401)]):
        t = start + timedelta(seconds=when)
        h.add(t, "OPTIONS", agentless, 204, req_headers=[
            ("access-control-request-headers", "authorization,content-type"),
            ("access-control-request-method", "POST")], resource="preflight", wait=38.2)
        AUDIT.append(1)
        reply = ({"id": uid("msg-%d" % i), "conversationId": uid("conv-%d" % i)} if status == 200 else bad_credentials())
        h.add(t + timedelta(milliseconds=45), "POST", agentless, status,
              req_headers=[("authorization", "bearer " + tok)],
              body=agentless_body("+35386111222%d" % i), body_mime="application/json",
              resp_json=reply, wait=212.7 if status == 200 else 31.5)
    h.write("tokens_client_credentials_expiry.har")


def implicit_tokens_me():
    """Implicit grant: the token comes back in the redirect's URL fragment; scopes from tokens/me."""
    start = t0("2024-05-14T10:02:11.208")
    h = Har("Agent desktop", "https://agent.example-retail.com/", start)
    cid = uid("implicit-client")
    tok = opaque("implicit-token")
    cb = "https://agent.example-retail.com/callback"
    auth = "https://login.mypurecloud.ie/oauth/authorize?" + form(
        {"client_id": cid, "response_type": "token", "redirect_uri": cb, "state": "c2a9f1"})
    loc = cb + "#" + form({"access_token": tok, "expires_in": "86399", "token_type": "bearer", "state": "c2a9f1"})
    h.add(start, "GET", auth, 302, resp_headers=[("location", loc)], document=True, resp_mime="text/html", wait=84.1)
    h.add(start + timedelta(milliseconds=160), "GET", cb, 200, document=True, resp_mime="text/html",
          resp_text="<!doctype html><html><head><title>Agent desktop</title></head><body><div id=\"root\"></div></body></html>",
          wait=22.3)
    org = {"id": uid("org"), "name": "Example Retail", "selfUri": "/api/v2/organizations/" + uid("org")}
    me = {
        "organization": org,
        "homeOrganization": org,
        "authorizedScope": ["conversations", "notifications", "user-basic-info"],
        "OAuthClient": {"id": cid, "name": "Agent desktop", "authorizedGrantType": "TOKEN",
                        "organization": org, "selfUri": "/api/v2/oauth/clients/" + cid},
        "dateTokenIdles": "2024-05-14T10:32:12Z",
    }
    bearer = [("authorization", "bearer " + tok)]
    h.add(start + timedelta(milliseconds=905), "GET", "https://api.mypurecloud.ie/api/v2/tokens/me", 200,
          req_headers=bearer, resp_json=me, wait=61.0)
    h.add(start + timedelta(milliseconds=1210), "GET", "https://api.mypurecloud.ie/api/v2/users/me", 200,
          req_headers=bearer, resp_json={"id": uid("user"), "name": "Aoife Byrne", "state": "active"}, wait=73.9)
    h.add(start + timedelta(seconds=2.4), "GET", "https://api.mypurecloud.ie/api/v2/conversations/messages", 200,
          req_headers=bearer, resp_json={"entities": []}, wait=118.6)
    h.write("tokens_implicit_tokens_me.har")


def refresh():
    """Code grant (PKCE) with a refresh token; the refresh supersedes the first token, and a
    stale tab keeps sending the old one after it expired."""
    start = t0("2024-05-14T11:00:00.105")
    h = Har("Agent desktop", "https://agent.example-retail.com/", start)
    cid = uid("pkce-client")
    a1, r1, a2, r2 = opaque("code-token-1"), opaque("refresh-1"), opaque("code-token-2"), opaque("refresh-2")
    tok_url = "https://login.mypurecloud.ie/oauth/token"
    h.add(start, "POST", tok_url, 200,
          body=form({"grant_type": "authorization_code", "code": opaque("auth-code")[:32],
                     "redirect_uri": "https://agent.example-retail.com/callback", "client_id": cid,
                     "code_verifier": opaque("verifier")[:64]}),
          body_mime="application/x-www-form-urlencoded",
          resp_json={"access_token": a1, "token_type": "bearer", "expires_in": 600, "refresh_token": r1},
          wait=143.2)
    h.add(start + timedelta(seconds=1), "GET", "https://api.mypurecloud.ie/api/v2/users/me", 200,
          req_headers=[("authorization", "bearer " + a1)], resp_json={"id": uid("user2"), "name": "Ciarán Walsh"})
    h.add(start + timedelta(seconds=590), "POST", tok_url, 200,
          body=form({"grant_type": "refresh_token", "refresh_token": r1, "client_id": cid}),
          body_mime="application/x-www-form-urlencoded",
          resp_json={"access_token": a2, "token_type": "bearer", "expires_in": 600, "refresh_token": r2},
          wait=120.8)
    h.add(start + timedelta(seconds=591), "GET", "https://api.mypurecloud.ie/api/v2/conversations/messages", 200,
          req_headers=[("authorization", "bearer " + a2)], resp_json={"entities": []})
    h.add(start + timedelta(seconds=630), "GET", "https://api.mypurecloud.ie/api/v2/conversations/messages", 401,
          req_headers=[("authorization", "bearer " + a1)], resp_json=bad_credentials(), wait=28.0)
    h.write("tokens_refresh.har")


def revoked():
    """The user logs out (DELETE /api/v2/tokens/me); a background poll still uses the token."""
    start = t0("2024-05-14T12:30:00.020")
    h = Har("Agent desktop", "https://agent.example-retail.com/", start)
    tok = opaque("revoked-token")
    bearer = [("authorization", "bearer " + tok)]
    org = {"id": uid("org"), "name": "Example Retail"}
    h.add(start, "GET", "https://api.mypurecloud.ie/api/v2/users/me", 200, req_headers=bearer,
          resp_json={"id": uid("user3"), "name": "Niamh Kelly"})
    h.add(start + timedelta(seconds=1), "GET", "https://api.mypurecloud.ie/api/v2/tokens/me", 200, req_headers=bearer,
          resp_json={"organization": org, "homeOrganization": org,
                     "authorizedScope": ["conversations", "user-basic-info"],
                     "OAuthClient": {"id": uid("code-client"), "name": "Agent desktop", "authorizedGrantType": "CODE"}})
    h.add(start + timedelta(seconds=42), "DELETE", "https://api.mypurecloud.ie/api/v2/tokens/me", 204,
          req_headers=bearer, wait=55.5)
    h.add(start + timedelta(seconds=45), "GET", "https://api.mypurecloud.ie/api/v2/conversations/messages", 401,
          req_headers=bearer, resp_json=bad_credentials(), wait=24.9)
    h.write("tokens_revoked.har")


GUEST_KEY = hashlib.sha256(b"harken-sample guest signing key").digest()
GUEST_KID = "harken-sample-guest-1"


def guest_jwt_ws():
    """Web messaging guest: configureSession, getJwt → JwtResponse frame, then history with it."""
    start = t0("2024-05-14T13:00:01.500")
    h = Har("Shop", "https://shop.example-retail.com/help", start, skew_s=2.0)
    dep = uid("deployment")
    session = uid("guest-session")
    frame_t = start + timedelta(seconds=1.3)
    exp = int((frame_t + timedelta(seconds=2)).timestamp()) + 3600  # server clock is 2 s ahead
    iat = int((frame_t + timedelta(seconds=2)).timestamp())
    jwt = jwt_hs256({"iat": iat, "exp": exp, "jti": uid("guest-jti")}, GUEST_KEY, GUEST_KID)
    ws = [
        ("send", start + timedelta(seconds=0.4), json.dumps({"action": "configureSession", "token": session, "deploymentId": dep})),
        ("receive", start + timedelta(seconds=0.6), json.dumps({"type": "response", "class": "SessionResponse", "code": 200,
                                                                 "body": {"connected": True, "newSession": True, "readOnly": False},
                                                                 "tracingId": uid("trace-1")})),
        ("send", start + timedelta(seconds=1.2), json.dumps({"action": "getJwt", "token": session})),
        ("receive", frame_t, json.dumps({"type": "response", "class": "JwtResponse", "code": 200,
                                         "body": {"jwt": jwt, "exp": exp}, "tracingId": uid("trace-2")})),
    ]
    h.add(start, "GET", "wss://webmessaging.mypurecloud.ie/v1?deploymentId=" + dep, 101,
          req_headers=[("Cache-Control", "no-cache"), ("Connection", "Upgrade"), ("Pragma", "no-cache"),
                       ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
                       ("Sec-WebSocket-Key", b64u(hashlib.md5(b"k").digest()) + "=="),
                       ("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket")],
          ws=ws, wait=61.2, resp_mime="x-unknown")
    bearer = [("authorization", "Bearer " + jwt)]
    url = "https://api.mypurecloud.ie/api/v2/webmessaging/messages?pageSize=25&pageNumber=1"
    h.add(start + timedelta(seconds=2.1), "GET", url, 200, req_headers=bearer,
          resp_json={"entities": [], "pageSize": 25, "pageNumber": 1, "total": 0})
    h.add(start + timedelta(seconds=64), "GET", url, 200, req_headers=bearer,
          resp_json={"entities": [], "pageSize": 25, "pageNumber": 1, "total": 0})
    h.write("tokens_guest_jwt_ws.har")
    with open(os.path.join(OUT, "tokens_guest_jwks.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump({"keys": [{"kty": "oct", "kid": GUEST_KID, "alg": "HS256", "use": "sig", "k": b64u(GUEST_KEY)}]}, f, indent=2)
        f.write("\n")


def cross_region():
    """A token from login.mypurecloud.ie (eu_west_1) sent to api.mypurecloud.com (us_east_1)."""
    start = t0("2024-05-14T14:00:00.730")
    h = Har("Messaging tool", "https://tools.example-retail.com/notify", start)
    cid, secret = uid("cc-client-x"), opaque("cc-client-secret-x")[:43]
    tok = opaque("cross-region-token")
    h.add(start, "POST", "https://login.mypurecloud.ie/oauth/token", 200,
          req_headers=[("authorization", basic(cid, secret))],
          body="grant_type=client_credentials", body_mime="application/x-www-form-urlencoded",
          resp_json={"access_token": tok, "token_type": "bearer", "expires_in": 86399}, wait=158.0)
    bearer = [("authorization", "bearer " + tok)]
    h.add(start + timedelta(seconds=1), "POST", "https://api.mypurecloud.com/api/v2/conversations/messages/agentless", 401,
          req_headers=bearer, body=agentless_body("+353861112229"), body_mime="application/json",
          resp_json=bad_credentials(), wait=33.0)
    h.add(start + timedelta(seconds=20), "POST", "https://api.mypurecloud.ie/api/v2/conversations/messages/agentless", 200,
          req_headers=bearer, body=agentless_body("+353861112229"), body_mime="application/json",
          resp_json={"id": uid("msg-x"), "conversationId": uid("conv-x")}, wait=201.0)
    h.write("tokens_cross_region.har")


if __name__ == "__main__":
    client_credentials_expiry()
    implicit_tokens_me()
    refresh()
    revoked()
    guest_jwt_ws()
    cross_region()
