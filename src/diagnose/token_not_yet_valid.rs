//! `token_not_yet_valid`: the token was used before it became valid.
//!
//! - **What:** the request's time is before the token's issue time or JWT `nbf`/`iat`.
//! - **Why:** almost always a clock problem: the capturing machine's or the issuer's clock is
//!   off, or tokens are minted ahead of time by a system with a skewed clock.
//! - **Example:** a JWT with `nbf` five minutes in the future relative to the request.
//! - **Fix:** synchronize clocks (NTP) on the machines that mint and use tokens; allow a
//!   small leeway.

use super::{Cause, Confidence, Facts, Verdict};
use crate::token::Validity;

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let u = f.token_use.as_ref()?;
    if u.validity != Validity::NotYetValid {
        return None;
    }
    // The instant it became valid: its `nbf` when it has one, else its issue time.
    let from = u.token.and_then(|t| {
        t.rare().not_before
            .map(|n| format!(" (nbf {})", n.to_rfc3339()))
            .or_else(|| t.issued.map(|i| format!(" (issued {})", i.to_rfc3339())))
    });
    let mut evidence = vec![f.here(format!(
        "{} was sent at {} with {}, before it became valid{}",
        f.call(),
        f.time.to_rfc3339(),
        u.credential.label(),
        from.unwrap_or_default()
    ))];
    if let Some(at) = u.token.and_then(|t| t.issued_at.as_deref().copied()) {
        evidence.push((at, format!("{} was issued here", u.credential.label())));
    }
    Some(Verdict {
        cause: Cause::TokenNotYetValid,
        summary: format!("{} was not valid yet at the time of the request (clock skew)", u.credential.label()),
        evidence,
        fix: "Synchronize the clocks (NTP) of the machines that mint and use the token, and allow a small leeway."
            .into(),
        confidence: Confidence::Proven,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::token::Grant;

    #[test]
    fn fires_on_not_yet_valid() {
        let tok = token(Grant::Guest, None);
        let v = check(&facts("GET", "/api/v2/webmessaging/messages", 401, Some(&tok), Validity::NotYetValid)).unwrap();
        assert_eq!(v.cause, Cause::TokenNotYetValid);
        assert!(check(&facts("GET", "/x", 401, Some(&tok), Validity::Unknown)).is_none());
        // The evidence names the token's nbf, not its issue time.
        let mut tok = token(Grant::Guest, None);
        tok.rare_mut().not_before = Some(t(5));
        let v = check(&facts("GET", "/x", 401, Some(&tok), Validity::NotYetValid)).unwrap();
        assert!(v.evidence[0].1.contains(&format!("(nbf {})", t(5).to_rfc3339())), "{}", v.evidence[0].1);
    }
}
