//! `harken replay` and `harken serve` against real loopback servers (127.0.0.1 only): the
//! round trip through `serve`, curl and `replay`; token replacement; the allow-list with
//! redirects; the dry run opening no socket; unsafe methods; rate and concurrency.
//!
//! Every wait has a timeout and every spawned process or server is stopped in Drop.

use crate::common::{root, sample};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_harken");

/// Run harken with extra environment variables; kill it (and fail) after `secs`.
fn run(args: &[&str], env: &[(&str, &str)], secs: u64) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(root()).stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn harken");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("harken {args:?} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), t_out.join().unwrap(), t_err.join().unwrap())
}

fn run_json(args: &[&str], env: &[(&str, &str)]) -> Value {
    let (code, out, err) = run(args, env, 60);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("harken {args:?} (exit {code}): not JSON ({e}): {out}\n{err}"))
}

/// `harken serve` on a free port, stopped (SIGKILL) when dropped.
struct Served {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
}

impl Served {
    fn start(files: &[&str]) -> Served {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(files);
        let mut child = Command::new(BIN)
            .args(&args)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn harken serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Served { child, addr: String::new(), lines: rx };
        let first = s.lines.recv_timeout(Duration::from_secs(30)).expect("harken serve printed no address in 30 s");
        s.addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        s
    }

    /// Stop with SIGINT and return the remaining output; fails if it does not end in 10 s.
    fn interrupt(mut self) -> (i32, Vec<String>) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-INT", &pid]).status().map(|s| s.success()).unwrap_or(false);
        assert!(ok, "kill -INT failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        let code = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "harken serve did not stop on SIGINT within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut lines = Vec::new();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(2)) {
            lines.push(l);
        }
        (code, lines)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request as a test server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    at: Instant,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply { status, headers: vec![("Content-Type".into(), "application/json".into())], body: body.to_string() }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A tiny HTTP/1.1 server on 127.0.0.1 (std only): one thread per connection, one request per
/// connection. Records every request and the most requests it ever had in flight at once.
struct TestServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    max_in_flight: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    fn start(delay: Duration, handler: Handler) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, m2, st2) = (seen.clone(), max_in_flight.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let (seen, max, inf, handler) = (s2.clone(), m2.clone(), in_flight.clone(), handler.clone());
                std::thread::spawn(move || serve_conn(stream, delay, &seen, &max, &inf, &*handler));
            }
        });
        TestServer { port, seen, max_in_flight, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), Duration::from_millis(200));
    }
}

fn serve_conn(
    mut stream: TcpStream,
    delay: Duration,
    seen: &Mutex<Vec<Seen>>,
    max: &AtomicUsize,
    in_flight: &AtomicUsize,
    handler: &(dyn Fn(&Seen) -> Reply + Send + Sync),
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if buf.len() > 1 << 20 {
            return;
        }
    };
    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    max.fetch_max(now, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))).collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let req = Seen { method, path, headers, at: Instant::now() };
    seen.lock().unwrap().push(req.clone());
    std::thread::sleep(delay);
    let r = handler(&req);
    let mut out = format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n", r.status, r.body.len());
    for (n, v) in &r.headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&r.body);
    in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

/// A listening socket that no flag names: counts the connections it ever receives.
struct Sentinel {
    listener: TcpListener,
}

impl Sentinel {
    fn new() -> Sentinel {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Sentinel { listener }
    }
    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }
    fn connections(&self) -> usize {
        let mut n = 0;
        while self.listener.accept().is_ok() {
            n += 1;
        }
        n
    }
}

/// A HAR with `n` GETs to https://api.load.example/items/{i}, one second apart, all 200.
fn gets_har(n: usize) -> (tempfile::TempDir, String) {
    let entries: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "startedDateTime": format!("2025-01-01T00:00:{:02}.000Z", i % 60),
                "time": 10.0,
                "request": {"method": "GET", "url": format!("https://api.load.example/items/{i}"),
                    "httpVersion": "HTTP/1.1", "headers": [{"name": "Accept", "value": "application/json"}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
                "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
                    "content": {"size": 9, "mimeType": "application/json", "text": "{\"ok\":true}"},
                    "redirectURL": "", "headersSize": -1, "bodySize": 9},
                "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 0}
            })
        })
        .collect();
    let har = json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}});
    let (dir, p) = crate::common::temp_file("gets.har", har.to_string().as_bytes());
    (dir, p.display().to_string())
}

