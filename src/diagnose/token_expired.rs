//! `token_expired`: the token had expired when the request was made.
//!
//! - **What:** the request's time is after the token's expiry (`issued + expires_in`, or a
//!   JWT `exp`), as learned from the token-endpoint reply or the guest `JwtResponse`.
//! - **Why:** Genesys access tokens live `accessTokenValiditySeconds` (300–172800 s, default
//!   86400); after that the server answers 401 (`bad.credentials`).
//! - **Example:** a service gets one client-credentials token at start-up and is still using it
//!   the next day.
//! - **Fix:** request a new token before `expires_in` runs out (or refresh it), and retry a 401
//!   once with a fresh token.

use super::{minutes, Cause, Confidence, Facts, Verdict};
use crate::token::Validity;

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let u = f.token_use.as_ref()?;
    if u.validity != Validity::Expired {
        return lifetime_unknown(f);
    }
    let t = u.token;
    let expires = t.and_then(|t| t.expires);
    let mut evidence = vec![f.here(match expires {
        Some(e) => format!(
            "{} was sent {} after {} expired ({})",
            f.call(),
            minutes(e, f.time),
            u.credential.label(),
            e.to_rfc3339()
        ),
        None => format!("{} was sent with {} after it expired", f.call(), u.credential.label()),
    })];
    if let Some(at) = t.and_then(|t| t.issued_at.as_deref().copied()) {
        evidence.push((
            at,
            format!(
                "{} was issued here{}",
                u.credential.label(),
                expires.map(|e| format!(", valid until {}", e.to_rfc3339())).unwrap_or_default()
            ),
        ));
    }
    Some(Verdict {
        cause: Cause::TokenExpired,
        summary: format!(
            "{} had expired{}",
            u.credential.label(),
            expires.map(|e| format!(" {} earlier", minutes(e, f.time))).unwrap_or_default()
        ),
        evidence,
        fix: if f.genesys_host() {
            "Request a new token before expires_in runs out (POST https://login.{region domain}/oauth/token), and on a 401 retry once with a fresh token.".into()
        } else {
            "Request a new token before it expires (expires_in / exp), and on a 401 retry once with a fresh token."
                .into()
        },
        confidence: Confidence::Proven,
    })
}

/// Inferred: the same credential succeeded on this operation earlier, and its lifetime is not
/// in the capture (no token reply, no `exp`), so it may have run out since.
fn lifetime_unknown(f: &Facts<'_>) -> Option<Verdict> {
    let u = f.token_use.as_ref()?;
    let (ok, n) = f.history.same_operation.as_ref()?;
    if u.validity != Validity::Unknown
        || u.token.is_some_and(|t| t.expires.is_some())
        || f.time - ok.time < chrono::Duration::minutes(1)
    {
        return None;
    }
    let label = u.credential.label();
    Some(Verdict {
        cause: Cause::TokenExpired,
        summary: format!(
            "{label} worked for this operation {} earlier; its lifetime is not in the capture, so it may have expired since",
            minutes(ok.time, f.time)
        ),
        evidence: vec![
            f.here(format!("{} was refused with {label}, whose expiry the capture does not show", f.call())),
            (ok.origin, format!("the same operation succeeded with {label} here ({n} success{} before the refusal)", if *n == 1 { "" } else { "es" })),
        ],
        fix: "Check the token's lifetime (expires_in of its token reply, or GET /api/v2/tokens/me) and request a new token before it runs out; on a 401 retry once with a fresh token.".into(),
        confidence: Confidence::Inferred { calls: *n },
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::token::Grant;

    #[test]
    fn fires_when_expired_and_points_at_the_issue() {
        let mut tok = token(Grant::ClientCredentials, None);
        tok.expires = Some(t(-30));
        let f = facts("GET", "/api/v2/conversations/messages/c1", 401, Some(&tok), Validity::Expired);
        let v = check(&f).unwrap();
        assert_eq!(v.evidence.iter().map(|e| e.0.index).collect::<Vec<_>>(), vec![5, 0]);
        assert!(v.summary.contains("30 min"));
        assert!(check(&facts("GET", "/x", 401, Some(&tok), Validity::Valid)).is_none());
    }
}
