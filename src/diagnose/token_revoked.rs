//! `token_revoked`: the token had been revoked before the request.
//!
//! - **What:** the capture shows the token being invalidated (`DELETE /api/v2/tokens/me`,
//!   `DELETE /api/v2/webdeployments/token/revoke`, a logout) before this request used it.
//! - **Why:** a revoked token is refused like an unknown one: 401 (`bad.credentials`).
//! - **Example:** one tab logs out (deleting the token) while another tab keeps polling
//!   with it.
//! - **Fix:** stop using a token after revoking it; get a new one (log in again).

use super::{Cause, Confidence, Facts, Verdict};
use crate::token::Validity;

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let u = f.token_use.as_ref()?;
    if u.validity != Validity::Revoked {
        return None;
    }
    let t = u.token;
    let mut evidence =
        vec![f.here(format!("{} was sent with {} after it was revoked", f.call(), u.credential.label()))];
    if let Some(at) = t.and_then(|t| t.rare().revoked_by.as_deref().copied()) {
        evidence.push((at, format!("{} was revoked here", u.credential.label())));
    }
    Some(Verdict {
        cause: Cause::TokenRevoked,
        summary: format!("{} had been revoked before this request", u.credential.label()),
        evidence,
        fix: "Do not reuse a token after DELETE /api/v2/tokens/me (or a logout); obtain a new token.".into(),
        confidence: Confidence::Proven,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::token::Grant;

    #[test]
    fn fires_and_points_at_the_revocation() {
        let mut tok = token(Grant::AuthorizationCode, None);
        tok.rare_mut().revoked_by = Some(Box::new(o(3)));
        let v = check(&facts("GET", "/api/v2/users/me", 401, Some(&tok), Validity::Revoked)).unwrap();
        assert_eq!(v.evidence.iter().map(|e| e.0.index).collect::<Vec<_>>(), vec![5, 3]);
    }
}
