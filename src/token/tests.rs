use super::*;
use crate::model::{Body, Headers, Request, Response};

pub(crate) fn exchange(method: &str, url: &str, headers: &[(&str, &str)]) -> Exchange {
    let mut h = Headers::new();
    for (k, v) in headers {
        h.push(*k, *v);
    }
    Exchange::new(
        Origin::entry(0, 0),
        DateTime::parse_from_rfc3339("2024-05-14T09:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default(),
        Request { method: method.into(), url: url.into(), http_version: "HTTP/1.1".into(), headers: h, body: None },
    )
}

fn bearer(v: &str) -> Credential {
    primary_credential(&exchange("GET", "https://api.mypurecloud.ie/api/v2/users/me", &[("Authorization", v)]))
        .expect("credential")
}

#[test]
fn rfc6750_example_is_opaque_not_malformed() {
    let c = bearer("Bearer mF_9.B5f-4.1JqM");
    assert_eq!(c.kind, CredentialKind::Opaque);
    assert_eq!(c.malformed, None);
    assert_eq!(c.carrier, "authorization: bearer");
}

#[test]
fn placeholders_and_empties_are_malformed() {
    for v in [
        "Bearer undefined",
        "Bearer null",
        "Bearer ",
        "Bearer",
        "bearer [object Object]",
        "Bearer Bearer abc",
        "Bearer \"abc\"",
    ] {
        let c = bearer(v);
        assert!(c.malformed.is_some(), "{v:?} → {c:?}");
    }
    let c = bearer("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIi");
    assert_eq!(c.kind, CredentialKind::Jwt);
    assert!(c.malformed.is_some());
}

#[test]
fn schemes_and_carriers() {
    let c = bearer("Basic Y2xpZW50LWlkOnNlY3JldA==");
    assert_eq!((c.kind, c.principal.as_deref()), (CredentialKind::Basic, Some("client-id")));
    let c = bearer("Basic !!!");
    assert!(c.malformed.is_some());
    let c = bearer("Token abcdef");
    assert_eq!((c.kind, c.carrier.as_str()), (CredentialKind::Opaque, "authorization: token"));
    let c = bearer("abcdefghijklmnop");
    assert_eq!(c.carrier, "authorization: (no scheme)");

    let ex = exchange(
        "GET",
        "https://api.example.com/x?access_token=tok123&api_key=k1",
        &[
            ("X-API-Key", "key-abc"),
            ("Cookie", "_ga=GA1.2; theme=dark; SESSIONID=s1; a_session=s2; auth=s3; sso_token=s4; XSRF-TOKEN=x"),
        ],
    );
    let all = request_credentials(&ex);
    let carriers: Vec<&str> = all.iter().map(|c| c.carrier.as_str()).collect();
    assert_eq!(
        carriers,
        [
            "header: x-api-key",
            "query: access_token",
            "query: api_key",
            "cookie: SESSIONID",
            "cookie: a_session",
            "cookie: auth"
        ]
    );
    assert_eq!(all[0].kind, CredentialKind::ApiKey);
    assert_eq!(all[1].kind, CredentialKind::Opaque);
    assert_eq!(all[3].kind, CredentialKind::Cookie);

    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlMTIzNDU";
    let ex = exchange("GET", "wss://h/socket", &[("Sec-WebSocket-Protocol", &format!("access_token, {jwt}"))]);
    let c = primary_credential(&ex).expect("ws credential");
    assert_eq!((c.kind, c.carrier.as_str()), (CredentialKind::Jwt, "sec-websocket-protocol"));
    let ex = exchange("GET", "wss://h/socket", &[("Sec-WebSocket-Protocol", "graphql-ws, v12.stomp")]);
    assert!(primary_credential(&ex).is_none());
    let ex = exchange(
        "GET",
        "https://api.mypurecloud.ie/api/v2/webmessaging/messages",
        &[("Authorization", &format!("Bearer {jwt}"))],
    );
    assert_eq!(primary_credential(&ex).map(|c| c.kind), Some(CredentialKind::GuestJwt));
}

#[test]
fn truncated_bearers_never_panic() {
    let jwt =
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2xvZ2luLmV4YW1wbGUiLCJleHAiOjE3MTU2NzcyMDB9.c2ln";
    for cut in 0..=jwt.len() {
        let _ = bearer(&format!("Bearer {}", &jwt[..cut]));
        let _ = bearer(&jwt[..cut]);
    }
}

fn with_response(mut ex: Exchange, status: u16, headers: &[(&str, &str)], body: &str) -> Exchange {
    let mut h = Headers::new();
    for (k, v) in headers {
        h.push(*k, *v);
    }
    ex.response = Some(Response {
        status,
        reason: String::new(),
        http_version: "HTTP/1.1".into(),
        headers: h,
        body: Some(Body::decoded(body.as_bytes().to_vec())),
    });
    ex
}

#[test]
fn skew_and_validity_use_the_server_clock_for_claims() {
    // The server is 30 s ahead of the capture clock.
    let ex = with_response(
        exchange("GET", "https://api.example.com/a", &[]),
        200,
        &[("Date", "Tue, 14 May 2024 09:00:30 GMT")],
        "",
    );
    let cap = Capture::new(Vec::new(), vec![ex], Vec::new());
    let idx = TokenIndex::build(&cap);
    let skew = idx.clock_skew.clone().expect("skew");
    assert!((skew.seconds - 30.5).abs() < 0.6, "{skew:?}");
    // A JWT expiring at 09:00:20 server time: at 09:00:00 capture time (= 09:00:30 server) it
    // is expired, though the capture clock alone would call it valid.
    let mut t = Token::new(CredentialKind::Jwt, "x");
    t.expires = DateTime::parse_from_rfc3339("2024-05-14T09:00:20Z").ok().map(|d| d.with_timezone(&Utc));
    t.expires_server_clock = true;
    let at = cap.exchanges[0].started;
    assert_eq!(idx.validity_at(&t, at), Validity::Expired);
    t.expires_server_clock = false;
    assert_eq!(idx.validity_at(&t, at), Validity::Valid);
}
