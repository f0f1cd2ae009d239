#!/usr/bin/env python3
"""Generate the samples for confidence, thin evidence, inference and authentication schemes
(samples/thin_*.har, generic_things_*.har, auth_*.har), deterministically.

Built on forum.py's Chrome-style HAR writer. Each file tells one story (samples/README.md):
- thin_*: captures that lost the facts a confident answer needs (a HAR saved without response
  bodies, as Firefox's "Save All As HAR" without content does): the diagnosis must weigh what
  the capture still shows (the same credential succeeding before, at another region's host).
- generic_things_*, generic_gadgets_*: non-Genesys OAuth APIs, without and with their OpenAPI
  document (samples/catalogs/gadgets.json).
- auth_*: other authentication schemes (Basic, NTLM) and a 403 without credentials or challenge.

Usage: python3 samples/gen/diagnosis.py   (writes into samples/)
"""

import os
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forum import (Har, US, NOT_AUTH, BAD_CREDS, api, conversation, opaque, token_call, tokens_me,  # noqa: E402
                   uid)

IE = "mypurecloud.ie"


def drop_bodies(h):
    """What a HAR saved without response content holds: sizes and types, no text."""
    for e in h.entries:
        c = e["response"]["content"]
        c.pop("text", None)
        c.pop("encoding", None)
    return h


def thin_close_readonly():
    # forum_close_readonly without response bodies: the token reply and tokens/me are gone.
    h = Har("thin_close_readonly_nobodies.har", datetime(2024, 5, 16, 9, 0, 0, tzinfo=timezone.utc))
    tok = opaque("thin-close-readonly")
    cid, pid, mid = uid("thin-ro-conv"), uid("thin-ro-agent"), uid("thin-ro-comm")
    token_call(h, US, "authorization_code", tok)
    tokens_me(h, US, tok, ["conversations:readonly"], "CODE")
    h.add("GET", api(US, f"/api/v2/conversations/messages/{cid}"), 200, token=tok,
          reply=conversation(cid, pid, mid, "connected"))
    h.add("PATCH", api(US, f"/api/v2/conversations/messages/{cid}/participants/{pid}"), 403, token=tok,
          body={"state": "disconnected"}, reply=NOT_AUTH)
    drop_bodies(h).write()


def thin_same_credential():
    # A user token posts to a conversation (202), then 24 minutes later the same post is refused.
    # No bodies: neither the token's lifetime nor the conversation's state is in the capture.
    start = datetime(2024, 5, 16, 10, 0, 0, tzinfo=timezone.utc)
    h = Har("thin_same_credential_later.har", start)
    tok = opaque("thin-same-credential")
    cid, pid, mid = uid("thin-sc-conv"), uid("thin-sc-agent"), uid("thin-sc-comm")
    send = f"/api/v2/conversations/messages/{cid}/communications/{mid}/messages"
    token_call(h, US, "authorization_code", tok)
    h.add("POST", api(US, send), 202, token=tok, body={"textBody": "Hello, how can I help?"},
          reply={"id": uid("thin-sc-m1"), "textBody": "Hello, how can I help?"})
    h.at(start + timedelta(minutes=24, seconds=10))
    h.add("POST", api(US, send), 403, token=tok, body={"textBody": "Are you still there?"}, reply=NOT_AUTH)
    drop_bodies(h).write()


def thin_region():
    # A token (its issue not captured) works at the Irish API, then is sent to the US API.
    h = Har("thin_region_seen_elsewhere.har", datetime(2024, 5, 16, 11, 0, 0, tzinfo=timezone.utc))
    tok = opaque("thin-region")
    h.add("GET", api(IE, "/api/v2/users/me"), 200, token=tok, reply={"id": uid("thin-region-user")})
    h.add("GET", api(IE, "/api/v2/routing/queues"), 200, token=tok, reply={"entities": []})
    h.add("GET", api(US, f"/api/v2/conversations/messages/{uid('thin-region-conv')}"), 401, token=tok,
          reply=BAD_CREDS)
    drop_bodies(h).write()


THINGS = "api.things.example"
AUTH = "auth.things.example"


def things_token(h, seed, scope):
    tok = opaque(seed)
    h.add("POST", f"https://{AUTH}/oauth/token", 200, basic=f"{seed}-client:s3cr3t",
          form=[("grant_type", "client_credentials")],
          reply={"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": scope})
    return tok


