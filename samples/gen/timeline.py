#!/usr/bin/env python3
"""Generate the conversation-timeline samples (deterministic: same output on every run).

    python3 samples/gen/timeline.py        # writes samples/conv_*.har, samples/generic_orders.har

The HAR files imitate a Chrome DevTools export (HAR 1.2, creator WebInspector 537.36,
HTTP/2 pseudo-headers, `_resourceType`, `_webSocketMessages`). Hosts and API paths are the real
Genesys Cloud ones (../shared/docs/genesys-cloud-facts.md), except where a sample calls a path
that does NOT exist on purpose (conv_invented_path.har). Ids are UUIDs derived with uuid5 from a
name, tokens are opaque base64url strings derived with SHA-256 from a name: nothing is random
and no secret is real. See samples/README.md for what each file shows.
"""

import base64
import hashlib
import json
import os
import uuid
from datetime import datetime, timedelta, timezone

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
NS = uuid.UUID("8f4b2a9e-6c3d-4f1a-9b7e-2d5c8a1f0e63")
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.0.0 Safari/537.36")
API = "api.mypurecloud.com"
APPS = "https://apps.mypurecloud.com"


def uid(name):
    return str(uuid.uuid5(NS, name))


def token(name):
    """An opaque bearer token: 80 base64url characters."""
    raw = hashlib.sha256(name.encode()).digest() + hashlib.sha256((name + "/2").encode()).digest()
    return base64.urlsafe_b64encode(raw[:60]).decode().rstrip("=")


def t(base, seconds):
    return base + timedelta(seconds=seconds)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def http_date(dt):
    return dt.strftime("%a, %d %b %Y %H:%M:%S GMT")


def entry(started, method, url, *, status, token_=None, req=None, resp=None, origin=APPS,
          status_text="", wait=84.2, resource="fetch", extra_resp_headers=()):
    """One Chrome-style HAR entry for a JSON API call over HTTP/2."""
    from urllib.parse import urlsplit, parse_qsl
    u = urlsplit(url)
    path = u.path + (("?" + u.query) if u.query else "")
    headers = [
        {"name": ":authority", "value": u.netloc},
        {"name": ":method", "value": method},
        {"name": ":path", "value": path},
        {"name": ":scheme", "value": "https"},
        {"name": "accept", "value": "application/json"},
        {"name": "accept-encoding", "value": "gzip, deflate, br, zstd"},
        {"name": "accept-language", "value": "en-US,en;q=0.9"},
    ]
    if token_:
        headers.append({"name": "authorization", "value": "bearer " + token_})
    body_text = None
    if req is not None:
        body_text = json.dumps(req, separators=(",", ":"))
        headers.append({"name": "content-length", "value": str(len(body_text))})
        headers.append({"name": "content-type", "value": "application/json"})
    headers += [
        {"name": "origin", "value": origin},
        {"name": "priority", "value": "u=1, i"},
        {"name": "referer", "value": origin + "/"},
        {"name": "sec-ch-ua", "value": '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'},
        {"name": "sec-ch-ua-mobile", "value": "?0"},
        {"name": "sec-ch-ua-platform", "value": '"Windows"'},
        {"name": "sec-fetch-dest", "value": "empty"},
        {"name": "sec-fetch-mode", "value": "cors"},
        {"name": "sec-fetch-site", "value": "same-site"},
        {"name": "user-agent", "value": UA},
    ]
    request = {
        "method": method,
        "url": url,
        "httpVersion": "http/2.0",
        "headers": headers,
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(u.query)],
        "cookies": [],
        "headersSize": -1,
        "bodySize": len(body_text) if body_text else 0,
    }
    if body_text is not None:
        request["postData"] = {"mimeType": "application/json", "text": body_text}
    text = "" if resp is None else json.dumps(resp, separators=(",", ":"))
    rh = [
        {"name": "access-control-allow-origin", "value": origin},
        {"name": "cache-control", "value": "no-cache, no-store, must-revalidate"},
    ]
    if text:
        rh += [{"name": "content-encoding", "value": "gzip"},
               {"name": "content-type", "value": "application/json"}]
    rh += [
        {"name": "date", "value": http_date(started)},
        {"name": "inin-correlation-id", "value": uid("corr " + url + iso(started))},
        {"name": "strict-transport-security", "value": "max-age=600; includeSubDomains"},
        {"name": "vary", "value": "Accept-Encoding"},
    ] + [{"name": k, "value": v} for k, v in extra_resp_headers]
    send, receive = 0.41, 1.07
    return {
        "_connectionId": "312457",
        "_initiator": {"type": "script"},
        "_priority": "High",
        "_resourceType": resource,
        "cache": {},
        "connection": "443",
        "request": request,
        "response": {
            "status": status,
            "statusText": status_text,
            "httpVersion": "http/2.0",
            "headers": rh,
            "cookies": [],
            "content": {"size": len(text), "mimeType": "application/json" if text else "x-unknown",
                        **({"text": text} if text else {})},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_transferSize": 180 + len(text) // 3,
            "_error": None,
            "_fetchedViaServiceWorker": False,
        },
        "serverIPAddress": "52.85.132.17",
        "startedDateTime": iso(started),
        "time": round(send + wait + receive + 0.9, 3),
        "timings": {"blocked": 0.9, "dns": -1, "ssl": -1, "connect": -1, "send": send, "wait": wait,
                    "receive": receive, "_blocked_queueing": 0.6, "_workerStart": -1,
                    "_workerReady": -1, "_workerFetchStart": -1, "_workerRespondWithSettled": -1},
    }


