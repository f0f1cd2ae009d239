//! Diagnosis: every 401 and 403 gets a cause, the evidence, and the fix.
//!
//! Built like a linter. For each refused exchange, [`gather`] collects a [`Facts`] value
//! (the credentials sent, what the token could do at that instant, the conversation's state
//! just before, the catalog's answer about the operation, the Genesys error body, the RFC 6750
//! `WWW-Authenticate` challenge, notes about the input). Then one rule per cause, each in its
//! own file with a doc comment (what, why, example, fix), looks at the facts and may return a
//! [`Verdict`]. Several may fire; [`rank`] orders them and the first is the primary cause.
//!
//! Ranking (docs/diagnostics.md): a request must first carry a usable credential
//! (`credentials_missing`, `token_malformed`), valid at that instant and at that host
//! (`token_expired`, `token_not_yet_valid`, `token_revoked`, `token_wrong_region`); then the
//! endpoint must exist (`endpoint_unknown`) and take that kind of token (`token_wrong_kind`)
//! and that kind of principal (`user_context_required`); then what the server said about
//! permissions (`permission_missing` proven by the error body); then the conversation must
//! still be open (`conversation_ended`); then the token's authority as the catalog or capture
//! suggests (`scope_missing`, then `permission_missing` from the catalog). `unexplained` only
//! when nothing else fired.
//!
//! Adding a cause: write `src/diagnose/<cause>.rs` (a `check` function and a doc comment with
//! what, why, example and fix) and add one line to the `registry!` below; then give it a
//! section in docs/diagnostics.md (tests/it/diagnostics.rs fails until you do).
//!
//! Public surface: [`Cause`], [`CAUSES`], [`RULES`], [`Evidence`], [`Finding`], [`diagnose`], [`Facts`], [`Verdict`].

use crate::catalog::{Catalog, Lookup, Operation};
use crate::model::{Capture, Exchange, Identity, Origin, Unrecorded};
use crate::timeline::{StateMet, Timeline};
use crate::token::{self, Credential, CredentialKind, Grant, Token, TokenIndex, TokenUse};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// The registry of causes: one line per cause, in ranking order (docs/diagnostics.md,
/// "Ranking"). Each line names the rule's file (`src/diagnose/<file>.rs`, whose `check`
/// function is the rule and whose doc comment says what, why, example and fix) and the
/// [`Cause`] variant; `guessed after X` ranks the cause's unproven verdicts just after `X`.
/// The last line is the fallback, reported when no rule fired. Adding a cause is one file
/// plus one line here; tests/it/diagnostics.rs checks docs/diagnostics.md against it.
macro_rules! registry {
    (rules { $($file:ident => $variant:ident $(, guessed after $after:ident)?;)* } fallback $ffile:ident => $fvariant:ident;) => {
        $(mod $file;)*
        mod $ffile;

        /// The closed vocabulary of causes. Names are part of the JSON contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Cause {
            $($variant,)*
            $fvariant,
        }

        impl Cause {
            pub fn name(self) -> &'static str {
                match self {
                    $(Cause::$variant => stringify!($file),)*
                    Cause::$fvariant => stringify!($ffile),
                }
            }
        }

        /// Every rule except the fallback, in ranking order.
        pub const RULES: &[RuleDef] = &[
            $(RuleDef { cause: Cause::$variant, check: $file::check, guessed_after: registry!(@after $($after)?) },)*
        ];

        /// Every cause in ranking order, the fallback last.
        pub const CAUSES: &[Cause] = &[$(Cause::$variant,)* Cause::$fvariant];

        fn fallback(f: &Facts<'_>) -> Verdict {
            $ffile::check(f)
        }
    };
    (@after) => { None };
    (@after $after:ident) => { Some(Cause::$after) };
}

registry! {
    rules {
        credentials_missing => CredentialsMissing;
        token_malformed => TokenMalformed;
        token_expired => TokenExpired;
        token_not_yet_valid => TokenNotYetValid;
        token_revoked => TokenRevoked;
        token_wrong_region => TokenWrongRegion;
        endpoint_unknown => EndpointUnknown;
        token_wrong_kind => TokenWrongKind;
        user_context_required => UserContextRequired;
        permission_missing => PermissionMissing, guessed after ScopeMissing;
        conversation_ended => ConversationEnded;
        scope_missing => ScopeMissing;
    }
    fallback unexplained => Unexplained;
}

