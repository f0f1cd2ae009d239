#!/usr/bin/env python3
"""Generate the harken sample captures (samples/*.har), deterministically.

Each sample is a Chrome-style HAR 1.2 (creator WebInspector 537.36) telling one story: the
forum threads in ../shared/seeds/ (forum_*.har) and one capture per diagnosis cause
(cause_*.har). Hosts, paths, bodies and error codes are the real Genesys Cloud API as described
in ../shared/docs/genesys-cloud-facts.md; the invented endpoints are the ones the forum posters
called. Tokens are fake: opaque ~80-character strings (platform tokens) and unsigned JWTs
(web messaging guest tokens), derived from fixed seeds so reruns give identical files.

Usage: python3 samples/gen/forum.py   (writes into samples/)
"""

import base64
import hashlib
import json
import os
from datetime import datetime, timedelta, timezone

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.0.0 Safari/537.36")
ORG = "3c1b6a8e-9f0d-4c51-a7e2-5d8f14b2c901"


def uid(seed):
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def opaque(seed):
    """An opaque platform access token: ~80 base64url characters, no dots."""
    raw = hashlib.sha512(seed.encode()).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:80]


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def guest_jwt(seed, iat, exp, nbf=None):
    claims = {"iss": "webmessaging", "sub": uid(seed + "sub"), "deploymentId": uid("deployment"),
              "iat": int(iat.timestamp()), "exp": int(exp.timestamp())}
    if nbf is not None:
        claims["nbf"] = int(nbf.timestamp())
    sig = base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode().rstrip("=")
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}.{sig}"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


REASONS = {101: "Switching Protocols", 200: "OK", 202: "Accepted", 204: "No Content",
           401: "Unauthorized", 403: "Forbidden"}


