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

use super::{Cause, Facts, Verdict};

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
    Some(Verdict {
        cause: Cause::CredentialsMissing,
        summary: format!("no credential was sent with {}", f.call()),
        evidence,
        fix: if f.is_token_endpoint() {
            "The token request itself carried no client credentials: send `Authorization: Basic base64(clientId:clientSecret)` with the form body (e.g. grant_type=client_credentials).".into()
        } else if f.genesys_host() {
            "Get a token from POST https://login.{region domain}/oauth/token and send it as `Authorization: Bearer <token>`."
                .into()
        } else {
            "Send the credential the API expects (usually `Authorization: Bearer <token>` from its OAuth token endpoint).".into()
        },
        proven: true,
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
        let mut f = facts("GET", "/api/v2/users/me", 401, None, Validity::Unknown);
        f.unrecorded = crate::model::Unrecorded::ACCESS_LOG;
        assert!(check(&f).is_none(), "an access log does not record credentials");
    }
}
