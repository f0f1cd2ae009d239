//! What a replay would send, decided before anything is sent: which captured requests are
//! selected, where each goes, which headers and body it carries, which credential (never a
//! captured one unless asked), and why a request is skipped.

use super::diff::{self, Expected};
use super::target::Targets;
use crate::filter::Pick;
use crate::model::{BodyState, Capture, Exchange, Header};
use crate::redact::{fingerprint, is_secret_header, is_secret_param, mask_header, mask_url};
use crate::token::{request_credentials, CredentialKind};
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;
use url::Url;

/// Methods that change server state: sent only with `--allow-unsafe`.
pub const UNSAFE_METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE"];

/// Headers never copied from the capture: HTTP/2 pseudo-headers are skipped by their `:`, and
/// these belong to the captured connection, not to the request.
const CONNECTION_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "content-length",
    "expect",
];

/// Which captured requests to replay.
#[derive(Debug, Default)]
pub struct Selection {
    /// Only 401/403 responses.
    pub refused: bool,
    /// With `refused`: also the earlier requests that carried the refused request's credential.
    pub lead_up: bool,
    /// `--status`, `--method`, `--path`.
    pub pick: Pick,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// `input#index` pairs (input is the 0-based position of the FILE argument).
    pub entries: Option<Vec<(usize, usize)>>,
    pub limit: Option<usize>,
}

impl Selection {
    /// Parse `0#3,1#7` or `capture.har#3` against the FILE arguments.
    pub fn parse_entries(list: &[String], files: &[String]) -> anyhow::Result<Vec<(usize, usize)>> {
        let mut out = Vec::new();
        for item in list.iter().flat_map(|l| l.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
            let Some((input, index)) = item.rsplit_once('#') else {
                bail!("--entry {item:?}: expected INPUT#INDEX, e.g. 0#3 or capture.har#3");
            };
            let index: usize = index.parse().with_context(|| format!("--entry {item:?}: the index is not a number"))?;
            let pos = match input.parse::<usize>() {
                Ok(n) if n < files.len() => n,
                _ => files
                    .iter()
                    .position(|f| {
                        f == input || std::path::Path::new(f).file_name().is_some_and(|n| n.to_string_lossy() == input)
                    })
                    .with_context(|| {
                        format!("--entry {item:?}: {input:?} is neither a FILE argument nor its position")
                    })?,
            };
            out.push((pos, index));
        }
        Ok(out)
    }

    fn keeps(&self, ex: &Exchange) -> bool {
        if !self.pick.keeps(ex) {
            return false;
        }
        if self.since.is_some_and(|t| ex.started < t) || self.until.is_some_and(|t| ex.started >= t) {
            return false;
        }
        if let Some(e) = &self.entries {
            if !e.contains(&(ex.origin.input, ex.origin.index)) {
                return false;
            }
        }
        true
    }

    /// Positions in `capture.exchanges` of the selected requests, in capture order, with the
    /// reason each was chosen (`refused`, `lead-up`, `selected`).
    pub fn select(&self, capture: &Capture) -> Vec<(usize, &'static str)> {
        let refused = |ex: &Exchange| matches!(ex.status(), Some(401 | 403));
        let mut chosen: Vec<(usize, &'static str)> = Vec::new();
        let mut lead: HashSet<usize> = HashSet::new();
        for (i, ex) in capture.exchanges.iter().enumerate() {
            if !self.keeps(ex) || (self.refused && !refused(ex)) {
                continue;
            }
            if self.refused && self.lead_up {
                let fps: HashSet<String> = request_credentials(ex).into_iter().map(|c| c.fingerprint).collect();
                if !fps.is_empty() {
                    for (j, earlier) in capture.exchanges[..i].iter().enumerate() {
                        if request_credentials(earlier).iter().any(|c| fps.contains(&c.fingerprint)) {
                            lead.insert(j);
                        }
                    }
                }
            }
            chosen.push((i, if self.refused { "refused" } else { "selected" }));
        }
        let picked: HashSet<usize> = chosen.iter().map(|c| c.0).collect();
        chosen.extend(lead.into_iter().filter(|j| !picked.contains(j)).map(|j| (j, "lead-up")));
        chosen.sort_by_key(|c| c.0);
        if let Some(n) = self.limit {
            chosen.truncate(n);
        }
        chosen
    }
}

/// The credential replayed requests carry instead of the captured one.
#[derive(Debug, Clone)]
pub enum NewCredential {
    /// Captured credentials are stripped; nothing is added.
    None,
    /// Captured credentials are sent as they were (`--use-captured-credentials`).
    Captured,
    /// `--token-env` / `--token-file`: `Authorization` value and where it came from.
    Token { authorization: String, source: String },
    /// `--oauth-client-credentials`: fetched from `endpoint` before the first request.
    OAuth { endpoint: Url, client_id: String, client_secret: String },
}

impl NewCredential {
    /// `Bearer TOKEN` for a bare token; a value that already names a scheme is kept.
    pub fn token(raw: &str, source: String) -> anyhow::Result<NewCredential> {
        let t = raw.trim();
        if t.is_empty() {
            bail!("{source} is empty");
        }
        if t.contains(['\r', '\n']) {
            bail!("{source} holds more than one line");
        }
        let has_scheme = t.split_once(' ').is_some_and(|(s, _)| {
            ["bearer", "basic", "token", "dpop", "negotiate", "digest"].contains(&s.to_ascii_lowercase().as_str())
        });
        let authorization = if has_scheme { t.to_string() } else { format!("Bearer {t}") };
        Ok(NewCredential::Token { authorization, source })
    }
}

/// One request the replay would send (or skips, saying why).
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// 1-based position in the replay.
    pub n: usize,
    pub input: String,
    pub index: usize,
    /// Why it was selected: `selected`, `refused`, `lead-up`.
    pub chosen: &'static str,
    pub captured_time: String,
    pub method: String,
    /// Masked unless `--show-secrets`.
    pub captured_url: String,
    /// Where it is sent (masked unless `--show-secrets`); None when skipped for its host.
    pub url: Option<String>,
    /// Headers as sent, credentials masked unless `--show-secrets`.
    pub headers: Vec<Header>,
    pub body_size: u64,
    /// What happened to the credential: `none`, `stripped jwt:3f2a…`, `replaced (--token-env
    /// NEW_TOKEN)`, `captured jwt:3f2a…`.
    pub credential: String,
    pub captured_status: Option<u16>,
    /// The diagnosis of a captured 401/403 (`token_expired`, ...), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// Why it is not sent, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// Seconds after the first selected request, in the capture.
    pub captured_offset_s: f64,
    #[serde(skip)]
    pub send: Option<Outgoing>,
    #[serde(skip)]
    pub expected: Expected,
}

