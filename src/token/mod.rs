//! Credentials: finding them in requests, decoding them, and learning what they could do.
//!
//! A 401 or 403 cannot be explained without knowing the credential that was sent. This module
//! finds every credential a request carries ([`request_credentials`]), decodes what can be
//! decoded (JWTs, [`jwt`]), learns the rest from the traffic itself ([`learn`]: token-endpoint
//! replies, implicit-grant redirects, Genesys `GET /api/v2/tokens/me`, RFC 7662 introspection,
//! revocations, web messaging guest JWTs), and says for any request which token it carried and
//! whether that token was valid at that instant ([`TokenIndex::judge`]).
//!
//! Public surface other modules rely on: [`CredentialKind`], [`Credential`],
//! [`request_credentials`], [`primary_credential`], [`Token`], [`TokenIndex::from_uses`],
//! [`TokenIndex::build`], [`TokenIndex::get`], [`TokenIndex::judge`], [`TokenUse`],
//! [`Validity`], [`Grant`], [`ClockSkew`], [`TokenOptions`].
//!
//! Times: everything learned from the traffic (a token reply's time, a revocation) is on the
//! capture's clock. Times written inside a token (`exp`, `nbf`, `iat`, a guest `JwtResponse`'s
//! `exp`) are on the server's clock; they are compared with a request's time shifted by the
//! clock skew estimated from response `Date` headers ([`ClockSkew`]).

pub mod jwt;
pub mod learn;
mod uses;
pub use uses::Uses;

use crate::intern::{Str, Strs};
use crate::model::{Capture, Exchange, Origin};
use crate::redact::fingerprint;
use crate::region::region_of_host;
use chrono::{DateTime, Duration, Utc};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// What kind of credential was sent. Names are part of the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A JOSE token: a JWT (JWS with claims), a JWS with another payload, or an encrypted JWE.
    Jwt,
    /// A token harken cannot look inside (Genesys platform access tokens are of this kind).
    #[default]
    Opaque,
    /// HTTP Basic (`user:password`, for OAuth the client id and secret).
    Basic,
    /// A session-like cookie.
    Cookie,
    /// An API key in a header or query parameter.
    ApiKey,
    /// A Genesys web messaging guest JWT (from a `JwtResponse` frame or the token exchange).
    GuestJwt,
    /// Not a secret but who the request was made as, as an access log records it (remote user,
    /// `user_id`, `DOMAIN\\user`, a JWT's subject, a consumer or client id): uses and refusals
    /// can be grouped by it like a credential's.
    Identity,
}

impl CredentialKind {
    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::Jwt => "jwt",
            CredentialKind::Opaque => "opaque",
            CredentialKind::Basic => "basic",
            CredentialKind::Cookie => "cookie",
            CredentialKind::ApiKey => "api_key",
            CredentialKind::GuestJwt => "guest_jwt",
            CredentialKind::Identity => "identity",
        }
    }
}

/// How a token was obtained. Names are part of the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
    Implicit,
    RefreshToken,
    Password,
    Saml2Bearer,
    /// Web messaging guest (no OAuth: bound to a deployment).
    Guest,
    #[default]
    Unknown,
}

impl Grant {
    pub fn name(self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::AuthorizationCode => "authorization_code",
            Grant::Implicit => "implicit",
            Grant::RefreshToken => "refresh_token",
            Grant::Password => "password",
            Grant::Saml2Bearer => "saml2_bearer",
            Grant::Guest => "guest",
            Grant::Unknown => "unknown",
        }
    }

    /// An OAuth `grant_type` form value.
    pub fn from_grant_type(s: &str) -> Grant {
        match s.trim() {
            "client_credentials" => Grant::ClientCredentials,
            "authorization_code" => Grant::AuthorizationCode,
            "refresh_token" => Grant::RefreshToken,
            "password" => Grant::Password,
            "urn:ietf:params:oauth:grant-type:saml2-bearer" => Grant::Saml2Bearer,
            _ => Grant::Unknown,
        }
    }

    /// A Genesys `OAuthClient.authorizedGrantType` (genesys-cloud-facts §3).
    pub fn from_genesys(s: &str) -> Grant {
        match s.trim().to_ascii_uppercase().as_str() {
            "CLIENT-CREDENTIALS" | "CLIENT_CREDENTIALS" => Grant::ClientCredentials,
            "CODE" => Grant::AuthorizationCode,
            "TOKEN" => Grant::Implicit,
            "SAML2-BEARER" | "SAML2_BEARER" => Grant::Saml2Bearer,
            "PASSWORD" => Grant::Password,
            _ => Grant::Unknown,
        }
    }

    /// Whether tokens of this grant act for a user (`None`: the grant does not say).
    pub fn has_user(self) -> Option<bool> {
        match self {
            Grant::ClientCredentials | Grant::Guest => Some(false),
            Grant::AuthorizationCode | Grant::Implicit | Grant::Password | Grant::Saml2Bearer => Some(true),
            Grant::RefreshToken | Grant::Unknown => None,
        }
    }
}

/// A credential as one request carried it. `secret` is never serialized.
#[derive(Debug, Clone, Serialize)]
pub struct Credential {
    pub kind: CredentialKind,
    pub fingerprint: String,
    /// Where it travelled, e.g. `authorization: bearer`, `cookie: sid`, `query: access_token`.
    pub carrier: String,
    /// Why the value is not a usable token (`Bearer undefined`, empty, truncated JWT), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub malformed: Option<String>,
    /// The non-secret name inside the credential, when it has one: the user (OAuth client id)
    /// of Basic auth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip)]
    pub secret: String,
    /// The JOSE shape decoded while classifying the value, when this request's classification
    /// decoded it (not when the value was already known): handed to the token index, so that
    /// each JWT is decoded once rather than once to classify and once for its claims.
    #[serde(skip)]
    pub(crate) shape: Option<std::sync::Arc<jwt::Shape>>,
}

impl PartialEq for Credential {
    /// The same credential as carried, whether or not its shape came along.
    fn eq(&self, o: &Self) -> bool {
        (&self.kind, &self.fingerprint, &self.carrier, &self.malformed, &self.principal, &self.secret)
            == (&o.kind, &o.fingerprint, &o.carrier, &o.malformed, &o.principal, &o.secret)
    }
}

