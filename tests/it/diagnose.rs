//! Diagnosis: every sample's findings (cause, causes, evidence indexes), `--fail-on`,
//! `--catalog` with the shared Genesys operations file and an OpenAPI 3 YAML fixture.
//! The sample tests run the whole pipeline: tokens and conversation states are learned from
//! the traffic, not given.

use crate::common::*;
use serde_json::Value;

/// (index, cause, causes, evidence indexes) of every finding.
fn findings(v: &Value) -> Vec<(u64, String, Vec<String>, Vec<u64>)> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["index"].as_u64().unwrap(),
                f["cause"].as_str().unwrap().to_string(),
                f["causes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect(),
                f["evidence"].as_array().unwrap().iter().map(|e| e["index"].as_u64().unwrap()).collect(),
            )
        })
        .collect()
}

fn analyze(name: &str) -> Value {
    let p = sample(name);
    json(&["analyze", "--format", "json", p.to_str().unwrap()])
}

fn one(name: &str, index: u64, causes: &[&str], evidence: &[u64]) -> Value {
    let v = analyze(name);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{name}: {f:?}");
    assert_eq!(f[0].0, index, "{name}");
    assert_eq!(f[0].1, causes[0], "{name}: {f:?}");
    assert_eq!(f[0].2, causes.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{name}");
    assert_eq!(f[0].3, evidence, "{name}");
    v
}

// ---- samples that need only the catalog and the capture (pass on this branch) ----

#[test]
fn forum_proactive_invented_endpoint() {
    let v = one("forum_proactive_invented_endpoint.har", 2, &["endpoint_unknown"], &[2]);
    let f = &v["findings"][0];
    assert!(f["summary"].as_str().unwrap().contains("POST /api/v2/conversations/messages/agentless"));
    assert!(f["fix"].as_str().unwrap().contains("conversation:message:create"));
    assert_eq!(f["status"], 403);
    assert_eq!(f["method"], "POST");
    assert!(f["credential"].as_str().unwrap().starts_with("opaque:"));
    assert!(f["url"]
        .as_str()
        .unwrap()
        .starts_with("https://api.mypurecloud.com/api/v2/conversations/messaging/addresses"));
}

#[test]
fn cause_credentials_missing() {
    let v = one("cause_credentials_missing.har", 1, &["credentials_missing"], &[1, 1]);
    assert!(v["findings"][0]["credential"].is_null());
}

#[test]
fn cause_permission_missing_from_the_error_body() {
    let v = one("cause_permission_missing.har", 1, &["permission_missing"], &[1]);
    let f = &v["findings"][0];
    assert!(f["summary"].as_str().unwrap().contains("conversation:message:create"), "{f}");
    assert!(f["fix"].as_str().unwrap().contains("conversation:message:create"));
}

#[test]
fn cause_endpoint_unknown() {
    let v = one("cause_endpoint_unknown.har", 1, &["endpoint_unknown"], &[1]);
    let s = v["findings"][0]["summary"].as_str().unwrap().to_string();
    assert!(
        s.contains("POST /api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages"),
        "{s}"
    );
}

#[test]
fn cause_unexplained_says_the_export_was_sanitized() {
    let v = one("cause_unexplained.har", 1, &["unexplained"], &[1]);
    let f = &v["findings"][0];
    assert!(f["evidence"][0]["fact"].as_str().unwrap().contains("sanitized"), "{f}");
    assert!(f["fix"].as_str().unwrap().contains("sensitive data"));
}

// ---- samples that need tokens + timeline ----

#[test]
fn forum_guest_cli() {
    let v = analyze("forum_guest_cli.har");
    let f = findings(&v);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(
        f[0],
        (1, "endpoint_unknown".into(), vec!["endpoint_unknown".into(), "token_wrong_kind".into()], vec![1, 1, 0])
    );
    assert_eq!(f[1], (2, "token_wrong_kind".into(), vec!["token_wrong_kind".into()], vec![2, 0]));
    assert!(v["findings"][1]["credential"].as_str().unwrap().starts_with("guest_jwt:"));
}

#[test]
fn forum_wrong_region() {
    let v = one("forum_wrong_region.har", 1, &["token_wrong_region"], &[1, 0]);
    assert!(v["findings"][0]["fix"].as_str().unwrap().contains("api.mypurecloud.ie"));
}

#[test]
fn forum_close_readonly() {
    let v = one("forum_close_readonly.har", 3, &["scope_missing"], &[3, 1]);
    let f = &v["findings"][0];
    assert!(f["summary"].as_str().unwrap().contains("scope conversations"), "{f}");
    assert!(f["summary"].as_str().unwrap().contains("conversations:readonly"));
}

#[test]
fn forum_followup_after_disconnect() {
    let v = one("forum_followup_after_disconnect.har", 3, &["conversation_ended"], &[3, 2]);
    let f = &v["findings"][0];
    assert!(f["summary"].as_str().unwrap().contains("20 min"), "{f}");
    assert!(f["conversation"].is_string());
}

#[test]
fn cause_token_malformed() {
    one("cause_token_malformed.har", 0, &["token_malformed"], &[0]);
}

#[test]
fn cause_token_expired() {
    one("cause_token_expired.har", 2, &["token_expired"], &[2, 0]);
}

#[test]
fn cause_token_not_yet_valid() {
    one("cause_token_not_yet_valid.har", 1, &["token_not_yet_valid"], &[1, 0]);
}

#[test]
fn cause_token_revoked() {
    one("cause_token_revoked.har", 3, &["token_revoked"], &[3, 2]);
}

#[test]
fn cause_token_wrong_region() {
    one("cause_token_wrong_region.har", 1, &["token_wrong_region"], &[1, 0]);
}

#[test]
fn cause_token_wrong_kind() {
    one("cause_token_wrong_kind.har", 1, &["token_wrong_kind"], &[1, 0]);
}

#[test]
fn cause_scope_missing() {
    one("cause_scope_missing.har", 2, &["scope_missing"], &[2, 1]);
}

#[test]
fn cause_user_context_required() {
    one("cause_user_context_required.har", 1, &["user_context_required"], &[1, 0]);
}

#[test]
fn cause_conversation_ended() {
    one("cause_conversation_ended.har", 2, &["conversation_ended"], &[2, 1]);
}

// ---- properties over every sample and the corpus ----

#[test]
fn every_sample_has_exactly_its_refusals_as_findings_and_no_success() {
    let dir = root().join("samples");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) != Some("har") {
            continue;
        }
        n += 1;
        let v = json(&["analyze", "--format", "json", p.to_str().unwrap()]);
        let mut refused = ["401", "403"].iter().map(|k| v["statuses"][k].as_u64().unwrap_or(0)).sum::<u64>();
        if p.ends_with("auth_ntlm_handshake.har") {
            // The two 401s of the NTLM handshake are not refusals.
            refused -= 2;
        }
        let f = v["findings"].as_array().unwrap();
        assert_eq!(f.len() as u64, refused, "{}", p.display());
        for f in f {
            let s = f["status"].as_u64().unwrap();
            assert!(s == 401 || s == 403, "{}: a success reported: {f}", p.display());
            assert!(!f["evidence"].as_array().unwrap().is_empty());
            assert!(!f["fix"].as_str().unwrap().is_empty());
            assert_eq!(f["causes"][0], f["cause"]);
        }
    }
    assert!(n >= 18, "at least 5 forum stories + 13 causes, found {n}");
}

