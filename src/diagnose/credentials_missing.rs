//! `credentials_missing`: the request carried no credential at all.
//!
//! - **What:** no `Authorization` header, no session cookie, no API key, no token in the URL.
//! - **Why:** every Genesys Cloud API operation requires a token; without one the server
//!   answers 401 `authentication.required` ("No authentication bearer token specified in
//!   authorization header").
//! - **Example:** `GET /api/v2/conversations/messages/{id}` sent by a script whose token
//!   variable was never set, so the HTTP client dropped the header.
//! - **Fix:** get a token from `POST https://login.{region domain}/oauth/token` and send it as
//!   `Authorization: Bearer <token>`.
//!
//! Not fired when the input does not record credentials at all (an access log: the absence of
//! an `Authorization` header there proves nothing), nor when the input is a sanitized export (`har.sanitized`): such exports strip the
//! `Authorization` header, so its absence proves nothing (unless the server itself said
//! `authentication.required`).

use super::{Cause, Confidence, Facts, Verdict};

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let server_says = f.error_code() == Some("authentication.required");
    if !f.credentials.is_empty()
        || (f.has_note("har.sanitized") && !server_says)
        || f.unrecorded.contains(crate::model::Unrecorded::CREDENTIALS)
    {
        return None;
    }
    let mut evidence = vec![f.here(format!(
        "{} was sent with no credential (no Authorization header, cookie or API key) and refused with {}",
        f.call(),
        f.status
    ))];
    if server_says {
        evidence
            .push(f.here("the server answered authentication.required: no bearer token in the Authorization header"));
    }
    // A 401, a challenge or the server's own words prove that a credential was wanted. A 403
    // without them may as well come from an IP allow-list, a WAF or a CSRF check.
    let challenged = f.status == 401 || !f.challenges.is_empty() || server_says;
    let confidence = if challenged {
        Confidence::Proven
    } else if f.ok_with_credentials > 0 {
        Confidence::Inferred { calls: f.ok_with_credentials }
    } else {
        Confidence::Assumed
    };
    let mut summary = format!("no credential was sent with {}", f.call());
    if !challenged {
        summary.push_str(
            "; the 403 came without a challenge, so an IP allow-list, a WAF or a CSRF check may be refusing instead",
        );
        if f.ok_with_credentials > 0 {
            evidence.push(f.here(format!(
                "{} successful call(s) to {} carried a credential",
                f.ok_with_credentials,
                f.call()
            )));
        }
    }
    if let Some(c) = f.challenges.first() {
        evidence.push(f.here(format!("the server asked for {} (WWW-Authenticate)", c.describe())));
    }
    Some(Verdict {
        cause: Cause::CredentialsMissing,
        summary,
        evidence,
        fix: if f.is_token_endpoint() {
            "The token request itself carried no client credentials: send `Authorization: Basic base64(clientId:clientSecret)` with the form body (e.g. grant_type=client_credentials).".into()
        } else if f.genesys_host() {
            "Get a token from POST https://login.{region domain}/oauth/token and send it as `Authorization: Bearer <token>`."
                .into()
        } else {
            "Send the credential the API expects (usually `Authorization: Bearer <token>` from its OAuth token endpoint).".into()
        },
        confidence,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::token::Validity;

    #[test]
    fn fires_without_credentials_unless_sanitized() {
        let f = facts("GET", "/api/v2/users/me", 401, None, Validity::Unknown);
        let v = check(&f).unwrap();
        assert_eq!(v.cause, Cause::CredentialsMissing);
        assert_eq!(v.evidence[0].0, o(5));
        let mut f = facts("GET", "/api/v2/users/me", 401, None, Validity::Unknown);
        f.notes.push("har.sanitized".into());
        assert!(check(&f).is_none());
        let mut f = facts("GET", "/v1/orders", 401, None, Validity::Unknown);
        f.host = "api.example.com".into();
        assert!(!check(&f).unwrap().fix.contains("login."), "no Genesys host advice for other hosts");
        let tok = token(crate::token::Grant::ClientCredentials, None);
        assert!(check(&facts("GET", "/x", 401, Some(&tok), Validity::Valid)).is_none());
        // A 403 with no challenge: not proven; inferred when the same operation succeeded
        // with credentials, and the alternatives are named.
        let mut f = facts("GET", "/v1/reports/x", 403, None, Validity::Unknown);
        f.host = "api.example.com".into();
        assert_eq!(check(&f).unwrap().confidence, Confidence::Assumed);
        f.ok_with_credentials = 2;
        let v = check(&f).unwrap();
        assert_eq!(v.confidence, Confidence::Inferred { calls: 2 });
        assert!(v.summary.contains("allow-list"), "{}", v.summary);
        f.challenges = super::super::challenges("Basic realm=\"r\"");
        assert!(check(&f).unwrap().confidence.is_proven());
        let mut f = facts("GET", "/api/v2/users/me", 401, None, Validity::Unknown);
        f.unrecorded = crate::model::Unrecorded::ACCESS_LOG;
        assert!(check(&f).is_none(), "an access log does not record credentials");
    }
}