fn ok_handler() -> Handler {
    Arc::new(|_| reply(200, json!({"ok": true})))
}

fn curl_available() -> bool {
    let ok = Command::new("curl").arg("--version").stdout(Stdio::null()).status().map(|s| s.success()).unwrap_or(false);
    if !ok {
        assert!(std::env::var_os("HARKEN_CORPUS").is_none(), "curl is required under CI (.ci/run installs it)");
        eprintln!("note: curl is not installed: the curl part of the round trip is skipped");
    }
    ok
}

fn curl(args: &[&str]) -> (u16, String) {
    let o = Command::new("curl")
        .args(["-s", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[test]
fn serve_answers_curl_in_captured_order_with_a_404_that_explains() {
    if !curl_available() {
        return;
    }
    let s = Served::start(&["samples/generic_orders.har"]);
    let order = format!("{}/v1/orders/ord_955A3624EE51A2FF", s.addr);
    // The same call twice: the captured answers in captured order ("paid", then "cancelled").
    let (c1, b1) = curl(&[&order]);
    let (c2, b2) = curl(&[&order]);
    assert_eq!((c1, c2), (200, 200));
    assert_eq!(serde_json::from_str::<Value>(&b1).unwrap()["status"], "paid");
    assert_eq!(serde_json::from_str::<Value>(&b2).unwrap()["status"], "cancelled");
    let (c, b) = curl(&["-X", "POST", "-d", "{}", &format!("{}/v1/payments/capture", s.addr)]);
    assert_eq!(c, 409, "{b}");
    // Unmatched: 404 with the closest candidates.
    let (c, b) = curl(&[&format!("{}/v1/orderz/ord_955A3624EE51A2FF", s.addr)]);
    assert_eq!(c, 404);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["candidates"][0]["target"], "/v1/orders/ord_955A3624EE51A2FF", "{v}");
    assert_eq!(v["candidates"][0]["differs"], json!(["path"]));
    let (c, b) = curl(&["-X", "DELETE", &order]);
    assert_eq!(c, 404);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["candidates"][0]["differs"], json!(["method"]), "{v}");
    // Content-Length is right for the body served (curl would complain otherwise), and the
    // log has one line per request; SIGINT ends it cleanly.
    let (code, lines) = s.interrupt();
    assert_eq!(code, 0, "{lines:?}");
    let served: Vec<&String> = lines.iter().filter(|l| l.contains(" -> ")).collect();
    assert_eq!(served.len(), 5, "{lines:?}");
    assert!(served[0].contains("generic_orders.har#4") && served[1].contains("generic_orders.har#6"), "{served:?}");
    assert!(lines.last().unwrap().starts_with("stopped: 5 requests answered, 2 unmatched"), "{lines:?}");
}

#[test]
fn replay_against_serve_is_a_round_trip_with_zero_diffs() {
    for sample_name in ["generic_orders.har", "tokens_client_credentials_expiry.har", "cause_token_expired.har"] {
        let file = sample(sample_name).display().to_string();
        let s = Served::start(&[&file]);
        let v = run_json(
            &["replay", &file, "--target", &s.addr, "--send", "--allow-unsafe", "--format", "json", "--fail-on-diff"],
            &[],
        );
        let sum = &v["summary"];
        assert_eq!(sum["with_diff"], 0, "{sample_name}: {v:#}");
        assert_eq!(sum["errors"], 0, "{sample_name}: {v:#}");
        assert!(sum["same"].as_u64().unwrap() >= 1, "{v:#}");
        for r in v["requests"].as_array().unwrap().iter().filter(|r| r["outcome"] != "skipped") {
            // A captured 401 replayed as 401 is "still_failing", with no difference.
            assert!(r["outcome"] == "same" || r["outcome"] == "still_failing", "{sample_name}: {r:#}");
            let d = &r["diff"];
            assert!(
                d["status"].is_null() && d["headers"] == json!([]) && d["body"] == json!([]),
                "{sample_name}: {r:#}"
            );
        }
        let (code, lines) = s.interrupt();
        assert_eq!(code, 0);
        assert!(!lines.iter().any(|l| l.contains("-> 404 unmatched")), "{sample_name}: {lines:?}");
    }
}

#[test]
fn a_new_token_replaces_the_captured_one_and_the_refusal_now_passes() {
    const NEW: &str = "new-token-0123456789abcdef";
    let server = TestServer::start(
        Duration::ZERO,
        Arc::new(|r: &Seen| {
            if r.header("authorization") == Some(&format!("Bearer {NEW}")) {
                reply(200, json!({"id": "8bda5b38-3da4-44cc-aec0-3782f2283c47", "participants": []}))
            } else {
                reply(401, json!({"code": "bad.credentials", "status": 401}))
            }
        }),
    );
    let file = sample("cause_token_expired.har").display().to_string();
    let args =
        ["replay", &file, "--only", "refused", "--token-env", "HARKEN_TEST_TOKEN", "--target", &server.url(), "--send"];
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let v = run_json(&json_args, &[("HARKEN_TEST_TOKEN", NEW)]);
    let reqs = v["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 1, "{v:#}");
    assert_eq!(reqs[0]["outcome"], "now_passing", "{v:#}");
    assert_eq!(reqs[0]["finding"], "token_expired");
    assert_eq!(reqs[0]["captured_status"], 401);
    assert_eq!(reqs[0]["replayed_status"], 200);
    assert_eq!(v["summary"]["now_passing"], 1);
    // The token never appears in the output.
    assert!(!v.to_string().contains(NEW));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), Some(format!("Bearer {NEW}").as_str()));

    // The table answers "is it fixed?" per finding.
    let (code, out, err) = run(&args, &[("HARKEN_TEST_TOKEN", NEW)], 60);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Is it fixed?") && out.contains("(token_expired): yes: now 200"), "{out}");

    // Without a new token the captured one is not sent: the server sees no Authorization.
    let v =
        run_json(&["replay", &file, "--only", "refused", "--target", &server.url(), "--send", "--format", "json"], &[]);
    assert_eq!(v["requests"][0]["outcome"], "still_failing", "{v:#}");
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "one request per run (json, table, no token)");
    assert_eq!(seen[2].header("authorization"), None, "a captured credential was sent");
    // --fail-on-diff: a changed status is a difference.
    let (code, _, _) = run(
        &[
            "replay",
            &file,
            "--only",
            "refused",
            "--token-env",
            "HARKEN_TEST_TOKEN",
            "--target",
            &server.url(),
            "--send",
            "--fail-on-diff",
        ],
        &[("HARKEN_TEST_TOKEN", NEW)],
        60,
    );
    assert_eq!(code, 1);
}