def websocket(started, url, messages, origin=APPS):
    """A Chrome websocket entry (101) carrying `messages`: (datetime, type, payload)."""
    from urllib.parse import urlsplit
    u = urlsplit(url)
    return {
        "_connectionId": "312533",
        "_initiator": {"type": "script"},
        "_priority": "High",
        "_resourceType": "websocket",
        "_webSocketMessages": [
            {"type": kind, "time": when.timestamp(), "opcode": 1,
             "data": payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))}
            for when, kind, payload in messages
        ],
        "cache": {},
        "connection": "443",
        "request": {
            "method": "GET",
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Accept-Encoding", "value": "gzip, deflate, br, zstd"},
                {"name": "Accept-Language", "value": "en-US,en;q=0.9"},
                {"name": "Cache-Control", "value": "no-cache"},
                {"name": "Connection", "value": "Upgrade"},
                {"name": "Host", "value": u.netloc},
                {"name": "Origin", "value": origin},
                {"name": "Pragma", "value": "no-cache"},
                {"name": "Sec-WebSocket-Extensions", "value": "permessage-deflate; client_max_window_bits"},
                {"name": "Sec-WebSocket-Key", "value": base64.b64encode(hashlib.md5(url.encode()).digest()).decode()},
                {"name": "Sec-WebSocket-Version", "value": "13"},
                {"name": "Upgrade", "value": "websocket"},
                {"name": "User-Agent", "value": UA},
            ],
            "queryString": [],
            "cookies": [],
            "headersSize": 512,
            "bodySize": 0,
        },
        "response": {
            "status": 101,
            "statusText": "Switching Protocols",
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Connection", "value": "upgrade"},
                {"name": "Date", "value": http_date(started)},
                {"name": "Sec-WebSocket-Accept", "value": base64.b64encode(hashlib.sha1(url.encode()).digest()).decode()},
                {"name": "Sec-WebSocket-Extensions", "value": "permessage-deflate"},
                {"name": "Upgrade", "value": "websocket"},
            ],
            "cookies": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": 236,
            "bodySize": 0,
            "_transferSize": 236,
            "_error": None,
        },
        "serverIPAddress": "3.161.82.44",
        "startedDateTime": iso(started),
        "time": 61.3,
        "timings": {"blocked": 1.2, "dns": -1, "ssl": -1, "connect": -1, "send": 0, "wait": 60.1,
                    "receive": 0, "_blocked_queueing": -1},
    }


def har(entries, title):
    return {"log": {
        "version": "1.2",
        "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [],
        "entries": sorted(entries, key=lambda e: e["startedDateTime"]),
        "comment": title,
    }}


def write(name, doc):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


def error_body(status, code, message, name):
    return {"message": message, "code": code, "status": status, "messageParams": {},
            "contextId": uid("ctx " + name), "details": [], "errors": []}


NOT_AUTHORIZED = ("not.authorized", "You are not authorized to perform the requested action.")


def participant(name, purpose, state, *, kind="webmessaging", start=None, end=None, **extra):
    p = {"id": uid("participant " + name), "name": name, "purpose": purpose, "state": state,
         "direction": "inbound", "held": False, "type": kind,
         "startTime": start, "connectedTime": start, "wrapupRequired": purpose == "agent",
         "messages": [], **extra}
    if end:
        p["endTime"] = end
        p["disconnectType"] = "client"
    return p


