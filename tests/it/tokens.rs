//! tokens: credentials found, decoded and learned, on the shared corpus (JOSE cookbook vector,
//! the RFC 6750 token of the bearer pcap, a real opaque bearer in a mitmproxy HAR) and on the
//! token scenarios in samples/ (made by samples/gen/tokens.py).

use crate::common::*;
use harken::ingest::{self, IngestOptions};
use harken::model::{Exchange, Headers, Origin, Request};
use harken::token::{jwt, request_credentials, CredentialKind, TokenIndex, Validity};
use serde_json::{json, Value};

fn tokens(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["tokens", "--format", "json"];
    a.extend_from_slice(args);
    json(&a)["tokens"].as_array().cloned().unwrap_or_default()
}

fn sample_tokens(name: &str) -> Vec<Value> {
    tokens(&[sample(name).to_str().unwrap()])
}

fn by_kind<'a>(ts: &'a [Value], kind: &str) -> Vec<&'a Value> {
    ts.iter().filter(|t| t["kind"] == kind).collect()
}

fn one<'a>(ts: &'a [Value], kind: &str) -> &'a Value {
    let v = by_kind(ts, kind);
    assert_eq!(v.len(), 1, "one {kind} token expected in {ts:#?}");
    v[0]
}

fn exchange_with_auth(value: &str) -> Exchange {
    let mut h = Headers::new();
    h.push("Host", "server.example.com");
    h.push("Authorization", value);
    Exchange::new(
        Origin::entry(0, 0),
        chrono::Utc::now(),
        Request {
            method: "GET".into(),
            url: "http://server.example.com/resource".into(),
            http_version: "HTTP/1.1".into(),
            headers: h,
            body: None,
        },
    )
}

