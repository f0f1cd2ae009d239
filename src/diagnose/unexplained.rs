//! `unexplained`: no rule fired.
//!
//! - **What:** the refusal matches none of the other causes with what the capture holds.
//! - **Why:** usually the capture lacks the facts: a sanitized HAR export (no `Authorization`
//!   header or cookies), no token request or `GET /api/v2/tokens/me` to learn the token's
//!   grant, scopes and lifetime, an endpoint outside the catalog, an empty error body.
//! - **Example:** Chrome's default "Export HAR (sanitized)" of a session that got a 403.
//! - **Fix:** the finding says what was checked and what is missing; re-capture with
//!   credentials ("Export HAR (with sensitive data)", then let harken mask it), including the
//!   login/token call and a `GET /api/v2/tokens/me`, or pass `--catalog` for other APIs.

use super::{Cause, Confidence, Facts, Verdict};
use crate::catalog::Lookup;
use crate::token::{CredentialKind, Validity};

pub fn check(f: &Facts<'_>) -> Verdict {
    let token_endpoint = f.is_token_endpoint();
    let mut checked = Vec::new();
    let mut lacks = Vec::new();
    let log = !f.unrecorded.is_empty();
    if let Some(id) = &f.identity {
        checked.push(format!("the identity the log records ({})", id.source));
    }
    if f.unrecorded.contains(crate::model::Unrecorded::CREDENTIALS) {
        lacks.push("credentials: this input does not record them (an access log)".to_string());
    } else if f.has_note("har.sanitized") {
        lacks.push(
            "credentials: the HAR was exported sanitized (Authorization headers and cookies removed)".to_string(),
        );
    } else if f.credentials.is_empty() {
        checked.push("no credential was sent".to_string());
    } else {
        checked.push(format!("credential {}", f.credential_label()));
    }
    let identity_only = f.credentials.iter().all(|c| c.kind == crate::token::CredentialKind::Identity);
    // What the credential sent is, in words: scopes and issues are a token's, not a session
    // cookie's, a password's or an API key's.
    let scheme = f.token_use.as_ref().map(|u| u.credential.kind).and_then(|k| match k {
        CredentialKind::Cookie => Some("a session cookie"),
        CredentialKind::Basic => Some("Basic credentials"),
        CredentialKind::ApiKey => Some("an API key"),
        _ => None,
    });
    match (f.token_use.as_ref(), f.token()) {
        // A logged identity is not a token: nothing about scopes or lifetimes to miss.
        _ if identity_only && !f.credentials.is_empty() => {}
        _ if scheme.is_some() && !token_endpoint => {
            lacks.push(format!(
                "what {} grants (the traffic does not describe it; the server's error body or logs would)",
                scheme.unwrap_or("the credential")
            ));
        }
        (Some(u), Some(t)) => {
            checked.push(format!("validity ({})", validity(u.validity)));
            if t.scopes.is_none() {
                lacks.push(if f.genesys_host() {
                    "the token's scopes (no token reply with scope, no GET /api/v2/tokens/me)".into()
                } else {
                    "the token's scopes (no token reply or JWT with a scope claim)".into()
                });
            }
            if t.issued_at.is_none() {
                lacks.push("the token's issue (no login/token exchange in the capture)".into());
            }
        }
        _ if token_endpoint => {}
        (Some(_), None) | (None, _) if !f.credentials.is_empty() => {
            lacks.push("anything about the token (never issued or introspected in the capture)".into())
        }
        _ => {}
    }
    match &f.lookup {
        Lookup::Known(op) => checked.push(format!("operation {} (requirements known)", op.label())),
        Lookup::Unknown { .. } => checked.push("operation (does not exist)".into()),
        Lookup::NotCovered if token_endpoint => {
            checked.push("the OAuth token endpoint (no operation requirements)".into())
        }
        Lookup::NotCovered if f.catalog_given => {
            lacks.push(format!("requirements of {} (not described by the catalog given)", f.call()))
        }
        Lookup::NotCovered => lacks.push(format!("requirements of {} (not in the catalog; try --catalog)", f.call())),
    }
    match &f.state {
        Some(s) => checked.push(format!("conversation state ({:?})", s.state).to_lowercase()),
        None => checked.push("conversation state (none known)".into()),
    }
    match &f.error {
        Some(e) => checked.push(format!("error body (code {})", e.code.as_deref().unwrap_or("none"))),
        None if f.unrecorded.contains(crate::model::Unrecorded::RESPONSE_BODY) => {
            lacks.push("the response body (not recorded by this input)".into())
        }
        None if f.has_body => checked.push("response body (not a Genesys error body)".into()),
        None if f.body_not_kept.is_some() => checked.push(format!(
            "response body ({} not kept; not a Genesys error body)",
            f.body_not_kept.as_deref().filter(|m| !m.is_empty()).unwrap_or("declared but")
        )),
        None => lacks.push("the response body".into()),
    }
    if let Some((ok, n)) = &f.history.same_operation {
        checked.push(format!(
            "the same credential succeeded on this operation {n} time(s) before (last at #{}), so it lacks neither scope nor permission",
            ok.origin.index
        ));
    }
    let mut fact = format!("{} refused with {}; checked: {}", f.call(), f.status, checked.join(", "));
    if !lacks.is_empty() {
        fact.push_str(&format!("; the capture lacks: {}", lacks.join("; ")));
    }
    if token_endpoint {
        // A refusal by the token endpoint is about the client's own credentials, not a token.
        let code = f.error_code().map(|c| format!(" ({c})")).unwrap_or_default();
        let fix = if f.genesys_host() {
            "Check the OAuth client id and secret sent as `Authorization: Basic base64(clientId:clientSecret)`, that the client is active and allowed this grant, and that the login host is the one of the organization's region (login.{region domain}): a client used at another region's login host fails with invalid_client."
        } else {
            "Check the client id and secret sent to the token endpoint, and that the client is allowed this grant type."
        };
        return Verdict {
            cause: Cause::Unexplained,
            summary: format!("the token endpoint refused the client's credentials{code}; no token was issued"),
            evidence: vec![f.here(fact)],
            fix: fix.into(),
            confidence: Confidence::Assumed,
        };
    }
    let fix = if log {
        "An access log cannot show the credential or the error body: capture the failing call (browser HAR with sensitive data, a proxy session, or a packet capture) to see what was sent and why it was refused, or log an identity (e.g. a JWT's sub or client id) next to each request so failures can be grouped by caller."
    } else if f.has_note("har.sanitized") {
        "Re-capture with credentials (DevTools > Network > Export HAR (with sensitive data); harken masks secrets in its output), including the login/token call and a GET /api/v2/tokens/me."
    } else if f.genesys_host() {
        "Capture the token request (login.{region domain}/oauth/token) and a GET /api/v2/tokens/me in the same session, keep response bodies, and pass --catalog for APIs outside the built-in profile."
    } else if f.catalog_given {
        "Capture the token request in the same session and keep response bodies; the catalog given does not describe this call (check its servers and paths)."
    } else {
        "Capture the token request in the same session, keep response bodies, and pass --catalog with the API's OpenAPI document so its requirements are known."
    };
    Verdict {
        cause: Cause::Unexplained,
        summary: if lacks.is_empty() {
            format!("no known cause matched the {} (see evidence for what was checked)", f.status)
        } else {
            format!("no known cause matched; the capture lacks {}", lacks.first().map(String::as_str).unwrap_or(""))
        },
        evidence: vec![f.here(fact)],
        fix: fix.into(),
        confidence: Confidence::Assumed,
    }
}