#[test]
fn captures_without_refusals_give_no_findings() {
    let Some(c) = corpus() else { return };
    let mut checked = 0;
    for e in std::fs::read_dir(c.join("har")).unwrap() {
        let p = e.unwrap().path();
        let o = harken(&["analyze", "--format", "json", p.to_str().unwrap()]);
        let Ok(v) = serde_json::from_slice::<Value>(&o.stdout) else { continue };
        let refused = ["401", "403"].iter().map(|k| v["statuses"][k].as_u64().unwrap_or(0)).sum::<u64>();
        let f = v["findings"].as_array().unwrap();
        assert_eq!(f.len() as u64, refused, "{}", p.display());
        if refused == 0 {
            checked += 1;
        }
        for f in f {
            let s = f["status"].as_u64().unwrap();
            assert!(s == 401 || s == 403, "{}: {f}", p.display());
        }
    }
    assert!(checked > 0, "no corpus HAR without refusals");
}

#[test]
fn fail_on_exits_1_only_when_a_matching_finding_exists() {
    let s = sample("forum_proactive_invented_endpoint.har");
    let s = s.to_str().unwrap();
    assert_eq!(harken(&["analyze", "--format", "json", s]).status.code(), Some(0));
    assert_eq!(harken(&["analyze", "--format", "json", "--fail-on", "401,403", s]).status.code(), Some(1));
    assert_eq!(harken(&["analyze", "--format", "json", "--fail-on", "any", s]).status.code(), Some(1));
    assert_eq!(harken(&["analyze", "--format", "json", "--fail-on", "401", s]).status.code(), Some(0));
    let o = harken(&["analyze", "--fail-on", "40x", s]);
    assert_ne!(o.status.code(), Some(0));
    assert_ne!(o.status.code(), Some(1));
}

