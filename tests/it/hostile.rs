//! Hostile inputs: crafted captures that once panicked, ran for minutes or grew memory without
//! bound. Each test runs the real binary (or reader) on bytes written here and checks that it
//! finishes normally, quickly, with the right notes.

use crate::common::{harken, stderr, temp_file};

/// A HAR whose entries are given as (startedDateTime, time ms, method, url, status, request
/// headers, response JSON body).
/// (startedDateTime, time ms, method, url, status, request headers, response JSON body)
type Entry<'a> = (&'a str, f64, &'a str, &'a str, u16, &'a [(&'a str, &'a str)], &'a str);

fn har(entries: &[Entry<'_>]) -> Vec<u8> {
    let es: Vec<serde_json::Value> = entries
        .iter()
        .map(|(t, ms, m, u, st, hs, body)| {
            let headers: Vec<_> = hs.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect();
            serde_json::json!({
                "startedDateTime": t, "time": ms,
                "request": {"method": m, "url": u, "httpVersion": "HTTP/1.1", "headers": headers,
                            "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
                "response": {"status": st, "statusText": "", "httpVersion": "HTTP/1.1",
                             "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
                             "content": {"size": body.len(), "mimeType": "application/json", "text": body},
                             "redirectURL": "", "headersSize": -1, "bodySize": body.len()},
                "cache": {}, "timings": {"send": 0, "wait": ms, "receive": 0}
            })
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": es}}),
    )
    .unwrap()
}

#[test]
fn dates_at_the_end_of_time_do_not_overflow() {
    let bearer = [("Authorization", "Bearer opaque-token-value-0123456789")];
    for year in ["+262142", "-262143", "9999"] {
        let t = |rest: &str| format!("{year}-12-31T23:59:{rest}+0000");
        let (a, b, c) = (t("50"), t("58"), t("59.999"));
        let bytes = har(&[
            (
                &a,
                86_000_000.0,
                "POST",
                "https://login.mypurecloud.com/oauth/token",
                200,
                &[],
                r#"{"access_token":"opaque-token-value-0123456789","token_type":"bearer","expires_in":315360000}"#,
            ),
            (
                &b,
                5_000.0,
                "GET",
                "https://api.mypurecloud.com/api/v2/tokens/me",
                200,
                &bearer,
                r#"{"authorizedScope":["conversations:readonly"]}"#,
            ),
            (
                &c,
                1.0,
                "POST",
                "https://api.mypurecloud.com/api/v2/conversations/messages/agentless",
                403,
                &bearer,
                "{}",
            ),
        ]);
        let (_d, p) = temp_file("end_of_time.har", &bytes);
        let p = p.to_string_lossy().into_owned();
        for cmd in ["analyze", "tokens", "timeline", "exchanges"] {
            let out = harken(&[cmd, "--format", "json", &p]);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{cmd} on year {year}: {:?}\n{}",
                out.status,
                stderr(&out)
            );
        }
    }
}