def generic_things_inferred():
    # Three clients whose tokens carry things:act succeed; a fourth without it is refused.
    h = Har("generic_things_inferred_scope.har", datetime(2024, 5, 16, 12, 0, 0, tzinfo=timezone.utc))
    for i, seed in enumerate(["things-a", "things-b", "things-c"]):
        tok = things_token(h, seed, "things:read things:act")
        h.add("POST", f"https://{THINGS}/v1/things/{uid(f'thing-{i}')}/act", 200, token=tok,
              body={"action": "start"}, reply={"status": "started"})
    tok = things_token(h, "things-d", "things:read")
    h.add("POST", f"https://{THINGS}/v1/things/{uid('thing-9')}/act", 403, token=tok, body={"action": "start"},
          reply={"error": "forbidden"})
    h.write()


GADGETS = "api.gadgets.example"


def generic_gadgets_catalog():
    # Read with --catalog samples/catalogs/gadgets.json: an invented endpoint, a
    # client-credentials token without the documented scope, and a path the document does not
    # describe. (Its own API, so that read with the other samples nothing is inferred across.)
    h = Har("generic_gadgets_catalog.har", datetime(2024, 5, 16, 13, 0, 0, tzinfo=timezone.utc))
    tok = opaque("gadgets-e")
    h.add("POST", "https://auth.gadgets.example/oauth/token", 200, basic="gadgets-e-client:s3cr3t",
          form=[("grant_type", "client_credentials")],
          reply={"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": "gadgets:read"})
    h.add("POST", f"https://{GADGETS}/v2/gadgets/{uid('gadget-1')}/start", 403, token=tok,
          body={"mode": "now"}, reply={"error": "forbidden"})
    h.add("POST", f"https://{GADGETS}/v2/gadgets/{uid('gadget-1')}/run", 403, token=tok, body={"mode": "now"},
          reply={"error": "insufficient_scope"})
    h.add("GET", f"https://{GADGETS}/internal/health", 403, token=tok, reply={"error": "forbidden"})
    h.write()


def auth_basic_expected():
    # An intranet report server wants Basic; the browser sent only its session cookie.
    h = Har("auth_basic_expected.har", datetime(2024, 5, 16, 14, 0, 0, tzinfo=timezone.utc))
    h.add("GET", "https://reports.intranet.example/reports/q2", 401, reply_headers=[
        ("www-authenticate", 'Basic realm="Reports", charset="UTF-8"')])
    h.entries[-1]["request"]["headers"].append({"name": "cookie", "value": "SESSIONID=" + opaque("auth-basic")[:32]})
    h.entries[-1]["request"]["cookies"] = [{"name": "SESSIONID", "value": opaque("auth-basic")[:32]}]
    h.write()


def auth_ntlm_handshake():
    # The NTLM handshake: 401 with the challenge, type 1, 401 with type 2, type 3, 200.
    h = Har("auth_ntlm_handshake.har", datetime(2024, 5, 16, 15, 0, 0, tzinfo=timezone.utc))
    url = "https://sharepoint.intranet.example/sites/support/_api/web"
    h.add("GET", url, 401, reply_headers=[("www-authenticate", "NTLM"), ("www-authenticate", "Negotiate")])
    h.add("GET", url, 401, reply_headers=[("www-authenticate", "NTLM TlRMTVNTUAACAAAADAAMADgAAAAFgomi")])
    h.entries[-1]["request"]["headers"].append({"name": "authorization", "value": "NTLM TlRMTVNTUAABAAAAB4IIogAAAAA="})
    h.add("GET", url, 200, reply={"Title": "Support"})
    h.entries[-1]["request"]["headers"].append(
        {"name": "authorization", "value": "NTLM TlRMTVNTUAADAAAAGAAYAEgAAAAYABgAYAAAAAwADAB4AAAA"})
    h.write()


def auth_403_no_credentials():
    # A call that worked twice with a bearer token is sent without one and gets 403, no challenge.
    h = Har("auth_forbidden_without_credentials.har", datetime(2024, 5, 16, 16, 0, 0, tzinfo=timezone.utc))
    url = "https://api.reports.example/v1/reports/weekly"
    h.add("GET", url, 200, token=opaque("auth-403"), reply={"rows": []})
    h.add("GET", url, 200, token=opaque("auth-403"), reply={"rows": []})
    h.add("GET", url, 403, reply={"message": "Forbidden"})
    h.write()


if __name__ == "__main__":
    thin_close_readonly()
    thin_same_credential()
    thin_region()
    generic_things_inferred()
    generic_gadgets_catalog()
    auth_basic_expected()
    auth_ntlm_handshake()
    auth_403_no_credentials()
