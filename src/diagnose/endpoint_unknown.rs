//! `endpoint_unknown`: the endpoint called does not exist.
//!
//! - **What:** the path lies in a family the catalog knows completely (e.g.
//!   `/api/v2/conversations/messaging/*`, which holds only messaging configuration, or
//!   `/api/v2/communications`, which never existed) and matches no operation.
//! - **Why:** forum answers and generated code invent endpoints. Such a call cannot succeed
//!   with any token, so scope or permission advice is beside the point; Genesys may still
//!   answer 401/403 because authorization runs before routing.
//! - **Example:** `POST /api/v2/conversations/messaging/{id}/messages` (invented) instead of
//!   `POST /api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages`.
//! - **Fix:** call the real operation named in the finding, with its scope and permissions.

use super::{Cause, Confidence, Facts, Verdict};
use crate::catalog::Lookup;

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let Lookup::Unknown { suggestion, hint, family } = &f.lookup else { return None };
    let mut fix = match suggestion {
        Some(op) => {
            let mut s = format!("Use {}", op.label());
            let mut req = Vec::new();
            let scopes = op.scopes.as_ref().filter(|s| !s.is_empty()).map(|sc| sc.join(" or "));
            if !f.scope_checked() {
                // Genesys client-credentials tokens are governed by the client's roles, not
                // scopes (other APIs check their scopes as the catalog says).
                if let Some(p) = op.permissions_text() {
                    req.push(format!("permission {p}, through a role on the OAuth client"));
                }
                if let Some(sc) = scopes {
                    req.push(format!(
                        "client-credentials tokens are not scope-checked; user tokens also need scope {sc}"
                    ));
                }
            } else {
                if let Some(sc) = scopes {
                    req.push(format!("scope {sc}"));
                }
                if let Some(p) = op.permissions_text() {
                    req.push(format!("permission {p}"));
                }
            }
            if !req.is_empty() {
                s.push_str(&format!(" ({})", req.join("; ")));
            }
            s.push('.');
            s
        }
        None => "Use a documented operation; this path exists in no version of the API.".to_string(),
    };
    if let Some(h) = hint {
        fix.push_str(&format!(" Note: {h}."));
    }
    Some(Verdict {
        cause: Cause::EndpointUnknown,
        summary: format!(
            "{} does not exist{}",
            f.call(),
            suggestion.map(|op| format!("; probably meant {}", op.label())).unwrap_or_default()
        ),
        evidence: vec![
            f.here(format!("{} matches no operation under {family}, which the catalog lists completely", f.call()))
        ],
        fix,
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
    fn names_the_real_operation() {
        let cat = Catalog::genesys();
        let mut f = facts("POST", "/api/v2/conversations/messaging/addresses", 403, None, Validity::Unknown);
        f.lookup = cat.lookup(&f.method, &f.path);
        let v = check(&f).unwrap();
        assert!(v.summary.contains("POST /api/v2/conversations/messages/agentless"), "{}", v.summary);
        assert!(v.fix.contains("conversation:message:create"), "{}", v.fix);
        // The proactive-message story: a client-credentials token. Its authority is the
        // client's roles; the advice must not send it hunting for scopes.
        let cc = token(crate::token::Grant::ClientCredentials, Some(&[]));
        let mut f = facts("POST", "/api/v2/conversations/messaging/addresses", 403, Some(&cc), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        let v = check(&f).unwrap();
        assert!(v.fix.contains("ALL of conversation:message:create, through a role on the OAuth client"), "{}", v.fix);
        assert!(v.fix.contains("not scope-checked"), "{}", v.fix);
        let mut f = facts("GET", "/api/v2/users/me", 403, None, Validity::Unknown);
        f.lookup = cat.lookup(&f.method, &f.path);
        assert!(check(&f).is_none());
    }
}