/// What is known of one credential value without looking at where it travelled: computed
/// once per distinct value and thread ([`Memo`]).
#[derive(Clone, Default)]
struct Known {
    fingerprint: String,
    /// [`classify_token`]'s answer, once asked.
    class: Option<(CredentialKind, Option<String>)>,
}

/// Credential values already fingerprinted (SHA-256) and classified (a JWT decode) by this
/// thread. The same token travels on many requests and is looked at by several passes (uses,
/// lineage, diagnosis); each distinct value is hashed and decoded once. Bounded: cleared when
/// its keys exceed [`MEMO_BYTES`], so hostile inputs with millions of distinct values cost
/// recomputation, not memory.
#[derive(Default)]
struct Memo {
    /// foldhash: SipHash over every token's bytes cost more than the memo saved.
    map: HashMap<Box<str>, Known, foldhash::fast::RandomState>,
    bytes: usize,
}

const MEMO_BYTES: usize = 2 << 20;

thread_local! {
    static MEMO: std::cell::RefCell<Memo> = std::cell::RefCell::new(Memo::default());
}

/// Look a value up in this thread's memo (computing its fingerprint when new) and let `f`
/// read or complete what is known.
fn with_known<R>(value: &str, f: impl FnOnce(&mut Known) -> R) -> R {
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        // One lookup when known; a new value is completed by `f`, then remembered.
        if let Some(k) = m.map.get_mut(value) {
            return f(k);
        }
        let mut known = Known { fingerprint: fingerprint(value), class: None };
        let r = f(&mut known);
        if m.bytes + value.len() > MEMO_BYTES {
            m.map.clear();
            m.bytes = 0;
        }
        m.bytes += value.len();
        m.map.insert(value.into(), known);
        r
    })
}

/// [`fingerprint`], computed once per distinct value.
pub(crate) fn fingerprint_of(secret: &str) -> String {
    with_known(secret, |k| k.fingerprint.clone())
}

impl Credential {
    pub fn new(kind: CredentialKind, carrier: impl Into<String>, secret: impl Into<String>) -> Self {
        let secret = secret.into();
        Credential {
            kind,
            fingerprint: fingerprint_of(&secret),
            carrier: carrier.into(),
            malformed: None,
            principal: None,
            secret,
            shape: None,
        }
    }
    /// `kind:fingerprint`, the way every output names a credential unless `--show-secrets`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.kind.name(), self.fingerprint)
    }
    fn malformed(mut self, why: Option<String>) -> Self {
        self.malformed = why;
        self
    }
}

/// Values clients send when their token variable was never set.
const PLACEHOLDERS: &[&str] = &[
    "undefined",
    "null",
    "none",
    "nil",
    "nan",
    "false",
    "true",
    "[object object]",
    "<token>",
    "{token}",
    "${token}",
    "{{token}}",
    "token",
    "your_token",
    "access_token",
    "bearer",
];

/// The kind of a bearer-like token value and, if it is not usable, why. Each distinct value
/// is decoded once (per thread).
pub fn classify_token(value: &str) -> (CredentialKind, Option<String>) {
    classify_with_shape(value).0
}

/// [`classify_token`], and the JOSE shape when this call decoded it (the value was new).
fn classify_with_shape(value: &str) -> ((CredentialKind, Option<String>), Option<jwt::Shape>) {
    let mut decoded = None;
    let class = with_known(value, |k| {
        k.class
            .get_or_insert_with(|| {
                let (class, shape) = classify_uncached(value);
                decoded = shape;
                class
            })
            .clone()
    });
    (class, decoded)
}

/// The ASCII bytes that end a token68 value ([`classify_uncached`]'s `separator`).
static SEPARATOR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = b <= 0x20 || b == 0x7f || matches!(b as u8, b'"' | b'\'' | b',' | b';' | b'<' | b'>');
        b += 1;
    }
    t
};

/// The kind and why it is unusable; with the decoded JOSE shape when the value was decoded.
fn classify_uncached(value: &str) -> ((CredentialKind, Option<String>), Option<jwt::Shape>) {
    let class = |kind, why: Option<String>| ((kind, why), None);
    let v = value.trim();
    if v.is_empty() {
        return class(CredentialKind::Opaque, Some("empty token".into()));
    }
    // Placeholders are short: lower-case only those (a JWT is hundreds of bytes).
    let short = v.len() <= 32;
    let lower = if short { v.to_ascii_lowercase() } else { String::new() };
    if short && PLACEHOLDERS.contains(&lower.as_str()) {
        return class(
            CredentialKind::Opaque,
            Some(format!(
                "placeholder {:?}: the client had no token to send (an unset variable)",
                crate::redact::escape(v)
            )),
        );
    }
    let starts = |p: &str| v.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if starts("bearer ") || starts("basic ") {
        return class(CredentialKind::Opaque, Some("the scheme is repeated (`Bearer Bearer …`)".into()));
    }
    let separator = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | ',' | ';' | '<' | '>');
    // ASCII values (nearly all) are checked byte by byte: the same test as a table, without
    // decoding chars (ASCII whitespace and controls are 0x00..=0x20 and 0x7f).
    let bad = if v.is_ascii() { v.bytes().any(|b| SEPARATOR[b as usize]) } else { v.chars().any(separator) };
    if bad {
        return class(
            CredentialKind::Opaque,
            Some("contains spaces, quotes or separators: not a token68 value (RFC 6750 §2.1)".into()),
        );
    }
    let shape = jwt::decode(v);
    let c = match &shape {
        jwt::Shape::Opaque => return class(CredentialKind::Opaque, None),
        jwt::Shape::Jws(_) | jwt::Shape::Jwe { .. } => (CredentialKind::Jwt, None),
        jwt::Shape::Malformed { reason } => (CredentialKind::Jwt, Some(reason.clone())),
    };
    (c, Some(shape))
}

/// Paths whose JWT bearer is a web messaging guest JWT ("Webmessaging JWT" scheme,
/// genesys-cloud-facts §9).
fn is_guest_path(path: &str) -> bool {
    path.starts_with("/api/v2/webmessaging/") || path.starts_with("/api/v2/webdeployments/token/")
}