/// The exact request to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: String,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Add the credential fetched by `--oauth-client-credentials` as `Authorization`.
    pub wants_oauth: bool,
}

/// Options that shape each step.
pub struct PlanOptions<'a> {
    pub targets: &'a Targets,
    pub credential: &'a NewCredential,
    pub allow_unsafe: bool,
    pub show_secrets: bool,
}

/// Whether a path is an OAuth token endpoint (`/oauth/token`, `/oauth2/token`, `.../token`).
pub fn is_token_endpoint(path: &str) -> bool {
    let p = path.trim_end_matches('/').to_ascii_lowercase();
    p.ends_with("/oauth/token") || p.ends_with("/oauth2/token") || p.ends_with("/oauth2/v2.0/token")
}

/// Form or JSON body fields that carry a credential.
fn body_secret(ex: &Exchange) -> Option<String> {
    let h = &ex.request.headers;
    let body = ex.request.body.as_ref()?;
    if let Some(form) = crate::body::form(h, Some(body)) {
        if let Some((k, _)) = form.iter().find(|(k, v)| !v.is_empty() && is_secret_body_key(k)) {
            return Some(k.clone());
        }
    }
    if let Some(serde_json::Value::Object(o)) = crate::body::json(h, Some(body)) {
        if let Some((k, _)) = o.iter().find(|(k, v)| is_secret_body_key(k) && v.as_str().is_some_and(|s| !s.is_empty()))
        {
            return Some(k.clone());
        }
    }
    None
}

fn is_secret_body_key(k: &str) -> bool {
    is_secret_param(k) || ["password", "secret", "client_assertion", "token"].iter().any(|s| k.eq_ignore_ascii_case(s))
}

