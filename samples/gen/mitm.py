#!/usr/bin/env python3
"""Records samples/proxy_genesys.mitm with real mitmproxy (mitmdump) as a reverse proxy in front
of a small loopback server that answers like Genesys Cloud: a client-credentials token reply,
GET /api/v2/tokens/me, a 403 missing.any.permissions, a 401 bad.credentials for
`Bearer undefined`, and a notifications websocket (one message each way).

Everything stays on 127.0.0.1. The client keeps the Genesys host names in the Host header
(mitmdump --set keep_host_header=true), so the flows name api/login.mypurecloud.com.
Needs mitmdump on PATH or MITMDUMP=/path/to/mitmdump (pip install mitmproxy).
Run from the repository root: python3 samples/gen/mitm.py [output.mitm]
"""
import base64, hashlib, http.client, http.server, json, os, socket, socketserver, struct
import subprocess, sys, threading, time

TOKEN = "Xr9" + "a" * 77  # an opaque 80-character token, like Genesys issues
OUT = sys.argv[1] if len(sys.argv) > 1 else "samples/proxy_genesys.mitm"
CONV, PART = "8f2c1e4a-3b6d-4c5e-9f70-1a2b3c4d5e6f", "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj, extra=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("inin-correlation-id", "c0ffee00-0000-4000-8000-000000000001")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        self.body()
        if self.path == "/oauth/token":
            return self.reply(200, {"access_token": TOKEN, "token_type": "bearer", "expires_in": 86399})
        self.reply(404, {"message": "not found", "code": "not.found", "status": 404})

    def do_PATCH(self):
        self.body()
        self.reply(403, {"message": "Unable to perform the requested action. You are missing the following permission(s): [conversation:communication:disconnect]",
                         "code": "missing.any.permissions", "status": 403,
                         "messageParams": {"permissions": "[conversation:communication:disconnect]"}})

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        if auth != f"Bearer {TOKEN}":
            return self.reply(401, {"message": "Invalid login credentials.", "code": "bad.credentials", "status": 401},
                              [("WWW-Authenticate", 'Bearer realm="api"')])
        if self.path == "/api/v2/tokens/me":
            return self.reply(200, {"name": "Example client", "homeOrganization": {"id": "org-1", "name": "Example"},
                                    "authorizedScope": ["conversations:readonly", "notifications"],
                                    "OAuthClient": {"id": "client-1", "name": "reporting", "authorizedGrantType": "CLIENT-CREDENTIALS"},
                                    "organization": {"id": "org-1", "name": "Example"}})
        if self.path.startswith("/api/v2/conversations/"):
            return self.reply(200, {"id": CONV, "participants": [{"id": PART, "purpose": "customer", "state": "connected"}]})
        self.reply(404, {"message": "not found", "code": "not.found", "status": 404})

    def websocket(self):
        key = self.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        msg = json.dumps({"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}).encode()
        self.wfile.write(bytes([0x81, len(msg)]) + msg)
        self.wfile.flush()
        read_frame(self.rfile)  # the client's message
        read_frame(self.rfile)  # its close
        self.wfile.write(b"\x88\x02\x03\xe8")
        self.wfile.flush()
        self.close_connection = True


def read_frame(f):
    b0, b1 = f.read(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", f.read(2))[0]
    mask = f.read(4) if b1 & 0x80 else b"\0\0\0\0"
    data = f.read(n)
    return bytes(c ^ mask[i % 4] for i, c in enumerate(data))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    api = Server(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    proxy_port = free_port()
    mitmdump = os.environ.get("MITMDUMP", "mitmdump")
    if os.path.exists(OUT):
        os.remove(OUT)
    proc = subprocess.Popen([mitmdump, "-q", "--mode", f"reverse:http://127.0.0.1:{api.server_port}",
                             "--listen-host", "127.0.0.1", "--listen-port", str(proxy_port),
                             "--set", "keep_host_header=true", "-w", OUT])
    try:
        wait_port(proxy_port)
        def call(method, path, host, headers=(), body=None):
            c = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=10)
            h = {"Host": host, "User-Agent": "purecloud-sample/1.0", **dict(headers)}
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            r.read()
            c.close()
            return r.status
        basic = base64.b64encode(b"client-1:secret-1").decode()
        bearer = [("Authorization", f"Bearer {TOKEN}")]
        statuses = [
            call("POST", "/oauth/token", "login.mypurecloud.com",
                 [("Authorization", f"Basic {basic}"), ("Content-Type", "application/x-www-form-urlencoded")],
                 b"grant_type=client_credentials"),
            call("GET", "/api/v2/tokens/me", "api.mypurecloud.com", bearer),
            call("GET", f"/api/v2/conversations/messages/{CONV}", "api.mypurecloud.com", bearer),
            call("PATCH", f"/api/v2/conversations/messages/{CONV}/participants/{PART}", "api.mypurecloud.com",
                 bearer + [("Content-Type", "application/json")], b'{"state":"disconnected"}'),
            call("GET", "/api/v2/users/me", "api.mypurecloud.com", [("Authorization", "Bearer undefined")]),
        ]
        # The notifications websocket: one message each way, then a close.
        s = socket.create_connection(("127.0.0.1", proxy_port), 10)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /channels/streaming-0-abc HTTP/1.1\r\nHost: streaming.mypurecloud.com\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        f = s.makefile("rb")
        while f.readline() not in (b"\r\n", b""):
            pass
        read_frame(f)
        msg, mask = b'{"message":"ping"}', os.urandom(4)
        s.sendall(bytes([0x81, 0x80 | len(msg)]) + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(msg)))
        s.sendall(bytes([0x88, 0x82]) + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(b"\x03\xe8")))
        read_frame(f)
        s.close()
        time.sleep(1.0)
        print("statuses", statuses, file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(20)
        api.shutdown()
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
