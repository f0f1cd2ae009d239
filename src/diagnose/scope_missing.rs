//! `scope_missing`: the user token was not granted the scope the operation requires.
//!
//! - **What:** the token's scopes (from `GET /api/v2/tokens/me` `authorizedScope`, the token
//!   reply's `scope`, or the JWT) include none of the operation's scopes (any one suffices:
//!   `conversations` for writes, `conversations` or `conversations:readonly` for reads); or the
//!   server's `WWW-Authenticate` says `error="insufficient_scope"`; or, without a catalog
//!   entry, every successful call to the same operation in the capture carried a scope this
//!   token lacks (stated as inferred, with the number of calls).
//! - **Why:** for user tokens Genesys requires the scope **and** the permission. Client-
//!   credentials tokens are not scope-checked (their client's roles govern), so this rule
//!   never fires for them.
//! - **Example:** closing a conversation (`PATCH .../participants/{id}` `{"state":
//!   "disconnected"}`) with a token whose only scope is `conversations:readonly`.
//! - **Fix:** add the scope to the OAuth client (Admin > OAuth > the client > Scope) and get
//!   a new token. Genesys scope names have no `:write` suffix: read-write is the bare name.

use super::{Cause, Confidence, Facts, Verdict};

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    if !f.scope_checked() {
        return None;
    }
    // The same credential already succeeded on this operation: its scopes cover it (a token's
    // scopes never change), unless the server itself says otherwise.
    let worked_before = f.history.same_operation.is_some();
    let label = f.credential_label();
    let have = f.token().and_then(|t| t.scopes.as_ref());
    let have_text = have.map(|h| if h.is_empty() { "none".to_string() } else { h.join(", ") });
    let source = f.token().and_then(|t| t.rare().scopes_source.as_deref().copied());
    let mut evidence = Vec::new();
    let op = f.operation();
    let op_scopes = op.and_then(|o| o.scopes.as_ref()).filter(|n| !n.is_empty());
    let perms = op.and_then(|o| o.permissions_text()).map(|p| format!(" and permission {p}")).unwrap_or_default();
    let (need, confidence, how) = if let Some(c) =
        f.challenge.as_ref().filter(|c| c.error.as_deref() == Some("insufficient_scope"))
    {
        let mut need: Vec<String> = c.scope.as_deref().unwrap_or("").split_whitespace().map(str::to_string).collect();
        let said = need.join(" ");
        if need.is_empty() {
            need = op_scopes.cloned().unwrap_or_default();
        }
        evidence.push(f.here(format!("WWW-Authenticate: error=insufficient_scope, scope=\"{said}\"")));
        (need, Confidence::Proven, String::new())
    } else if worked_before {
        return None;
    } else if let (Some(op), Some(need), Some(have)) = (op, op_scopes, have) {
        if need.iter().any(|s| have.iter().any(|h| h == s)) {
            return None;
        }
        evidence.push(f.here(format!(
            "{} is {}, which requires scope {}{perms}",
            f.call(),
            op.label(),
            need.join(" or ")
        )));
        (need.clone(), Confidence::Proven, String::new())
    } else if let Some(inf) = &f.inferred {
        evidence.push(f.here(format!("{} was refused; {label} lacks {}", f.call(), inf.scopes.join(", "))));
        for p in &inf.proofs {
            evidence.push((*p, format!("the same operation succeeded with a token holding {}", inf.scopes.join(", "))));
        }
        (
            inf.scopes.clone(),
            Confidence::Inferred { calls: inf.calls },
            format!(
                " (inferred from {} successful call{} by {} credential{})",
                inf.calls,
                if inf.calls == 1 { "" } else { "s" },
                inf.credentials,
                if inf.credentials == 1 { "" } else { "s" }
            ),
        )
    } else if let (Some(op), Some(need), None, Some(_), false, Some(_)) =
        (op, op_scopes, have, f.token_use.as_ref(), f.is_guest(), op.and_then(|o| o.permissions_text()))
    {
        // A token whose scopes the capture never shows (its reply and tokens/me are missing,
        // e.g. a HAR saved without response bodies), on an operation needing a scope and a
        // permission: the scope is as likely a cause as the permission the catalog names, and
        // ranks first, but nothing proves either (both are listed, assumed).
        evidence.push(f.here(format!(
            "{} is {}, which requires scope {}{perms}; the scopes of {label} are not in the capture (no token reply or tokens/me body)",
            f.call(),
            op.label(),
            need.join(" or ")
        )));
        (need.clone(), Confidence::Assumed, String::new())
    } else {
        return None;
    };
    if let (Some(src), Some(h)) = (source, have_text.as_ref()) {
        evidence.push((src, format!("{label} was granted scopes: {h}")));
    }
    let need_text =
        if need.is_empty() { "a required scope".to_string() } else { format!("scope {}", need.join(" or ")) };
    let first = need.first().map(|s| format!("`{s}`")).unwrap_or_else(|| "the scope the server asks for".into());
    let fix = if f.genesys_host() {
        format!(
            "Add scope {first} to the OAuth client (Admin > OAuth > the client > Scope) and get a new token (Genesys has no `:write` scopes; read-write is the bare name).{}",
            op.and_then(|o| o.permissions_text()).map(|p| format!(" The user also needs permission {p}.")).unwrap_or_default()
        )
    } else {
        format!("Request a token that includes {first} (grant it to the OAuth client, then get a new token).")
    };
    Some(Verdict {
        cause: Cause::ScopeMissing,
        summary: if confidence == Confidence::Assumed {
            format!("the token may lack {need_text}, which the operation requires; its scopes are not in the capture")
        } else {
            format!(
                "the token lacks {need_text}{how}{}",
                have_text.map(|h| format!("; it has {h}")).unwrap_or_default()
            )
        },
        evidence,
        fix,
        confidence,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Challenge, Inferred};
    use super::*;
    use crate::catalog::Catalog;
    use crate::token::{Grant, Validity};

    #[test]
    fn readonly_token_on_a_write() {
        let cat = Catalog::genesys();
        let ro = token(Grant::AuthorizationCode, Some(&["conversations:readonly"]));
        let mut f = facts("PATCH", "/api/v2/conversations/messages/c/participants/p", 403, Some(&ro), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        let v = check(&f).unwrap();
        assert!(v.summary.contains("scope conversations"), "{}", v.summary);
        assert_eq!(v.evidence.iter().map(|e| e.0.index).collect::<Vec<_>>(), vec![5, 1]);
        let cc = token(Grant::ClientCredentials, Some(&["conversations:readonly"]));
        let mut f = facts("PATCH", "/api/v2/conversations/messages/c/participants/p", 403, Some(&cc), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        assert!(check(&f).is_none(), "client credentials are not scope-checked");
    }

    #[test]
    fn from_challenge_and_inferred() {
        let mut f = facts("GET", "/v1/items", 403, None, Validity::Unknown);
        f.host = "api.example.com".into();
        f.challenge = Some(Challenge {
            error: Some("insufficient_scope".into()),
            scope: Some("items:read".into()),
            ..Default::default()
        });
        let v = check(&f).unwrap();
        assert!(v.summary.contains("items:read"));
        // Not a Genesys host: no Genesys admin screens or scope naming rules in the advice.
        assert!(!v.fix.contains("Admin > OAuth") && !v.fix.contains("Genesys"), "{}", v.fix);
        let tok = token(Grant::AuthorizationCode, Some(&["a"]));
        let mut f = facts("GET", "/v1/items", 403, Some(&tok), Validity::Valid);
        f.inferred = Some(Inferred { scopes: vec!["b".into()], calls: 3, credentials: 2, proofs: vec![o(1), o(2)] });
        let v = check(&f).unwrap();
        assert!(v.summary.contains("inferred from 3 successful calls"), "{}", v.summary);
        assert!(!v.confidence.is_proven());
    }

    #[test]
    fn inferred_for_a_known_operation_whose_scopes_are_unknown() {
        // DELETE /api/v2/conversations/{id}: permissions known, scopes not (facts §7).
        let cat = Catalog::genesys();
        let tok = token(Grant::AuthorizationCode, Some(&["conversations:readonly"]));
        let mut f = facts(
            "DELETE",
            "/api/v2/conversations/5c1f0e1a-1111-4111-8111-111111111111",
            403,
            Some(&tok),
            Validity::Valid,
        );
        f.lookup = cat.lookup(&f.method, &f.path);
        assert!(f.operation().is_some_and(|o| o.scopes.is_none()));
        f.inferred =
            Some(Inferred { scopes: vec!["conversations".into()], calls: 2, credentials: 1, proofs: vec![o(1), o(2)] });
        let v = check(&f).expect("the inference is used when the catalog has no scopes");
        assert!(v.summary.contains("inferred from 2 successful calls"), "{}", v.summary);
    }

    #[test]
    fn challenge_without_scope_and_real_operation_names_scope_and_permissions() {
        let cat = Catalog::genesys();
        let mut f = facts("PATCH", "/api/v2/conversations/messages/c/participants/p", 403, None, Validity::Unknown);
        f.lookup = cat.lookup(&f.method, &f.path);
        f.challenge = Some(Challenge { error: Some("insufficient_scope".into()), ..Default::default() });
        let v = check(&f).unwrap();
        assert!(v.summary.contains("lacks scope conversations"), "{}", v.summary);
        assert!(!v.fix.contains("`?`"), "{}", v.fix);
        // From the catalog: the evidence and fix name the scope and the ANY permissions.
        let ro = token(Grant::AuthorizationCode, Some(&["conversations:readonly"]));
        let mut f = facts("PATCH", "/api/v2/conversations/messages/c/participants/p", 403, Some(&ro), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        let v = check(&f).unwrap();
        assert!(
            v.evidence[0]
                .1
                .contains("requires scope conversations and permission ANY of conversation:participant:wrapup"),
            "{:?}",
            v.evidence
        );
        assert!(v.fix.contains("ANY of conversation:participant:wrapup, conversation:call:record, conversation:communication:disconnect"), "{}", v.fix);
    }
}
