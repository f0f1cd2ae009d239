//! Secrets never reach any output without `--show-secrets`: every credential value found in
//! every HAR we have (headers, cookies, token replies, websocket frames, URL fragments and
//! query strings, form bodies) is searched for in the output of every command and format.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeSet;

const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "jwt",
    "refreshToken",
    "client_secret",
    "password",
    "assertion",
    "code",
];

fn collect_json(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                // `code` in a JSON body is an error code; the OAuth code travels in URLs and forms.
                if SECRET_KEYS.contains(&k.as_str()) && k != "code" {
                    if let Some(s) = v.as_str() {
                        out.insert(s.to_string());
                    }
                }
                collect_json(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_json(v, out)),
        // JSON inside strings (websocket frames, response texts).
        Value::String(s) if s.starts_with('{') => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                collect_json(&inner, out);
            }
        }
        _ => {}
    }
}

fn collect_pairs(s: &str, out: &mut BTreeSet<String>) {
    for pair in s.split(['&', '#', '?']) {
        if let Some((k, v)) = pair.split_once('=') {
            // `token`: the value introspected or revoked (RFC 7662, RFC 7009).
            if SECRET_KEYS.contains(&k) || k == "api_key" || k == "token" {
                out.insert(v.to_string());
            }
        }
    }
}

/// Every secret value in a HAR (also used by the sanitize and report canaries).
pub(crate) fn secrets_of(har: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let entries = har["log"]["entries"].as_array().cloned().unwrap_or_default();
    for e in &entries {
        for (side, headers) in [("request", &e["request"]["headers"]), ("response", &e["response"]["headers"])] {
            for h in headers.as_array().into_iter().flatten() {
                let name = h["name"].as_str().unwrap_or("").to_ascii_lowercase();
                let value = h["value"].as_str().unwrap_or("");
                match name.as_str() {
                    "authorization" | "proxy-authorization" => {
                        let (scheme, v) = value.trim().split_once(' ').unwrap_or(("", value));
                        let v = v.trim();
                        out.insert(v.to_string());
                        // Basic: the password itself must not show either (the user may).
                        if scheme.eq_ignore_ascii_case("basic") {
                            use base64::Engine;
                            let decoded = base64::engine::general_purpose::STANDARD.decode(v).ok();
                            if let Some((_, pw)) = decoded
                                .as_deref()
                                .and_then(|d| std::str::from_utf8(d).ok())
                                .and_then(|d| d.split_once(':'))
                            {
                                out.insert(pw.to_string());
                            }
                        }
                    }
                    "sec-websocket-protocol" => {
                        // Every member but the markers (`access_token, <token>`).
                        let markers = ["access_token", "bearer", "authorization", "token", "jwt"];
                        let members = value.split(',').map(str::trim);
                        out.extend(
                            members.filter(|m| !markers.contains(&m.to_ascii_lowercase().as_str())).map(str::to_string),
                        );
                    }
                    "cookie" | "set-cookie" => {
                        for c in value.split(';').take(if side == "response" { 1 } else { usize::MAX }) {
                            if let Some((_, v)) = c.trim().split_once('=') {
                                out.insert(v.to_string());
                            }
                        }
                    }
                    "x-api-key" | "api-key" | "x-auth-token" | "x-access-token" => {
                        out.insert(value.to_string());
                    }
                    "location" => collect_pairs(value, &mut out),
                    _ => {}
                }
            }
        }
        collect_pairs(e["request"]["url"].as_str().unwrap_or(""), &mut out);
        if let Some(t) = e["request"]["postData"]["text"].as_str() {
            collect_pairs(t, &mut out);
            if let Ok(v) = serde_json::from_str::<Value>(t) {
                collect_json(&v, &mut out);
            }
        }
        if let Some(t) = e["response"]["content"]["text"].as_str() {
            if let Ok(v) = serde_json::from_str::<Value>(t) {
                collect_json(&v, &mut out);
            }
        }
        collect_json(&e["_webSocketMessages"], &mut out);
    }
    // Short values (`undefined`, `null`, `1`) are not secrets and would match anything.
    out.into_iter().filter(|s| s.len() >= 12 && s != "undefined").collect()
}

#[test]
fn no_secret_in_any_output_without_show_secrets() {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in [root().join("samples"), fixture("har"), fixture("tokens"), fixture("timeline")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "har") {
                files.push(p);
            }
        }
    }
    if let Some(c) = corpus() {
        files.push(c.join("har/mitmproxy_h2_bearer_br.har"));
    }
    files.sort();
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let Ok(har) = serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) else { continue };
        let secrets = secrets_of(&har);
        if secrets.is_empty() {
            continue;
        }
        let p = f.to_str().unwrap();
        let runs: Vec<Vec<&str>> = vec![
            vec!["analyze", p],
            vec!["analyze", "--format", "json", p],
            vec!["analyze", "--format", "ndjson", p],
            vec!["exchanges", p],
            vec!["exchanges", "--format", "json", p],
            vec!["exchanges", "--format", "csv", p],
            vec!["tokens", p],
            vec!["tokens", "--format", "json", p],
            vec!["tokens", "--format", "ndjson", p],
            vec!["tokens", "--format", "csv", p],
            vec!["timeline", p],
            vec!["timeline", "--format", "json", p],
            vec!["timeline", "--format", "ndjson", p],
            vec!["timeline", "--format", "csv", p],
        ];
        for args in runs {
            let o = harken(&args);
            let out = format!("{}{}", stdout(&o), stderr(&o));
            for s in &secrets {
                assert!(!out.contains(s.as_str()), "harken {args:?} printed a secret ({}…)", &s[..6]);
            }
        }
        // And --show-secrets does show them (so the search above would have found them).
        let shown = stdout(&harken(&["tokens", "--format", "json", "--show-secrets", p]));
        assert!(secrets.iter().any(|s| shown.contains(s.as_str())), "{p}: --show-secrets shows no secret");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} HARs carried secrets");
}