/// A bearer-like value found somewhere in a request.
fn token_credential(value: &str, carrier: String, guest: bool) -> Credential {
    let ((mut kind, why), shape) = classify_with_shape(value);
    if guest && kind == CredentialKind::Jwt {
        kind = CredentialKind::GuestJwt;
    }
    let mut c = Credential::new(kind, carrier, value.trim()).malformed(why);
    c.shape = shape.map(std::sync::Arc::new);
    c
}

fn authorization(value: &str, guest: bool) -> Credential {
    let v = value.trim();
    if v.is_empty() {
        return Credential::new(CredentialKind::Opaque, "authorization", "")
            .malformed(Some("empty Authorization header".into()));
    }
    let (scheme, rest) = match v.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r.trim()),
        None => {
            let lower = v.to_ascii_lowercase();
            if matches!(lower.as_str(), "bearer" | "basic" | "token" | "digest" | "negotiate") {
                return Credential::new(CredentialKind::Opaque, format!("authorization: {lower}"), "")
                    .malformed(Some(format!("scheme {v} with no token")));
            }
            return token_credential(v, "authorization: (no scheme)".into(), guest);
        }
    };
    let lscheme = scheme.to_ascii_lowercase();
    match lscheme.as_str() {
        "bearer" => token_credential(rest, "authorization: bearer".into(), guest),
        "basic" => {
            let mut c = Credential::new(CredentialKind::Basic, "authorization: basic", rest);
            let decoded = crate::body::base64_lenient(rest).and_then(|b| String::from_utf8(b).ok());
            match decoded.as_deref().and_then(|s| s.split_once(':')) {
                Some((user, _)) => c.principal = Some(user.to_string()),
                None if rest.is_empty() => c.malformed = Some("Basic with no credentials".into()),
                None => c.malformed = Some("Basic credentials are not base64 of user:password".into()),
            }
            c
        }
        _ => {
            let (kind, _) = classify_token(rest);
            let kind = if kind == CredentialKind::Jwt { kind } else { CredentialKind::Opaque };
            let mut c = Credential::new(kind, format!("authorization: {lscheme}"), rest);
            if rest.is_empty() {
                c.malformed = Some(format!("scheme {scheme} with no credentials"));
            }
            c
        }
    }
}

/// Request headers that carry API keys (ApiKey) or access tokens (classified by shape).
const KEY_HEADERS: &[(&str, bool)] = &[
    ("x-api-key", true),
    ("api-key", true),
    ("apikey", true),
    ("x-apikey", true),
    ("x-goog-api-key", true),
    ("ocp-apim-subscription-key", true),
    ("x-functions-key", true),
    ("x-auth-token", false),
    ("x-access-token", false),
    ("private-token", false),
];

/// Whether [`request_credentials`] reads a request header of this name.
pub fn is_credential_header(name: &str) -> bool {
    ["authorization", "cookie", "sec-websocket-protocol"].iter().any(|n| name.eq_ignore_ascii_case(n))
        || KEY_HEADERS.iter().any(|(n, _)| name.eq_ignore_ascii_case(n))
}

/// Query parameters that carry API keys (true) or access tokens (false).
const KEY_PARAMS: &[(&str, bool)] = &[
    ("access_token", false),
    ("jwt", false),
    ("api_key", true),
    ("apikey", true),
    ("api-key", true),
    ("x-api-key", true),
    ("key", true),
    ("subscription-key", true),
];

/// Cookie names that are not credentials even though they look like sessions (analytics).
const COOKIE_NOISE: &[&str] = &[
    "_ga",
    "_gid",
    "_gcl",
    "_fbp",
    "ajs_",
    "optimizely",
    "amplitude",
    "_hj",
    "__utm",
    "mp_",
    "intercom",
    "_dd_s",
    "datadome",
];
const COOKIE_SESSIONLIKE: &[&str] =
    &["session", "sess", "sid", "auth", "token", "jwt", "login", "sso", "access", "__host-", "__secure-"];
/// At most this many cookies per request are reported as credentials.
const MAX_COOKIES: usize = 3;

/// Every credential a request carried, the one the server most likely judged first:
/// `Authorization` (Bearer → jwt / guest_jwt / opaque; Basic; other schemes; a raw token with
/// no scheme), then API-key headers, query parameters (`access_token`, `api_key`, …),
/// `Sec-WebSocket-Protocol` tokens, and session-like cookies (at most three).
/// URL fragments are not included: browsers do not send them.
pub fn request_credentials(ex: &Exchange) -> Vec<Credential> {
    let mut out = request_credentials_sent(ex);
    // A logged identity comes last: a credential the request carried stays the primary one.
    if let Some(id) = &ex.identity {
        out.push(identity_credential(id));
    }
    out
}

/// The credential a logged identity stands for (`identity`, carried by `log: <field>`).
pub fn identity_credential(id: &crate::model::Identity) -> Credential {
    let mut c = Credential::new(CredentialKind::Identity, format!("log: {}", id.source), id.name.clone());
    c.principal = Some(id.name.clone());
    c
}