class Har:
    def __init__(self, name, start):
        self.name = name
        self.t = start
        self.entries = []
        self.conn = 81234

    def at(self, t):
        self.t = t
        return self

    def add(self, method, url, status, *, token=None, basic=None, body=None, form=None, reply=None,
            reply_headers=(), ws=None, wait=85.0, sanitized=False):
        host = url.split("/")[2]
        headers = [
            {"name": ":authority", "value": host},
            {"name": ":method", "value": method},
            {"name": ":path", "value": "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"},
            {"name": ":scheme", "value": "https"},
            {"name": "accept", "value": "application/json, text/plain, */*"},
            {"name": "accept-encoding", "value": "gzip, deflate, br, zstd"},
            {"name": "accept-language", "value": "en-US,en;q=0.9"},
        ]
        if not sanitized:
            if token is not None:
                headers.append({"name": "authorization", "value": f"Bearer {token}"})
            if basic is not None:
                headers.append({"name": "authorization", "value": "Basic " + base64.b64encode(basic.encode()).decode()})
        post = None
        if body is not None:
            text = json.dumps(body)
            headers.append({"name": "content-type", "value": "application/json"})
            post = {"mimeType": "application/json", "text": text}
        elif form is not None:
            text = "&".join(f"{k}={v}" for k, v in form)
            headers.append({"name": "content-type", "value": "application/x-www-form-urlencoded"})
            post = {"mimeType": "application/x-www-form-urlencoded", "text": text, "params": [
                {"name": k, "value": v} for k, v in form]}
        headers += [
            {"name": "origin", "value": "https://apps.mypurecloud.com"},
            {"name": "referer", "value": "https://apps.mypurecloud.com/"},
            {"name": "sec-ch-ua", "value": "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\""},
            {"name": "sec-fetch-mode", "value": "cors"},
            {"name": "user-agent", "value": UA},
        ]
        rtext = json.dumps(reply) if reply is not None else ""
        rh = [
            {"name": "content-type", "value": "application/json"},
            {"name": "date", "value": self.t.strftime("%a, %d %b %Y %H:%M:%S GMT")},
            {"name": "inin-correlation-id", "value": uid(f"{self.name}-{len(self.entries)}-corr")},
            {"name": "strict-transport-security", "value": "max-age=600; includeSubDomains"},
        ] + [{"name": k, "value": v} for k, v in reply_headers]
        qs = []
        if "?" in url:
            for kv in url.split("?", 1)[1].split("&"):
                k, _, v = kv.partition("=")
                qs.append({"name": k, "value": v})
        entry = {
            "_initiator": {"type": "script"},
            "_priority": "High",
            "_resourceType": "websocket" if ws is not None else "fetch",
            "cache": {},
            "connection": str(self.conn + len(self.entries) % 3),
            "pageref": "page_1",
            "request": {
                "method": method, "url": url, "httpVersion": "http/2.0" if ws is None else "HTTP/1.1",
                "headers": headers, "queryString": qs, "cookies": [], "headersSize": -1,
                "bodySize": len(post["text"]) if post else 0,
            },
            "response": {
                "status": status, "statusText": REASONS.get(status, ""),
                "httpVersion": "http/2.0" if ws is None else "HTTP/1.1",
                "headers": rh, "cookies": [],
                "content": {"size": len(rtext), "mimeType": "application/json", "text": rtext} if rtext else
                           {"size": 0, "mimeType": "x-unknown"},
                "redirectURL": "", "headersSize": -1, "bodySize": len(rtext), "_transferSize": len(rtext) + 310,
                "_error": None,
            },
            "serverIPAddress": "52.5.167.139",
            "startedDateTime": iso(self.t),
            "time": wait + 3.1,
            "timings": {"blocked": 1.2, "dns": -1, "ssl": -1, "connect": -1, "send": 0.3, "wait": wait,
                        "receive": 1.6, "_blocked_queueing": 0.8},
        }
        if post:
            entry["request"]["postData"] = post
        if ws is not None:
            entry["_webSocketMessages"] = [
                {"type": kind, "time": (self.t + timedelta(seconds=dt)).timestamp(), "opcode": 1,
                 "data": json.dumps(data)} for kind, dt, data in ws]
        self.entries.append(entry)
        self.t += timedelta(seconds=2)
        return self

    def write(self):
        doc = {"log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [{"startedDateTime": iso(self.entries[0] and datetime.fromisoformat(
                self.entries[0]["startedDateTime"].replace("Z", "+00:00"))),
                "id": "page_1", "title": "https://apps.mypurecloud.com/", "pageTimings": {}}],
            "entries": self.entries,
        }}
        with open(os.path.join(OUT, self.name), "w", newline="\n") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")


def api(domain, path):
    return f"https://api.{domain}{path}"


