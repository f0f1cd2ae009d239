//! Learning tokens from the traffic itself.
//!
//! Platform tokens (Genesys Cloud's are opaque) say nothing about themselves, but the capture
//! often shows how they were issued and what they could do. In time order, each exchange is
//! read for:
//!
//! - a token-endpoint reply (`POST …/token` with `grant_type`, reply `access_token`,
//!   `expires_in`, `scope`, `refresh_token`): a token issued at the reply's time; a refresh grant
//!   supersedes the token that carried that refresh token (lineage);
//! - an implicit-grant redirect (`#access_token=…&expires_in=…` in a `Location` header or the
//!   request URL);
//! - Genesys `GET /api/v2/tokens/me` (`authorizedScope`, `OAuthClient.authorizedGrantType`,
//!   `OAuthClient.id`, `organization`; genesys-cloud-facts §4);
//! - RFC 7662 introspection replies (`active`, `scope`, `exp`, `client_id`);
//! - revocations: `DELETE /api/v2/tokens/me`, `DELETE /api/v2/webdeployments/token/revoke`,
//!   RFC 7009 `POST …/revoke`;
//! - web messaging guest JWTs: a `JwtResponse` websocket frame, or the replies of
//!   `POST /api/v2/webdeployments/token/oauthcodegrantjwtexchange` and `…/token/refresh`
//!   (genesys-cloud-facts §9).

use super::{
    classify_token, epoch, fingerprint_of as fingerprint, jwt, primary_credential, CredentialKind, Grant, TokenIndex,
};
use crate::body;
use crate::intern::{Str, Strs};
use crate::model::{Direction, Exchange};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// Whether a learner may read this exchange (a superset of what they read): a reader that
/// does not keep every exchange keeps these for [`learn`]. Token endpoints, `tokens/me`,
/// introspection, revocation, guest JWT exchanges (their paths name a token, `introspect` or
/// `revoke`), websocket frames, and fragments in the URL or a `Location` (implicit grant).
pub fn may_learn(ex: &Exchange) -> bool {
    if !ex.websocket.is_empty() || ex.request.url.contains('#') {
        return true;
    }
    if ex.response.as_ref().and_then(|r| r.headers.get("location")).is_some_and(|l| l.contains('#')) {
        return true;
    }
    token_path(&ex.path())
}

/// Whether a path may issue, describe or revoke tokens (a superset of the learners' paths):
/// it names a token, or ends in `introspect` or `revoke`.
pub fn token_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    let p = p.trim_end_matches('/');
    p.contains("token") || p.ends_with("/introspect") || p.ends_with("/revoke")
}

/// Run every learner over the exchanges, in time order.
pub fn learn(idx: &mut TokenIndex, exchanges: impl Iterator<Item = impl std::borrow::Borrow<Exchange>>) {
    for ex in exchanges {
        let ex: &Exchange = ex.borrow();
        let path = ex.path();
        let method = ex.request.method.to_ascii_uppercase();
        token_endpoint(idx, ex, &method, &path);
        implicit(idx, ex);
        tokens_me(idx, ex, &method, &path);
        introspection(idx, ex, &method, &path);
        revocation(idx, ex, &method, &path);
        guest(idx, ex, &method, &path);
    }
}

/// When the reply was complete: the request's start plus its duration, where known.
pub fn reply_time(ex: &Exchange) -> DateTime<Utc> {
    match ex.duration_ms {
        Some(d) if d.is_finite() && (0.0..86_400_000.0).contains(&d) => {
            super::plus(ex.started, Duration::microseconds((d * 1000.0) as i64))
        }
        _ => ex.started,
    }
}

fn ok(ex: &Exchange) -> bool {
    ex.status().is_some_and(|s| (200..300).contains(&s))
}

fn reply_json(ex: &Exchange) -> Option<Value> {
    let r = ex.response.as_ref()?;
    body::json(&r.headers, r.body.as_deref())
}