fn request_credentials_sent(ex: &Exchange) -> Vec<Credential> {
    let mut out = Vec::new();
    // The path and query as a parser leaves them (no query when the URL does not parse): the
    // URL cut when it is plain, else parsed once.
    let raw = ex.request.url.as_str();
    let plain = crate::model::plain_url(raw);
    let parsed = if plain.is_none() { ex.url() } else { None };
    let (path, query) = match (&plain, &parsed) {
        (Some(p), _) => (std::borrow::Cow::Borrowed(p.path), p.query),
        (None, Some(u)) => (std::borrow::Cow::Borrowed(u.path()), u.query()),
        (None, None) => (crate::model::host_and_path(raw, None).1, None),
    };
    let guest = is_guest_path(&path);
    for value in ex.request.headers.get_all("authorization") {
        out.push(authorization(value, guest));
    }
    for h in ex.request.headers.iter() {
        if let Some((name, is_key)) = KEY_HEADERS.iter().find(|(n, _)| h.name.eq_ignore_ascii_case(n)) {
            let carrier = format!("header: {name}");
            if *is_key {
                let why = h.value.trim().is_empty().then(|| "empty API key".to_string());
                out.push(Credential::new(CredentialKind::ApiKey, carrier, h.value.trim()).malformed(why));
            } else {
                out.push(token_credential(&h.value, carrier, guest));
            }
        }
    }
    if let Some(q) = query {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            if let Some((name, is_key)) = KEY_PARAMS.iter().find(|(n, _)| k.eq_ignore_ascii_case(n)) {
                let carrier = format!("query: {name}");
                if *is_key {
                    let why = v.trim().is_empty().then(|| "empty API key".to_string());
                    out.push(Credential::new(CredentialKind::ApiKey, carrier, v.trim()).malformed(why));
                } else {
                    out.push(token_credential(&v, carrier, guest));
                }
            }
        }
    }
    for value in ex.request.headers.get_all("sec-websocket-protocol") {
        let members: Vec<&str> = value.split(',').map(str::trim).filter(|m| !m.is_empty()).collect();
        for (i, m) in members.iter().enumerate() {
            let after_marker = i > 0
                && members.get(i - 1).is_some_and(|p| {
                    matches!(
                        p.to_ascii_lowercase().as_str(),
                        "access_token" | "bearer" | "authorization" | "token" | "jwt"
                    )
                });
            // `authorization.bearer.<token>` (GraphQL and API gateways that cannot set headers
            // on a browser websocket: `Sec-WebSocket-Protocol: v1, authorization.bearer.<JWT>`).
            let lower = m.get(..21).map(str::to_ascii_lowercase);
            if let Some(t) = m.strip_prefix("base64url.bearer.authorization.k8s.io.") {
                out.push(token_credential(t, "sec-websocket-protocol: bearer".into(), guest));
            } else if lower.as_deref() == Some("authorization.bearer.") && m.len() > 21 {
                out.push(token_credential(&m[21..], "sec-websocket-protocol: authorization.bearer".into(), guest));
            } else if after_marker || jwt::decode(m).is_jose() {
                out.push(token_credential(m, "sec-websocket-protocol".into(), guest));
            }
        }
    }
    let mut cookies = 0;
    for value in ex.request.headers.get_all("cookie") {
        for pair in value.split(';') {
            let Some((name, v)) = pair.trim().split_once('=') else { continue };
            let lname = name.trim().to_ascii_lowercase();
            let v = v.trim();
            if v.is_empty()
                || COOKIE_NOISE.iter().any(|n| lname.starts_with(n))
                || lname.contains("csrf")
                || lname.contains("xsrf")
                || !COOKIE_SESSIONLIKE.iter().any(|n| lname.contains(n))
            {
                continue;
            }
            if cookies >= MAX_COOKIES {
                break;
            }
            cookies += 1;
            out.push(Credential::new(CredentialKind::Cookie, format!("cookie: {}", name.trim()), v));
        }
    }
    out
}

/// The Genesys region of the host a request carrying `creds` went to (none without credentials).
pub fn use_region(ex: &Exchange, creds: &[Credential]) -> Option<&'static str> {
    if creds.is_empty() {
        None
    } else {
        region_of_host(&ex.host()).map(|(r, _)| r.key)
    }
}

/// The credential the server most likely judged the request by.
pub fn primary_credential(ex: &Exchange) -> Option<Credential> {
    request_credentials(ex).into_iter().next()
}

/// Whether a token was usable at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// Known to be within its lifetime (its expiry is known and not reached; not revoked).
    Valid,
    Expired,
    NotYetValid,
    Revoked,
    /// Nothing known about its lifetime.
    Unknown,
}

/// What harken could read inside a JOSE token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JwtInfo {
    /// One sentence: `JWT (JWS RS256) with claims`, `JWE, encrypted …`, `JWS HS256, payload is
    /// not JSON claims …`.
    pub form: Str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<Str>,
    pub encrypted: bool,
    /// The claims, when the payload is a JSON object (innermost, for nested JWTs).
    /// Boxed: moved out of the decoded shape as it is (no copy), and a token row is one of
    /// hundreds of thousands on large captures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Box<jwt::Claims>>,
    /// Signature check: `unchecked` unless `--jwks` was given.
    pub signature: jwt::Signature,
    /// The key (`kid`) that verified it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_with: Option<String>,
}

/// One credential as seen across the whole capture: one row of `harken tokens`.
///
/// A large capture holds hundreds of thousands (one per login or session cookie), so a token
/// is kept small: what most tokens have is inline (about 300 bytes), what few have (revocation,
/// lineage, `tokens/me` facts, a malformation) is in [`Rare`], allocated only when set
/// ([`Token::rare`], [`Token::rare_mut`]), and repeated strings are shared ([`crate::intern`]).
/// Serialized with the fields of both in one documented order (docs/output.md).
#[derive(Debug, Clone, Default)]
pub struct Token {
    pub fingerprint: String,
    pub kind: CredentialKind,
    pub grant: Grant,
    /// Issuing host (token endpoint, redirect, websocket) or `iss` claim.
    pub issuer: Option<Str>,
    /// Genesys Cloud region key of the issuer, e.g. `eu_west_1` (or, when the issuer is not
    /// known, of the API host that accepted it in `GET /api/v2/tokens/me`).
    pub region: Option<&'static str>,
    /// Scopes, when known (`None`: unknown; `Some([])`: known to be none).
    pub scopes: Option<Strs>,
    /// Where the scopes were read: `token_reply`, `implicit_fragment`, `tokens_me`,
    /// `introspection`, `jwt_claims`.
    pub scopes_from: Option<&'static str>,
    pub issued: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub first_use: Option<DateTime<Utc>>,
    pub last_use: Option<DateTime<Utc>>,
    pub uses: usize,
    /// Uses answered 401 or 403.
    pub refused: usize,
    /// Where the token was issued (token-endpoint reply, websocket frame, redirect fragment).
    pub issued_at: Option<Box<Origin>>,
    /// Whether the token acts for a user: `Some(false)` for client credentials, `Some(true)`
    /// for code/implicit/password/SAML grants or a JWT with a user subject, `None` unknown.
    pub has_user: Option<bool>,
    /// OAuth client id, when known (Basic auth of the token request, body, claims, tokens/me).
    pub client_id: Option<Str>,
    /// `sub` claim.
    pub subject: Option<Str>,
    /// Where it travelled in requests (`authorization: bearer`, `cookie: sid`, …).
    pub carriers: Strs,
    /// Genesys regions of the hosts it was sent to. A region other than `region` means the
    /// token crossed regions (see [`TokenUse::cross_region`] for each request).
    pub used_regions: Vec<&'static str>,
    /// What was read inside, for JOSE tokens.
    pub jwt: Option<Box<JwtInfo>>,
    /// What few tokens have.
    pub(crate) rare: Option<Box<Rare>>,
    pub secret: String,
    /// `expires` is on the server's clock (from `exp` or a JwtResponse), not the capture's.
    pub expires_server_clock: bool,
    /// `issued` is on the server's clock (from `iat`).
    pub issued_server_clock: bool,
    /// Its JOSE shape as classifying a use decoded it, until [`TokenIndex::finish`] reads it
    /// (then dropped: `jwt` holds what is reported).
    pub(crate) shape: Option<std::sync::Arc<jwt::Shape>>,
}