fn validity(v: Validity) -> &'static str {
    match v {
        Validity::Valid => "valid",
        Validity::Expired => "expired",
        Validity::NotYetValid => "not yet valid",
        Validity::Revoked => "revoked",
        Validity::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn says_what_the_sanitized_capture_lacks() {
        let mut f =
            facts("POST", "/api/v2/conversations/messages/c/communications/m/messages", 403, None, Validity::Unknown);
        f.notes.push("har.sanitized".into());
        let v = check(&f);
        assert_eq!(v.cause, Cause::Unexplained);
        assert!(v.evidence[0].1.contains("sanitized"), "{}", v.evidence[0].1);
        assert!(v.fix.contains("sensitive data"));
    }

    #[test]
    fn speaks_of_the_scheme_used_not_of_token_scopes() {
        let mut f = facts("GET", "/reports/1", 403, None, Validity::Unknown);
        f.host = "reports.example".into();
        let cred = crate::token::Credential::new(CredentialKind::Cookie, "cookie: SESSIONID", "abc");
        f.credentials.push(cred.clone());
        f.token_use = Some(crate::token::TokenUse {
            credential: cred,
            token: None,
            validity: Validity::Unknown,
            used_region: None,
            cross_region: None,
        });
        let v = check(&f);
        assert!(v.summary.contains("what a session cookie grants"), "{}", v.summary);
        assert!(!v.evidence[0].1.contains("token"), "{}", v.evidence[0].1);
    }

    #[test]
    fn token_endpoint_and_other_hosts() {
        let mut f = facts("POST", "/oauth/token", 401, None, Validity::Unknown);
        f.host = "login.mypurecloud.ie".into();
        f.credentials.push(crate::token::Credential::new(
            crate::token::CredentialKind::Basic,
            "authorization: basic",
            "x:y",
        ));
        f.error = Some(super::super::ErrorBody { code: Some("invalid_client".into()), ..Default::default() });
        let v = check(&f);
        assert!(v.summary.contains("token endpoint") && v.summary.contains("invalid_client"), "{}", v.summary);
        assert!(v.fix.contains("region") && !v.evidence[0].1.contains("--catalog"), "{v:?}");
        let mut f = facts("GET", "/v1/orders/1", 403, None, Validity::Unknown);
        f.host = "api.example.com".into();
        f.body_not_kept = Some("text/html".into());
        let v = check(&f);
        assert!(v.evidence[0].1.contains("response body (text/html not kept"), "{}", v.evidence[0].1);
        assert!(!v.evidence[0].1.contains("lacks: the response body"), "{}", v.evidence[0].1);
        assert!(!v.fix.contains("login.") && !v.fix.contains("/api/v2"), "{}", v.fix);
    }
}