/// One registered rule.
pub struct RuleDef {
    pub cause: Cause,
    pub check: Rule,
    /// Unproven verdicts of this cause rank just after this cause (catalog-based guesses rank
    /// below what the capture shows).
    pub guessed_after: Option<Cause>,
}

/// Everything the diagnosis reads. Built once per run by [`crate::analysis::run`].
pub struct Context<'a> {
    pub capture: &'a Capture,
    pub tokens: &'a TokenIndex,
    pub timeline: &'a Timeline,
    pub catalog: &'a Catalog,
    pub show_secrets: bool,
}

/// One fact that supports a finding, pointing at the exchange that shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Input path.
    pub input: String,
    pub index: usize,
    pub fact: String,
}

/// One explained 401/403 (docs/output.md, "findings").
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub input: String,
    pub index: usize,
    pub time: DateTime<Utc>,
    pub method: String,
    /// Masked unless `--show-secrets`.
    pub url: String,
    pub status: u16,
    pub cause: Cause,
    pub causes: Vec<Cause>,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub fix: String,
    pub credential: Option<String>,
    pub conversation: Option<String>,
}

/// A Genesys `ErrorBody` (facts §6), as far as the refused response carried one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
    pub message_params: Vec<(String, String)>,
    pub context_id: Option<String>,
    pub status: Option<u16>,
}

impl ErrorBody {
    /// Permission names mentioned by the body (`a:b:c`), in order, without repeats.
    pub fn permissions(&self) -> Vec<String> {
        let re = permission_re();
        let mut out: Vec<String> = Vec::new();
        let texts = self.message_params.iter().map(|(_, v)| v.as_str()).chain(self.message.as_deref());
        for t in texts {
            for m in re.find_iter(t) {
                if !out.iter().any(|x| x == m.as_str()) {
                    out.push(m.as_str().to_string());
                }
            }
        }
        out
    }
}

fn permission_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"[A-Za-z][A-Za-z0-9_-]*:[A-Za-z][A-Za-z0-9_-]*:[A-Za-z][A-Za-z0-9_-]*").expect("valid regex")
    })
}

/// An RFC 6750 `WWW-Authenticate: Bearer ...` challenge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Challenge {
    pub scheme: String,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub scope: Option<String>,
}

/// Scopes a refused token lacked that every successful call to the same operation carried.
#[derive(Debug, Clone, PartialEq)]
pub struct Inferred {
    pub scopes: Vec<String>,
    /// How many successful calls agree.
    pub calls: usize,
    /// Up to three of those calls.
    pub proofs: Vec<Origin>,
}

/// Everything the rules may look at about one refused exchange.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub origin: Origin,
    pub time: DateTime<Utc>,
    pub method: String,
    pub host: String,
    pub path: String,
    pub status: u16,
    /// Every credential the request carried (empty: none was sent).
    pub credentials: Vec<Credential>,
    /// The primary credential judged at the request's time.
    pub token_use: Option<TokenUse<'a>>,
    /// The conversation's state just before the request.
    pub state: Option<StateMet>,
    pub conversation: Option<String>,
    pub lookup: Lookup<'a>,
    pub error: Option<ErrorBody>,
    pub challenge: Option<Challenge>,
    /// Note codes of the input and of the exchange (`har.sanitized`, `body.decode_failed`).
    pub notes: Vec<String>,
    /// Whether the refused response had a body harken could read.
    pub has_body: bool,
    /// A response body the capture declared but whose bytes are not at hand (omitted by the
    /// producer, or an HTML/binary body harken does not keep): its media type, if known.
    pub body_not_kept: Option<String>,
    pub inferred: Option<Inferred>,
    /// What the source never records (an access log: headers, bodies, credentials): their
    /// absence proves nothing.
    pub unrecorded: Unrecorded,
    /// The identity the log records for the request.
    pub identity: Option<Identity>,
    /// When the input does not record request bodies: the last earlier write (PATCH, PUT,
    /// DELETE) on the same conversation that the server accepted (its origin, `METHOD path`
    /// and time). Its body, which would prove a disconnect, is not at hand.
    pub earlier_write: Option<(Origin, String, DateTime<Utc>)>,
}