/// The fields of a [`Token`] that few tokens have.
#[derive(Debug, Clone, Default)]
pub struct Rare {
    /// `nbf`, when the token says.
    pub not_before: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
    /// How it was revoked (`DELETE /api/v2/tokens/me`, RFC 7009 revocation, introspection
    /// said inactive).
    pub revoked_reason: Option<String>,
    /// The exchange that told the scopes (token reply, /api/v2/tokens/me, introspection).
    pub scopes_source: Option<Box<Origin>>,
    /// The exchange that revoked it (`DELETE /api/v2/tokens/me`, token revoke).
    pub revoked_by: Option<Box<Origin>>,
    /// Organization from `GET /api/v2/tokens/me` (`name (id)`).
    pub organization: Option<String>,
    /// Lineage: the fingerprint of the token this one replaced through a refresh.
    pub supersedes: Option<String>,
    /// Lineage: the fingerprint of the token that replaced this one, and when.
    pub superseded_by: Option<String>,
    pub superseded_at: Option<DateTime<Utc>>,
    /// Fingerprint of the refresh token issued with it.
    pub refresh_token: Option<String>,
    /// Why the value is not a usable token, if so.
    pub malformed: Option<String>,
    /// The secret itself: present only with `--show-secrets`.
    pub value: Option<String>,
}

static NO_RARE: Rare = Rare {
    not_before: None,
    revoked: None,
    revoked_reason: None,
    scopes_source: None,
    revoked_by: None,
    organization: None,
    supersedes: None,
    superseded_by: None,
    superseded_at: None,
    refresh_token: None,
    malformed: None,
    value: None,
};

/// A [`Token`] as written: its fields and those of its [`Rare`] part in one documented order.
#[derive(Serialize)]
struct TokenOut<'a> {
    fingerprint: &'a str,
    kind: CredentialKind,
    grant: Grant,
    issuer: &'a Option<Str>,
    region: Option<&'static str>,
    scopes: &'a Option<Strs>,
    scopes_from: Option<&'static str>,
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    issued: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    expires: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    not_before: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    revoked: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_reason: &'a Option<String>,
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    first_use: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    last_use: Option<DateTime<Utc>>,
    uses: usize,
    refused: usize,
    issued_at: &'a Option<Box<Origin>>,
    scopes_source: &'a Option<Box<Origin>>,
    revoked_by: &'a Option<Box<Origin>>,
    has_user: Option<bool>,
    client_id: &'a Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: &'a Option<Str>,
    supersedes: &'a Option<String>,
    superseded_by: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    superseded_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: &'a Option<String>,
    carriers: &'a Strs,
    used_regions: &'a [&'static str],
    #[serde(skip_serializing_if = "Option::is_none")]
    malformed: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwt: &'a Option<Box<JwtInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: &'a Option<String>,
}

impl Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.rare();
        TokenOut {
            fingerprint: &self.fingerprint,
            kind: self.kind,
            grant: self.grant,
            issuer: &self.issuer,
            region: self.region,
            scopes: &self.scopes,
            scopes_from: self.scopes_from,
            issued: self.issued,
            expires: self.expires,
            not_before: r.not_before,
            revoked: r.revoked,
            revoked_reason: &r.revoked_reason,
            first_use: self.first_use,
            last_use: self.last_use,
            uses: self.uses,
            refused: self.refused,
            issued_at: &self.issued_at,
            scopes_source: &r.scopes_source,
            revoked_by: &r.revoked_by,
            has_user: self.has_user,
            client_id: &self.client_id,
            organization: &r.organization,
            subject: &self.subject,
            supersedes: &r.supersedes,
            superseded_by: &r.superseded_by,
            superseded_at: r.superseded_at,
            refresh_token: &r.refresh_token,
            carriers: &self.carriers,
            used_regions: &self.used_regions,
            malformed: &r.malformed,
            jwt: &self.jwt,
            value: &r.value,
        }
        .serialize(s)
    }
}

impl Token {
    /// A token known only by its value; every field unknown.
    pub fn new(kind: CredentialKind, secret: &str) -> Token {
        Token { fingerprint: fingerprint(secret), kind, secret: secret.to_string(), ..Token::default() }
    }

    /// When it lived, as a timeline from `start` to `end` draws it: from its issue (else its
    /// first use) to its revocation, expiry or replacement, whichever came first (else its
    /// last use).
    pub fn lifetime(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let from = self.issued.or(self.first_use).unwrap_or(start);
        let r = self.rare();
        let to = [r.revoked, self.expires, r.superseded_at].iter().flatten().min().copied().or(self.last_use);
        (from, to.unwrap_or(end))
    }

    /// What few tokens have (all unset when none was learned).
    pub fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }

    /// [`Self::rare`], to set (allocated on first use).
    pub fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Default::default)
    }

    /// `kind:fingerprint`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.kind.name(), self.fingerprint)
    }

    /// Set the issuing host and its region.
    pub fn set_issuer_host(&mut self, host: &str) {
        if host.is_empty() {
            return;
        }
        self.issuer = Some(Str::interned(host));
        if let Some((r, _)) = region_of_host(host) {
            self.region = Some(r.key);
        }
    }
}

