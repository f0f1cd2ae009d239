//! `user_context_required`: a client-credentials token on an operation that needs a user.
//!
//! - **What:** the token came from the client-credentials grant (no user) and the operation
//!   acts for "the current user" (`GET /api/v2/users/me`, `POST
//!   /api/v2/conversations/emails/{id}/reconnect`, documented as "not valid when using the
//!   Client Credentials OAuth grant").
//! - **Why:** client credentials are "not in the context of a user and therefore will not be
//!   able to access user-specific APIs" (Genesys "Create an OAuth client").
//! - **Example:** a backend integration calls `GET /api/v2/users/me` to check its token.
//! - **Fix:** use a user grant (authorization code / PKCE, SAML2 bearer) for user-specific
//!   calls, or use a non-user operation (`GET /api/v2/tokens/me` to inspect the token).

use super::{Cause, Confidence, Facts, Verdict};

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let op = f.operation()?;
    if !op.requires_user || !f.is_client_credentials() {
        return None;
    }
    let label = f.credential_label();
    let mut evidence = vec![f.here(format!("{} needs a user; {label} is a client-credentials token", op.label()))];
    if let Some(at) = f.token().and_then(|t| t.issued_at.as_deref().copied()) {
        evidence.push((at, format!("{label} was issued with grant_type=client_credentials (no user)")));
    }
    Some(Verdict {
        cause: Cause::UserContextRequired,
        summary: format!("{} needs a user, but the token is a client-credentials token (no user)", op.label()),
        evidence,
        fix: "Use a user grant (authorization code/PKCE or SAML2 bearer) for user-specific operations, or GET /api/v2/tokens/me to inspect a client token.".into(),
        confidence: Confidence::Proven,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::catalog::Catalog;
    use crate::token::{Grant, Validity};

    #[test]
    fn client_credentials_on_users_me() {
        let cat = Catalog::genesys();
        let cc = token(Grant::ClientCredentials, None);
        let mut f = facts("GET", "/api/v2/users/me", 403, Some(&cc), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        assert_eq!(check(&f).unwrap().evidence.len(), 2);
        let user = token(Grant::AuthorizationCode, None);
        let mut f = facts("GET", "/api/v2/users/me", 403, Some(&user), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        assert!(check(&f).is_none());
    }
}