#[test]
fn oauth_client_credentials_fetch_a_fresh_token_from_the_captured_endpoint() {
    let server = TestServer::start(
        Duration::ZERO,
        Arc::new(|r: &Seen| {
            if r.method == "POST" && r.path == "/oauth/token" {
                // base64("cid:csecret")
                if r.header("authorization") == Some("Basic Y2lkOmNzZWNyZXQ=") {
                    return reply(
                        200,
                        json!({"access_token": "fresh-abc", "token_type": "bearer", "expires_in": 86399}),
                    );
                }
                return reply(401, json!({"error": "invalid_client"}));
            }
            if r.header("authorization") == Some("Bearer fresh-abc") {
                reply(200, json!({"id": "x", "participants": []}))
            } else {
                reply(401, json!({"code": "bad.credentials"}))
            }
        }),
    );
    let file = sample("cause_token_expired.har").display().to_string();
    let login = format!("login.mypurecloud.com={}", server.url());
    let api = format!("api.mypurecloud.com={}", server.url());
    let v = run_json(
        &[
            "replay",
            &file,
            "--only",
            "refused",
            "--oauth-client-credentials",
            "--map",
            &login,
            "--map",
            &api,
            "--send",
            "--format",
            "json",
        ],
        &[("HARKEN_CLIENT_ID", "cid"), ("HARKEN_CLIENT_SECRET", "csecret")],
    );
    assert_eq!(v["requests"][0]["outcome"], "now_passing", "{v:#}");
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].path, "/oauth/token");
}