impl<'a> Facts<'a> {
    /// Facts with everything unknown, for a request of `method path` refused with `status`.
    pub fn new(origin: Origin, time: DateTime<Utc>, method: &str, host: &str, path: &str, status: u16) -> Self {
        Facts {
            origin,
            time,
            method: method.to_string(),
            host: host.to_string(),
            path: path.to_string(),
            status,
            credentials: Vec::new(),
            token_use: None,
            state: None,
            conversation: None,
            lookup: Lookup::NotCovered,
            error: None,
            challenge: None,
            notes: Vec::new(),
            has_body: false,
            body_not_kept: None,
            inferred: None,
            unrecorded: Unrecorded::empty(),
            identity: None,
            earlier_write: None,
        }
    }

    pub fn token(&self) -> Option<&'a Token> {
        self.token_use.as_ref().and_then(|u| u.token)
    }

    /// The real operation, when the catalog knows it.
    pub fn operation(&self) -> Option<&'a Operation> {
        match self.lookup {
            Lookup::Known(op) => Some(op),
            _ => None,
        }
    }

    /// The operation whose requirements apply: the real one, or the one probably meant.
    pub fn meant_operation(&self) -> Option<&'a Operation> {
        match self.lookup {
            Lookup::Known(op) => Some(op),
            Lookup::Unknown { suggestion, .. } => suggestion,
            Lookup::NotCovered => None,
        }
    }

    /// A client-credentials token: no user, governed by the client's roles, not scopes.
    pub fn is_client_credentials(&self) -> bool {
        self.token().is_some_and(|t| t.grant == Grant::ClientCredentials || t.has_user == Some(false))
    }

    /// A web messaging guest JWT.
    pub fn is_guest(&self) -> bool {
        self.token_use.as_ref().is_some_and(|u| u.credential.kind == CredentialKind::GuestJwt)
            || self.token().is_some_and(|t| t.kind == CredentialKind::GuestJwt || t.grant == Grant::Guest)
    }

    pub fn error_code(&self) -> Option<&str> {
        self.error.as_ref().and_then(|e| e.code.as_deref())
    }

    /// Whether the request went to a Genesys Cloud host (`api.`, `login.`, `webmessaging.` of a
    /// region domain). Advice that names Genesys endpoints, hosts or admin screens is only
    /// given for these; other hosts get generic wording.
    pub fn genesys_host(&self) -> bool {
        crate::region::region_of_host(&self.host).is_some()
    }

    /// A request to the OAuth token endpoint itself (`POST login.{region domain}/oauth/token`,
    /// or any host's `/oauth/token`).
    pub fn is_token_endpoint(&self) -> bool {
        let p = self.path.trim_end_matches('/').to_ascii_lowercase();
        p.ends_with("/oauth/token") || p.ends_with("/oauth2/token") || p.ends_with("/connect/token")
    }

    pub fn has_note(&self, code: &str) -> bool {
        self.notes.iter().any(|n| n == code)
    }

    /// `POST /api/v2/...`
    pub fn call(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The credential's label (`opaque:1a2b3c4d5e6f`), or `the credential`.
    pub fn credential_label(&self) -> String {
        self.token_use
            .as_ref()
            .map(|u| u.credential.label())
            .or_else(|| self.credentials.first().map(Credential::label))
            .unwrap_or_else(|| "the credential".into())
    }

    /// An evidence line about the refused exchange itself.
    pub fn here(&self, fact: impl Into<String>) -> (Origin, String) {
        (self.origin, fact.into())
    }
}