/// The estimated offset between the servers' clocks and the capture's clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockSkew {
    /// Server clock minus capture clock, in seconds (positive: servers are ahead). The median
    /// of one estimate per response with a `Date` header.
    pub seconds: f64,
    /// Number of `Date` headers used.
    pub samples: usize,
    /// Smallest and largest single estimate (a `Date` has one-second resolution).
    pub min_seconds: f64,
    pub max_seconds: f64,
    /// The same, in one sentence.
    pub statement: String,
}

/// The seconds since the epoch of an HTTP `Date` header (RFC 2822), remembering the last one
/// on this thread: the replies of a capture come many to a second, and parsing each was 0.6%
/// of `analyze`'s CPU on the 1 GB benchmark HAR. Values past 64 bytes are not remembered.
fn date_seconds(value: &str) -> Option<i64> {
    thread_local! {
        static LAST: std::cell::RefCell<crate::recent::Recent<Option<i64>, 1, 64>> = const { std::cell::RefCell::new(crate::recent::Recent::new()) };
    }
    LAST.with_borrow_mut(|last| {
        last.get_or(value.as_bytes(), || DateTime::parse_from_rfc2822(value).ok().map(|d| d.timestamp()))
    })
}

impl ClockSkew {
    /// Estimate from every response `Date` header (cached and `304` replies excluded: their
    /// `Date` can be old). The server stamped `Date` somewhere between the request's start
    /// and the response's end, truncated to the second; each estimate takes the middle.
    pub fn estimate(capture: &Capture) -> Option<ClockSkew> {
        ClockSkew::from_estimates(capture.exchanges.par_iter().filter_map(ClockSkew::estimate_one).collect())
    }

    /// One exchange's estimate (seconds), when its response has a usable `Date`.
    pub fn estimate_one(ex: &Exchange) -> Option<f64> {
        let r = ex.response.as_ref()?;
        if r.status == 304 || r.status == 0 || r.headers.contains("age") {
            return None;
        }
        let date = date_seconds(r.headers.get("date")?.trim())?;
        let dur = ex.duration_ms.filter(|d| d.is_finite() && *d >= 0.0 && *d < 600_000.0).unwrap_or(0.0);
        let client_mid = ex.started.timestamp_micros() as f64 / 1e6 + dur / 2000.0;
        let server_mid = date as f64 + 0.5;
        let e = server_mid - client_mid;
        (e.abs() < 86_400.0 * 366.0).then_some(e)
    }

    /// The median of estimates from [`Self::estimate_one`], in any order.
    pub fn from_estimates(mut est: Vec<f64>) -> Option<ClockSkew> {
        if est.is_empty() {
            return None;
        }
        est.sort_by(|a, b| a.total_cmp(b));
        let n = est.len();
        let median = if n % 2 == 1 { est[n / 2] } else { (est[n / 2 - 1] + est[n / 2]) / 2.0 };
        let seconds = (median * 10.0).round() / 10.0;
        let (min, max) = (est[0], est[n - 1]);
        let statement = if seconds.abs() < 1.0 {
            format!(
                "server and capture clocks agree within a second (median of {n} Date header{})",
                if n == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "server clocks are {:.1} s {} the capture clock (median of {n} Date header{}, range {:.1}..{:.1} s); token times written by servers are compared allowing for it",
                seconds.abs(),
                if seconds > 0.0 { "ahead of" } else { "behind" },
                if n == 1 { "" } else { "s" },
                min,
                max
            )
        };
        Some(ClockSkew {
            seconds,
            samples: n,
            min_seconds: (min * 10.0).round() / 10.0,
            max_seconds: (max * 10.0).round() / 10.0,
            statement,
        })
    }

    fn duration(&self) -> Duration {
        Duration::milliseconds((self.seconds * 1000.0) as i64)
    }
}

/// What harken knows about the credential a request carried, judged at the request's time.
#[derive(Debug, Clone)]
pub struct TokenUse<'a> {
    pub credential: Credential,
    /// The token as learned across the capture, when it was seen (issued or used) before.
    pub token: Option<&'a Token>,
    pub validity: Validity,
    /// Region of the API host the request was sent to, when a Genesys host.
    pub used_region: Option<String>,
    /// Set when the token was issued in one region and used against another: (issued, used).
    pub cross_region: Option<(String, String)>,
}

/// Options for building the index.
#[derive(Debug, Default)]
pub struct TokenOptions {
    /// Keys to verify JWS signatures with (`--jwks`). Without them nothing is verified.
    pub jwks: Option<jwt::Keys>,
}

impl TokenOptions {
    /// Options with the key set read from a JWK Set file.
    pub fn with_jwks_file(path: &std::path::Path) -> anyhow::Result<TokenOptions> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("--jwks {}: {e}", path.display()))?;
        let keys = jwt::Keys::parse(&text).map_err(|e| anyhow::anyhow!("--jwks {}: {e}", path.display()))?;
        Ok(TokenOptions { jwks: Some(keys) })
    }
}

/// What `--jwks` did, for the output.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JwksSummary {
    pub keys: usize,
    /// Keys that could not be used, and why.
    pub skipped: Vec<String>,
    /// Fingerprints of the tokens whose signature a key verified.
    pub verified: Vec<String>,
    /// Fingerprints of the tokens whose signature did not verify with the matching key.
    pub invalid: Vec<String>,
}

/// Every credential of a capture, learned across all inputs.
#[derive(Debug, Default)]
pub struct TokenIndex {
    pub tokens: Vec<Token>,
    /// Server clock minus capture clock, when responses carried `Date` headers.
    pub clock_skew: Option<ClockSkew>,
    /// Set when `--jwks` was given.
    pub jwks: Option<JwksSummary>,
    /// Fingerprint (as a number: a capture may hold hundreds of thousands) → token.
    by_fp: crate::redact::ByFingerprint<usize>,
    fps: crate::redact::FingerprintKeys,
    /// Drop token values once their shape is recorded (outputs that never show them).
    forget: bool,
    /// Fingerprint of a refresh token → the token it was issued with (lineage look-ups
    /// without scanning every token).
    by_refresh: HashMap<String, usize>,
}