def token_call(h, domain, grant, token, expires_in=86399, client="harken-sample"):
    cid = uid(client)
    form = [("grant_type", grant)]
    if grant == "authorization_code":
        form += [("code", "q2Zr8hV0"), ("redirect_uri", "https%3A%2F%2Fapps.example.com%2Fcallback")]
    reply = {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    return h.add("POST", f"https://login.{domain}/oauth/token", 200, basic=f"{cid}:s3cr3t-{client}",
                 form=form, reply=reply, wait=140.0)


def tokens_me(h, domain, token, scopes, grant_type):
    reply = {
        "organization": {"id": ORG, "name": "Example Retail"},
        "homeOrganization": {"id": ORG, "name": "Example Retail"},
        "authorizedScope": scopes,
        "OAuthClient": {"id": uid("harken-sample"), "name": "Support console", "authorizedGrantType": grant_type,
                        "scope": scopes, "organization": {"id": ORG}},
        "dateTokenIdles": "2024-05-15T09:00:00Z",
    }
    return h.add("GET", api(domain, "/api/v2/tokens/me"), 200, token=token, reply=reply)


def conversation(cid, pid, mid, state, end=None):
    parts = [
        {"id": uid(cid + "customer"), "purpose": "customer", "state": state, "type": "webmessaging",
         "messages": [{"id": uid(cid + "cm"), "state": state}]},
        {"id": pid, "purpose": "agent", "state": state, "type": "webmessaging",
         "messages": [{"id": mid, "state": state}]},
    ]
    conv = {"id": cid, "participants": parts, "selfUri": f"/api/v2/conversations/messages/{cid}"}
    if end:
        conv["endTime"] = end
    return conv


def error(status, code, message, **extra):
    body = {"message": message, "code": code, "status": status, "contextId": uid(code + message)}
    body.update(extra)
    return body


BAD_CREDS = error(401, "bad.credentials", "Invalid login credentials.")
NOT_AUTH = error(403, "not.authorized", "You are not authorized to perform the requested action.")
US = "mypurecloud.com"


def forum_proactive():
    h = Har("forum_proactive_invented_endpoint.har", datetime(2024, 5, 14, 9, 0, 0, tzinfo=timezone.utc))
    tok = opaque("proactive")
    token_call(h, US, "client_credentials", tok)
    tokens_me(h, US, tok, [], "CLIENT-CREDENTIALS")
    h.add("POST", api(US, "/api/v2/conversations/messaging/addresses"), 403, token=tok, body={
        "to": [{"address": {"id": "cust-12345", "externalId": "cust-12345", "type": "email"}}],
        "from": {"address": {"id": "agent-bot-01", "type": "email"}},
        "text": "We have an update regarding your previous inquiry."}, reply=NOT_AUTH)
    h.write()


def ws_jwt(h, domain, jwt, exp, session):
    dep = uid("deployment")
    return h.add("GET", f"wss://webmessaging.{domain}/v1?deploymentId={dep}", 101, ws=[
        ("send", 0.1, {"action": "configureSession", "token": session, "deploymentId": dep}),
        ("receive", 0.3, {"type": "response", "class": "SessionResponse", "code": 200,
                          "body": {"connected": True, "newSession": True, "readOnly": False}}),
        ("send", 0.5, {"action": "getJwt", "token": session}),
        ("receive", 0.7, {"type": "response", "class": "JwtResponse", "code": 200,
                          "body": {"jwt": jwt, "exp": int(exp.timestamp())}}),
    ], reply=None)


def forum_guest_cli():
    start = datetime(2024, 5, 14, 10, 0, 0, tzinfo=timezone.utc)
    h = Har("forum_guest_cli.har", start)
    exp = start + timedelta(hours=1)
    jwt = guest_jwt("guest-cli", start, exp)
    cid, mid = uid("guest-conv"), uid("guest-comm")
    ws_jwt(h, US, jwt, exp, uid("guest-session"))
    h.add("POST", api(US, f"/api/v2/conversations/messaging/{cid}/messages"), 401, token=jwt,
          body={"text": "Test message from backend", "type": "text"}, reply=BAD_CREDS)
    h.add("POST", api(US, f"/api/v2/conversations/messages/{cid}/communications/{mid}/messages"), 401, token=jwt,
          body={"textBody": "Test message from backend"}, reply=BAD_CREDS)
    h.write()


def forum_wrong_region():
    h = Har("forum_wrong_region.har", datetime(2024, 5, 14, 11, 0, 0, tzinfo=timezone.utc))
    tok = opaque("wrong-region")
    cid = uid("region-conv")
    token_call(h, "mypurecloud.ie", "client_credentials", tok)
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 401, token=tok, reply=BAD_CREDS)
    h.write()


def forum_close_readonly():
    h = Har("forum_close_readonly.har", datetime(2024, 5, 14, 12, 0, 0, tzinfo=timezone.utc))
    tok = opaque("close-readonly")
    cid, pid, mid = uid("ro-conv"), uid("ro-agent"), uid("ro-comm")
    token_call(h, US, "authorization_code", tok)
    tokens_me(h, US, tok, ["conversations:readonly"], "CODE")
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 200, token=tok,
          reply=conversation(cid, pid, mid, "connected"))
    h.add("PATCH", api(US, f"/api/v2/conversations/messages/{cid}/participants/{pid}"), 403, token=tok,
          body={"state": "disconnected"}, reply=NOT_AUTH)
    h.write()