def conv_followup_after_disconnect():
    """Web messaging conversation answered, disconnected by a participant PATCH, messaged 20
    minutes later: the follow-up gets 403."""
    base = datetime(2025, 3, 11, 9, 58, 0, 123000, tzinfo=timezone.utc)
    cid = uid("followup conversation")
    agent_pid = uid("participant Dana Agent")
    comm = uid("followup agent communication")
    tok = token("followup agent user token")
    start = iso(t(base, 60))
    e = []
    # 0: who am I (no conversation)
    e.append(entry(t(base, 0), "GET", f"https://{API}/api/v2/users/me?expand=presence", status=200, token_=tok,
                   resp={"id": uid("user Dana Agent"), "name": "Dana Agent", "state": "active",
                         "selfUri": f"/api/v2/users/{uid('user Dana Agent')}"}))
    # 1: wrap-up codes for the agent participant: in the conversation, proves no state
    e.append(entry(t(base, 120), "GET",
                   f"https://{API}/api/v2/conversations/messages/{cid}/participants/{agent_pid}/wrapupcodes",
                   status=200, token_=tok, resp=[]))
    # 2: the conversation: customer and agent connected -> active
    e.append(entry(t(base, 125), "GET", f"https://{API}/api/v2/conversations/messages/{cid}", status=200,
                   token_=tok, resp={
                       "id": cid,
                       "participants": [
                           participant("Customer", "customer", "connected", start=start,
                                       fromAddress={"addressNormalized": "web-guest"}),
                           participant("Dana Agent", "agent", "connected", start=start,
                                       user={"id": uid("user Dana Agent")}),
                       ],
                       "selfUri": f"/api/v2/conversations/messages/{cid}"}))
    # 3: the agent replies: 200 MessageData
    e.append(entry(t(base, 190), "POST",
                   f"https://{API}/api/v2/conversations/messages/{cid}/communications/{comm}/messages",
                   status=200, token_=tok, req={"textBody": "Your replacement card ships today."},
                   resp={"id": uid("message 1"), "timestamp": iso(t(base, 190)), "direction": "outbound",
                         "messengerType": "webmessaging", "textBody": "Your replacement card ships today.",
                         "status": "sent", "selfUri": f"/api/v2/conversations/messages/{cid}/messages/{uid('message 1')}"}))
    # 4: the agent ends the interaction: PATCH participant {"state":"disconnected"} -> 202
    e.append(entry(t(base, 390), "PATCH",
                   f"https://{API}/api/v2/conversations/messages/{cid}/participants/{agent_pid}",
                   status=202, token_=tok, req={"state": "disconnected"}))
    # 5: twenty minutes later, a follow-up on the same conversation -> 403
    e.append(entry(t(base, 390 + 20 * 60), "POST",
                   f"https://{API}/api/v2/conversations/messages/{cid}/communications/{comm}/messages",
                   status=403, token_=tok, req={"textBody": "One more thing: the tracking number is on its way."},
                   resp=error_body(403, *NOT_AUTHORIZED, "followup 403")))
    write("conv_followup_after_disconnect.har", har(e, "harken sample: follow-up after disconnect"))