/// What one rule concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub cause: Cause,
    /// One line: why this request was refused.
    pub summary: String,
    /// (exchange, fact) pairs: the refused exchange and the exchanges that prove it.
    pub evidence: Vec<(Origin, String)>,
    pub fix: String,
    /// True when the server or the capture states it outright; false for catalog-based or
    /// inferred requirements.
    pub proven: bool,
}

/// A rule: pure function of the facts.
pub type Rule = fn(&Facts<'_>) -> Option<Verdict>;

/// Position of a verdict in the ranking (lower is more fundamental): its cause's line in the
/// registry, or just after `guessed_after` for an unproven verdict.
pub fn rank(v: &Verdict) -> u8 {
    let pos = |c: Cause| CAUSES.iter().position(|x| *x == c).unwrap_or(CAUSES.len()) as u8 * 2;
    match RULES.iter().find(|r| r.cause == v.cause).and_then(|r| r.guessed_after) {
        Some(after) if !v.proven => pos(after) + 1,
        _ => pos(v.cause),
    }
}

/// Run every rule and rank what fired; `unexplained` when nothing did.
pub fn judge(f: &Facts<'_>) -> Vec<Verdict> {
    let mut v: Vec<Verdict> = RULES.iter().filter_map(|r| (r.check)(f)).collect();
    // Guesses (catalog-based or inferred) are only reported when nothing is proven.
    if v.iter().any(|x| x.proven) {
        v.retain(|x| x.proven);
    }
    if v.is_empty() {
        v.push(fallback(f));
    }
    v.sort_by_key(rank);
    v
}

/// Explain every 401/403 of the capture.
pub fn diagnose(cx: &Context<'_>) -> Vec<Finding> {
    let refused: Vec<&Exchange> =
        cx.capture.exchanges.iter().filter(|e| matches!(e.status(), Some(401) | Some(403))).collect();
    if refused.is_empty() {
        return Vec::new();
    }
    let successes = Successes::build(cx);
    refused
        .par_iter()
        .map(|ex| {
            let f = gather(cx, ex, &successes);
            finding(cx, ex, &f, judge(&f))
        })
        .collect()
}

/// Collect the facts about one refused exchange.
fn gather<'a>(cx: &Context<'a>, ex: &'a Exchange, successes: &Successes) -> Facts<'a> {
    let host = ex.host();
    let path = ex.path();
    let status = ex.status().unwrap_or(0);
    let mut f = Facts::new(ex.origin, ex.started, &ex.request.method, &host, &path, status);
    f.credentials = token::request_credentials(ex);
    f.unrecorded = ex.unrecorded;
    f.identity = ex.identity.clone();
    f.token_use = cx.tokens.judge(ex);
    f.state = cx.timeline.state_met(&ex.origin);
    f.conversation = cx.timeline.conversation_of(&ex.origin).map(|c| c.id.clone());
    if ex.unrecorded.contains(Unrecorded::REQUEST_BODY) {
        f.earlier_write = cx.timeline.conversation_of(&ex.origin).and_then(|c| {
            c.events
                .iter()
                .rfind(|e| {
                    e.time < ex.started
                        && e.websocket.is_none()
                        && matches!(e.method.as_str(), "PATCH" | "PUT" | "DELETE")
                        && e.status.is_some_and(|s| (200..300).contains(&s))
                })
                .map(|e| (e.origin, format!("{} {}", e.method, e.path), e.time))
        });
    }
    f.lookup = cx.catalog.lookup_at(&host, &ex.request.method, &path);
    if let Some(resp) = &ex.response {
        f.has_body = resp.body.as_ref().is_some_and(|b| !b.omitted && !b.raw.is_empty());
        f.body_not_kept = resp.body.as_ref().filter(|b| b.omitted && b.size() > 0).map(|b| {
            b.mime.clone().or_else(|| resp.headers.get("content-type").map(str::to_string)).unwrap_or_default()
        });
        f.error = crate::body::json(&resp.headers, resp.body.as_ref()).as_ref().and_then(error_body);
        f.challenge = resp.headers.get("www-authenticate").map(challenge);
    }
    if let Some(input) = cx.capture.inputs.get(ex.origin.input) {
        f.notes.extend(input.notes.iter().map(|n| n.code.clone()));
    }
    f.notes.extend(ex.notes.iter().map(|n| n.code.clone()));
    f.notes.sort();
    f.notes.dedup();
    let scopes_unknown = f.meant_operation().is_none_or(|op| op.scopes.is_none());
    if scopes_unknown && !f.is_client_credentials() {
        if let Some(mine) = f.token().and_then(|t| t.scopes.as_ref()) {
            f.inferred = successes.infer(&key(&f.lookup, &ex.request.method, &path), mine);
        }
    }
    f
}

fn finding(cx: &Context<'_>, ex: &Exchange, f: &Facts<'_>, verdicts: Vec<Verdict>) -> Finding {
    let path_of = |o: &Origin| cx.capture.input_path(o).to_string();
    let mut evidence: Vec<Evidence> = Vec::new();
    for v in &verdicts {
        for (o, fact) in &v.evidence {
            let e = Evidence { input: path_of(o), index: o.index, fact: crate::redact::escape(fact) };
            if !evidence.contains(&e) {
                evidence.push(e);
            }
        }
    }
    if !ex.unrecorded.is_empty() {
        // Every finding on a log says what the log could not carry.
        evidence.push(Evidence {
            input: path_of(&ex.origin),
            index: ex.origin.index,
            fact: format!(
                "this input does not record {}: what they would show (the credential sent, the error body, WWW-Authenticate) is not evidence here",
                ex.unrecorded.names().join(", ")
            ),
        });
    }
    let primary = &verdicts[0];
    let mut fix = primary.fix.clone();
    for v in verdicts.iter().skip(1) {
        fix.push_str(&format!(" Also ({}): {}", v.cause.name(), v.fix));
    }
    Finding {
        input: path_of(&ex.origin),
        index: ex.origin.index,
        time: ex.started,
        method: ex.request.method.clone(),
        url: if cx.show_secrets { ex.request.url.clone() } else { crate::redact::mask_url(&ex.request.url) },
        status: f.status,
        cause: primary.cause,
        causes: verdicts.iter().map(|v| v.cause).collect(),
        summary: primary.summary.clone(),
        evidence,
        fix,
        credential: f
            .token_use
            .as_ref()
            .map(|u| u.credential.label())
            .or_else(|| f.credentials.first().map(|c| c.label())),
        conversation: f.conversation.clone(),
    }
}

/// Parse a Genesys `ErrorBody` out of a JSON response.
pub fn error_body(v: &serde_json::Value) -> Option<ErrorBody> {
    let o = v.as_object()?;
    let s = |k: &str| o.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let mut message_params: Vec<(String, String)> = o
        .get("messageParams")
        .and_then(|p| p.as_object())
        .map(|p| {
            p.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    if let Some(w) = s("messageWithParams") {
        message_params.push(("messageWithParams".into(), w));
    }
    let body = ErrorBody {
        code: s("code").or_else(|| s("error")),
        message: s("message").or_else(|| s("error_description")),
        message_params,
        context_id: s("contextId"),
        status: o.get("status").and_then(|x| x.as_u64()).and_then(|x| u16::try_from(x).ok()),
    };
    (body.code.is_some() || body.message.is_some()).then_some(body)
}

/// Parse an RFC 6750 challenge: `Bearer realm="x", error="insufficient_scope", scope="a b"`.
/// Quoted values may hold commas and escaped quotes. A header with several challenges
/// (`Basic realm="a", Bearer error="invalid_token"`) yields the Bearer one's parameters.
pub fn challenge(h: &str) -> Challenge {
    let h = h.trim();
    let (scheme, rest) = h.split_once(char::is_whitespace).unwrap_or((h, ""));
    let mut c = Challenge { scheme: scheme.to_string(), ..Default::default() };
    let mut bearer_seen = scheme.eq_ignore_ascii_case("bearer");
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else { break };
        let mut name = name.trim().trim_start_matches(',').trim();
        // `Bearer error` : a new challenge starts; its scheme is the first word.
        if let Some((next_scheme, n)) = name.rsplit_once(char::is_whitespace) {
            let next_scheme = next_scheme.trim().trim_start_matches(',').trim();
            if next_scheme.eq_ignore_ascii_case("bearer") && !bearer_seen {
                bearer_seen = true;
                c = Challenge { scheme: next_scheme.to_string(), ..Default::default() };
            } else if bearer_seen && c.scheme.eq_ignore_ascii_case("bearer") {
                // Parameters after the Bearer challenge belong to another scheme: stop.
                break;
            }
            name = n.trim();
        }
        let name = name.to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let mut end = q.len();
            let mut escaped = false;
            for (i, ch) in q.char_indices() {
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == '"' {
                    end = i;
                    break;
                }
            }
            (q[..end].replace("\\\"", "\""), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        match name.as_str() {
            "error" => c.error = Some(value),
            "error_description" => c.error_description = Some(value),
            "scope" => c.scope = Some(value),
            _ => {}
        }
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    c
}

/// The key successful calls are grouped by: `METHOD template` when the catalog knows the
/// operation, else `METHOD path` with identifier-like segments replaced by `{}`.
fn key(lookup: &Lookup<'_>, method: &str, path: &str) -> String {
    match lookup {
        Lookup::Known(op) => format!("{} {}", op.method, op.path),
        _ => {
            let segs: Vec<&str> = crate::catalog::segments(path)
                .into_iter()
                .map(|s| if crate::catalog::looks_like_id(s) { "{}" } else { s })
                .collect();
            format!("{} /{}", method.to_ascii_uppercase(), segs.join("/"))
        }
    }
}

/// Successful calls per operation key: the scopes all their tokens shared.
#[derive(Default)]
struct Successes {
    by_key: HashMap<String, (Vec<String>, usize, Vec<Origin>)>,
}

impl Successes {
    fn build(cx: &Context<'_>) -> Successes {
        let mut s = Successes::default();
        for ex in &cx.capture.exchanges {
            if !ex.status().is_some_and(|c| (200..300).contains(&c)) {
                continue;
            }
            let Some(scopes) = cx.tokens.judge(ex).and_then(|u| u.token).and_then(|t| t.scopes.clone()) else {
                continue;
            };
            let path = ex.path();
            // Only the operation matters here, not a suggestion for a non-existent one.
            let lookup = match cx.catalog.known_at(&ex.host(), &ex.request.method, &path) {
                Some(op) => Lookup::Known(op),
                None => Lookup::NotCovered,
            };
            let e = s
                .by_key
                .entry(key(&lookup, &ex.request.method, &path))
                .or_insert_with(|| (scopes.clone(), 0, Vec::new()));
            e.0.retain(|x| scopes.contains(x));
            e.1 += 1;
            if e.2.len() < 3 {
                e.2.push(ex.origin);
            }
        }
        s
    }

    fn infer(&self, key: &str, mine: &[String]) -> Option<Inferred> {
        let (shared, calls, proofs) = self.by_key.get(key)?;
        let lacking: Vec<String> = shared.iter().filter(|s| !mine.contains(s)).cloned().collect();
        (!lacking.is_empty() && *calls > 0).then(|| Inferred { scopes: lacking, calls: *calls, proofs: proofs.clone() })
    }
}

/// The time between two instants as people say it, for summaries: `45 s`, `20 min`,
/// `3 h 10 min`, `2 days`, `13 years` (the largest unit or two; the sign is dropped).
pub(crate) fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    human_duration((to - from).num_seconds().unsigned_abs())
}

/// Seconds as people say them: `45 s`, `20 min`, `3 h 10 min`, `2 days`, `13 years`.
pub fn human_duration(s: u64) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match s {
        0..=119 => format!("{s} s"),
        120..=5_399 => format!("{} min", s / 60),
        5_400..=172_799 => match (s / 3600, (s % 3600) / 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
        172_800..=5_183_999 => plural(s / 86_400, "day", "days"),
        5_184_000..=63_071_999 => plural(s / 2_629_746, "month", "months"),
        _ => plural(s / 31_556_952, "year", "years"),
    }
}

/// Shared fixtures for the rule unit tests: hand-built facts and tokens.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::token::Validity;
    use chrono::TimeZone;

    pub fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time") + chrono::Duration::minutes(min)
    }

    pub fn o(index: usize) -> Origin {
        Origin::entry(0, index)
    }

    pub fn token(grant: Grant, scopes: Option<&[&str]>) -> Token {
        Token {
            fingerprint: "1a2b3c4d5e6f".into(),
            kind: if grant == Grant::Guest { CredentialKind::GuestJwt } else { CredentialKind::Opaque },
            grant,
            issuer: Some("login.mypurecloud.com".into()),
            region: Some("us_east_1".into()),
            scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
            issued: Some(t(-60)),
            expires: Some(t(24 * 60)),
            revoked: None,
            first_use: Some(t(-59)),
            last_use: Some(t(0)),
            uses: 2,
            refused: 1,
            issued_at: Some(o(0)),
            scopes_source: scopes.map(|_| o(1)),
            revoked_by: None,
            has_user: match grant {
                Grant::ClientCredentials => Some(false),
                Grant::Guest | Grant::Unknown => None,
                _ => Some(true),
            },
            client_id: None,
            ..Token::default()
        }
    }

    pub fn facts<'a>(method: &str, path: &str, status: u16, tok: Option<&'a Token>, validity: Validity) -> Facts<'a> {
        let mut f = Facts::new(o(5), t(0), method, "api.mypurecloud.com", path, status);
        if let Some(tok) = tok {
            let cred = Credential::new(tok.kind, "authorization: bearer", "secret-value");
            f.credentials = vec![cred.clone()];
            f.token_use = Some(TokenUse {
                credential: cred,
                token: Some(tok),
                validity,
                used_region: Some("us_east_1".into()),
                cross_region: None,
            });
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(20 * 60), "20 min");
        assert_eq!(human_duration(3 * 3600 + 600), "3 h 10 min");
        assert_eq!(human_duration(2 * 86_400), "2 days");
        assert_eq!(human_duration(6_895_757 * 60), "13 years");
    }
    use crate::catalog::Catalog;
    use crate::token::Validity;

    #[test]
    fn challenge_and_error_body_parse() {
        let c = challenge(
            r#"Bearer realm="genesys", error="insufficient_scope", error_description="need \"conversations\"", scope="conversations""#,
        );
        assert_eq!(c.error.as_deref(), Some("insufficient_scope"));
        assert_eq!(c.scope.as_deref(), Some("conversations"));
        assert_eq!(c.error_description.as_deref(), Some("need \"conversations\""));
        let b = error_body(&serde_json::json!({
            "message": "Unable to perform the requested action. You must have at least one of the following permissions assigned: [conversation:message:create, conversation:webmessaging:create]",
            "code": "missing.any.permissions", "status": 403, "contextId": "c-1",
            "messageParams": {"permissions": "conversation:message:create, conversation:webmessaging:create"}
        }))
        .unwrap();
        assert_eq!(b.code.as_deref(), Some("missing.any.permissions"));
        assert_eq!(b.permissions(), vec!["conversation:message:create", "conversation:webmessaging:create"]);
        assert!(error_body(&serde_json::json!([1])).is_none());
    }

    #[test]
    fn ranking_puts_the_endpoint_before_the_token_kind_and_scope_guesses() {
        let cat = Catalog::genesys();
        let tok = token(Grant::Guest, None);
        let mut f = facts("POST", "/api/v2/conversations/messaging/abc/messages", 403, Some(&tok), Validity::Valid);
        f.lookup = cat.lookup(&f.method, &f.path);
        let v = judge(&f);
        let causes: Vec<Cause> = v.iter().map(|v| v.cause).collect();
        assert_eq!(causes, vec![Cause::EndpointUnknown, Cause::TokenWrongKind]);
    }

    #[test]
    fn nothing_known_is_unexplained() {
        let mut f = facts("GET", "/x", 403, None, Validity::Unknown);
        f.notes.push("har.sanitized".into());
        let v = judge(&f);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].cause, Cause::Unexplained);
    }
}
