//! `token_wrong_region`: a token from one Genesys Cloud region was used at another's API.
//!
//! - **What:** the token was issued by `login.{domain A}` (e.g. `login.mypurecloud.ie`,
//!   eu_west_1) and sent to `api.{domain B}` (e.g. `api.mypurecloud.com`, us_east_1).
//! - **Why:** organizations, OAuth clients and tokens live in one region; another region's API
//!   does not know the token and answers 401 (`bad.credentials`).
//! - **Example:** an SDK left on its default environment (mypurecloud.com) while the org is
//!   in Ireland.
//! - **Fix:** call the API host of the token's region (`api.{domain A}`), i.e. set the SDK's
//!   environment/region to the organization's.

use super::{Cause, Confidence, Facts, Verdict};

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let u = f.token_use.as_ref()?;
    let Some((issued, used)) = u.cross_region.as_ref() else { return seen_elsewhere(f) };
    let domain = |k: &str| crate::region::by_key(k).map(|r| r.domain).unwrap_or("?");
    let mut evidence = vec![f.here(format!(
        "{} was sent to {} ({used}) with {} issued in {issued}",
        f.call(),
        f.host,
        u.credential.label()
    ))];
    if let Some(at) = u.token.and_then(|t| t.issued_at.as_deref().copied()) {
        evidence.push((at, format!("{} was issued by login.{} ({issued})", u.credential.label(), domain(issued))));
    }
    Some(Verdict {
        cause: Cause::TokenWrongRegion,
        summary: format!("token from region {issued} (login.{}) used at {} ({used})", domain(issued), f.host),
        evidence,
        fix: format!(
            "Send the calls to https://api.{} (the region that issued the token): set the SDK environment/region to {issued}; a token is only valid in its own region.",
            domain(issued)
        ),
        confidence: Confidence::Proven,
    })
}

/// Inferred: the token's issue is not in the capture, but it was seen succeeding at another
/// region's API host before this host refused it.
fn seen_elsewhere(f: &Facts<'_>) -> Option<Verdict> {
    let u = f.token_use.as_ref()?;
    let (ok, n) = f.history.other_region.as_ref()?;
    let there = ok.region.as_deref()?;
    let (here, _) = crate::region::region_of_host(&f.host)?;
    if f.status != 401 || u.token.is_some_and(|t| t.region.is_some()) {
        return None;
    }
    let label = u.credential.label();
    let domain = crate::region::by_key(there).map(|r| r.domain).unwrap_or("?");
    Some(Verdict {
        cause: Cause::TokenWrongRegion,
        summary: format!("{label} worked at {} ({there}) but was refused at {} ({})", ok.host, f.host, here.key),
        evidence: vec![
            f.here(format!("{} was sent to {} ({}) with {label} and refused with {}", f.call(), f.host, here.key, f.status)),
            (ok.origin, format!("{label} succeeded at {} ({there}) here ({n} success{} there)", ok.host, if *n == 1 { "" } else { "es" })),
        ],
        fix: format!(
            "Send the calls to https://api.{domain} (where the token works): set the SDK environment/region to {there}; a token is only valid in its own region."
        ),
        confidence: Confidence::Inferred { calls: *n },
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::token::{Grant, Validity};

    #[test]
    fn fires_on_cross_region_use() {
        let tok = token(Grant::ClientCredentials, None);
        let mut f = facts("GET", "/api/v2/conversations/messages/c", 401, Some(&tok), Validity::Valid);
        f.token_use.as_mut().unwrap().cross_region = Some(("eu_west_1".into(), "us_east_1".into()));
        let v = check(&f).unwrap();
        assert!(v.fix.contains("api.mypurecloud.ie"), "{}", v.fix);
        assert_eq!(v.evidence.len(), 2);
        assert!(check(&facts("GET", "/x", 401, Some(&tok), Validity::Valid)).is_none());
    }
}