impl TokenIndex {
    /// Learn every credential of a loaded capture (values kept, no signature verified):
    /// issues (token replies, redirects, websocket frames), scopes (`/api/v2/tokens/me`,
    /// introspection, claims), revocations, then every use. The commands fold their inputs
    /// instead ([`crate::analysis::Fold`], which ends in [`Self::from_uses`]).
    pub fn build(capture: &Capture) -> TokenIndex {
        // Every credential of every request is a use (not only the primary one: a query
        // `access_token` next to an `Authorization` header is a credential too). Found in
        // parallel, chunk by chunk, so the values of the whole capture are never held at once.
        let mut uses = Uses::new(false);
        let mut clock = Vec::new();
        for chunk in capture.exchanges.chunks(8192) {
            let found: Vec<(Vec<Credential>, Option<&'static str>, Option<f64>)> = chunk
                .par_iter()
                .map(|ex| {
                    let cs = request_credentials(ex);
                    let region = use_region(ex, &cs);
                    (cs, region, ClockSkew::estimate_one(ex))
                })
                .collect();
            for (ex, (cs, region, c)) in chunk.iter().zip(found) {
                uses.observe(ex, &cs, region);
                clock.extend(c);
            }
        }
        let learn_from = capture.exchanges.iter().filter(|ex| learn::may_learn(ex));
        let opts = TokenOptions::default();
        TokenIndex::from_uses(learn_from, uses, ClockSkew::from_estimates(clock), &opts, true)
    }

    /// The index from what was folded while reading: `learn_from` (the exchanges that may
    /// issue, describe or revoke tokens, in capture order: see [`learn::may_learn`]), every
    /// use (folded in any order) and the clock skew. Tokens come out in the order a pass
    /// over the whole capture in time order creates them: first those the token traffic
    /// issues or describes, then the others by their first use.
    pub fn from_uses(
        learn_from: impl Iterator<Item = impl std::borrow::Borrow<Exchange>>,
        uses: Uses,
        clock_skew: Option<ClockSkew>,
        opts: &TokenOptions,
        keep_secrets: bool,
    ) -> TokenIndex {
        let mut idx = TokenIndex { clock_skew, forget: !keep_secrets, ..Default::default() };
        learn::learn(&mut idx, learn_from);
        // The token traffic read back and parsed is garbage now (src/alloc.rs).
        crate::alloc::release();
        uses.apply(&mut idx);
        idx.finish(opts);
        idx
    }

    pub fn get(&self, fingerprint: &str) -> Option<&Token> {
        self.position(fingerprint).and_then(|i| self.tokens.get(i))
    }

    /// Index of the token with this secret, created (with `kind`) when new.
    pub(crate) fn entry(&mut self, secret: &str, kind: CredentialKind) -> &mut Token {
        let i = self.entry_index(&fingerprint_of(secret), secret, kind);
        &mut self.tokens[i]
    }

    /// [`Self::entry`] when the fingerprint is already known (saves hashing the value again).
    fn entry_index(&mut self, fp: &str, secret: &str, kind: CredentialKind) -> usize {
        let key = self.fps.key(fp);
        let i = match self.by_fp.get(&key) {
            Some(&i) => i,
            None => {
                let mut t = Token { fingerprint: fp.to_string(), kind, ..Token::default() };
                // Learned from token traffic, a JWT is read now when no output shows its
                // value: the value (hundreds of bytes) is not kept until the end for it. A
                // malformed one waits for the end, where the first use's reason comes first.
                let jose = matches!(kind, CredentialKind::Jwt | CredentialKind::GuestJwt);
                let shape = (self.forget && jose && !secret.is_empty())
                    .then(|| jwt::decode(secret))
                    .filter(|s| !matches!(s, jwt::Shape::Malformed { .. }));
                match shape {
                    Some(shape) => read_jose(&mut t, shape, None),
                    None => t.secret = secret.to_string(),
                }
                self.tokens.push(t);
                self.by_fp.insert(key, self.tokens.len() - 1);
                self.tokens.len() - 1
            }
        };
        let t = &mut self.tokens[i];
        if kind == CredentialKind::GuestJwt && t.kind == CredentialKind::Jwt {
            t.kind = kind;
        }
        i
    }

    pub(crate) fn position(&self, fingerprint: &str) -> Option<usize> {
        self.fps.find(fingerprint).and_then(|k| self.by_fp.get(&k)).copied()
    }

    /// The token that was handed the refresh token with this fingerprint (the first one).
    pub(crate) fn refreshed_from(&self, refresh_fp: &str) -> Option<usize> {
        self.by_refresh.get(refresh_fp).copied()
    }

    /// Record that the token at `i` was handed the refresh token `refresh_fp`.
    pub(crate) fn set_refresh_token(&mut self, i: usize, refresh_fp: String) {
        if let Some(t) = self.tokens.get_mut(i) {
            t.rare_mut().refresh_token = Some(refresh_fp.clone());
            self.by_refresh.entry(refresh_fp).or_insert(i);
        }
    }

    /// Read what each JOSE token says about itself, and verify signatures when keys are given.
    /// Each token is decoded once, in parallel (signature checks can be costly).
    fn finish(&mut self, opts: &TokenOptions) {
        let keys = opts.jwks.as_ref();
        self.tokens.par_iter_mut().for_each(|t| {
            if !matches!(t.kind, CredentialKind::Jwt | CredentialKind::GuestJwt) {
                return;
            }
            if t.jwt.is_none() {
                // Decoded once: the shape classifying its first use decoded, when it came along.
                let shape = match t.shape.take() {
                    Some(s) => std::sync::Arc::try_unwrap(s).unwrap_or_else(|s| (*s).clone()),
                    None => jwt::decode(&t.secret),
                };
                read_jose(t, shape, keys);
            }
            // What the claims say fills in what the traffic did not tell.
            let j = t.jwt.take();
            if let Some(c) = j.as_ref().and_then(|j| j.claims.as_deref()) {
                apply_claims(t, c);
            }
            t.jwt = j;
        });
        self.jwks = keys.map(|k| {
            let mut s = JwksSummary { keys: k.len(), skipped: k.skipped.clone(), ..Default::default() };
            for t in &self.tokens {
                match t.jwt.as_ref().map(|j| j.signature) {
                    Some(jwt::Signature::Verified) => s.verified.push(t.fingerprint.clone()),
                    Some(jwt::Signature::Invalid) => s.invalid.push(t.fingerprint.clone()),
                    _ => {}
                }
            }
            s
        });
    }

    /// Drop every token's value once the index is built and no output will show it (without
    /// `--show-secrets`): tokens are hundreds of bytes each, and a capture holds one per
    /// login, so this is most of the index's memory on large captures.
    pub fn forget_secrets(&mut self) {
        for t in &mut self.tokens {
            t.secret = String::new();
        }
    }

    /// Fill `value` on every token (`--show-secrets`).
    pub fn reveal_secrets(&mut self) {
        for t in &mut self.tokens {
            t.rare_mut().value = Some(t.secret.clone());
        }
    }

    /// Whether a token was usable at a capture-clock instant. Times the token states itself
    /// (`exp`, `iat`, `nbf`) are compared with the instant moved onto the server's clock.
    pub fn validity_at(&self, t: &Token, at: DateTime<Utc>) -> Validity {
        let skew = self.clock_skew.as_ref().map(ClockSkew::duration).unwrap_or_default();
        let server_at = plus(at, skew);
        // NumericDate has one-second resolution.
        let slack = Duration::seconds(1);
        if t.rare().malformed.is_some() {
            return Validity::Unknown;
        }
        if t.rare().revoked.is_some_and(|r| r <= at) {
            return Validity::Revoked;
        }
        if let Some(e) = t.expires {
            let now = if t.expires_server_clock { server_at } else { at };
            if e <= now {
                return Validity::Expired;
            }
        }
        if t.rare().not_before.is_some_and(|n| n > plus(server_at, slack)) {
            return Validity::NotYetValid;
        }
        if let Some(i) = t.issued {
            let late = if t.issued_server_clock { i > plus(server_at, slack) } else { i > at };
            if late {
                return Validity::NotYetValid;
            }
        }
        if t.expires.is_some() {
            Validity::Valid
        } else {
            Validity::Unknown
        }
    }

    /// The credential a request carried and its state at the request's own time.
    pub fn judge(&self, ex: &Exchange) -> Option<TokenUse<'_>> {
        self.judge_credential(ex, primary_credential(ex)?)
    }