/// Request parameters from a form body, or a JSON object body.
fn request_params(ex: &Exchange) -> Vec<(String, String)> {
    let h = &ex.request.headers;
    let b = ex.request.body.as_deref();
    if let Some(Value::Object(o)) = body::json(h, b) {
        return o.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect();
    }
    body::form(h, b).unwrap_or_default()
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// A number of seconds given as a number or a numeric string.
fn seconds(v: Option<&Value>) -> Option<i64> {
    let f = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (f.is_finite() && (0.0..=10.0 * 365.0 * 86_400.0).contains(&f)).then_some(f as i64)
}

fn scopes_of(v: Option<&Value>) -> Option<Strs> {
    v.map(|v| Strs::interned(jwt::scope_list(v)))
}

fn token_kind(secret: &str) -> CredentialKind {
    match classify_token(secret).0 {
        CredentialKind::Jwt => CredentialKind::Jwt,
        _ => CredentialKind::Opaque,
    }
}

/// Record an issue: the token reply, redirect or frame that handed out `secret`.
struct Issue<'a> {
    secret: &'a str,
    kind: CredentialKind,
    grant: Grant,
    at: DateTime<Utc>,
    ex: &'a Exchange,
    issuer_host: Option<String>,
    expires_in: Option<i64>,
    scopes: Option<(Strs, &'static str)>,
    client_id: Option<Str>,
    refresh_token: Option<String>,
    /// Fingerprint of the refresh token this issue was obtained with.
    refreshed_with: Option<String>,
}

fn issue(idx: &mut TokenIndex, i: Issue<'_>) {
    // Lineage: the token whose refresh token was spent.
    let parent = i.refreshed_with.as_deref().and_then(|rfp| idx.refreshed_from(rfp));
    let (parent_fp, parent_user, parent_client, parent_scopes) = match parent.and_then(|p| idx.tokens.get(p)) {
        Some(p) => (Some(p.fingerprint.clone()), p.has_user, p.client_id.clone(), p.scopes.clone()),
        None => (None, None, None, None),
    };
    let fp = fingerprint(i.secret);
    let t = idx.entry(i.secret, i.kind);
    if t.issued.is_some_and(|prev| prev <= i.at) && t.issued_at.is_some() {
        // Already known from an earlier issue of the same value: keep the first.
        return;
    }
    t.grant = i.grant;
    t.issued = Some(i.at);
    t.issued_server_clock = false;
    t.issued_at = Some(Box::new(i.ex.origin));
    if let Some(h) = &i.issuer_host {
        t.set_issuer_host(h);
    }
    if let Some(s) = i.expires_in {
        t.expires = Some(super::plus(i.at, Duration::try_seconds(s).unwrap_or(Duration::MAX)));
        t.expires_server_clock = false;
    }
    if let Some((s, from)) = i.scopes {
        t.scopes = Some(s);
        t.scopes_from = Some(from);
        t.rare_mut().scopes_source = Some(Box::new(i.ex.origin));
    } else if t.scopes.is_none() && parent_scopes.is_some() {
        // A refresh keeps the scopes of the grant (RFC 6749 §6) unless the reply says otherwise.
        t.scopes = parent_scopes;
        t.scopes_from = Some("refreshed_token");
    }
    t.has_user = i.grant.has_user().or(parent_user).or(t.has_user);
    if i.grant == Grant::RefreshToken && t.has_user.is_none() {
        // Refresh tokens come with user grants (RFC 6749 §4.4.3: not for client credentials).
        t.has_user = Some(true);
    }
    if let Some(c) = i.client_id.or(parent_client) {
        t.client_id = Some(c);
    }
    lineage(idx, fp, (parent, parent_fp), i.refresh_token.as_deref(), i.at);
}

/// The token `fp` replaced the token at `parent` (its index and fingerprint) at `at`, and was
/// handed the refresh token `refresh`.
fn lineage(
    idx: &mut TokenIndex,
    fp: String,
    (parent, parent_fp): (Option<usize>, Option<String>),
    refresh: Option<&str>,
    at: DateTime<Utc>,
) {
    let me = idx.position(&fp);
    if let Some(t) = me.and_then(|i| idx.tokens.get_mut(i)) {
        // Set (or cleared) without allocating the rare part for nothing.
        if parent_fp.is_some() || t.rare().supersedes.is_some() {
            t.rare_mut().supersedes = parent_fp;
        }
    }
    if let (Some(r), Some(me)) = (refresh, me) {
        idx.set_refresh_token(me, fingerprint(r.trim()));
    }
    if let Some(p) = parent.and_then(|p| idx.tokens.get_mut(p)) {
        if p.fingerprint != fp {
            let r = p.rare_mut();
            r.superseded_by = Some(fp);
            r.superseded_at = Some(at);
        }
    }
}

/// `POST …/token` with a `grant_type`, answered 2xx with an `access_token`.
fn token_endpoint(idx: &mut TokenIndex, ex: &Exchange, method: &str, path: &str) {
    if method != "POST" || !path.to_ascii_lowercase().trim_end_matches('/').ends_with("/token") || !ok(ex) {
        return;
    }
    let Some(reply) = reply_json(ex) else { return };
    let Some(access) = reply.get("access_token").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else {
        return;
    };
    let params = request_params(ex);
    let grant = param(&params, "grant_type").map(Grant::from_grant_type).unwrap_or(Grant::Unknown);
    let basic_user = primary_credential(ex).filter(|c| c.kind == CredentialKind::Basic).and_then(|c| c.principal);
    let client_id = basic_user.as_deref().or_else(|| param(&params, "client_id")).map(Str::interned);
    let refreshed_with = (grant == Grant::RefreshToken)
        .then(|| param(&params, "refresh_token").map(|r| fingerprint(r.trim())))
        .flatten();
    let scopes = scopes_of(reply.get("scope")).map(|s| (s, "token_reply"));
    issue(
        idx,
        Issue {
            secret: access.trim(),
            kind: token_kind(access),
            grant,
            at: reply_time(ex),
            ex,
            issuer_host: Some(ex.host().into_owned()),
            expires_in: seconds(reply.get("expires_in")),
            scopes,
            client_id,
            refresh_token: reply.get("refresh_token").and_then(Value::as_str).map(str::to_string),
            refreshed_with,
        },
    );
}

/// The fragment parameters of a URL, when they carry an `access_token`.
fn fragment_token(url: &str) -> Option<Vec<(String, String)>> {
    let (_, frag) = url.split_once('#')?;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(frag.as_bytes()).into_owned().collect();
    pairs.iter().any(|(k, v)| k == "access_token" && !v.is_empty()).then_some(pairs)
}

/// The implicit grant: `#access_token=…&expires_in=…` in a redirect or the request URL.
fn implicit(idx: &mut TokenIndex, ex: &Exchange) {
    let from_location = ex
        .response
        .as_ref()
        .and_then(|r| r.headers.get("location"))
        .and_then(fragment_token)
        .map(|p| (p, reply_time(ex), Some(ex.host().into_owned())));
    let from_url = || fragment_token(&ex.request.url).map(|p| (p, ex.started, None));
    let Some((pairs, at, issuer)) = from_location.or_else(from_url) else { return };
    let Some(secret) = param(&pairs, "access_token").map(str::trim).filter(|s| !s.is_empty()) else { return };
    // Same bounds as a token reply's `expires_in` (a huge value must not overflow the time).
    let expires_in = seconds(param(&pairs, "expires_in").map(|s| Value::String(s.to_string())).as_ref());
    let scopes =
        param(&pairs, "scope").map(|s| (s.split_whitespace().map(str::to_string).collect(), "implicit_fragment"));
    issue(
        idx,
        Issue {
            secret,
            kind: token_kind(secret),
            grant: Grant::Implicit,
            at,
            ex,
            issuer_host: issuer,
            expires_in,
            scopes,
            client_id: None,
            refresh_token: None,
            refreshed_with: None,
        },
    );
}

/// Genesys `GET /api/v2/tokens/me` answered 2xx: what the calling token is.
fn tokens_me(idx: &mut TokenIndex, ex: &Exchange, method: &str, path: &str) {
    if method != "GET" || path.trim_end_matches('/') != "/api/v2/tokens/me" || !ok(ex) {
        return;
    }
    let Some(reply) = reply_json(ex) else { return };
    let Some(cred) = primary_credential(ex).filter(|c| c.malformed.is_none()) else { return };
    let host = ex.host();
    let t = idx.entry(&cred.secret, cred.kind);
    if let Some(Value::Array(a)) = reply.get("authorizedScope") {
        t.scopes = Some(a.iter().filter_map(Value::as_str).collect());
        t.scopes_from = Some("tokens_me");
        t.rare_mut().scopes_source = Some(Box::new(ex.origin));
    }
    if let Some(client) = reply.get("OAuthClient") {
        if let Some(g) = client.get("authorizedGrantType").and_then(Value::as_str) {
            let g = Grant::from_genesys(g);
            if t.grant == Grant::Unknown {
                t.grant = g;
            }
            if t.has_user.is_none() {
                t.has_user = g.has_user();
            }
        }
        if t.client_id.is_none() {
            t.client_id = client.get("id").and_then(Value::as_str).map(Str::interned);
        }
    }
    if let Some(org) = reply.get("organization") {
        let name = org.get("name").and_then(Value::as_str);
        let id = org.get("id").and_then(Value::as_str);
        let named = match (name, id) {
            (Some(n), Some(i)) => Some(format!("{n} ({i})")),
            (Some(n), None) => Some(n.to_string()),
            (None, Some(i)) => Some(i.to_string()),
            (None, None) => None,
        };
        if named.is_some() {
            t.rare_mut().organization = named;
        }
    }
    if t.region.is_none() {
        // Accepted by this region's API: a Genesys token belongs to its region (facts §5).
        if let Some((r, _)) = crate::region::region_of_host(&host) {
            t.region = Some(r.key);
        }
    }
}

/// RFC 7662: `POST …/introspect` with `token=…`, reply `{"active": …}`.
fn introspection(idx: &mut TokenIndex, ex: &Exchange, method: &str, path: &str) {
    if method != "POST" || !path.to_ascii_lowercase().trim_end_matches('/').ends_with("/introspect") || !ok(ex) {
        return;
    }
    let Some(reply) = reply_json(ex) else { return };
    let Some(active) = reply.get("active").and_then(Value::as_bool) else { return };
    let params = request_params(ex);
    let Some(secret) = param(&params, "token").map(str::trim).filter(|s| !s.is_empty()) else { return };
    let at = reply_time(ex);
    let t = idx.entry(secret, token_kind(secret));
    if active {
        if let Some(s) = scopes_of(reply.get("scope")) {
            t.scopes = Some(s);
            t.scopes_from = Some("introspection");
            t.rare_mut().scopes_source = Some(Box::new(ex.origin));
        }
        // NumericDates (RFC 7662 §2.2): fractions and numeric strings are tolerated, as in JWTs.
        if let Some(e) = reply.get("exp").and_then(jwt::num_date).and_then(epoch) {
            t.expires = Some(e);
            t.expires_server_clock = true;
        }
        if t.issued.is_none() {
            if let Some(i) = reply.get("iat").and_then(jwt::num_date).and_then(epoch) {
                t.issued = Some(i);
                t.issued_server_clock = true;
            }
        }
        if let Some(c) = reply.get("client_id").and_then(Value::as_str) {
            t.client_id = Some(Str::interned(c));
        }
        if t.subject.is_none() {
            t.subject = reply.get("sub").and_then(Value::as_str).map(Str::from);
        }
        if t.issuer.is_none() {
            match reply.get("iss").and_then(Value::as_str) {
                Some(iss) => t.issuer = Some(Str::interned(iss)),
                None => t.set_issuer_host(&ex.host()),
            }
        }
    } else if t.rare().revoked.is_none() && t.expires.is_none_or(|e| e > at) {
        let r = t.rare_mut();
        r.revoked = Some(at);
        r.revoked_by = Some(Box::new(ex.origin));
        r.revoked_reason = Some("introspection answered active: false".into());
    }
}

fn revoke(idx: &mut TokenIndex, secret: &str, kind: CredentialKind, ex: &Exchange, why: &str) {
    let at = reply_time(ex);
    let t = idx.entry(secret, kind);
    if t.rare().revoked.is_none_or(|r| at < r) {
        let r = t.rare_mut();
        r.revoked = Some(at);
        r.revoked_by = Some(Box::new(ex.origin));
        r.revoked_reason = Some(why.to_string());
    }
}

/// `DELETE /api/v2/tokens/me` (the calling token), `DELETE /api/v2/webdeployments/token/revoke`
/// (the calling guest JWT), RFC 7009 `POST …/revoke` (`token=…`).
fn revocation(idx: &mut TokenIndex, ex: &Exchange, method: &str, path: &str) {
    if !ok(ex) {
        return;
    }
    let p = path.trim_end_matches('/');
    if method == "DELETE" && (p == "/api/v2/tokens/me" || p == "/api/v2/webdeployments/token/revoke") {
        if let Some(c) = primary_credential(ex).filter(|c| c.malformed.is_none()) {
            revoke(idx, &c.secret, c.kind, ex, &format!("DELETE {p}"));
        }
    } else if method == "POST" && p.to_ascii_lowercase().ends_with("/revoke") {
        let params = request_params(ex);
        if let Some(secret) = param(&params, "token").map(str::trim).filter(|s| !s.is_empty()) {
            let fp = fingerprint(secret);
            if param(&params, "token_type_hint") == Some("refresh_token") || idx.refreshed_from(&fp).is_some() {
                return; // a refresh token, not an access token
            }
            if idx.position(&fp).is_some() || param(&params, "token_type_hint") == Some("access_token") {
                revoke(idx, secret, token_kind(secret), ex, "RFC 7009 revocation");
            }
        }
    }
}

/// A guest JWT expiry as the server wrote it: epoch seconds, epoch milliseconds, or RFC 3339.
fn guest_exp(v: Option<&Value>) -> Option<DateTime<Utc>> {
    match v? {
        Value::Number(n) => {
            let f = n.as_f64()?;
            let secs = if f > 1e12 { f / 1000.0 } else { f };
            (secs.is_finite() && secs.abs() < 253_402_300_799.0).then(|| epoch(secs as i64)).flatten()
        }
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(f) => guest_exp(serde_json::Number::from_f64(f).map(Value::Number).as_ref()),
            Err(_) => DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc)),
        },
        _ => None,
    }
}