def conv_split():
    """One conversation seen in two captures: the agent's browser (a) and a supervisor's (b)."""
    base = datetime(2025, 3, 12, 14, 0, 0, 512000, tzinfo=timezone.utc)
    cid = uid("split conversation")
    comm = uid("split agent communication")
    agent = token("split agent user token")
    supervisor = token("split supervisor user token")
    start = iso(t(base, -30))
    a, b = [], []
    # a0: agent reads the conversation: connected -> active
    a.append(entry(t(base, 0), "GET", f"https://{API}/api/v2/conversations/messages/{cid}", status=200,
                   token_=agent, resp={"id": cid, "participants": [
                       participant("Customer", "customer", "connected", start=start),
                       participant("Ali Agent", "agent", "connected", start=start)],
                       "selfUri": f"/api/v2/conversations/messages/{cid}"}))
    # a1: agent sends a message
    a.append(entry(t(base, 40), "POST",
                   f"https://{API}/api/v2/conversations/messages/{cid}/communications/{comm}/messages",
                   status=200, token_=agent, req={"textBody": "Let me check that for you."},
                   resp={"id": uid("split message 1"), "direction": "outbound", "status": "sent",
                         "messengerType": "webmessaging", "textBody": "Let me check that for you."}))
    # b0: supervisor disconnects the conversation (full teardown) -> disconnected
    b.append(entry(t(base, 300), "POST", f"https://{API}/api/v2/conversations/{cid}/disconnect", status=202,
                   token_=supervisor))
    # a2: agent sends again, after the supervisor's disconnect -> 403
    a.append(entry(t(base, 420), "POST",
                   f"https://{API}/api/v2/conversations/messages/{cid}/communications/{comm}/messages",
                   status=403, token_=agent, req={"textBody": "Found it: your order shipped."},
                   resp=error_body(403, *NOT_AUTHORIZED, "split 403")))
    # b1: supervisor reads the conversation: endTime set, every communication disconnected
    b.append(entry(t(base, 480), "GET", f"https://{API}/api/v2/conversations/{cid}", status=200,
                   token_=supervisor, resp={
                       "id": cid, "startTime": start, "endTime": iso(t(base, 300)),
                       "participants": [
                           {"id": uid("participant Customer"), "purpose": "customer",
                            "messages": [{"state": "disconnected", "id": uid("split c comm"), "type": "webmessaging",
                                          "disconnectType": "system"}]},
                           {"id": uid("participant Ali Agent"), "purpose": "agent",
                            "messages": [{"state": "disconnected", "id": comm, "type": "webmessaging",
                                          "disconnectType": "system"}]}],
                       "recordingState": "none", "selfUri": f"/api/v2/conversations/{cid}"}))
    write("conv_split_a.har", har(a, "harken sample: one conversation across two files (agent)"))
    write("conv_split_b.har", har(b, "harken sample: one conversation across two files (supervisor)"))


def conv_invented_path():
    """Calls to paths that do not exist in the API (facts §1), in their conversation, with
    state from notification events."""
    base = datetime(2025, 3, 13, 8, 30, 0, 250000, tzinfo=timezone.utc)
    cid = uid("invented conversation")
    pid = uid("invented customer participant")
    comm = uid("invented agent communication")
    integration = uid("invented open integration")
    channel = "streaming-0-" + hashlib.sha256(b"invented channel").hexdigest()[:26]
    tok = token("invented integrator client credentials token")
    start = iso(t(base, 50))
    e = []
    # 0: notification channel
    e.append(entry(t(base, 0), "POST", f"https://{API}/api/v2/notifications/channels", status=200, token_=tok,
                   resp={"connectUri": f"wss://streaming.mypurecloud.com/channels/{channel}", "id": channel,
                         "expires": iso(t(base, 86400))}))
    # 1: the channel's websocket: heartbeat, conversation connected, conversation disconnected
    conn = lambda state, end=None: {  # noqa: E731
        "topicName": f"v2.conversations.{cid}", "version": "2",
        "eventBody": {"id": cid, **({"endTime": end} if end else {}), "participants": [
            {"id": pid, "purpose": "customer", "state": state, "type": "open"},
            {"id": uid("invented agent participant"), "purpose": "agent", "state": state, "type": "open"}]},
        "metadata": {"CorrelationId": uid("corr ws " + state)}}
    e.append(websocket(t(base, 2), f"wss://streaming.mypurecloud.com/channels/{channel}", [
        (t(base, 30), "receive", {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}),
        (t(base, 60), "receive", conn("connected")),
        (t(base, 90), "receive", {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}),
        (t(base, 540), "receive", conn("disconnected", iso(t(base, 540)))),
    ]))
    # 2: configuration read (a UUID in the path that is NOT a conversation)
    e.append(entry(t(base, 5), "GET", f"https://{API}/api/v2/conversations/messaging/integrations/open/{integration}",
                   status=200, token_=tok, resp={"id": integration, "name": "Support bot", "status": "Active"}))
    # 3: invented: POST /api/v2/conversations/messaging/{id}/messages -> 404
    e.append(entry(t(base, 120), "POST", f"https://{API}/api/v2/conversations/messaging/{cid}/messages",
                   status=404, token_=tok, req={"textBody": "Hello from the bot"},
                   resp=error_body(404, "not.found", "The requested resource was not found.", "inv 404 a")))
    # 4: the real send endpoint -> 200
    e.append(entry(t(base, 180), "POST",
                   f"https://{API}/api/v2/conversations/messages/{cid}/communications/{comm}/messages",
                   status=200, token_=tok, req={"textBody": "Hello from the bot"},
                   resp={"id": uid("inv message"), "direction": "outbound", "status": "sent",
                         "messengerType": "open", "textBody": "Hello from the bot"}))
    # 5: invented: DELETE /api/v2/conversations/webmessaging/{id} -> 404
    e.append(entry(t(base, 300), "DELETE", f"https://{API}/api/v2/conversations/webmessaging/{cid}",
                   status=404, token_=tok,
                   resp=error_body(404, "not.found", "The requested resource was not found.", "inv 404 b")))
    # 6: invented: /api/v2/communications/... -> 404
    e.append(entry(t(base, 360), "POST",
                   f"https://{API}/api/v2/communications/conversations/{cid}/participants/{pid}/messages",
                   status=404, token_=tok, req={"textBody": "Are you still there?"},
                   resp=error_body(404, "not.found", "The requested resource was not found.", "inv 404 c")))
    # 7: after the conversation ended (notification at +540 s): invented webchat path -> 403
    e.append(entry(t(base, 600), "POST", f"https://{API}/api/v2/conversations/webchat/{cid}/messages",
                   status=403, token_=tok, req={"body": "Last try", "bodyType": "standard"},
                   resp=error_body(403, *NOT_AUTHORIZED, "inv 403")))
    write("conv_invented_path.har", har(e, "harken sample: invented paths land in their conversation"))


