//! `token_wrong_kind`: the endpoint takes another kind of token.
//!
//! - **What:** a web messaging guest JWT (from the WebSocket `getJwt` → `JwtResponse`, or
//!   `/api/v2/webdeployments/token/*`) sent to the platform API (`/api/v2/conversations/...`,
//!   which needs an OAuth access token), or a platform OAuth token sent to a guest-only
//!   endpoint (`GET /api/v2/webmessaging/messages`, `DELETE /api/v2/webdeployments/token/revoke`,
//!   which take the "Webmessaging JWT").
//! - **Why:** the guest side of web messaging uses no OAuth at all; its JWT is bound to a
//!   deployment and a session and is only accepted by the guest endpoints. Platform tokens
//!   are not accepted there either.
//! - **Example:** a custom CLI that "sends as the guest" by posting to the agent API with the
//!   guest JWT.
//! - **Fix:** guests send messages over the WebSocket (`onMessage`); agent/API calls need a
//!   platform token from `login.{region domain}/oauth/token`.

use super::{Cause, Confidence, Facts, Verdict};
use crate::catalog::AuthKind;
use crate::token::{Credential, CredentialKind, Grant};

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    if let Some(v) = scheme_mismatch(f) {
        return Some(v);
    }
    let op = f.meant_operation()?;
    let u = f.token_use.as_ref()?;
    let label = u.credential.label();
    let platform_token = !f.is_guest()
        && (u.credential.kind == CredentialKind::Opaque
            || f.token().is_some_and(|t| !matches!(t.grant, Grant::Guest | Grant::Unknown)));
    let (summary, fix) = match op.auth {
        AuthKind::Platform if f.is_guest() => (
            format!("a web messaging guest JWT was sent to the platform API ({} takes an OAuth access token)", op.label()),
            "A guest cannot use the agent API: send guest messages over wss://webmessaging.{region domain}/v1 (onMessage); for API calls get a platform token from POST https://login.{region domain}/oauth/token.".to_string(),
        ),
        AuthKind::GuestJwt if platform_token => (
            format!("a platform OAuth token was sent to a guest endpoint ({} takes the web messaging guest JWT)", op.label()),
            "Send the guest's JWT (from getJwt / JwtResponse or /api/v2/webdeployments/token/*) to guest endpoints; use the agent API (/api/v2/conversations/messages/...) with platform tokens.".to_string(),
        ),
        _ => return None,
    };
    let mut evidence = vec![f.here(format!("{} carried {label}", f.call()))];
    if let Some(at) = f.token().and_then(|t| t.issued_at.as_deref().copied()) {
        let what = if f.is_guest() { "guest JWT issued here (web messaging)" } else { "platform token issued here" };
        evidence.push((at, format!("{label}: {what}")));
    }
    Some(Verdict { cause: Cause::TokenWrongKind, summary, evidence, fix, confidence: Confidence::Proven })
}

/// The scheme of a credential as `WWW-Authenticate` names it (`Bearer`, `Basic`...), or what
/// it is when no scheme carries it (a cookie, an API key).
fn scheme_sent(c: &Credential) -> String {
    match c.carrier.strip_prefix("authorization: ") {
        Some(s) => s.to_string(),
        None => match c.kind {
            CredentialKind::Cookie => format!("only a session cookie ({})", c.carrier.trim_start_matches("cookie: ")),
            CredentialKind::ApiKey => format!("only an API key ({})", c.carrier),
            _ => c.carrier.clone(),
        },
    }
}

/// A 401 whose challenges ask for schemes the request did not use: `Basic` asked, a session
/// cookie sent. Proven by the challenge itself.
fn scheme_mismatch(f: &Facts<'_>) -> Option<Verdict> {
    if f.status != 401 || f.challenges.is_empty() || f.credentials.is_empty() {
        return None;
    }
    let sent: Vec<String> = f.credentials.iter().map(scheme_sent).collect();
    let asked: Vec<&str> = f.challenges.iter().map(|c| c.scheme.as_str()).collect();
    if f.challenges.iter().any(|c| sent.iter().any(|s| s.eq_ignore_ascii_case(&c.scheme))) {
        return None;
    }
    let asked_text = f.challenges.iter().map(|c| c.describe()).collect::<Vec<_>>().join(", ");
    let first = asked.first().copied().unwrap_or("");
    Some(Verdict {
        cause: Cause::TokenWrongKind,
        summary: format!(
            "the server asks for {} authentication; the request sent {}",
            asked.join(" or "),
            sent.join(", ")
        ),
        evidence: vec![
            f.here(format!("{} carried {}", f.call(), sent.join(", "))),
            f.here(format!("the 401 asked for {asked_text} (WWW-Authenticate)")),
        ],
        fix: format!(
            "Authenticate with the {first} scheme the server names (`Authorization: {first} ...`){}.",
            if sent.iter().any(|s| s.starts_with("only a session cookie")) {
                "; the session cookie is not accepted on this endpoint"
            } else {
                ""
            }
        ),
        confidence: Confidence::Proven,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::catalog::Catalog;
    use crate::token::Validity;

    #[test]
    fn guest_on_agent_api_and_platform_on_guest_api() {
        let cat = Catalog::genesys();
        let guest = token(Grant::Guest, None);
        let mut f = facts(
            "POST",
            "/api/v2/conversations/messages/c/communications/m/messages",
            403,
            Some(&guest),
            Validity::Valid,
        );
        f.lookup = cat.lookup(&f.method, &f.path);
        assert_eq!(check(&f).unwrap().evidence.len(), 2);
        let cc = token(Grant::ClientCredentials, None);
        let mut f = facts("GET", "/api/v2/webmessaging/messages", 401, Some(&cc), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        assert!(check(&f).unwrap().summary.contains("platform OAuth token"));
        let mut f = facts("GET", "/api/v2/users/me", 401, Some(&cc), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        assert!(check(&f).is_none());
    }
}
