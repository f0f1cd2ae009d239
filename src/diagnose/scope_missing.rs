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

use super::{Cause, Facts, Verdict};

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    if f.is_client_credentials() {
        return None;
    }
    let label = f.credential_label();
    let have = f.token().and_then(|t| t.scopes.as_ref());
    let have_text = have.map(|h| if h.is_empty() { "none".to_string() } else { h.join(", ") });
    let source = f.token().and_then(|t| t.scopes_source);
    let mut evidence = Vec::new();
    let (need, proven, how) = if let Some(c) =
        f.challenge.as_ref().filter(|c| c.error.as_deref() == Some("insufficient_scope"))
    {
        let need: Vec<String> = c.scope.as_deref().unwrap_or("").split_whitespace().map(str::to_string).collect();
        evidence.push(f.here(format!("WWW-Authenticate: error=insufficient_scope, scope=\"{}\"", need.join(" "))));
        (need, true, String::new())
    } else if let (Some(op), Some(have)) = (f.operation(), have) {
        let need = op.scopes.clone().filter(|n| !n.is_empty())?;
        if need.iter().any(|s| have.contains(s)) {
            return None;
        }
        evidence.push(f.here(format!("{} is {}, which requires scope {}", f.call(), op.label(), need.join(" or "))));
        (need, true, String::new())
    } else if let Some(inf) = &f.inferred {
        evidence.push(f.here(format!("{} was refused; {label} lacks {}", f.call(), inf.scopes.join(", "))));
        for p in &inf.proofs {
            evidence.push((*p, format!("the same operation succeeded with a token holding {}", inf.scopes.join(", "))));
        }
        (
            inf.scopes.clone(),
            false,
            format!(" (inferred from {} successful call{})", inf.calls, if inf.calls == 1 { "" } else { "s" }),
        )
    } else {
        return None;
    };
    if let (Some(src), Some(h)) = (source, have_text.as_ref()) {
        evidence.push((src, format!("{label} was granted scopes: {h}")));
    }
    let need_text = need.join(" or ");
    Some(Verdict {
        cause: Cause::ScopeMissing,
        summary: format!(
            "the token lacks scope {need_text}{how}{}",
            have_text.map(|h| format!("; it has {h}")).unwrap_or_default()
        ),
        evidence,
        fix: format!(
            "Add scope `{}` to the OAuth client (Admin > OAuth > the client > Scope) and get a new token (Genesys has no `:write` scopes; read-write is the bare name).",
            need.first().map(String::as_str).unwrap_or("?")
        ),
        proven,
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
        f.challenge = Some(Challenge {
            error: Some("insufficient_scope".into()),
            scope: Some("items:read".into()),
            ..Default::default()
        });
        assert!(check(&f).unwrap().summary.contains("items:read"));
        let tok = token(Grant::AuthorizationCode, Some(&["a"]));
        let mut f = facts("GET", "/v1/items", 403, Some(&tok), Validity::Valid);
        f.inferred = Some(Inferred { scopes: vec!["b".into()], calls: 3, proofs: vec![o(1), o(2)] });
        let v = check(&f).unwrap();
        assert!(v.summary.contains("inferred from 3 successful calls"), "{}", v.summary);
        assert!(!v.proven);
    }
}