    /// [`Self::judge`] when the request's primary credential is already known (the first of
    /// [`request_credentials`]).
    pub fn judge_credential(&self, ex: &Exchange, mut credential: Credential) -> Option<TokenUse<'_>> {
        let token = self.get(&credential.fingerprint);
        if let Some(t) = token {
            if t.kind == CredentialKind::GuestJwt && credential.kind == CredentialKind::Jwt {
                credential.kind = CredentialKind::GuestJwt;
            }
        }
        let validity = match token {
            Some(t) if credential.malformed.is_none() => self.validity_at(t, ex.started),
            _ => Validity::Unknown,
        };
        let used_region = region_of_host(&ex.host()).map(|(r, _)| r.key.to_string());
        let cross_region = match (token.and_then(|t| t.region), &used_region) {
            (Some(a), Some(b)) if a != b => Some((a.to_string(), b.clone())),
            _ => None,
        };
        Some(TokenUse { credential, token, validity, used_region, cross_region })
    }
}

/// `t + d`, saturating at the ends of the representable range instead of panicking: captured
/// dates may be anywhere chrono can parse (year ±262143), and a lifetime added to one of them
/// can leave the range.
pub(crate) fn plus(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < Duration::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// Seconds since the epoch as a time (None when out of range).
pub(crate) fn epoch(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// Read what a JOSE token says about itself into `t.jwt` (its claims are applied to the other
/// fields by [`TokenIndex::finish`], once the traffic has told what it tells), and verify its
/// signature when keys are given.
fn read_jose(t: &mut Token, shape: jwt::Shape, keys: Option<&jwt::Keys>) {
    let (alg, kid, encrypted) = match &shape {
        jwt::Shape::Jws(j) => (j.header.alg.clone(), j.header.kid.clone(), false),
        jwt::Shape::Jwe { header } => (header.alg.clone(), header.kid.clone(), true),
        _ => (None, None, false),
    };
    if let jwt::Shape::Malformed { reason } = &shape {
        if t.rare().malformed.is_none() {
            t.rare_mut().malformed = Some(reason.clone());
        }
    }
    let (signature, verified_with) = match (keys, &shape) {
        (Some(k), jwt::Shape::Jws(j)) => k.verify_jws(&t.secret, j),
        (Some(_), _) => (jwt::Signature::Unsupported, None),
        (None, _) => (jwt::Signature::Unchecked, None),
    };
    let form = jwt::describe(&shape);
    let claims = shape.into_claims();
    t.jwt =
        Some(Box::new(JwtInfo { form: Str::interned(&form), alg, kid, encrypted, claims, signature, verified_with }));
}

/// Fill what a JWT says about itself into the fields the traffic did not tell.
fn apply_claims(t: &mut Token, c: &jwt::Claims) {
    if t.issuer.is_none() {
        if let Some(iss) = &c.iss {
            t.issuer = Some(iss.clone());
            let host = url::Url::parse(iss)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| iss.to_string());
            if t.region.is_none() {
                t.region = region_of_host(&host).map(|(r, _)| r.key);
            }
        }
    }
    if t.expires.is_none() {
        if let Some(e) = c.exp.and_then(epoch) {
            t.expires = Some(e);
            t.expires_server_clock = true;
        }
    }
    if t.issued.is_none() {
        if let Some(i) = c.iat.and_then(epoch) {
            t.issued = Some(i);
            t.issued_server_clock = true;
        }
    }
    if let (None, Some(n)) = (t.rare().not_before, c.nbf.and_then(epoch)) {
        t.rare_mut().not_before = Some(n);
    }
    if t.scopes.is_none() {
        if let Some(s) = &c.scopes {
            t.scopes = Some(s.clone());
            t.scopes_from = Some("jwt_claims");
        }
    }
    if t.client_id.is_none() {
        t.client_id = c.client_id.clone().or_else(|| c.azp.clone());
    }
    if t.subject.is_none() {
        t.subject = c.sub.clone();
    }
    if t.has_user.is_none() && t.kind != CredentialKind::GuestJwt {
        if let (Some(sub), Some(cid)) = (&c.sub, &t.client_id) {
            t.has_user = Some(sub != cid);
        }
    }
}

#[cfg(test)]
mod tests;