def forum_followup():
    start = datetime(2024, 5, 14, 13, 0, 0, tzinfo=timezone.utc)
    h = Har("forum_followup_after_disconnect.har", start)
    tok = opaque("followup")
    cid, pid, mid = uid("fu-conv"), uid("fu-agent"), uid("fu-comm")
    token_call(h, US, "client_credentials", tok)
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 200, token=tok,
          reply=conversation(cid, pid, mid, "connected"))
    h.add("PATCH", api(US, f"/api/v2/conversations/messages/{cid}/participants/{pid}"), 202, token=tok,
          body={"state": "disconnected"}, reply={})
    h.at(start + timedelta(minutes=20, seconds=6))
    h.add("POST", api(US, f"/api/v2/conversations/messages/{cid}/communications/{mid}/messages"), 403, token=tok,
          body={"textBody": "Just checking in. Did you need anything else?"}, reply=NOT_AUTH)
    h.write()


def cause(name, start_hour):
    return Har(f"cause_{name}.har", datetime(2024, 5, 15, start_hour, 0, 0, tzinfo=timezone.utc))


def conv_ids(name):
    """Each scenario has its own conversation, so that `harken analyze samples/*.har` (one
    merged capture) tells the same story as each file alone."""
    cid, pid, mid = uid(f"c-conv-{name}"), uid(f"c-agent-{name}"), uid(f"c-comm-{name}")
    return cid, pid, mid, f"/api/v2/conversations/messages/{cid}/communications/{mid}/messages"