#[test]
fn table_lists_findings_with_evidence_and_fix() {
    let s = sample("forum_proactive_invented_endpoint.har");
    let o = harken(&["analyze", s.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(out.contains("Findings:"), "{out}");
    assert!(out.contains("endpoint_unknown"));
    assert!(out.contains("evidence"));
    assert!(out.contains("fix: Use POST /api/v2/conversations/messages/agentless"));
}

// ---- --catalog ----

#[test]
fn genesys_swagger_catalog_names_real_scopes_and_flags_inventions() {
    let Some(specs) = specs() else { return };
    let cat = specs.join("genesys-cloud-api-v2.operations.swagger.json");
    let cat = cat.to_str().unwrap();
    for (name, index, want) in [
        ("forum_proactive_invented_endpoint.har", 2, "POST /api/v2/conversations/messages/agentless"),
        (
            "cause_endpoint_unknown.har",
            1,
            "POST /api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages",
        ),
    ] {
        let p = sample(name);
        let v = json(&["analyze", "--format", "json", "--catalog", cat, p.to_str().unwrap()]);
        let f = findings(&v);
        assert_eq!(f[0].0, index, "{name}");
        assert_eq!(f[0].1, "endpoint_unknown", "{name}: {f:?}");
        assert!(
            v["findings"][0]["summary"].as_str().unwrap().contains(want),
            "{name}: {}",
            v["findings"][0]["summary"]
        );
        // The suggestion carries the real operation's scope and permissions, from the file.
        let fix = v["findings"][0]["fix"].as_str().unwrap();
        assert!(fix.contains("scope conversations"), "{fix}");
        assert!(fix.contains("conversation:message:create"), "{fix}");
    }
    // A 403 on a real operation names its real scope and permissions (from the file).
    let p = sample("cause_user_context_required.har");
    let v = json(&["analyze", "--format", "json", "--catalog", cat, p.to_str().unwrap()]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    let p = sample("forum_followup_after_disconnect.har");
    let v = json(&["analyze", "--format", "json", "--catalog", cat, p.to_str().unwrap()]);
    let f = &v["findings"][0];
    let text = format!("{} {}", f["summary"], f["fix"]);
    if f["cause"] == "permission_missing" {
        assert!(text.contains("ANY of conversation:message:create, conversation:webmessaging:create"), "{text}");
    }
    let p = sample("cause_scope_missing.har");
    let v = json(&["analyze", "--format", "json", "--catalog", cat, p.to_str().unwrap()]);
    let f = &v["findings"][0];
    let text = format!("{} {} {}", f["summary"], f["fix"], f["evidence"]);
    assert!(text.contains("conversation:message:create") || text.contains("scope conversations"), "{text}");
}

#[test]
fn openapi3_yaml_catalog() {
    let cat = fixture("orders-openapi3.yaml");
    let cat = cat.to_str().unwrap();
    let har = r#"{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"entries":[
      {"startedDateTime":"2024-05-15T08:00:00.000Z","time":50,
       "request":{"method":"DELETE","url":"https://api.mypurecloud.com/api/v2/orders/81","httpVersion":"http/2.0",
         "headers":[{"name":"authorization","value":"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQxxQWxhZGRpbjpvcGVuIHNlc2FtZQxxQWxhZGRpbjpvcGVuIHNlc2FtZQ"}],
         "queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},
       "response":{"status":403,"statusText":"Forbidden","httpVersion":"http/2.0","headers":[{"name":"content-type","value":"application/json"}],
         "cookies":[],"content":{"size":0,"mimeType":"application/json","text":""},"redirectURL":"","headersSize":-1,"bodySize":0},
       "cache":{},"timings":{"send":0,"wait":50,"receive":0}},
      {"startedDateTime":"2024-05-15T08:00:01.000Z","time":50,
       "request":{"method":"POST","url":"https://api.mypurecloud.com/api/v2/orders/81/cancel","httpVersion":"http/2.0",
         "headers":[{"name":"authorization","value":"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQxxQWxhZGRpbjpvcGVuIHNlc2FtZQxxQWxhZGRpbjpvcGVuIHNlc2FtZQ"}],
         "queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},
       "response":{"status":403,"statusText":"Forbidden","httpVersion":"http/2.0","headers":[],
         "cookies":[],"content":{"size":0,"mimeType":"application/json"},"redirectURL":"","headersSize":-1,"bodySize":0},
       "cache":{},"timings":{"send":0,"wait":50,"receive":0}}]}}"#;
    let (_d, p) = temp_file("orders.har", har.as_bytes());
    let v = json(&["analyze", "--format", "json", "--catalog", cat, p.to_str().unwrap()]);
    let f = &v["findings"];
    // The token's scopes are not in the capture: the scope and the permission are both
    // candidates (assumed), the scope first (docs/diagnostics.md, "Confidence").
    assert_eq!(f[0]["causes"], serde_json::json!(["scope_missing", "permission_missing"]), "{f}");
    assert_eq!(f[0]["confidence"], "assumed", "{f}");
    assert!(
        f[0]["fix"]
            .as_str()
            .unwrap()
            .contains("Also (permission_missing): Permission needed: ALL of orders:order:delete"),
        "{f}"
    );
    assert_eq!(f[1]["cause"], "endpoint_unknown", "{f}");
    assert!(f[1]["summary"].as_str().unwrap().contains("/api/v2/orders/{orderId}"), "{f}");
}

#[test]
fn a_bad_catalog_is_an_error_naming_the_file() {
    let (_d, p) = temp_file("bad.yaml", b"openapi: [unclosed");
    let s = sample("cause_endpoint_unknown.har");
    let o = harken(&["analyze", "--catalog", p.to_str().unwrap(), s.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("bad.yaml"), "{}", stderr(&o));
}

/// The README runs `harken analyze samples/*.har`: one merged capture. Each scenario must tell
/// the same story there as alone, except the split conversation, whose two halves are meant to
/// be read together (alone, a's 403 meets an active conversation).
#[test]
fn samples_read_together_tell_the_same_stories_as_alone() {
    let dir = root().join("samples");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("har"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    files.sort();
    let causes = |v: &Value| -> std::collections::BTreeMap<(String, u64), Value> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| ((f["input"].as_str().unwrap().to_string(), f["index"].as_u64().unwrap()), f["causes"].clone()))
            .collect()
    };
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let merged = causes(&json(&args));
    let mut alone = std::collections::BTreeMap::new();
    for f in &files {
        alone.extend(causes(&json(&["analyze", "--format", "json", f])));
    }
    assert_eq!(merged.len(), alone.len());
    for (k, v) in &alone {
        if k.0.ends_with("conv_split_a.har") {
            assert_eq!(merged[k][0], "conversation_ended", "read with its other half");
            continue;
        }
        assert_eq!(&merged[k], v, "{k:?} changes when read with the other samples");
    }
}

// ---- adversarial refusals, through the whole binary ----

/// One Chrome-style HAR entry: (method, url, request headers, status, response headers, body).
fn entry(
    i: usize,
    method: &str,
    url: &str,
    req: &[(&str, &str)],
    status: u16,
    resp: &[(&str, &str)],
    body: &str,
) -> Value {
    let h = |l: &[(&str, &str)]| l.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect::<Vec<_>>();
    let mime = resp.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map(|x| x.1).unwrap_or("");
    serde_json::json!({
        "startedDateTime": format!("2024-05-15T08:00:{:02}.000Z", i), "time": 10,
        "request": {"method": method, "url": url, "httpVersion": "http/2.0", "headers": h(req),
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": status, "statusText": "", "httpVersion": "http/2.0", "headers": h(resp), "cookies": [],
                     "content": {"size": body.len(), "mimeType": mime, "text": body},
                     "redirectURL": "", "headersSize": -1, "bodySize": body.len()},
        "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 0}
    })
}

fn har(entries: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"log": {"version": "1.2",
        "creator": {"name": "WebInspector", "version": "537.36"}, "entries": entries}}))
    .unwrap()
}