/// Build the step for one captured exchange.
pub fn step(n: usize, chosen: &'static str, path: &str, ex: &Exchange, first: DateTime<Utc>, o: &PlanOptions) -> Step {
    let show = |u: &str| if o.show_secrets { u.to_string() } else { mask_url(u) };
    let method = ex.request.method.to_ascii_uppercase();
    let mut skip: Option<String> = None;
    let parsed = ex.url();
    let creds = request_credentials(ex);
    let ex_path = ex.path();
    let upgrade = ex.status() == Some(101)
        || ex.request.headers.get("upgrade").is_some()
        || parsed.as_ref().is_some_and(|u| matches!(u.scheme(), "ws" | "wss"));
    let target = parsed.as_ref().and_then(|u| o.targets.rewrite(u));
    if parsed.is_none() {
        skip = Some("the captured URL does not parse".into());
    } else if upgrade {
        skip = Some("websocket upgrade: not replayed".into());
    } else if matches!(method.as_str(), "CONNECT" | "TRACE") {
        skip = Some(format!("{method} is never replayed"));
    } else if target.is_none() {
        skip = Some(format!("host {} is named by no --target or --map", ex.host()));
    } else if UNSAFE_METHODS.contains(&method.as_str()) && !o.allow_unsafe {
        skip = Some(format!("{method} changes server state: needs --allow-unsafe"));
    }

    // The credential.
    let captured_label = creds.first().map(|c| c.label());
    let basic_only = !creds.is_empty() && creds.iter().all(|c| c.kind == CredentialKind::Basic);
    let token_call = is_token_endpoint(&ex_path);
    let mut credential = match &captured_label {
        Some(l) => format!("stripped {l}"),
        None => "none".to_string(),
    };
    let mut add_auth: Option<String> = None;
    let mut wants_oauth = false;
    match o.credential {
        NewCredential::Captured => {
            if let Some(l) = &captured_label {
                credential = format!("captured {l}");
            }
        }
        NewCredential::None => {}
        NewCredential::Token { .. } | NewCredential::OAuth { .. } if token_call || basic_only => {
            if skip.is_none() && token_call {
                skip = Some("token request: the new credential replaces it".into());
            }
        }
        NewCredential::Token { .. } | NewCredential::OAuth { .. } if method == "OPTIONS" => {}
        NewCredential::Token { authorization, source } => {
            credential = format!("replaced ({source})");
            add_auth = Some(authorization.clone());
        }
        NewCredential::OAuth { endpoint, .. } => {
            credential = format!("replaced (client credentials from {})", mask_url(endpoint.as_str()));
            wants_oauth = true;
        }
    }
    let keep_captured = matches!(o.credential, NewCredential::Captured);
    if skip.is_none() && !keep_captured {
        if let Some(k) = body_secret(ex) {
            skip = Some(format!("the body carries a captured credential ({k}): needs --use-captured-credentials"));
        }
    }

    // Headers.
    let cred_headers: Vec<String> =
        creds.iter().filter_map(|c| c.carrier.strip_prefix("header: ").map(|h| h.to_ascii_lowercase())).collect();
    let mut headers: Vec<(String, String)> = Vec::new();
    for h in ex.request.headers.iter() {
        let lname = h.name.to_ascii_lowercase();
        if lname.starts_with(':') || CONNECTION_HEADERS.contains(&lname.as_str()) {
            continue;
        }
        if !keep_captured && (is_secret_header(&lname) || cred_headers.contains(&lname)) {
            continue;
        }
        if add_auth.is_some() && lname == "authorization" {
            continue;
        }
        headers.push((h.name.clone(), h.value.clone()));
    }
    if let Some(a) = &add_auth {
        headers.push(("Authorization".into(), a.clone()));
    }

    // The body.
    let mut body = Vec::new();
    let mut body_size = 0;
    if let Some(b) = &ex.request.body {
        body_size = b.size();
        if b.omitted && b.size() > 0 {
            if skip.is_none() {
                skip = Some("the request body was not captured".into());
            }
        } else {
            match b.state {
                BodyState::Chunked => match crate::body::dechunk(&b.raw) {
                    Ok(d) => body = d.body,
                    Err(e) => {
                        if skip.is_none() {
                            skip = Some(format!("the request body's chunked framing is broken ({e})"));
                        }
                    }
                },
                _ => body = b.raw.clone(),
            }
            if b.state == BodyState::Decoded {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-encoding"));
            }
        }
    }

    // The URL: captured secret query parameters are removed.
    let url = target.map(|mut u| {
        if !keep_captured && u.query_pairs().any(|(k, _)| is_secret_param(&k) || is_credential_param(&k)) {
            let kept: Vec<(String, String)> = u
                .query_pairs()
                .filter(|(k, _)| !is_secret_param(k) && !is_credential_param(k))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if kept.is_empty() {
                u.set_query(None);
            } else {
                u.query_pairs_mut().clear().extend_pairs(kept);
            }
        }
        u
    });

    let shown_headers = headers
        .iter()
        .map(|(n, v)| {
            let v = if o.show_secrets { v.clone() } else { mask_header(n, v) };
            Header { name: n.clone(), value: v }
        })
        .collect();
    let send = match (&skip, &url) {
        (None, Some(u)) => {
            Some(Outgoing { method: method.clone(), url: u.clone(), headers: headers.clone(), body, wants_oauth })
        }
        _ => None,
    };
    Step {
        n,
        input: path.to_string(),
        index: ex.origin.index,
        chosen,
        captured_time: crate::report::time(&ex.started),
        method,
        captured_url: show(&ex.request.url),
        url: url.as_ref().map(|u| show(u.as_str())),
        headers: shown_headers,
        body_size,
        credential,
        captured_status: ex.status(),
        finding: None,
        skip,
        captured_offset_s: (ex.started - first).num_microseconds().map(|m| m as f64 / 1e6).unwrap_or(0.0).max(0.0),
        send,
        expected: diff::expected(ex),
    }
}

fn is_credential_param(k: &str) -> bool {
    ["access_token", "jwt", "api_key", "apikey", "api-key", "subscription-key"]
        .iter()
        .any(|p| k.eq_ignore_ascii_case(p))
}

/// A short mask of a new credential for the plan (never its value).
pub fn label_of(authorization: &str) -> String {
    match authorization.split_once(' ') {
        Some((s, v)) => format!("{s} <masked:{}>", fingerprint(v.trim())),
        None => format!("<masked:{}>", fingerprint(authorization)),
    }
}
