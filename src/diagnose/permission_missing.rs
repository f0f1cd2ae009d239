//! `permission_missing`: the caller lacks a required permission.
//!
//! - **What:** the server said so (403 `missing.permissions` "You are missing the following
//!   permission(s)", or `missing.any.permissions` "You must have at least one of the following
//!   permissions", with the names in `message`/`messageParams`); or, weaker, the catalog says
//!   the operation requires permissions (ALL/ANY) and nothing else explains the 403 (the token's
//!   scopes, where known, suffice; a client-credentials token has no scope check at all).
//! - **Why:** Genesys checks the role permissions of the user, or for client credentials the
//!   roles assigned to the OAuth client (in their divisions), on every operation.
//! - **Example:** a client-credentials integration calls `POST
//!   /api/v2/conversations/messages/agentless` and the client's role lacks
//!   `conversation:message:create`.
//! - **Fix:** give the user a role with the permission, or for client credentials add such a
//!   role to the OAuth client (Admin > OAuth > the client > Roles), then get a new token.

use super::{Cause, Confidence, Facts, Verdict};

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    if f.status != 403 {
        return None;
    }
    let who = if f.is_client_credentials() {
        "Add a role that grants it to the OAuth client (Admin > OAuth > the client > Roles, in the right division), then get a new token."
    } else {
        "Give the user a role that grants it (in the division of the object), then get a new token."
    };
    let code = f.error_code().unwrap_or("");
    if matches!(code, "missing.permissions" | "missing.any.permissions") {
        let perms = f.error.as_ref().map(|e| e.permissions()).unwrap_or_default();
        let mode = if code == "missing.any.permissions" { "ANY" } else { "ALL" };
        let list = if perms.is_empty() { "(names not given)".to_string() } else { perms.join(", ") };
        return Some(Verdict {
            cause: Cause::PermissionMissing,
            summary: format!("the caller lacks {mode} of the permissions {list}"),
            evidence: vec![f.here(format!("the server answered {code}: {mode} of {list}"))],
            fix: format!("Permission needed: {mode} of {list}. {who}"),
            confidence: Confidence::Proven,
        });
    }
    // Without any knowledge of the credential (e.g. a sanitized export) this would be a guess
    // about nothing: leave it to `unexplained`, which says what the capture lacks.
    f.token_use.as_ref()?;
    let op = f.operation()?;
    // The same credential already succeeded on this operation: it has the permission (roles
    // rarely change within a capture); what changed is elsewhere (token_expired,
    // conversation_ended, token_wrong_region give the candidates).
    if f.history.same_operation.is_some() {
        return None;
    }
    let perms = op.permissions_text()?;
    // With known scopes that do not cover the operation, the scope is the problem, not this.
    if !f.is_client_credentials() {
        if let (Some(need), Some(have)) = (op.scopes.as_ref(), f.token().and_then(|t| t.scopes.as_ref())) {
            if !need.is_empty() && !need.iter().any(|s| have.iter().any(|h| h == s)) {
                return None;
            }
        }
        if f.inferred.is_some() {
            return None;
        }
    }
    let principal = if f.is_client_credentials() { "the OAuth client's roles" } else { "the caller's roles" };
    Some(Verdict {
        cause: Cause::PermissionMissing,
        summary: format!("{} requires {perms}; {principal} most likely lack it", op.label()),
        evidence: vec![f.here(format!("{} is {} and requires {perms} (catalog)", f.call(), op.label()))],
        fix: format!("Permission needed: {perms}. {who}"),
        confidence: Confidence::Assumed,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::ErrorBody;
    use super::*;
    use crate::catalog::Catalog;
    use crate::token::{Grant, Validity};

    #[test]
    fn from_the_error_body() {
        let mut f = facts("POST", "/api/v2/conversations/messages/agentless", 403, None, Validity::Unknown);
        f.error = Some(ErrorBody {
            code: Some("missing.permissions".into()),
            message: Some("You are missing the following permission(s): [conversation:message:create]".into()),
            ..Default::default()
        });
        let v = check(&f).unwrap();
        assert_eq!(v.confidence, Confidence::Proven);
        assert!(v.summary.contains("ALL of the permissions conversation:message:create"), "{}", v.summary);
    }

    #[test]
    fn from_the_catalog_unless_the_scope_explains_it() {
        let cat = Catalog::genesys();
        let cc = token(Grant::ClientCredentials, Some(&[]));
        let mut f = facts("POST", "/api/v2/conversations/messages/agentless", 403, Some(&cc), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        let v = check(&f).unwrap();
        assert!(!v.confidence.is_proven());
        assert!(v.fix.contains("OAuth client"));
        let ro = token(Grant::AuthorizationCode, Some(&["conversations:readonly"]));
        let mut f = facts("POST", "/api/v2/conversations/messages/agentless", 403, Some(&ro), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        assert!(check(&f).is_none());
        // The same client succeeded on the same operation earlier: not a missing permission.
        let mut f = facts("POST", "/api/v2/conversations/messages/agentless", 403, Some(&cc), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        f.history.same_operation = Some((prior(1, 10), 1));
        assert!(check(&f).is_none());
    }
}
