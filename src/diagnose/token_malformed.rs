//! `token_malformed`: the credential sent is not a usable token.
//!
//! - **What:** `Authorization: Bearer undefined`, `Bearer null`, an empty bearer, a JWT cut
//!   short, a value with the scheme repeated.
//! - **Why:** the client sent a placeholder or a damaged value; the server cannot recognize
//!   it as any token and answers 401 (`bad.credentials`).
//! - **Example:** a browser app reads the token from storage before the login finished and
//!   sends `Bearer undefined`.
//! - **Fix:** make sure the token is obtained before calls are made and sent verbatim.

use super::{Cause, Confidence, Facts, Verdict};

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let c = f.credentials.iter().find(|c| c.malformed.is_some())?;
    let why = c.malformed.clone().unwrap_or_default();
    Some(Verdict {
        cause: Cause::TokenMalformed,
        summary: format!("the credential sent is not a usable token: {why}"),
        evidence: vec![f.here(format!("{} carried {} in {}: {why}", f.call(), c.label(), c.carrier))],
        fix: "Send the access token itself (`Authorization: Bearer <token>`): obtain it before making calls and check the code that stores and reads it.".into(),
        confidence: Confidence::Proven,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::token::{Credential, CredentialKind, Validity};

    #[test]
    fn fires_on_a_malformed_credential() {
        let mut f = facts("GET", "/api/v2/users/me", 401, None, Validity::Unknown);
        let mut c = Credential::new(CredentialKind::Opaque, "authorization: bearer", "undefined");
        c.malformed = Some("`Bearer undefined`".into());
        f.credentials.push(c);
        let v = check(&f).unwrap();
        assert!(v.summary.contains("undefined"));
        let f = facts("GET", "/api/v2/users/me", 401, None, Validity::Unknown);
        assert!(check(&f).is_none());
    }
}
