//! Credentials: finding them in requests, decoding them, and learning what they could do.
//!
//! FOUNDATION STUB: the credential finder below handles the `Authorization` header only; the
//! tokens issue extends it (cookies, API keys, query/fragment tokens, websocket frames, JWT
//! decoding, token-endpoint learning, validity at each instant). The public surface used by
//! other modules is: [`CredentialKind`], [`Credential`], [`request_credentials`],
//! [`primary_credential`], [`Token`], [`TokenIndex::build`], [`TokenIndex::judge`],
//! [`TokenUse`], [`Validity`], [`Grant`].

use crate::model::{Capture, Exchange, Origin};
use crate::redact::fingerprint;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What kind of credential was sent. Names are part of the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Jwt,
    Opaque,
    Basic,
    Cookie,
    ApiKey,
    GuestJwt,
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
        }
    }
}

/// How a token was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
    Implicit,
    RefreshToken,
    Password,
    Saml2Bearer,
    Guest,
    Unknown,
}

/// A credential as one request carried it. `secret` is never serialized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credential {
    pub kind: CredentialKind,
    pub fingerprint: String,
    /// Where it travelled, e.g. `authorization: bearer`, `cookie: sid`, `query: access_token`.
    pub carrier: String,
    /// Why the value is not a usable token (`Bearer undefined`, empty, truncated JWT), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub malformed: Option<String>,
    #[serde(skip)]
    pub secret: String,
}

impl Credential {
    pub fn new(kind: CredentialKind, carrier: impl Into<String>, secret: impl Into<String>) -> Self {
        let secret = secret.into();
        Credential { kind, fingerprint: fingerprint(&secret), carrier: carrier.into(), malformed: None, secret }
    }
    /// `kind:fingerprint`, the way every output names a credential unless `--show-secrets`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.kind.name(), self.fingerprint)
    }
}

/// Every credential a request carried, the one the server most likely judged first.
pub fn request_credentials(ex: &Exchange) -> Vec<Credential> {
    let mut out = Vec::new();
    for value in ex.request.headers.get_all("authorization") {
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or(("", value));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            out.push(Credential::new(CredentialKind::Basic, "authorization: basic", rest));
        } else if scheme.eq_ignore_ascii_case("bearer") {
            let kind = if rest.split('.').count() == 3 { CredentialKind::Jwt } else { CredentialKind::Opaque };
            out.push(Credential::new(kind, "authorization: bearer", rest));
        } else {
            out.push(Credential::new(CredentialKind::Opaque, "authorization", value));
        }
    }
    out
}

/// The credential the server most likely judged the request by.
pub fn primary_credential(ex: &Exchange) -> Option<Credential> {
    request_credentials(ex).into_iter().next()
}

/// Whether a token was usable at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    Valid,
    Expired,
    NotYetValid,
    Revoked,
    Unknown,
}

/// One credential as seen across the whole capture: one row of `harken tokens`.
#[derive(Debug, Clone, Serialize)]
pub struct Token {
    pub fingerprint: String,
    pub kind: CredentialKind,
    pub grant: Grant,
    /// Issuing host or `iss` claim.
    pub issuer: Option<String>,
    /// Genesys Cloud region key of the issuer, e.g. `eu_west_1`.
    pub region: Option<String>,
    /// Scopes, when known (`None`: unknown; `Some([])`: known to be none).
    pub scopes: Option<Vec<String>>,
    pub issued: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
    pub first_use: Option<DateTime<Utc>>,
    pub last_use: Option<DateTime<Utc>>,
    pub uses: usize,
    pub refused: usize,
    /// Where the token was issued (token-endpoint reply, websocket frame, redirect fragment).
    pub issued_at: Option<Origin>,
    /// The exchange that told the scopes (token reply, /api/v2/tokens/me, introspection).
    pub scopes_source: Option<Origin>,
    /// The exchange that revoked it (`DELETE /api/v2/tokens/me`, token revoke).
    pub revoked_by: Option<Origin>,
    /// Whether the token acts for a user: `Some(false)` for client credentials, `Some(true)`
    /// for code/implicit/password/SAML grants or a JWT with a user subject, `None` unknown.
    pub has_user: Option<bool>,
    /// OAuth client id, when known (Basic auth of the token request, body, claims).
    pub client_id: Option<String>,
    #[serde(skip)]
    pub secret: String,
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

/// Every credential of a capture, learned across all inputs.
#[derive(Debug, Default)]
pub struct TokenIndex {
    pub tokens: Vec<Token>,
}

impl TokenIndex {
    pub fn build(capture: &Capture) -> TokenIndex {
        let mut idx: Vec<Token> = Vec::new();
        for ex in &capture.exchanges {
            if let Some(c) = primary_credential(ex) {
                let refused = matches!(ex.status(), Some(401) | Some(403));
                match idx.iter_mut().find(|t| t.fingerprint == c.fingerprint) {
                    Some(t) => {
                        t.uses += 1;
                        t.refused += refused as usize;
                        t.last_use = Some(ex.started);
                    }
                    None => idx.push(Token {
                        fingerprint: c.fingerprint.clone(),
                        kind: c.kind,
                        grant: Grant::Unknown,
                        issuer: None,
                        region: None,
                        scopes: None,
                        issued: None,
                        expires: None,
                        revoked: None,
                        first_use: Some(ex.started),
                        last_use: Some(ex.started),
                        uses: 1,
                        refused: refused as usize,
                        issued_at: None,
                        scopes_source: None,
                        revoked_by: None,
                        has_user: None,
                        client_id: None,
                        secret: c.secret.clone(),
                    }),
                }
            }
        }
        TokenIndex { tokens: idx }
    }

    pub fn get(&self, fingerprint: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.fingerprint == fingerprint)
    }

    /// The credential a request carried and its state at the request's own time.
    pub fn judge(&self, ex: &Exchange) -> Option<TokenUse<'_>> {
        let credential = primary_credential(ex)?;
        let token = self.get(&credential.fingerprint);
        Some(TokenUse { credential, token, validity: Validity::Unknown, used_region: None, cross_region: None })
    }
}