#[test]
fn no_connection_leaves_the_allow_list_redirects_included() {
    let outside = Sentinel::new();
    let port = outside.port();
    let redirector = TestServer::start(
        Duration::ZERO,
        Arc::new(move |_| Reply {
            status: 302,
            headers: vec![("Location".into(), format!("http://127.0.0.1:{port}/elsewhere"))],
            body: String::new(),
        }),
    );
    let file = sample("generic_orders.har").display().to_string();
    let v = run_json(
        &["replay", &file, "--target", &redirector.url(), "--send", "--allow-unsafe", "--format", "json"],
        &[],
    );
    let reqs = v["requests"].as_array().unwrap();
    let sent: Vec<&Value> = reqs.iter().filter(|r| r["outcome"] != "skipped").collect();
    assert_eq!(sent.len(), 6, "{v:#}");
    for r in &sent {
        assert_eq!(r["replayed_status"], 302);
        assert!(r["notes"][0].as_str().unwrap().contains("not followed: not an allowed host"), "{r:#}");
    }
    assert_eq!(redirector.seen().len(), 6);
    // Also with another host in --map and a host only the capture names.
    let map = format!("api.other.example={}", redirector.url());
    let v = run_json(&["replay", &file, "--map", &map, "--send", "--format", "json"], &[]);
    assert_eq!(v["summary"]["sent"], 0, "{v:#}");
    assert_eq!(outside.connections(), 0, "a replay connected to a host no flag named");

    // Allowed explicitly, the redirect is followed to it.
    let landing = TestServer::start(Duration::ZERO, ok_handler());
    let landing_port = landing.port;
    let hop = TestServer::start(
        Duration::ZERO,
        Arc::new(move |_| Reply {
            status: 307,
            headers: vec![("Location".into(), format!("http://127.0.0.1:{landing_port}/landed"))],
            body: String::new(),
        }),
    );
    let allow = format!("127.0.0.1:{landing_port}");
    let (dir, har) = gets_har(1);
    let v =
        run_json(&["replay", &har, "--target", &hop.url(), "--allow-host", &allow, "--send", "--format", "json"], &[]);
    assert_eq!(v["requests"][0]["replayed_status"], 200, "{v:#}");
    assert_eq!(landing.seen().len(), 1);
    assert_eq!(landing.seen()[0].path, "/landed");
    drop(dir);
}