def causes():
    h = cause("credentials_missing", 8)
    cid, pid, mid, send = conv_ids("credentials_missing")
    token_call(h, US, "client_credentials", opaque("c-missing"))
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 401, reply=error(
        401, "authentication.required", "No authentication bearer token specified in authorization header."))
    h.write()

    h = cause("token_malformed", 8)
    cid, pid, mid, send = conv_ids("token_malformed")
    h.add("GET", api(US, "/api/v2/users/me"), 401, token="undefined", reply=BAD_CREDS)
    h.write()

    h = cause("token_expired", 8)
    cid, pid, mid, send = conv_ids("token_expired")
    tok = opaque("c-expired")
    token_call(h, US, "client_credentials", tok, expires_in=300)
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 200, token=tok,
          reply=conversation(cid, pid, mid, "connected"))
    h.at(datetime(2024, 5, 15, 8, 10, 0, tzinfo=timezone.utc))
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 401, token=tok, reply=BAD_CREDS)
    h.write()

    h = cause("token_not_yet_valid", 8)
    cid, pid, mid, send = conv_ids("token_not_yet_valid")
    t0 = datetime(2024, 5, 15, 8, 0, 0, tzinfo=timezone.utc)
    jwt = guest_jwt("c-nyv", t0 + timedelta(minutes=10), t0 + timedelta(hours=1), nbf=t0 + timedelta(minutes=10))
    ws_jwt(h, US, jwt, t0 + timedelta(hours=1), uid("c-nyv-session"))
    h.add("GET", api(US, "/api/v2/webmessaging/messages?pageSize=25&pageNumber=1"), 401, token=jwt, reply=BAD_CREDS)
    h.write()

    h = cause("token_revoked", 8)
    cid, pid, mid, send = conv_ids("token_revoked")
    tok = opaque("c-revoked")
    token_call(h, US, "authorization_code", tok)
    h.add("GET", api(US, "/api/v2/users/me"), 200, token=tok, reply={"id": uid("user"), "name": "Dana Agent"})
    h.add("DELETE", api(US, "/api/v2/tokens/me"), 204, token=tok)
    h.add("GET", api(US, "/api/v2/users/me"), 401, token=tok, reply=BAD_CREDS)
    h.write()

    h = cause("token_wrong_region", 8)
    cid, pid, mid, send = conv_ids("token_wrong_region")
    tok = opaque("c-region")
    token_call(h, "mypurecloud.de", "client_credentials", tok)
    h.add("POST", api("mypurecloud.com.au", "/api/v2/conversations/messages/agentless"), 401, token=tok,
          body={"fromAddress": "+61255501234", "toAddress": "+61455501234", "toAddressMessengerType": "sms",
                "textBody": "Your order has shipped."}, reply=BAD_CREDS)
    h.write()

    h = cause("token_wrong_kind", 8)
    cid, pid, mid, send = conv_ids("token_wrong_kind")
    tok = opaque("c-kind")
    token_call(h, US, "client_credentials", tok)
    h.add("GET", api(US, "/api/v2/webmessaging/messages?pageSize=25&pageNumber=1"), 401, token=tok, reply=BAD_CREDS)
    h.write()

    h = cause("scope_missing", 8)
    cid, pid, mid, send = conv_ids("scope_missing")
    tok = opaque("c-scope")
    token_call(h, US, "authorization_code", tok)
    tokens_me(h, US, tok, ["conversations:readonly", "user-basic-info"], "CODE")
    h.add("POST", api(US, send), 403, token=tok, body={"textBody": "Hello"}, reply=NOT_AUTH)
    h.write()

    h = cause("permission_missing", 8)
    cid, pid, mid, send = conv_ids("permission_missing")
    tok = opaque("c-perm")
    token_call(h, US, "client_credentials", tok)
    h.add("POST", api(US, "/api/v2/conversations/messages/agentless"), 403, token=tok,
          body={"fromAddress": "+13175550100", "toAddress": "+13175550123", "toAddressMessengerType": "sms",
                "textBody": "Your order has shipped."},
          reply=error(403, "missing.permissions",
                      "Unable to perform the requested action. You are missing the following permission(s): "
                      "[conversation:message:create]",
                      messageWithParams="Unable to perform the requested action. You are missing the following "
                                        "permission(s): {permissions}",
                      messageParams={"permissions": "conversation:message:create"}))
    h.write()

    h = cause("user_context_required", 8)
    cid, pid, mid, send = conv_ids("user_context_required")
    tok = opaque("c-user")
    token_call(h, US, "client_credentials", tok)
    h.add("GET", api(US, "/api/v2/users/me"), 403, token=tok, reply=NOT_AUTH)
    h.write()

    h = cause("conversation_ended", 8)
    cid, pid, mid, send = conv_ids("conversation_ended")
    tok = opaque("c-ended")
    token_call(h, US, "client_credentials", tok)
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 200, token=tok,
          reply=conversation(cid, pid, mid, "disconnected", end="2024-05-15T07:40:00.000Z"))
    h.add("POST", api(US, send), 403, token=tok, body={"textBody": "One more thing"}, reply=NOT_AUTH)
    h.write()

    h = cause("endpoint_unknown", 8)
    cid, pid, mid, send = conv_ids("endpoint_unknown")
    tok = opaque("c-unknown")
    token_call(h, US, "client_credentials", tok)
    h.add("POST", api(US, f"/api/v2/communications/conversations/{cid}/participants/{pid}/messages"), 403, token=tok,
          body={"messageType": "proactive", "content": {"text": "Just checking in."}},
          reply={"message": "Access denied", "status": 403, "code": "forbidden"})
    h.write()

    h = cause("unexplained", 8)
    cid, pid, mid, send = conv_ids("unexplained")
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 200, sanitized=True,
          reply=conversation(cid, pid, mid, "connected"))
    h.add("POST", api(US, send), 403, sanitized=True, body={"textBody": "Hello"}, reply=NOT_AUTH)
    h.write()


if __name__ == "__main__":
    forum_proactive()
    forum_guest_cli()
    forum_wrong_region()
    forum_close_readonly()
    forum_followup()
    causes()