def generic_orders():
    """A non-Genesys API read with samples/profiles/orders.toml."""
    base = datetime(2025, 3, 14, 16, 45, 0, 0, tzinfo=timezone.utc)
    host = "api.shopfront.example"
    origin = "https://www.shopfront.example"
    oid = "ord_" + hashlib.sha256(b"order one").hexdigest()[:16].upper()
    other = "ord_" + hashlib.sha256(b"order two").hexdigest()[:16].upper()
    tok = token("shopfront customer session")
    e = []
    # 0: create the order: 201, id in the reply -> active (rule: order created)
    e.append(entry(t(base, 0), "POST", f"https://{host}/v1/orders", status=201, token_=tok, origin=origin,
                   req={"items": [{"sku": "KB-104", "qty": 1}], "currency": "EUR"},
                   resp={"order": {"id": oid, "status": "pending", "total": "89.00"}}))
    # 1: the order event stream
    e.append(websocket(t(base, 1), f"wss://{host}/v1/stream?session=web", [
        (t(base, 2), "receive", {"channel": "system.hello", "data": {}}),
        (t(base, 45), "receive", {"channel": f"orders.{oid}.status", "data": {"status": "paid"}}),
        (t(base, 600), "receive", {"channel": f"orders.{oid}.status", "data": {"status": "cancelled"}}),
    ], origin=origin))
    # 2: items of the order (no state evidence)
    e.append(entry(t(base, 3), "GET", f"https://{host}/v1/orders/{oid}/items", status=200, token_=tok,
                   origin=origin, resp={"items": [{"sku": "KB-104", "qty": 1}]}))
    # 3: another order, never shown with a state -> unknown throughout
    e.append(entry(t(base, 20), "GET", f"https://{host}/v1/orders/{other}/items", status=200, token_=tok,
                   origin=origin, resp={"items": []}))
    # 4: read the order: status paid -> active (confirmation)
    e.append(entry(t(base, 60), "GET", f"https://{host}/v1/orders/{oid}", status=200, token_=tok, origin=origin,
                   resp={"id": oid, "status": "paid", "total": "89.00"}))
    # 5: a payment capture naming the order in its body, after the cancellation -> 409
    e.append(entry(t(base, 660), "POST", f"https://{host}/v1/payments/capture", status=409, token_=tok,
                   origin=origin, req={"order_id": oid, "amount": "89.00"},
                   resp={"error": "order_not_open", "message": "The order is cancelled."}))
    # 6: the order again: cancelled -> disconnected (confirmation of the event)
    e.append(entry(t(base, 700), "GET", f"https://{host}/v1/orders/{oid}", status=200, token_=tok, origin=origin,
                   resp={"id": oid, "status": "cancelled", "total": "89.00"}))
    write("generic_orders.har", har(e, "harken sample: a generic API with a user profile"))


if __name__ == "__main__":
    conv_followup_after_disconnect()
    conv_split()
    conv_invented_path()
    generic_orders()