#[test]
fn the_dry_run_opens_no_socket() {
    let target = Sentinel::new();
    let url = format!("http://127.0.0.1:{}", target.port());
    let file = sample("tokens_client_credentials_expiry.har").display().to_string();
    let (code, out, err) = run(&["replay", &file, "--target", &url, "--allow-unsafe"], &[], 60);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Dry run: nothing was sent"), "{out}");
    // The plan names the method, the rewritten URL, masked headers and the body size.
    assert!(out.contains(&format!("POST {url}/api/v2/conversations/messages/agentless")), "{out}");
    assert!(out.contains("credential: stripped opaque:"), "{out}");
    assert!(out.contains("body: "), "{out}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(target.connections(), 0, "the dry run connected to the target");

    // Under strace, when it can trace here: no socket is even created.
    let strace_ok = Command::new("strace").args(["-f", "-e", "trace=socket", "-o", "/dev/null", "true"]).status();
    if !strace_ok.map(|s| s.success()).unwrap_or(false) {
        eprintln!("note: strace unavailable here: the syscall check of the dry run is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    let st = Command::new("strace")
        .args(["-f", "-e", "trace=socket,connect", "-o"])
        .arg(&trace)
        .args([BIN, "replay", &file, "--target", &url, "--allow-unsafe", "--use-captured-credentials"])
        .current_dir(root())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let t = std::fs::read_to_string(&trace).unwrap();
    let inet: Vec<&str> = t.lines().filter(|l| l.contains("AF_INET")).collect();
    assert!(inet.is_empty(), "the dry run made sockets: {inet:?}");
}

#[test]
fn unsafe_methods_need_allow_unsafe() {
    let server = TestServer::start(Duration::ZERO, ok_handler());
    let file = sample("generic_orders.har").display().to_string();
    let v = run_json(&["replay", &file, "--target", &server.url(), "--send", "--format", "json"], &[]);
    let methods: Vec<String> = server.seen().iter().map(|s| s.method.clone()).collect();
    assert_eq!(methods, ["GET", "GET", "GET", "GET"], "{v:#}");
    let skipped: Vec<&Value> = v["requests"].as_array().unwrap().iter().filter(|r| r["method"] == "POST").collect();
    assert_eq!(skipped.len(), 2);
    for r in skipped {
        assert_eq!(r["outcome"], "skipped");
        assert!(r["skip"].as_str().unwrap().contains("--allow-unsafe"), "{r:#}");
    }
    run_json(&["replay", &file, "--target", &server.url(), "--send", "--allow-unsafe", "--format", "json"], &[]);
    assert_eq!(server.seen().iter().filter(|s| s.method == "POST").count(), 2);
}

#[test]
fn rate_is_honoured() {
    let server = TestServer::start(Duration::ZERO, ok_handler());
    let (_dir, har) = gets_har(11);
    let v = run_json(&["replay", &har, "--target", &server.url(), "--send", "--rate", "10/s", "--format", "json"], &[]);
    assert_eq!(v["summary"]["sent"], 11, "{v:#}");
    let seen = server.seen();
    assert_eq!(seen.len(), 11);
    // 11 requests at 10/s: the last starts 1.0 s after the first.
    let span = seen.last().unwrap().at.duration_since(seen[0].at).as_secs_f64();
    assert!((0.8..=1.2).contains(&span), "11 requests at 10/s took {span:.3} s");
    // In capture order.
    let paths: Vec<String> = seen.iter().map(|s| s.path.clone()).collect();
    let want: Vec<String> = (0..11).map(|i| format!("/items/{i}")).collect();
    assert_eq!(paths, want);
}

#[test]
fn concurrency_is_honoured() {
    let server = TestServer::start(Duration::from_millis(400), ok_handler());
    let (_dir, har) = gets_har(8);
    let t = Instant::now();
    let v =
        run_json(&["replay", &har, "--target", &server.url(), "--send", "--concurrency", "4", "--format", "json"], &[]);
    let took = t.elapsed().as_secs_f64();
    assert_eq!(v["summary"]["sent"], 8, "{v:#}");
    assert_eq!(server.max_in_flight.load(Ordering::SeqCst), 4, "more or fewer than 4 requests in flight");
    // Two waves of 400 ms; process start and reading add a little.
    assert!(took >= 0.8, "8 requests of 400 ms, 4 at a time, took {took:.3} s");
    let seen = server.seen();
    let waves = seen.last().unwrap().at.duration_since(seen[0].at).as_secs_f64();
    assert!((0.32..=0.48).contains(&waves), "the second wave started {waves:.3} s after the first (want 0.4 s)");

    let one = TestServer::start(Duration::from_millis(50), ok_handler());
    run_json(&["replay", &har, "--target", &one.url(), "--send", "--format", "json"], &[]);
    assert_eq!(one.max_in_flight.load(Ordering::SeqCst), 1);
}

#[test]
fn command_line_errors_are_exit_2() {
    let file = sample("generic_orders.har").display().to_string();
    for args in [
        vec!["replay", &file],
        vec!["replay", &file, "--target", "ftp://x"],
        vec!["replay", &file, "--target", "http://127.0.0.1:1", "--timing", "soon"],
        vec!["replay", &file, "--target", "http://127.0.0.1:1", "--rate", "0"],
        vec!["replay", &file, "--target", "http://127.0.0.1:1", "--token-env", "HARKEN_SURELY_UNSET_VAR"],
        vec!["serve", &file, "--listen", "nowhere"],
    ] {
        let (code, _, err) = run(&args, &[], 30);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("harken: error:"), "{err}");
    }
}