fn har_with_bearer(token: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let har = json!({"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [{
        "startedDateTime": "2024-05-14T09:00:00.000Z", "time": 50.0,
        "request": {"method": "GET", "url": "https://api.example.com/v1/things", "httpVersion": "http/2.0",
                    "headers": [{"name": "authorization", "value": format!("Bearer {token}")}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 401, "statusText": "", "httpVersion": "http/2.0",
                     "headers": [{"name": "date", "value": "Tue, 14 May 2024 09:00:00 GMT"}],
                     "cookies": [], "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "",
                     "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 1.0, "wait": 48.0, "receive": 1.0}}]}});
    temp_file("bearer.har", serde_json::to_vec(&har).unwrap().as_slice())
}

#[test]
fn jose_cookbook_hs256_is_a_jws_whose_payload_is_not_claims() {
    let Some(corpus) = corpus() else { return };
    let exp = expected(&corpus, "jwt/jose_cookbook_4_4_hs256.json");
    let v: Value =
        serde_json::from_slice(&std::fs::read(corpus.join("jwt/jose_cookbook_4_4_hs256.json")).unwrap()).unwrap();
    let compact = v["output"]["compact"].as_str().unwrap();
    assert_eq!(compact.split('.').count().to_string(), exp["output.compact_segments"]);
    let shape = jwt::decode(compact);
    let jwt::Shape::Jws(jws) = &shape else { panic!("not a JWS: {shape:?}") };
    let header: Value = serde_json::from_str(&exp["output.compact_protected_header"]).unwrap();
    assert_eq!(jws.header.alg.as_deref(), header["alg"].as_str());
    assert_eq!(jws.header.kid.as_deref(), header["kid"].as_str());
    // expected.tsv: "not JSON (167 bytes text)".
    assert!(exp["output.compact_payload"].contains("167 bytes"));
    assert_eq!(jws.payload, jwt::Payload::Text { bytes: 167 });
    assert!(shape.claims().is_none());
    assert!(jwt::describe(&shape).contains("not JSON claims"));
    assert_eq!(jws.signature_bytes, 32);

    // As a bearer: a jwt, not malformed, no claims; with the vector's key, verified.
    let (_d, har) = har_with_bearer(compact);
    let ts = tokens(&[har.to_str().unwrap()]);
    let t = one(&ts, "jwt");
    assert!(t.get("malformed").is_none(), "{t:#?}");
    assert!(t["jwt"]["form"].as_str().unwrap().contains("not JSON claims"));
    assert!(t["jwt"].get("claims").is_none());
    assert_eq!(t["jwt"]["signature"], "unchecked");
    let jwks = json!({"keys": [v["input"]["key"].clone()]});
    let (_k, keyfile) = temp_file("jwks.json", jwks.to_string().as_bytes());
    let doc = json(&["tokens", "--format", "json", "--jwks", keyfile.to_str().unwrap(), har.to_str().unwrap()]);
    let t = &doc["tokens"][0];
    assert_eq!(t["jwt"]["signature"], "verified");
    assert_eq!(t["jwt"]["verified_with"], header["kid"]);
    assert_eq!(doc["jwks"]["verified"][0], t["fingerprint"]);
    // A wrong key of the same kid does not verify.
    let mut bad = v["input"]["key"].clone();
    bad["k"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let (_b, badfile) = temp_file("bad.json", json!({"keys": [bad]}).to_string().as_bytes());
    let doc = json(&["tokens", "--format", "json", "--jwks", badfile.to_str().unwrap(), har.to_str().unwrap()]);
    assert_eq!(doc["tokens"][0]["jwt"]["signature"], "invalid");
}

#[test]
fn jose_cookbook_truncations_never_panic() {
    let Some(corpus) = corpus() else { return };
    let v: Value =
        serde_json::from_slice(&std::fs::read(corpus.join("jwt/jose_cookbook_4_4_hs256.json")).unwrap()).unwrap();
    let compact = v["output"]["compact"].as_str().unwrap();
    for cut in 0..compact.len() {
        let prefix = &compact[..cut];
        let s = jwt::decode(prefix);
        assert!(!matches!(s, jwt::Shape::Jws(_)), "prefix of {cut} chars taken for a whole JWS");
        let creds = request_credentials(&exchange_with_auth(&format!("Bearer {prefix}")));
        assert_eq!(creds.len(), 1);
        if prefix.starts_with("eyJ") || prefix.is_empty() {
            assert!(creds[0].malformed.is_some(), "cut {cut}: {:?}", creds[0]);
        }
    }
}

#[test]
fn rfc6750_bearer_is_opaque_not_a_jwt() {
    // The token of the corpus's bearer pcap (expected.tsv), else RFC 6750's own example.
    let header = corpus()
        .map(|c| expected(&c, "pcap/http_bearer_rfc6750.pcap")["authorization_headers"].clone())
        .unwrap_or_else(|| "Bearer mF_9.B5f-4.1JqM".into());
    assert_eq!(header, "Bearer mF_9.B5f-4.1JqM");
    let creds = request_credentials(&exchange_with_auth(&header));
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].kind, CredentialKind::Opaque);
    assert_eq!(creds[0].malformed, None);
    assert_eq!(creds[0].carrier, "authorization: bearer");
    assert_eq!(jwt::decode("mF_9.B5f-4.1JqM"), jwt::Shape::Opaque);
}

#[test]
fn mitmproxy_har_bearer_is_one_opaque_token() {
    let Some(corpus) = corpus() else { return };
    let exp = expected(&corpus, "har/mitmproxy_h2_bearer_br.har");
    let ts = tokens(&[corpus.join("har/mitmproxy_h2_bearer_br.har").to_str().unwrap()]);
    let bearer: Vec<&Value> = ts.iter().filter(|t| t["carriers"][0] == "authorization: bearer").collect();
    assert_eq!(bearer.len().to_string(), exp["requests_with_authorization"]);
    assert_eq!(bearer[0]["kind"], "opaque");
    assert_eq!(bearer[0]["uses"], 1);
}

#[test]
fn client_credentials_token_expires_mid_capture() {
    let ts = sample_tokens("tokens_client_credentials_expiry.har");
    let t = one(&ts, "opaque");
    assert_eq!(t["grant"], "client_credentials");
    assert_eq!(t["issuer"], "login.mypurecloud.ie");
    assert_eq!(t["region"], "eu_west_1");
    assert_eq!(t["scopes"], Value::Null, "client-credentials scopes are not told by the reply");
    assert_eq!(t["has_user"], false);
    assert_eq!(t["uses"], 3);
    assert_eq!(t["refused"], 1);
    let issued = chrono::DateTime::parse_from_rfc3339(t["issued"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(t["expires"].as_str().unwrap()).unwrap();
    assert_eq!((expires - issued).num_seconds(), 300);
    assert!(t["issued"].as_str().unwrap().starts_with("2024-05-14T09:12:03.6"));
    assert!(t["last_use"].as_str().unwrap() > t["expires"].as_str().unwrap());
    // The Basic credential of the token request is a row of its own, with its client id.
    let b = one(&ts, "basic");
    assert_eq!(b["client_id"], t["client_id"]);

    let cap = ingest::load(&[sample("tokens_client_credentials_expiry.har")], IngestOptions::default());
    let idx = TokenIndex::build(&cap);
    let uses: Vec<(Option<u16>, Validity)> = cap
        .exchanges
        .iter()
        .filter(|e| e.request.method == "POST" && e.path().ends_with("agentless"))
        .map(|e| (e.status(), idx.judge(e).unwrap().validity))
        .collect();
    assert_eq!(uses, [(Some(200), Validity::Valid), (Some(200), Validity::Valid), (Some(401), Validity::Expired)]);
    assert!(idx.clock_skew.as_ref().is_some_and(|s| (s.seconds - 1.0).abs() < 0.5));
}

#[test]
fn implicit_token_with_scopes_from_tokens_me() {
    let ts = sample_tokens("tokens_implicit_tokens_me.har");
    let t = one(&ts, "opaque");
    assert_eq!(t["grant"], "implicit");
    assert_eq!(t["issuer"], "login.mypurecloud.ie");
    assert_eq!(t["region"], "eu_west_1");
    assert_eq!(t["scopes"], json!(["conversations", "notifications", "user-basic-info"]));
    assert_eq!(t["scopes_from"], "tokens_me");
    assert_eq!(t["scopes_source"]["index"], 2);
    assert_eq!(t["issued_at"]["index"], 0);
    assert_eq!(t["has_user"], true);
    assert_eq!(t["organization"].as_str().unwrap().split(" (").next(), Some("Example Retail"));
    let issued = chrono::DateTime::parse_from_rfc3339(t["issued"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(t["expires"].as_str().unwrap()).unwrap();
    assert_eq!((expires - issued).num_seconds(), 86399);
    assert_eq!((t["uses"].clone(), t["refused"].clone()), (json!(3), json!(0)));
    assert_eq!(ts.len(), 1);
}

#[test]
fn refresh_supersedes_and_the_stale_token_is_expired() {
    let ts = sample_tokens("tokens_refresh.har");
    assert_eq!(ts.len(), 2);
    let (old, new) = (&ts[0], &ts[1]);
    assert_eq!(old["grant"], "authorization_code");
    assert_eq!(new["grant"], "refresh_token");
    assert_eq!(new["supersedes"], old["fingerprint"]);
    assert_eq!(old["superseded_by"], new["fingerprint"]);
    assert_eq!(new["has_user"], true);
    assert_eq!(new["client_id"], old["client_id"]);
    assert_eq!(old["refresh_token"].as_str().map(str::len), Some(12), "refresh token shown as a fingerprint only");
    assert_eq!((old["uses"].clone(), old["refused"].clone()), (json!(2), json!(1)));
    assert_eq!((new["uses"].clone(), new["refused"].clone()), (json!(1), json!(0)));
    for t in &ts {
        assert_eq!((t["kind"].as_str(), t["region"].as_str()), (Some("opaque"), Some("eu_west_1")));
    }
    let cap = ingest::load(&[sample("tokens_refresh.har")], IngestOptions::default());
    let idx = TokenIndex::build(&cap);
    let refused = cap.exchanges.iter().find(|e| e.status() == Some(401)).unwrap();
    assert_eq!(idx.judge(refused).unwrap().validity, Validity::Expired);
}

#[test]
fn delete_tokens_me_revokes_the_calling_token() {
    let ts = sample_tokens("tokens_revoked.har");
    let t = one(&ts, "opaque");
    assert_eq!(t["grant"], "authorization_code", "from OAuthClient.authorizedGrantType CODE");
    assert_eq!(t["scopes"], json!(["conversations", "user-basic-info"]));
    assert_eq!(t["issued"], Value::Null);
    assert_eq!(t["expires"], Value::Null);
    assert_eq!(t["revoked_by"]["index"], 2);
    assert!(t["revoked"].as_str().unwrap().starts_with("2024-05-14T12:30:42"));
    assert_eq!((t["uses"].clone(), t["refused"].clone()), (json!(4), json!(1)));
    let cap = ingest::load(&[sample("tokens_revoked.har")], IngestOptions::default());
    let idx = TokenIndex::build(&cap);
    let v: Vec<Validity> = cap.exchanges.iter().map(|e| idx.judge(e).unwrap().validity).collect();
    assert_eq!(v, [Validity::Unknown, Validity::Unknown, Validity::Unknown, Validity::Revoked]);
}

#[test]
fn guest_jwt_from_websocket_frame() {
    let ts = sample_tokens("tokens_guest_jwt_ws.har");
    let t = one(&ts, "guest_jwt");
    assert_eq!(ts.len(), 1, "the websocket upgrade carries no credential");
    assert_eq!(t["grant"], "guest");
    assert_eq!(t["has_user"], false);
    assert_eq!(t["issuer"], "webmessaging.mypurecloud.ie");
    assert_eq!(t["region"], "eu_west_1");
    assert_eq!(t["issued"], "2024-05-14T13:00:02.800Z");
    assert_eq!(t["expires"], "2024-05-14T14:00:04Z");
    assert_eq!((t["uses"].clone(), t["refused"].clone()), (json!(2), json!(0)));
    assert_eq!(t["jwt"]["alg"], "HS256");
    assert_eq!(t["jwt"]["signature"], "unchecked");
    let jwks = sample("tokens_guest_jwks.json");
    let doc = json(&[
        "tokens",
        "--format",
        "json",
        "--jwks",
        jwks.to_str().unwrap(),
        sample("tokens_guest_jwt_ws.har").to_str().unwrap(),
    ]);
    assert_eq!(doc["tokens"][0]["jwt"]["signature"], "verified");
    assert_eq!(doc["jwks"]["keys"], 1);
    let cap = ingest::load(&[sample("tokens_guest_jwt_ws.har")], IngestOptions::default());
    let idx = TokenIndex::build(&cap);
    let u = cap.exchanges.iter().filter_map(|e| idx.judge(e)).next().unwrap();
    assert_eq!((u.credential.kind, u.validity), (CredentialKind::GuestJwt, Validity::Valid));
}

#[test]
fn token_used_against_another_region() {
    let ts = sample_tokens("tokens_cross_region.har");
    let t = one(&ts, "opaque");
    assert_eq!(t["region"], "eu_west_1");
    assert_eq!(t["used_regions"], json!(["us_east_1", "eu_west_1"]));
    assert_eq!((t["uses"].clone(), t["refused"].clone()), (json!(2), json!(1)));
    let cap = ingest::load(&[sample("tokens_cross_region.har")], IngestOptions::default());
    let idx = TokenIndex::build(&cap);
    let refused = cap.exchanges.iter().find(|e| e.status() == Some(401)).unwrap();
    let u = idx.judge(refused).unwrap();
    assert_eq!(u.cross_region, Some(("eu_west_1".into(), "us_east_1".into())));
    assert_eq!(u.used_region.as_deref(), Some("us_east_1"));
    assert_eq!(u.validity, Validity::Valid);
    let ok = cap.exchanges.iter().rfind(|e| e.status() == Some(200)).unwrap();
    assert_eq!(idx.judge(ok).unwrap().cross_region, None);
    let table = stdout(&harken(&["tokens", sample("tokens_cross_region.har").to_str().unwrap()]));
    assert!(table.contains("issued in eu_west_1 but sent to us_east_1"), "{table}");
}

#[test]
fn a_token_learned_in_one_input_applies_to_uses_in_another() {
    let har: Value =
        serde_json::from_slice(&std::fs::read(sample("tokens_client_credentials_expiry.har")).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    let mut login = har.clone();
    login["log"]["entries"] = json!([entries[0].clone()]);
    let mut api = har.clone();
    api["log"]["entries"] = Value::Array(entries[1..].to_vec());
    let (_a, a) = temp_file("login.har", login.to_string().as_bytes());
    let (_b, b) = temp_file("api.har", api.to_string().as_bytes());
    let ts = tokens(&[b.to_str().unwrap(), a.to_str().unwrap()]);
    let t = one(&ts, "opaque");
    assert_eq!(t["grant"], "client_credentials");
    assert_eq!(t["uses"], 3);
    assert_eq!(t["issued_at"]["input"], 1, "issued in the second input given");
}

/// Every secret in a sample: credential values (from --show-secrets) and refresh tokens.
fn secrets(name: &str) -> Vec<String> {
    let p = sample(name);
    let doc = json(&["tokens", "--format", "json", "--show-secrets", p.to_str().unwrap()]);
    let mut s: Vec<String> = doc["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].as_str().expect("value with --show-secrets").to_string())
        .collect();
    let text = std::fs::read_to_string(&p).unwrap();
    let re = regex::Regex::new(r#"refresh_?[tT]oken(?:\\"|")?[:=](?:\\")?([A-Za-z0-9_\-]{20,})"#).unwrap();
    s.extend(re.captures_iter(&text).map(|c| c[1].to_string()));
    assert!(!s.is_empty());
    s
}

#[test]
fn no_secret_is_printed_without_show_secrets() {
    for name in [
        "tokens_client_credentials_expiry.har",
        "tokens_implicit_tokens_me.har",
        "tokens_refresh.har",
        "tokens_revoked.har",
        "tokens_guest_jwt_ws.har",
        "tokens_cross_region.har",
    ] {
        let secrets = secrets(name);
        let p = sample(name);
        let p = p.to_str().unwrap();
        for args in [
            vec!["tokens", p],
            vec!["tokens", "--format", "json", p],
            vec!["tokens", "--format", "ndjson", p],
            vec!["analyze", "--format", "json", p],
            vec!["analyze", p],
            vec!["exchanges", "--format", "json", p],
        ] {
            let out = stdout(&harken(&args));
            assert!(!out.is_empty(), "{args:?}");
            for s in &secrets {
                assert!(!out.contains(s.as_str()), "{args:?} printed a secret of {name}");
            }
        }
        let shown = stdout(&harken(&["tokens", "--show-secrets", p]));
        assert!(secrets.iter().any(|s| shown.contains(s.as_str())), "--show-secrets shows values");
    }
}

#[test]
fn analyze_json_carries_the_tokens_array() {
    let doc = json(&["analyze", "--format", "json", sample("tokens_refresh.har").to_str().unwrap()]);
    let ts = doc["tokens"].as_array().unwrap();
    assert_eq!(ts.len(), 2);
    for field in [
        "fingerprint",
        "kind",
        "grant",
        "issuer",
        "region",
        "scopes",
        "issued",
        "expires",
        "first_use",
        "last_use",
        "uses",
        "refused",
    ] {
        assert!(ts[0].get(field).is_some(), "tokens[].{field}");
    }
    assert!(ts[0].get("value").is_none());
    assert!(doc.get("clock_skew").is_some());
    let doc = json(&["analyze", "--format", "json", "--show-secrets", sample("tokens_refresh.har").to_str().unwrap()]);
    assert!(doc["tokens"][0]["value"].is_string());
}

/// tests/fixtures/tokens/adversarial.har (made by gen.py there): awkward cases through the CLI.
#[test]
fn adversarial_har_through_the_cli() {
    let p = fixture("tokens/adversarial.har");
    let p = p.to_str().unwrap();
    let doc = json(&["tokens", "--format", "json", p]);
    assert_eq!(doc["clock_skew"], Value::Null, "absurd or unparseable Date headers are no evidence");
    let ts = doc["tokens"].as_array().unwrap();
    let fp = |s: &str| harken::redact::fingerprint(s);
    let get = |s: &str| ts.iter().find(|t| t["fingerprint"] == fp(s)).unwrap_or_else(|| panic!("{s} not listed"));
    let absent = |s: &str| assert!(ts.iter().all(|t| t["fingerprint"] != fp(s)), "{s} listed");
    // Refused (401) and non-JSON token replies issue nothing.
    absent("AdvNeverIssued-0123456789abcdef");
    absent("AdvHtmlToken-0123456789abcdef");
    // Issued with a trailing newline; used as `bearer    …  ` (lower case, extra spaces): one token.
    let t = get("AdvAccessToken-0123456789abcdef");
    assert_eq!(
        (t["grant"].as_str(), t["uses"].as_u64(), t["refused"].as_u64()),
        (Some("authorization_code"), Some(2), Some(1))
    );
    assert_eq!(t["expires"], Value::Null, "a negative expires_in is no lifetime");
    assert_eq!(t["scopes"], Value::Null, "a refused /api/v2/tokens/me teaches no scopes");
    assert_eq!(t["superseded_by"], Value::Null, "a failed refresh supersedes nothing");
    assert_eq!(t["client_id"], "adv-client");
    // The query token next to the header is listed too.
    assert_eq!(get("AdvQueryToken-0123456789abcdef")["carriers"], json!(["query: access_token"]));
    // Introspection `active: false` revokes; the use after it is refused.
    let t = get("AdvIntrospected-0123456789abcdef");
    assert!(t["revoked"].is_string());
    assert_eq!(t["refused"], 1);
    // Websocket: the protocol token, and the guest JWT despite a cut frame before it; its
    // unreadable frame `exp` gives way to the JWT's own claim.
    assert_eq!(get("AdvWsToken-0123456789abcdef")["carriers"], json!(["sec-websocket-protocol"]));
    let g = one(ts, "guest_jwt");
    assert_eq!((g["grant"].as_str(), g["uses"].as_u64()), (Some("guest"), Some(1)));
    assert_eq!(g["expires"], "2024-05-14T10:00:00Z");
    assert_eq!(get("AdvXAuthToken-0123456789abcdef")["carriers"], json!(["header: x-auth-token"]));
    // An absurd implicit expires_in: issued, no expiry, no panic.
    let t = get("AdvImplicit-0123456789abcdef");
    assert_eq!((t["grant"].as_str(), &t["expires"], t["uses"].as_u64()), (Some("implicit"), &Value::Null, Some(0)));
    // Placeholders and an empty Bearer are malformed, and say so.
    assert!(get("undefined")["malformed"].as_str().unwrap().contains("placeholder"));
    assert!(get("")["malformed"].as_str().unwrap().contains("no token"));
    let jwe = ts.iter().find(|t| t["kind"] == "jwt").unwrap();
    assert_eq!(jwe["jwt"]["encrypted"], true);
    assert_eq!(by_kind(ts, "basic").len(), 2);
    // Every format runs; csv has the JSON's rows.
    let csv = stdout(&harken(&["tokens", "--format", "csv", p]));
    assert_eq!(csv.lines().count(), ts.len() + 1);
    assert!(csv.starts_with("fingerprint,kind,grant,issuer,region,scopes,issued,expires,revoked,"));
    assert_eq!(ndjson(&["tokens", "--format", "ndjson", p]).len(), ts.len());
    let table = stdout(&harken(&["tokens", p]));
    assert!(table.contains("no usable response Date header"), "{table}");
    let analyze = json(&["analyze", "--format", "json", p]);
    assert_eq!(analyze["tokens"].as_array().map(Vec::len), Some(ts.len()));
}
