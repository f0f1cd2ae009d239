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
    let ex =
        exchange("GET", "wss://h/socket", &[("Sec-WebSocket-Protocol", &format!("v1, Authorization.Bearer.{jwt}"))]);
    let c = primary_credential(&ex).expect("authorization.bearer subprotocol credential");
    assert_eq!((c.kind, c.carrier.as_str()), (CredentialKind::Jwt, "sec-websocket-protocol: authorization.bearer"));
    assert_eq!(c.secret, jwt);
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
        body: Some(Box::new(Body::decoded(body.as_bytes().to_vec()))),
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

// ---- Adversarial inputs (review of the tokens part) ----

use crate::model::{Direction, WsMessage, WsOpcode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn hs256(claims: &str) -> String {
    format!("{}.{}.{}", b64(r#"{"alg":"HS256","typ":"JWT"}"#), b64(claims), URL_SAFE_NO_PAD.encode([9u8; 32]))
}

/// An exchange at `time` with a request body and a response.
#[allow(clippy::too_many_arguments)]
fn ex_at(
    time: &str,
    method: &str,
    url: &str,
    req_headers: &[(&str, &str)],
    req_body: Option<&str>,
    status: u16,
    resp_headers: &[(&str, &str)],
    resp_body: &str,
) -> Exchange {
    let mut ex = with_response(exchange(method, url, req_headers), status, resp_headers, resp_body);
    ex.started = at(time);
    ex.duration_ms = Some(100.0);
    ex.request.body = req_body.map(|b| Body::decoded(b.as_bytes().to_vec())).map(Box::new);
    ex
}

fn capture(mut exs: Vec<Exchange>) -> Capture {
    for (i, e) in exs.iter_mut().enumerate() {
        e.origin = Origin::entry(0, i);
    }
    Capture::new(Vec::new(), exs, Vec::new())
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("Content-Type", "application/json");
const LOGIN: &str = "https://login.mypurecloud.ie/oauth/token";
const API: &str = "https://api.mypurecloud.ie/api/v2/users/me";

#[test]
fn scheme_case_spaces_and_trailing_whitespace_name_the_same_token() {
    let want = fingerprint("abcdefghijkl0123");
    for v in [
        "bearer abcdefghijkl0123",
        "BEARER abcdefghijkl0123",
        "Bearer    abcdefghijkl0123   ",
        "Bearer abcdefghijkl0123\n",
        "Bearer\tabcdefghijkl0123\r\n",
    ] {
        let c = bearer(v);
        assert_eq!(
            (c.kind, c.carrier.as_str(), c.malformed.as_deref()),
            (CredentialKind::Opaque, "authorization: bearer", None),
            "{v:?}"
        );
        assert_eq!(c.fingerprint, want, "{v:?}");
    }
    for v in ["Bearer", "Bearer ", "bearer \t ", "Basic", "Basic  "] {
        let c = bearer(v);
        assert!(c.malformed.is_some(), "{v:?} → {c:?}");
    }
}

#[test]
fn two_authorization_headers_and_header_plus_query_are_all_listed_and_used() {
    let ex = with_response(
        exchange(
            "GET",
            "https://api.mypurecloud.ie/api/v2/users/me?access_token=querytoken0123456",
            &[("Authorization", "Bearer firsttoken0123456"), ("authorization", "Bearer secondtoken012345")],
        ),
        400,
        &[],
        "",
    );
    let all = request_credentials(&ex);
    let fps: Vec<String> = all.iter().map(|c| c.fingerprint.clone()).collect();
    assert_eq!(
        fps,
        [fingerprint("firsttoken0123456"), fingerprint("secondtoken012345"), fingerprint("querytoken0123456")]
    );
    assert_eq!(primary_credential(&ex).map(|c| c.fingerprint), Some(fingerprint("firsttoken0123456")));
    // Every credential of the request is a row of `harken tokens`, each with its use.
    let idx = TokenIndex::build(&capture(vec![ex]));
    assert_eq!(idx.tokens.len(), 3);
    assert!(idx.tokens.iter().all(|t| t.uses == 1), "{:?}", idx.tokens);
    // The same token in the header and the query is one use, not two.
    let ex = exchange(
        "GET",
        "https://api.example.com/x?access_token=sametoken0123456",
        &[("Authorization", "Bearer sametoken0123456")],
    );
    let idx = TokenIndex::build(&capture(vec![ex]));
    assert_eq!(idx.tokens.len(), 1);
    assert_eq!(idx.tokens[0].uses, 1);
    assert_eq!(idx.tokens[0].carriers, ["authorization: bearer", "query: access_token"]);
}

#[test]
fn jwe_and_nested_jwt_bearers() {
    let jwe = format!(
        "{}.{}.{}.{}.{}",
        b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#),
        b64("k"),
        b64("iv"),
        b64("ct"),
        b64("tag")
    );
    let c = bearer(&format!("Bearer {jwe}"));
    assert_eq!((c.kind, c.malformed), (CredentialKind::Jwt, None));
    let inner = hs256(r#"{"sub":"inner","exp":1715677200}"#);
    let nested =
        format!("{}.{}.{}", b64(r#"{"alg":"HS256","cty":"JWT"}"#), b64(&inner), URL_SAFE_NO_PAD.encode([1u8; 32]));
    let cap = capture(vec![
        exchange("GET", API, &[("Authorization", &format!("Bearer {jwe}"))]),
        exchange("GET", API, &[("Authorization", &format!("Bearer {nested}"))]),
    ]);
    let idx = TokenIndex::build(&cap);
    let t = idx.get(&fingerprint(&jwe)).expect("jwe");
    let j = t.jwt.as_ref().expect("jwt info");
    assert!(j.encrypted && j.claims.is_none(), "{j:?}");
    assert_eq!(idx.validity_at(t, cap.exchanges[0].started), Validity::Unknown);
    let t = idx.get(&fingerprint(&nested)).expect("nested");
    assert_eq!(t.subject.as_deref(), Some("inner"));
    assert_eq!(t.expires, Some(at("2024-05-14T09:00:00Z")));
}

#[test]
fn exp_as_float_string_or_absurd() {
    let base = at("2024-05-14T09:00:00Z");
    for (exp, want) in [
        ("1715677260.75", Some(at("2024-05-14T09:01:00Z"))),
        ("\"1715677260\"", Some(at("2024-05-14T09:01:00Z"))),
        ("1e300", None),
        ("-1e300", None),
        ("9223372036854775807", None),
        ("\"soon\"", None),
        ("null", None),
    ] {
        let tok = hs256(&format!(r#"{{"sub":"u","exp":{exp}}}"#));
        let idx =
            TokenIndex::build(&capture(vec![exchange("GET", API, &[("Authorization", &format!("Bearer {tok}"))])]));
        let t = &idx.tokens[0];
        assert_eq!(t.expires, want, "exp {exp}");
        let v = idx.validity_at(t, base);
        assert_eq!(v, if want.is_some() { Validity::Valid } else { Validity::Unknown }, "exp {exp}");
    }
}

#[test]
fn validity_at_the_exact_expiry_instant_is_expired() {
    let idx = TokenIndex::default();
    let mut t = Token::new(CredentialKind::Opaque, "x");
    t.expires = Some(at("2024-05-14T10:00:00Z"));
    assert_eq!(idx.validity_at(&t, at("2024-05-14T09:59:59.999Z")), Validity::Valid);
    assert_eq!(idx.validity_at(&t, at("2024-05-14T10:00:00Z")), Validity::Expired, "RFC 7519 §4.1.4: on or after exp");
    t.rare_mut().revoked = Some(at("2024-05-14T09:30:00Z"));
    assert_eq!(idx.validity_at(&t, at("2024-05-14T09:30:00Z")), Validity::Revoked);
    assert_eq!(idx.validity_at(&t, at("2024-05-14T09:29:59Z")), Validity::Valid);
}

fn token_reply(time: &str, status: u16, reply: &str) -> Exchange {
    ex_at(
        time,
        "POST",
        LOGIN,
        &[FORM, ("Authorization", "Basic Y2xpZW50LWlkOnNlY3JldA==")],
        Some("grant_type=client_credentials"),
        status,
        &[JSON],
        reply,
    )
}

#[test]
fn expires_in_negative_huge_or_odd_never_panics_nor_invents_a_lifetime() {
    for (expires_in, want) in [
        ("-60", None),
        ("9223372036854775807", None),
        ("1e300", None),
        ("\"3600\"", Some(3600)),
        ("3600.9", Some(3600)),
        ("\"an hour\"", None),
        ("0", Some(0)),
    ] {
        let cap = capture(vec![token_reply(
            "2024-05-14T09:00:00Z",
            200,
            &format!(r#"{{"access_token":"opaqueissued0123456","expires_in":{expires_in}}}"#),
        )]);
        let idx = TokenIndex::build(&cap);
        let t = idx.get(&fingerprint("opaqueissued0123456")).expect("issued");
        let got = t.expires.zip(t.issued).map(|(e, i)| (e - i).num_seconds());
        assert_eq!(got, want, "expires_in {expires_in}");
    }
    // The implicit grant's fragment: same rules.
    for frag in ["-60", "9223372036854775807", "99999999999999999999", "abc"] {
        let ex = ex_at(
            "2024-05-14T09:00:00Z",
            "GET",
            "https://login.mypurecloud.ie/oauth/authorize?response_type=token",
            &[],
            None,
            302,
            &[("Location", &format!("https://app.example.com/cb#access_token=implicit0123456789&expires_in={frag}"))],
            "",
        );
        let idx = TokenIndex::build(&capture(vec![ex]));
        let t = idx.get(&fingerprint("implicit0123456789")).expect("implicit");
        assert_eq!((t.grant, t.expires), (Grant::Implicit, None), "expires_in={frag}");
    }
}

#[test]
fn refused_or_non_json_token_replies_issue_nothing() {
    for (status, body) in [
        (400, r#"{"error":"invalid_grant","access_token":"notissued012345678"}"#),
        (401, r#"{"error":"invalid_client","access_token":"notissued012345678"}"#),
        (500, r#"{"access_token":"notissued012345678"}"#),
        (200, "<html>access_token=notissued012345678</html>"),
        (200, r#"{"access_token":"#),
        (200, r#"{"access_token":12345}"#),
        (200, r#"["access_token","notissued012345678"]"#),
    ] {
        let idx = TokenIndex::build(&capture(vec![token_reply("2024-05-14T09:00:00Z", status, body)]));
        assert!(idx.get(&fingerprint("notissued012345678")).is_none(), "{status} {body}");
        // Only the Basic credential of the request.
        assert_eq!(idx.tokens.iter().map(|t| t.kind).collect::<Vec<_>>(), [CredentialKind::Basic], "{status} {body}");
    }
}

#[test]
fn a_failed_refresh_neither_issues_nor_supersedes() {
    let cap = capture(vec![
        ex_at(
            "2024-05-14T09:00:00Z",
            "POST",
            LOGIN,
            &[FORM],
            Some("grant_type=authorization_code&code=c0de&client_id=cid"),
            200,
            &[JSON],
            r#"{"access_token":"firstaccess0123456","refresh_token":"refresh0123456789","expires_in":60}"#,
        ),
        ex_at(
            "2024-05-14T09:02:00Z",
            "POST",
            LOGIN,
            &[FORM],
            Some("grant_type=refresh_token&refresh_token=refresh0123456789&client_id=cid"),
            400,
            &[JSON],
            r#"{"error":"invalid_grant"}"#,
        ),
    ]);
    let idx = TokenIndex::build(&cap);
    assert_eq!(idx.tokens.len(), 1, "{:?}", idx.tokens);
    let t = &idx.tokens[0];
    assert_eq!((t.rare().superseded_by.as_deref(), t.grant), (None, Grant::AuthorizationCode));
}

#[test]
fn tokens_me_refused_teaches_nothing() {
    let cap = capture(vec![ex_at(
        "2024-05-14T09:00:00Z",
        "GET",
        "https://api.mypurecloud.ie/api/v2/tokens/me",
        &[("Authorization", "Bearer callingtoken012345")],
        None,
        401,
        &[JSON],
        r#"{"authorizedScope":["admin"],"OAuthClient":{"id":"x","authorizedGrantType":"CODE"},"organization":{"name":"o"}}"#,
    )]);
    let idx = TokenIndex::build(&cap);
    let t = idx.get(&fingerprint("callingtoken012345")).expect("used");
    assert_eq!(
        (t.scopes.as_ref(), t.grant, t.rare().organization.as_ref(), t.refused),
        (None, Grant::Unknown, None, 1)
    );
}

#[test]
fn introspection_active_false_revokes_and_exp_may_be_a_float() {
    let intro = |time: &str, token: &str, reply: &str| {
        ex_at(
            time,
            "POST",
            "https://login.example.com/oauth/introspect",
            &[FORM, ("Authorization", "Basic Y2xpZW50LWlkOnNlY3JldA==")],
            Some(&format!("token={token}")),
            200,
            &[JSON],
            reply,
        )
    };
    let cap = capture(vec![
        intro("2024-05-14T09:00:00Z", "introspected01234567", r#"{"active":true,"exp":1715680800.0,"scope":"a b"}"#),
        intro("2024-05-14T09:05:00Z", "inactive0123456789", r#"{"active":false}"#),
        exchange("GET", API, &[("Authorization", "Bearer inactive0123456789")]),
    ]);
    let idx = TokenIndex::build(&cap);
    let t = idx.get(&fingerprint("introspected01234567")).expect("active");
    assert_eq!(t.expires, Some(at("2024-05-14T10:00:00Z")), "a float exp is a NumericDate");
    assert_eq!(t.scopes, Some(crate::intern::Strs::interned(["a", "b"])));
    let t = idx.get(&fingerprint("inactive0123456789")).expect("inactive");
    assert!(t.rare().revoked.is_some());
    assert_eq!(t.rare().revoked_reason.as_deref(), Some("introspection answered active: false"));
    let mut later = exchange("GET", API, &[("Authorization", "Bearer inactive0123456789")]);
    later.started = at("2024-05-14T09:06:00Z");
    assert_eq!(idx.judge(&later).map(|u| u.validity), Some(Validity::Revoked));
}

#[test]
fn implicit_fragment_in_location_or_in_request_url() {
    // The redirect and the page it leads to: one issue, at the redirect, by the login host.
    let loc = "https://app.example.com/cb#access_token=implicit0123456789%0A&expires_in=3600&scope=a%20b";
    let cap = capture(vec![
        ex_at(
            "2024-05-14T09:00:00Z",
            "GET",
            "https://login.mypurecloud.ie/oauth/authorize",
            &[],
            None,
            302,
            &[("Location", loc)],
            "",
        ),
        ex_at("2024-05-14T09:00:01Z", "GET", loc, &[], None, 200, &[], ""),
        ex_at(
            "2024-05-14T09:00:02Z",
            "GET",
            API,
            &[("Authorization", "Bearer implicit0123456789")],
            None,
            200,
            &[],
            "{}",
        ),
    ]);
    let idx = TokenIndex::build(&cap);
    assert_eq!(idx.tokens.len(), 1, "{:?}", idx.tokens);
    let t = &idx.tokens[0];
    assert_eq!(
        (t.grant, t.issuer.as_deref(), t.region),
        (Grant::Implicit, Some("login.mypurecloud.ie"), Some("eu_west_1"))
    );
    assert_eq!(t.issued_at.as_ref().map(|o| o.index), Some(0));
    assert_eq!(t.uses, 1);
    // Only the page URL (Preserve log missed the redirect): issued when the page was asked for,
    // by an unknown host.
    let cap = capture(vec![ex_at("2024-05-14T09:00:01Z", "GET", loc, &[], None, 200, &[], "")]);
    let idx = TokenIndex::build(&cap);
    let t = idx.get(&fingerprint("implicit0123456789")).expect("from the URL");
    assert_eq!((t.grant, t.issuer.as_deref(), t.issued), (Grant::Implicit, None, Some(at("2024-05-14T09:00:01Z"))));
    assert_eq!(t.uses, 0, "a fragment is not sent: not a use");
}

#[test]
fn guest_frames_with_bad_json_are_skipped() {
    let good = hs256(r#"{"sub":"guest"}"#);
    let mut ex = exchange("GET", "wss://webmessaging.mypurecloud.ie/v1?deploymentId=d", &[]);
    let frames = [
        r#"{"type":"response","class":"JwtResponse","body":{"jwt":"#.to_string(),
        r#"{"type":"response","class":"JwtResponse","body":"jwt"}"#.to_string(),
        r#"{"type":"response","class":"JwtResponse","body":{"jwt":42,"exp":"x"}}"#.to_string(),
        "\u{0}JwtResponse\u{ffff}".to_string(),
        format!(r#"{{"type":"response","class":"JwtResponse","body":{{"jwt":"{good}","exp":"not a date"}}}}"#),
    ];
    ex.websocket = frames
        .iter()
        .map(|f| WsMessage {
            time: at("2024-05-14T09:00:01Z"),
            direction: Direction::Receive,
            opcode: WsOpcode::Text,
            data: f.as_bytes().to_vec(),
            frame: None,
        })
        .collect();
    ex.websocket.push(WsMessage {
        time: at("2024-05-14T09:00:01Z"),
        direction: Direction::Receive,
        opcode: WsOpcode::Binary,
        data: vec![0xff, 0xfe, b'J'],
        frame: None,
    });
    let idx = TokenIndex::build(&capture(vec![ex]));
    assert_eq!(idx.tokens.len(), 1, "{:?}", idx.tokens);
    let t = &idx.tokens[0];
    assert_eq!((t.kind, t.grant), (CredentialKind::GuestJwt, Grant::Guest));
    assert_eq!(t.expires, None, "an unreadable frame exp is not an expiry");
}

#[test]
fn skew_without_dates_or_with_absurd_dates() {
    let plain = |date: Option<&str>| {
        let h: Vec<(&str, &str)> = date.map(|d| vec![("Date", d)]).unwrap_or_default();
        ex_at("2024-05-14T09:00:00Z", "GET", "https://api.example.com/a", &[], None, 200, &h, "")
    };
    assert!(ClockSkew::estimate(&capture(vec![plain(None), plain(None)])).is_none());
    let junk = [
        "not a date",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "",
        "Tue, 14 May 2024 25:61:00 GMT",
    ];
    let cap = capture(junk.iter().map(|d| plain(Some(d))).collect());
    assert!(ClockSkew::estimate(&cap).is_none(), "absurd Date headers are not evidence");
    // One absurd among agreeing ones does not move the median.
    let mut exs: Vec<Exchange> = (0..4).map(|_| plain(Some("Tue, 14 May 2024 09:00:00 GMT"))).collect();
    exs.push(plain(Some("Mon, 13 May 2024 09:00:00 GMT")));
    let s = ClockSkew::estimate(&capture(exs)).expect("skew");
    assert!(s.seconds.abs() < 1.0, "{s:?}");
    // Validity with no skew known compares on the capture clock.
    let idx = TokenIndex::build(&capture(vec![plain(None)]));
    assert!(idx.clock_skew.is_none());
}

#[test]
fn refresh_chain_lineage_and_refresh_token_revocation() {
    // a → b → c by refresh grants (looked up by refresh-token fingerprint, not by a scan), then
    // RFC 7009 revocations: of c's refresh token (not an access token: c stays valid) and of c.
    let reply = |acc: &str, rt: &str| format!(r#"{{"access_token":"{acc}","refresh_token":"{rt}","expires_in":600}}"#);
    let tok = |t: &str, body: &str, acc: &str, rt: &str| {
        ex_at(t, "POST", LOGIN, &[FORM], Some(body), 200, &[JSON], &reply(acc, rt))
    };
    let revoke = |t: &str, token: &str| {
        ex_at(
            t,
            "POST",
            "https://login.mypurecloud.ie/oauth/revoke",
            &[FORM],
            Some(&format!("token={token}")),
            200,
            &[],
            "",
        )
    };
    let cap = capture(vec![
        tok(
            "2024-05-14T09:00:00Z",
            "grant_type=authorization_code&code=x",
            "access-a-0123456789",
            "refresh-a-0123456789",
        ),
        tok(
            "2024-05-14T09:05:00Z",
            "grant_type=refresh_token&refresh_token=refresh-a-0123456789",
            "access-b-0123456789",
            "refresh-b-0123456789",
        ),
        tok(
            "2024-05-14T09:10:00Z",
            "grant_type=refresh_token&refresh_token=refresh-b-0123456789%0A",
            "access-c-0123456789",
            "refresh-c-0123456789",
        ),
        revoke("2024-05-14T09:11:00Z", "refresh-c-0123456789"),
        revoke("2024-05-14T09:12:00Z", "access-c-0123456789"),
    ]);
    let idx = TokenIndex::build(&cap);
    let [a, b, c] = ["access-a-0123456789", "access-b-0123456789", "access-c-0123456789"]
        .map(|s| idx.get(&fingerprint(s)).expect(s).clone());
    assert_eq!(
        (a.rare().superseded_by.as_deref(), b.rare().supersedes.as_deref()),
        (Some(b.fingerprint.as_str()), Some(a.fingerprint.as_str()))
    );
    assert_eq!(
        (b.rare().superseded_by.as_deref(), c.rare().supersedes.as_deref()),
        (Some(c.fingerprint.as_str()), Some(b.fingerprint.as_str()))
    );
    assert_eq!((c.grant, c.has_user), (Grant::RefreshToken, Some(true)));
    assert!(idx.get(&fingerprint("refresh-c-0123456789")).is_none(), "a refresh token is not listed as a token");
    assert_eq!(c.rare().revoked, Some(at("2024-05-14T09:12:00.100Z")), "revoked by the second revocation only");
    assert_eq!(idx.tokens.len(), 3);
}

#[test]
fn tokens_read_when_learned_say_what_tokens_read_at_the_end_say() {
    // Without --show-secrets a JWT from token traffic is read when learned and its value
    // dropped; with it, the value is kept and read at the end. Both must report the same.
    let jwt = hs256(
        r#"{"iss":"https://login.mypurecloud.ie","sub":"u1","scope":"a b","exp":1715680800,"iat":1715677200,"client_id":"c1"}"#,
    );
    let bad = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi";
    let reply = |t: &str, v: &str| token_reply(t, 200, &format!(r#"{{"access_token":"{v}","expires_in":600}}"#));
    let call = |t: &str, v: &str, status| {
        ex_at(t, "GET", API, &[("Authorization", &format!("Bearer {v}"))], None, status, &[], "")
    };
    let cap = capture(vec![
        reply("2024-05-14T09:00:00Z", &jwt),
        call("2024-05-14T09:01:00Z", &jwt, 200),
        reply("2024-05-14T09:02:00Z", bad),
        call("2024-05-14T09:03:00Z", bad, 401),
        call("2024-05-14T09:04:00Z", "opaque-token-1", 200),
        // Only used, never learned: read from its first use's shape.
        call("2024-05-14T09:05:00Z", &hs256(r#"{"sub":"u2","scope":"c"}"#), 200),
    ]);
    let kept = TokenIndex::build(&cap);
    let mut uses = Uses::new(true);
    for ex in &cap.exchanges {
        let cs = request_credentials(ex);
        uses.observe(ex, &cs, use_region(ex, &cs));
    }
    let learn_from = cap.exchanges.iter().filter(|ex| learn::may_learn(ex));
    let forgot =
        TokenIndex::from_uses(learn_from, uses, ClockSkew::from_estimates(Vec::new()), &Default::default(), false);
    assert_eq!(forgot.tokens.len(), 5, "three JWTs, an opaque token and the Basic client credential");
    assert_eq!(serde_json::to_value(&kept.tokens).unwrap(), serde_json::to_value(&forgot.tokens).unwrap());
    let t = forgot.get(&fingerprint(&jwt)).unwrap();
    assert!(t.secret.is_empty(), "the value is not kept");
    assert_eq!(t.jwt.as_ref().and_then(|j| j.claims.as_ref()).and_then(|c| c.sub.as_deref()), Some("u1"));
    assert_eq!((t.subject.as_deref(), t.client_id.as_deref()), (Some("u1"), Some("client-id")));
    assert!(forgot.get(&fingerprint(bad)).unwrap().rare().malformed.is_some());
    let used = forgot.get(&fingerprint(&hs256(r#"{"sub":"u2","scope":"c"}"#))).unwrap();
    assert_eq!((used.subject.as_deref(), used.scopes_from), (Some("u2"), Some("jwt_claims")));
    // A token that was only used has nothing rare: no allocation for it.
    assert!(forgot.get(&fingerprint("opaque-token-1")).unwrap().rare.is_none());
}

#[test]
fn the_separator_table_is_the_separator_test_on_ascii() {
    for b in 0u8..128 {
        let c = b as char;
        let test = c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | ',' | ';' | '<' | '>');
        assert_eq!(super::SEPARATOR[b as usize], test, "byte {b:#04x}");
    }
    assert!(!super::SEPARATOR[200]);
}

#[test]
fn remembered_date_is_the_date_of_that_value() {
    let long = format!("Wed, 01 May 2024 12:00:00 GMT{}", " ".repeat(60));
    let values = [
        "Wed, 01 May 2024 12:00:00 GMT",
        "Wed, 01 May 2024 12:00:00 GMT",
        "Wed, 01 May 2024 12:00:01 GMT",
        "not a date",
        "not a date",
        "Wed, 01 May 2024 14:00:01 +0200",
        long.as_str(),
        long.as_str(),
        "Wed, 01 May 2024 12:00:01 GMT",
        "",
    ];
    for v in values {
        let fresh = chrono::DateTime::parse_from_rfc2822(v).ok().map(|d| d.timestamp());
        assert_eq!(super::date_seconds(v), fresh, "{v:?}");
    }
}