fn guest_issue(
    idx: &mut TokenIndex,
    ex: &Exchange,
    jwt_text: &str,
    at: DateTime<Utc>,
    exp: Option<DateTime<Utc>>,
    refresh: Option<&str>,
    refreshed_with: Option<String>,
) {
    let host = ex.host();
    let parent = refreshed_with.as_deref().and_then(|rfp| idx.refreshed_from(rfp));
    let fp = fingerprint(jwt_text);
    let parent_fp = parent.and_then(|p| idx.tokens.get(p)).map(|p| p.fingerprint.clone());
    let t = idx.entry(jwt_text, CredentialKind::GuestJwt);
    if t.issued_at.is_some() {
        return;
    }
    t.kind = CredentialKind::GuestJwt;
    t.grant = Grant::Guest;
    t.has_user = Some(false);
    t.issued = Some(at);
    t.issued_server_clock = false;
    t.issued_at = Some(Box::new(ex.origin));
    t.set_issuer_host(&host);
    if let Some(e) = exp {
        t.expires = Some(e);
        t.expires_server_clock = true;
    }
    lineage(idx, fp, (parent, parent_fp), refresh, at);
}

/// Web messaging guest JWTs: `JwtResponse` frames and the token exchange / refresh replies.
fn guest(idx: &mut TokenIndex, ex: &Exchange, method: &str, path: &str) {
    for m in &ex.websocket {
        if m.direction != Direction::Receive {
            continue;
        }
        let Some(text) = m.text() else { continue };
        if !text.contains("JwtResponse") {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(text) else { continue };
        if v.get("class").and_then(Value::as_str) != Some("JwtResponse") {
            continue;
        }
        let Some(body) = v.get("body") else { continue };
        let Some(j) = body.get("jwt").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else { continue };
        guest_issue(idx, ex, j.trim(), m.time, guest_exp(body.get("exp")), None, None);
    }
    let p = path.trim_end_matches('/');
    if method == "POST"
        && (p == "/api/v2/webdeployments/token/oauthcodegrantjwtexchange"
            || p == "/api/v2/webdeployments/token/refresh")
        && ok(ex)
    {
        let Some(reply) = reply_json(ex) else { return };
        let Some(j) = reply.get("jwt").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else { return };
        let refreshed_with = if p.ends_with("/refresh") {
            request_params(ex).iter().find(|(k, _)| k == "refreshToken").map(|(_, v)| fingerprint(v.trim()))
        } else {
            None
        };
        let exp = jwt::decode(j).claims().and_then(|c| c.exp).and_then(epoch);
        let refresh = reply.get("refreshToken").and_then(Value::as_str);
        guest_issue(idx, ex, j.trim(), reply_time(ex), exp, refresh, refreshed_with);
    }
}