const BEARER: &str = "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQxxQWxhZGRpbjpvcGVuIHNlc2FtZQxxQWxhZGRpbjpvcGVuIHNlc2FtZQ";

#[test]
fn adversarial_refusals_are_explained_without_panics_or_borrowed_genesys_facts() {
    let json_ct = ("content-type", "application/json");
    let entries = vec![
        // 0: no credential, no body, not Genesys.
        entry(0, "GET", "https://api.example.com/v1/orders/1", &[], 401, &[], ""),
        // 1: HTML body on a real Genesys operation.
        entry(1, "GET", "https://api.mypurecloud.com/api/v2/conversations/messages/5c1f0e1a-1111-4111-8111-111111111111",
              &[("authorization", BEARER)], 403, &[("content-type", "text/html")], "<html><body>Forbidden</body></html>"),
        // 2: several challenges, quoted commas, two scopes; not Genesys.
        entry(2, "DELETE", "https://api.example.com/v1/orders/1", &[("authorization", BEARER)], 403,
              &[("www-authenticate", r#"Basic realm="legacy", Bearer realm="x, y", error="insufficient_scope", error_description="needs \"a\", or b", scope="orders:write orders:admin""#)], ""),
        // 3: Genesys error body with messageParams (ANY).
        entry(3, "POST", "https://api.mypurecloud.com/api/v2/conversations/messages/5c1f0e1a-1111-4111-8111-111111111111/communications/6d2f0e1a-1111-4111-8111-111111111111/messages",
              &[("authorization", BEARER)], 403, &[json_ct],
              r#"{"message":"Unable to perform the requested action. You must have at least one of the following permissions assigned: %s","code":"missing.any.permissions","status":403,"messageParams":{"permissions":"conversation:message:create, conversation:webmessaging:create"},"contextId":"abc"}"#),
        // 4: the token endpoint itself refuses the client.
        entry(4, "POST", "https://login.mypurecloud.ie/oauth/token",
              &[("authorization", "Basic Y2xpZW50LWlkOmNsaWVudC1zZWNyZXQ="), ("content-type", "application/x-www-form-urlencoded")],
              401, &[json_ct], r#"{"error":"invalid_client","description":"authentication failed","error_description":"authentication failed"}"#),
        // 5: a valid-looking token, nothing known, not Genesys.
        entry(5, "GET", "https://api.example.com/v1/reports/7", &[("authorization", BEARER)], 403, &[json_ct], r#"{"message":"nope"}"#),
        // 6: a success is never a finding.
        entry(6, "GET", "https://api.example.com/v1/orders/1", &[("authorization", BEARER)], 200, &[json_ct], "{}"),
        // 7: garbage JSON error body.
        entry(7, "GET", "https://api.mypurecloud.com/api/v2/users/me", &[("authorization", BEARER)], 401, &[json_ct], r#"{"code": 5, "message": ["x"], "messageParams": 7"#),
    ];
    let (_d, p) = temp_file("adv.har", &har(entries));
    let v = json(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let f = v["findings"].as_array().unwrap();
    let by: std::collections::BTreeMap<u64, &Value> = f.iter().map(|f| (f["index"].as_u64().unwrap(), f)).collect();
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 5, 7], "{f:#?}");
    for f in f {
        for k in [
            "input",
            "index",
            "time",
            "method",
            "url",
            "status",
            "cause",
            "causes",
            "summary",
            "evidence",
            "fix",
            "credential",
            "conversation",
        ] {
            assert!(f.get(k).is_some(), "finding lacks {k}: {f}");
        }
        for e in f["evidence"].as_array().unwrap() {
            assert!(e["input"].is_string() && e["index"].is_u64() && e["fact"].is_string(), "{e}");
        }
        let text = format!("{} {} {}", f["summary"], f["fix"], f["evidence"]);
        if f["url"].as_str().unwrap().contains("example.com") {
            for genesys in ["login.{region", "/api/v2/", "Admin > OAuth", "Genesys"] {
                assert!(!text.contains(genesys), "Genesys advice for another host: {text}");
            }
        }
    }
    assert_eq!(by[&0]["cause"], "credentials_missing");
    assert_eq!(by[&1]["cause"], "unexplained");
    let fact = by[&1]["evidence"][0]["fact"].as_str().unwrap();
    assert!(fact.contains("text/html not kept") && !fact.contains("lacks: the response body"), "{fact}");
    assert_eq!(by[&2]["cause"], "scope_missing");
    assert!(by[&2]["summary"].as_str().unwrap().contains("orders:write or orders:admin"), "{}", by[&2]);
    assert_eq!(by[&3]["cause"], "permission_missing");
    assert!(
        by[&3]["summary"]
            .as_str()
            .unwrap()
            .contains("ANY of the permissions conversation:message:create, conversation:webmessaging:create"),
        "{}",
        by[&3]
    );
    assert_eq!(by[&4]["cause"], "unexplained");
    assert!(by[&4]["summary"].as_str().unwrap().contains("token endpoint"), "{}", by[&4]);
    assert!(by[&4]["fix"].as_str().unwrap().contains("region"), "{}", by[&4]);
    assert_eq!(by[&5]["cause"], "unexplained");
    assert!(by[&5]["evidence"][0]["fact"].as_str().unwrap().contains("checked:"), "{}", by[&5]);
    // The table renders them all (no panic), one row each, with evidence and fix lines.
    let o = harken(&["analyze", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches("\n  fix: ").count(), 7, "{out}");
}

// ---- confidence, thin evidence, inference, schemes (samples/gen/diagnosis.py) ----

fn first(v: &Value) -> &Value {
    &v["findings"][0]
}

#[test]
fn every_finding_has_a_confidence_in_every_format() {
    for name in ["cause_scope_missing.har", "thin_close_readonly_nobodies.har", "generic_things_inferred_scope.har"] {
        let p = sample(name);
        let p = p.to_str().unwrap();
        let v = json(&["analyze", "--format", "json", p]);
        for f in v["findings"].as_array().unwrap() {
            assert!(["proven", "inferred", "assumed"].contains(&f["confidence"].as_str().unwrap()), "{f}");
            assert_eq!(f["inferred_from"].is_u64(), f["confidence"] == "inferred", "{f}");
        }
        let nd = ndjson(&["analyze", "--format", "ndjson", p]);
        assert!(nd.iter().all(|f| f["confidence"].is_string()), "{nd:?}");
        let csv = stdout(&harken(&["analyze", "--format", "csv", p]));
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        assert_eq!(header[8..10], ["confidence", "inferred_from"], "{header:?}");
        let table = stdout(&harken(&["analyze", p]));
        assert!(table.contains("confidence"), "{table}");
    }
    let csv =
        stdout(&harken(&["analyze", "--format", "csv", sample("generic_things_inferred_scope.har").to_str().unwrap()]));
    assert!(csv.lines().nth(1).unwrap().contains(",inferred,3,"), "{csv}");
    let table = stdout(&harken(&["analyze", sample("generic_things_inferred_scope.har").to_str().unwrap()]));
    assert!(table.contains("inferred (3 calls)"), "{table}");
}

#[test]
fn without_response_bodies_a_user_token_gets_scope_first_not_a_confident_permission() {
    let v = one("thin_close_readonly_nobodies.har", 3, &["scope_missing", "permission_missing"], &[3, 3]);
    let f = first(&v);
    assert_eq!(f["confidence"], "assumed");
    assert!(f["summary"].as_str().unwrap().contains("may lack scope conversations"), "{f}");
    // The same story with its bodies keeps its proven answer.
    let v = one("forum_close_readonly.har", 3, &["scope_missing"], &[3, 1]);
    assert_eq!(first(&v)["confidence"], "proven");
}

#[test]
fn the_same_credential_succeeding_earlier_rules_out_permission_and_lists_what_changed() {
    let v = one("thin_same_credential_later.har", 2, &["token_expired", "conversation_ended"], &[2, 1, 2, 1]);
    let f = first(&v);
    assert_eq!(f["confidence"], "inferred");
    assert_eq!(f["inferred_from"], 1);
    let text = f.to_string();
    assert!(text.contains("24 min earlier") && !text.contains("permission_missing"), "{f}");
    assert!(f["fix"].as_str().unwrap().contains("Also (conversation_ended)"), "{f}");
}

#[test]
fn a_token_seen_working_in_another_region_is_wrong_region_inferred() {
    let v = analyze("thin_region_seen_elsewhere.har");
    let f = first(&v);
    assert_eq!(f["cause"], "token_wrong_region", "{f}");
    assert_eq!(f["confidence"], "inferred");
    assert_eq!(f["inferred_from"], 2);
    assert!(f["fix"].as_str().unwrap().contains("https://api.mypurecloud.ie"), "{f}");
}

#[test]
fn a_scope_every_other_client_carried_is_inferred_across_credentials() {
    let v = one("generic_things_inferred_scope.har", 7, &["scope_missing"], &[7, 1, 3, 5, 6]);
    let f = first(&v);
    assert_eq!(f["confidence"], "inferred");
    assert!(
        f["summary"].as_str().unwrap().contains("things:act (inferred from 3 successful calls by 3 credentials)"),
        "{f}"
    );
    assert!(!f.to_string().contains("Admin > OAuth"), "generic wording: {f}");
}

#[test]
fn schemes_basic_asked_ntlm_handshake_and_a_bare_403() {
    let v = one("auth_basic_expected.har", 0, &["token_wrong_kind"], &[0, 0]);
    let f = first(&v);
    assert_eq!(f["confidence"], "proven");
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("asks for Basic") && s.contains("session cookie"), "{s}");
    assert!(f["fix"].as_str().unwrap().contains("Authorization: Basic"), "{f}");
    let v = analyze("auth_ntlm_handshake.har");
    assert_eq!(v["findings"], serde_json::json!([]), "a handshake is not a refusal");
    let v = one("auth_forbidden_without_credentials.har", 2, &["credentials_missing"], &[2, 2]);
    let f = first(&v);
    assert_eq!(f["confidence"], "inferred");
    assert_eq!(f["inferred_from"], 2);
    assert!(f["summary"].as_str().unwrap().contains("allow-list"), "{f}");
    // A 401 without credentials stays proven.
    assert_eq!(first(&analyze("cause_credentials_missing.har"))["confidence"], "proven");
}

#[test]
fn a_generic_catalog_suggests_checks_client_scopes_and_never_asks_for_itself() {
    let cat = sample("catalogs/gadgets.json");
    let p = sample("generic_gadgets_catalog.har");
    let v = json(&["analyze", "--format", "json", "--catalog", cat.to_str().unwrap(), p.to_str().unwrap()]);
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 3, "{f:#?}");
    assert_eq!(f[0]["cause"], "endpoint_unknown");
    assert!(f[0]["summary"].as_str().unwrap().contains("probably meant POST /v2/gadgets/{gadgetId}/run"), "{}", f[0]);
    assert!(f[0]["fix"].as_str().unwrap().contains("scope gadgets:run"), "{}", f[0]);
    assert!(!f[0]["fix"].as_str().unwrap().contains("not scope-checked"), "{}", f[0]);
    // A client-credentials token on another API is scope-checked as the document says.
    assert_eq!(f[1]["cause"], "scope_missing", "{}", f[1]);
    assert_eq!(f[1]["confidence"], "proven");
    assert!(f[1]["summary"].as_str().unwrap().contains("gadgets:run"), "{}", f[1]);
    assert_eq!(f[2]["cause"], "unexplained");
    for f in f {
        assert!(!f.to_string().contains("--catalog"), "asks for --catalog when one was given: {f}");
    }
}
