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
//! Public surface: [`Cause`], [`CAUSES`], [`RULES`], [`Evidence`], [`Finding`], [`diagnose`] (or [`Pending`], a batch at a time), [`Facts`], [`Verdict`].

use crate::catalog::{Catalog, Lookup, Operation};
use crate::model::{Capture, Exchange, Identity, Origin, Unrecorded};
use crate::names::Names;
use crate::redact::FingerprintKeys;
use crate::spill::{self, At, Kind, Records, Spilled};
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

/// How sure a finding is (docs/diagnostics.md, "Confidence"). Ranked in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// The capture shows it: the server said so (error body, challenge), or every fact the
    /// cause needs was observed (a token's scopes from its reply against the documented
    /// requirement, a token's own expiry, a conversation's end).
    Proven,
    /// Concluded from other calls in the capture (`calls` of them): what succeeded with other
    /// credentials, or earlier with this one.
    Inferred { calls: usize },
    /// The catalog says so, or it is the likeliest reading, and the capture cannot check it
    /// (a role's permissions, a token whose scopes were never seen).
    Assumed,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Proven => "proven",
            Confidence::Inferred { .. } => "inferred",
            Confidence::Assumed => "assumed",
        }
    }

    pub fn is_proven(self) -> bool {
        self == Confidence::Proven
    }

    /// `proven`, `inferred (3 calls)`, `assumed`.
    pub fn label(self) -> String {
        match self {
            Confidence::Inferred { calls } => format!("inferred ({calls} call{})", if calls == 1 { "" } else { "s" }),
            c => c.name().to_string(),
        }
    }

    fn tier(self) -> u8 {
        match self {
            Confidence::Proven => 0,
            Confidence::Inferred { .. } => 1,
            Confidence::Assumed => 2,
        }
    }
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
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub time: DateTime<Utc>,
    pub method: String,
    /// Masked unless `--show-secrets`.
    pub url: String,
    pub status: u16,
    pub cause: Cause,
    pub causes: Vec<Cause>,
    /// `proven`, `inferred` or `assumed` (of the primary cause).
    #[serde(serialize_with = "confidence_name")]
    pub confidence: Confidence,
    /// For `inferred`: how many other calls of the capture it was inferred from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inferred_from: Option<usize>,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub fix: String,
    pub credential: Option<String>,
    pub conversation: Option<String>,
}

fn confidence_name<S: serde::Serializer>(c: &Confidence, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.name())
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

/// One challenge of a `WWW-Authenticate` header (RFC 7235 §2.1): a scheme (`Basic`,
/// `Digest`, `NTLM`, `Negotiate`, `Bearer`...) with either auth-params or a token68. For
/// Bearer, RFC 6750's `error`, `error_description` and `scope` are lifted out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Challenge {
    pub scheme: String,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub scope: Option<String>,
    /// Every auth-param, names lower-cased (`realm`, `charset`, `nonce`...).
    pub params: Vec<(String, String)>,
    /// The token68 form (`Negotiate oYH...`, an NTLM type-2 message).
    pub token68: Option<String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// `Basic realm="x"`, for evidence.
    pub fn describe(&self) -> String {
        let mut s = self.scheme.clone();
        if let Some(r) = self.param("realm") {
            s.push_str(&format!(" realm=\"{r}\""));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!(" error=\"{e}\""));
        }
        s
    }
}

/// Scopes a refused token lacked that every successful call to the same operation carried.
#[derive(Debug, Clone, PartialEq)]
pub struct Inferred {
    pub scopes: Vec<String>,
    /// How many successful calls agree.
    pub calls: usize,
    /// How many different credentials made them.
    pub credentials: usize,
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
    /// What the same credential did successfully earlier in the capture.
    pub history: History,
    /// Every challenge of the response's `WWW-Authenticate` headers, in order.
    pub challenges: Vec<Challenge>,
    /// Whether the user gave `--catalog` (advice then never asks for one).
    pub catalog_given: bool,
    /// Successful calls to the same operation that carried a credential.
    pub ok_with_credentials: usize,
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
            history: History::default(),
            challenges: Vec::new(),
            catalog_given: false,
            ok_with_credentials: 0,
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

    /// Whether the token's scopes are checked by the server: always, except client-credentials
    /// tokens at Genesys Cloud (governed by the client's roles). Other APIs check every
    /// OAuth token's scopes as their catalog says.
    pub fn scope_checked(&self) -> bool {
        !(self.is_client_credentials() && self.genesys_host())
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
    /// Proven by the capture, inferred from other calls, or assumed from the catalog.
    pub confidence: Confidence,
}

/// A rule: pure function of the facts.
pub type Rule = fn(&Facts<'_>) -> Option<Verdict>;

/// Position of a verdict in the ranking (lower is more fundamental): its cause's line in the
/// registry, or just after `guessed_after` for an unproven verdict.
pub fn rank(v: &Verdict) -> u8 {
    let pos = |c: Cause| CAUSES.iter().position(|x| *x == c).unwrap_or(CAUSES.len()) as u8 * 2;
    match RULES.iter().find(|r| r.cause == v.cause).and_then(|r| r.guessed_after) {
        Some(after) if !v.confidence.is_proven() => pos(after) + 1,
        _ => pos(v.cause),
    }
}

/// Run every rule and rank what fired; `unexplained` when nothing did.
pub fn judge(f: &Facts<'_>) -> Vec<Verdict> {
    let mut v: Vec<Verdict> = RULES.iter().filter_map(|r| (r.check)(f)).collect();
    // Guesses (catalog-based or inferred) are only reported when nothing is proven; then
    // every candidate is listed, inferred before assumed.
    if v.iter().any(|x| x.confidence.is_proven()) {
        v.retain(|x| x.confidence.is_proven());
    }
    if v.is_empty() {
        v.push(fallback(f));
    }
    v.sort_by_key(|x| (x.confidence.tier(), rank(x)));
    v
}

/// Explain every 401/403 of the capture.
///
/// `seen` is what the exchanges that are not kept said ([`Seen`]); the refused ones are in
/// `cx.capture`.
pub fn diagnose(cx: &Context<'_>, seen: Seen) -> Vec<Finding> {
    diagnose_pending(cx, &Pending::new(cx, seen, None))
}

/// Every finding of a [`Pending`] diagnosis, in capture order.
pub fn diagnose_pending(cx: &Context<'_>, pending: &Pending) -> Vec<Finding> {
    let mut all = Vec::new();
    let Ok(()) = pending.each(
        cx,
        |f| f,
        |f| {
            all.extend(f);
            Ok::<(), std::convert::Infallible>(())
        },
    );
    all
}

/// The diagnosis ready to explain the refusals a batch at a time ([`Pending::each`]), so that
/// a command can write each finding as it is made instead of holding them all: on an access
/// log with a refusal every twentieth line, the findings would be the largest thing held.
pub struct Pending {
    handshakes: Handshakes,
    successes: Successes,
    /// What a streamed analysis wrote to disk ([`crate::spill`]): the refusals among it are
    /// explained with those the capture holds.
    spilled: Option<Spilled>,
}

/// Refusals explained per parallel task by [`Pending::each`].
const CHUNK: usize = 256;
/// Tasks run before their results are handed on (bounds the findings held at once, and the
/// refusals read back from disk).
const WINDOW: usize = 4;

impl Pending {
    /// Resolve what was seen against the capture's tokens; `spilled`: the refusals not in the
    /// capture.
    pub fn new(cx: &Context<'_>, mut seen: Seen, spilled: Option<Spilled>) -> Pending {
        let handshakes = Handshakes { done: std::mem::take(&mut seen.handshakes) };
        let refused = spilled.as_ref().is_some_and(|s| s.next_of(Kind::REFUSAL, 0).is_some())
            || cx.capture.exchanges.iter().any(is_refusal);
        let successes = if refused { Successes::build(seen, cx.tokens) } else { Successes::default() };
        Pending { handshakes, successes, spilled }
    }

    /// Explain every refusal (in `cx.capture` and on disk) in capture order, on every core:
    /// each batch of findings goes through `map` on the thread that made it, then to `sink`,
    /// in order.
    pub fn each<R: Send, E>(
        &self,
        cx: &Context<'_>,
        map: impl Fn(Vec<Finding>) -> R + Sync,
        mut sink: impl FnMut(R) -> Result<(), E>,
    ) -> Result<(), E> {
        let exchanges = &cx.capture.exchanges;
        let spilled = self.spilled.as_ref();
        let mut refusals = spill::positions(exchanges, is_refusal, spilled, Kind::REFUSAL);
        loop {
            let window: Vec<At> = refusals.by_ref().take(CHUNK * WINDOW).collect();
            if window.is_empty() {
                break;
            }
            // Those on disk are read back on every core.
            let read: Vec<Option<Exchange>> = window
                .par_iter()
                .filter_map(|at| match at {
                    At::Spilled(n) => Some(spilled.and_then(|s| s.get(*n))),
                    At::Held(_) => None,
                })
                .collect();
            let mut read = read.iter();
            let explained: Vec<&Exchange> = window
                .iter()
                .filter_map(|at| match at {
                    At::Held(i) => exchanges.get(*i),
                    At::Spilled(_) => read.next().and_then(Option::as_ref),
                })
                .filter(|e| !self.handshakes.is_leg(e))
                .collect();
            let done: Vec<R> = explained
                .par_chunks(CHUNK)
                .map(|chunk| {
                    map(chunk
                        .iter()
                        .map(|ex| {
                            let f = gather(cx, ex, &self.successes);
                            finding(cx, ex, &f, judge(&f))
                        })
                        .collect())
                })
                .collect();
            for r in done {
                sink(r)?;
            }
        }
        Ok(())
    }
}

/// Answered 401 or 403.
fn is_refusal(ex: &Exchange) -> bool {
    matches!(ex.status(), Some(401 | 403))
}

/// Connection-based authentication (NTLM, Negotiate) answers its first requests with 401 by
/// design: the challenge, then the server's half of the handshake. A 401 that asks for (or
/// answers) such a scheme, followed within two minutes by a success of the same request
/// authenticated with it, is a handshake leg, not a refusal.
#[derive(Default)]
struct Handshakes {
    /// (method, URL) -> times of successes authenticated with NTLM or Negotiate.
    done: HashMap<(String, String), Vec<DateTime<Utc>>>,
}

fn handshake_scheme(s: &str) -> bool {
    let w = s.split_whitespace().next().unwrap_or("");
    w.eq_ignore_ascii_case("ntlm") || w.eq_ignore_ascii_case("negotiate")
}

impl Handshakes {
    fn is_leg(&self, ex: &Exchange) -> bool {
        if ex.status() != Some(401) {
            return false;
        }
        let asked = ex.response.as_ref().is_some_and(|r| {
            r.headers.get_all("www-authenticate").flat_map(challenges).any(|c| c.is("ntlm") || c.is("negotiate"))
        });
        let sent = ex.request.headers.get("authorization").is_some_and(handshake_scheme);
        if !(asked || sent) {
            return false;
        }
        let within = chrono::Duration::minutes(2);
        self.done
            .get(&(ex.request.method.clone(), ex.request.url.clone()))
            .is_some_and(|ts| ts.iter().any(|t| *t >= ex.started && *t - ex.started <= within))
    }
}

/// Collect the facts about one refused exchange.
fn gather<'a>(cx: &Context<'a>, ex: &'a Exchange, successes: &Successes) -> Facts<'a> {
    let (host, path) = ex.host_and_path();
    let status = ex.status().unwrap_or(0);
    let mut f = Facts::new(ex.origin, ex.started, &ex.request.method, &host, &path, status);
    f.credentials = token::request_credentials(ex);
    f.unrecorded = ex.unrecorded;
    f.identity = ex.identity.clone();
    f.token_use = f.credentials.first().and_then(|c| cx.tokens.judge_credential(ex, c.clone()));
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
        f.error = crate::body::json(&resp.headers, resp.body.as_deref()).as_ref().and_then(error_body);
        f.challenges = resp.headers.get_all("www-authenticate").flat_map(challenges).collect();
        f.challenge = f.challenges.iter().find(|c| c.is("bearer")).or(f.challenges.first()).cloned();
    }
    if let Some(input) = cx.capture.inputs.get(ex.origin.input) {
        f.notes.extend(input.notes.iter().map(|n| n.code.clone()));
    }
    f.notes.extend(ex.notes.iter().map(|n| n.code.clone()));
    f.notes.sort();
    f.notes.dedup();
    let k = key(&f.lookup, &ex.request.method, &path);
    let scopes_unknown = f.meant_operation().is_none_or(|op| op.scopes.is_none());
    if scopes_unknown && f.scope_checked() {
        if let Some(mine) = f.token().and_then(|t| t.scopes.as_ref()) {
            f.inferred = successes.infer(&k, mine);
        }
    }
    if let Some(u) = &f.token_use {
        let region = crate::region::region_of_host(&host).map(|(r, _)| r.key);
        f.history = successes.history(&u.credential.fingerprint, ex.started, &k, region);
    }
    f.catalog_given = !cx.catalog.source.starts_with("built-in");
    f.ok_with_credentials = successes.with_credentials(&k);
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
        confidence: primary.confidence,
        inferred_from: match primary.confidence {
            Confidence::Inferred { calls } => Some(calls),
            _ => None,
        },
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

/// Parse a `WWW-Authenticate` value and return its Bearer challenge (RFC 6750), or the first
/// challenge when none is Bearer: `Bearer realm="x", error="insufficient_scope", scope="a b"`.
pub fn challenge(h: &str) -> Challenge {
    let all = challenges(h);
    all.iter().find(|c| c.is("bearer")).or(all.first()).cloned().unwrap_or_default()
}

/// Parse a `WWW-Authenticate` value into its challenges (RFC 7235 §4.1 list syntax):
/// `Basic realm="a", Bearer error="invalid_token", Negotiate, NTLM TlRMTVNTUAACAAAA...`.
/// Quoted values may hold commas and escaped quotes; malformed parts are skipped.
pub fn challenges(h: &str) -> Vec<Challenge> {
    let b = h.as_bytes();
    let n = b.len();
    let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&c);
    let skip_ws = |mut i: usize| {
        while i < n && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        i
    };
    let mut out: Vec<Challenge> = Vec::new();
    let mut i = 0;
    // Whether the current challenge may still take parameters (after its scheme or a comma).
    let mut open = false;
    while i < n {
        i = skip_ws(i);
        if i < n && b[i] == b',' {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && is_tchar(b[i]) {
            i += 1;
        }
        if i == start {
            // Not a token: skip one character (lenient).
            i += h[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let word = &h[start..i];
        let j = skip_ws(i);
        let param_follows = j < n && b[j] == b'=';
        if param_follows && open && !out.is_empty() {
            // `name = value` of the current challenge.
            let mut k = skip_ws(j + 1);
            let value = if k < n && b[k] == b'"' {
                let mut v = String::new();
                k += 1;
                let mut chars = h[k..].char_indices();
                let mut end = n;
                while let Some((o, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, c2)) = chars.next() {
                                v.push(c2);
                            }
                        }
                        '"' => {
                            end = k + o + 1;
                            break;
                        }
                        c => v.push(c),
                    }
                }
                k = end;
                v
            } else {
                let vs = k;
                while k < n && b[k] != b',' && b[k] != b' ' && b[k] != b'\t' {
                    k += 1;
                }
                h[vs..k].to_string()
            };
            let c = out.last_mut().expect("a current challenge");
            let name = word.to_ascii_lowercase();
            match name.as_str() {
                "error" => c.error = Some(value.clone()),
                "error_description" => c.error_description = Some(value.clone()),
                "scope" => c.scope = Some(value.clone()),
                _ => {}
            }
            c.params.push((name, value));
            i = k;
            continue;
        }
        // A new challenge: the scheme, then maybe a token68 (`abc==`, not `name=value`).
        let mut c = Challenge { scheme: word.to_string(), ..Default::default() };
        let k = skip_ws(i);
        open = true;
        if k > i && k < n && b[k] != b',' {
            let ts = k;
            let mut e = k;
            while e < n && (b[e].is_ascii_alphanumeric() || b"-._~+/".contains(&b[e])) {
                e += 1;
            }
            while e < n && b[e] == b'=' {
                e += 1;
            }
            let after = skip_ws(e);
            // `abc==` or `abc` alone is a token68; `realm=x` (a value after `=`) is a parameter.
            if e > ts && (after >= n || b[after] == b',') {
                c.token68 = Some(h[ts..e].to_string());
                open = false;
                i = after;
            }
        }
        out.push(c);
    }
    out
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

/// One successful call, as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Success {
    pub origin: Origin,
    pub time: DateTime<Utc>,
    pub host: String,
    /// Region of its Genesys host, if any.
    pub region: Option<String>,
    /// Its operation key (see [`key`]).
    pub key: String,
}

/// What the same credential did successfully before it was refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The latest earlier success of this credential on this same operation, and how many
    /// there were.
    pub same_operation: Option<(Success, usize)>,
    /// The latest earlier success of this credential at another Genesys region's host, and
    /// how many successes it had there.
    pub other_region: Option<(Success, usize)>,
}

/// Successful calls: per operation key, the scopes all their tokens shared; per credential,
/// every success in time order.
#[derive(Default)]
struct Successes {
    keys: Names,
    hosts: Names,
    /// Region of each host (by number), if it is a Genesys host.
    regions: Vec<Option<&'static str>>,
    by_key: HashMap<u32, Shared>,
    /// Successes per operation key (by number) that carried any credential.
    with_credentials: Vec<usize>,
    /// Every success, by credential then in capture order.
    all: Records<Kept>,
    /// Each credential's successes: a range of `all`.
    by_credential: crate::redact::ByFingerprint<(u32, u32)>,
    /// For credentials with many successes, the positions (in their range) of those on each
    /// operation and in each region, in order, so that what one did before an instant is
    /// found by binary search: a log with hundreds of thousands of calls by one identity and
    /// as many refusals would otherwise compare every pair. Fewer are scanned.
    index: crate::redact::ByFingerprint<Index>,
    fps: FingerprintKeys,
}

/// One success that carried a credential, as kept from the moment it is read to the end:
/// 40 bytes of plain numbers, kept on disk ([`Records`]). On an access log nearly every line
/// is one (an [`Origin`] alone is 48 bytes: a success is cited by input and index only, never
/// by frame).
#[derive(Clone, Copy)]
#[repr(C)]
struct Kept {
    index: u64,
    /// Its credential ([`FingerprintKeys`]).
    fp: u64,
    /// Its start, as [`DateTime::timestamp`] and [`DateTime::timestamp_subsec_nanos`].
    secs: i64,
    nanos: u32,
    input: u32,
    /// Its operation key and host ([`Names`]).
    key: u32,
    host: u32,
}

// SAFETY: `Kept` is `repr(C)`, made of integers only, with no padding (checked below): any
// bytes are a `Kept`.
unsafe impl bytemuck::Zeroable for Kept {}
unsafe impl bytemuck::Pod for Kept {}
const _: () = assert!(std::mem::size_of::<Kept>() == 40);

impl Kept {
    fn origin(&self) -> Origin {
        Origin::entry(self.input as usize, self.index as usize)
    }

    fn time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.secs, self.nanos).unwrap_or_default()
    }

    /// Capture order.
    fn order(&self) -> (i64, u32, u32, u64) {
        (self.secs, self.nanos, self.input, self.index)
    }
}

#[derive(Default)]
struct Index {
    by_key: HashMap<u32, Vec<u32>>,
    by_region: HashMap<&'static str, Vec<u32>>,
}

/// Credentials with more successes than this get an [`Index`].
const SCAN: usize = 64;

/// Of the positions `among` (into `mine`, in time order), how many are of successes at or
/// before `at`, and the last.
fn before(mine: &[Kept], among: impl Iterator<Item = usize>, at: DateTime<Utc>) -> (usize, Option<usize>) {
    let mut n = 0;
    let mut last = None;
    for i in among {
        if mine.get(i).is_none_or(|s| s.time() > at) {
            break;
        }
        n += 1;
        last = Some(i);
    }
    (n, last)
}

/// [`before`] by binary search over sorted positions.
fn before_sorted(mine: &[Kept], among: &[u32], at: DateTime<Utc>) -> (usize, Option<usize>) {
    let n = among.partition_point(|&i| mine.get(i as usize).is_some_and(|s| s.time() <= at));
    (n, n.checked_sub(1).and_then(|k| among.get(k)).map(|&i| i as usize))
}

struct Shared {
    scopes: crate::intern::Strs,
    calls: usize,
    credentials: std::collections::HashSet<u64>,
    proofs: Vec<Origin>,
}

/// What the diagnosis needs of the exchanges that are not refused, folded as they are read
/// ([`Seen::add`]) so they need not be kept: each success that carried a credential (its
/// credential, operation key and host, by number) and each NTLM/Negotiate handshake that
/// succeeded.
#[derive(Default)]
pub struct Seen {
    successes: Records<Kept>,
    keys: Names,
    hosts: Names,
    fps: FingerprintKeys,
    /// (method, URL) -> times of successes authenticated with NTLM or Negotiate.
    handshakes: HashMap<(String, String), Vec<DateTime<Utc>>>,
}

struct SuccessSeen {
    origin: Origin,
    time: DateTime<Utc>,
    fingerprint: String,
    key: String,
    host: String,
}

/// What one exchange adds to [`Seen`], found on any thread ([`Seen::of`]).
pub struct SeenOne {
    success: Option<SuccessSeen>,
    handshake: Option<(String, String)>,
}

impl Seen {
    /// What `ex` adds (`primary`: its primary credential): the URL parsing and catalog look-up
    /// of a success happen here, on the reading threads.
    pub fn of(ex: &Exchange, primary: Option<&Credential>, catalog: &Catalog) -> SeenOne {
        let status = ex.status();
        let success = match primary {
            Some(c) if status.is_some_and(|s| (200..300).contains(&s)) => {
                let (host, path) = ex.host_and_path();
                // Only the operation matters here, not a suggestion for a non-existent one.
                let lookup = match catalog.known_at(&host, &ex.request.method, &path) {
                    Some(op) => Lookup::Known(op),
                    None => Lookup::NotCovered,
                };
                let key = key(&lookup, &ex.request.method, &path);
                Some(SuccessSeen { origin: ex.origin, time: ex.started, fingerprint: c.fingerprint.clone(), key, host })
            }
            _ => None,
        };
        let ok = status.is_some_and(|c| (200..400).contains(&c));
        let handshake = (ok && ex.request.headers.get("authorization").is_some_and(handshake_scheme))
            .then(|| (ex.request.method.clone(), ex.request.url.clone()));
        SeenOne { success, handshake }
    }

    /// Nothing (for a fold that finds nothing).
    pub fn nothing() -> SeenOne {
        SeenOne { success: None, handshake: None }
    }

    /// Fold what one exchange (started at `started`) adds, in any order.
    pub fn add(&mut self, one: SeenOne, started: DateTime<Utc>) {
        if let Some(x) = one.success {
            let kept = Kept {
                index: x.origin.index as u64,
                fp: self.fps.key(&x.fingerprint),
                secs: x.time.timestamp(),
                nanos: x.time.timestamp_subsec_nanos(),
                input: u32::try_from(x.origin.input).unwrap_or(u32::MAX),
                key: self.keys.id(&x.key),
                host: self.hosts.id(&x.host),
            };
            self.successes.push(kept);
        }
        if let Some(k) = one.handshake {
            self.handshakes.entry(k).or_default().push(started);
        }
    }
}

impl Successes {
    /// The successes folded in capture order (so the proofs kept are the first ones), each
    /// with its credential's token as the whole capture made it.
    fn build(seen: Seen, tokens: &TokenIndex) -> Successes {
        let Seen { successes: mut records, keys, hosts, fps, .. } = seen;
        let regions =
            (0..hosts.len() as u32).map(|h| crate::region::region_of_host(hosts.text(h)).map(|(r, _)| r.key)).collect();
        let mut s = Successes { with_credentials: vec![0; keys.len()], regions, ..Default::default() };
        records.as_mut_slice().par_sort_unstable_by_key(Kept::order);
        let mut scopes_of: crate::redact::ByFingerprint<Option<&crate::intern::Strs>> = Default::default();
        for x in records.as_slice() {
            if let Some(n) = s.with_credentials.get_mut(x.key as usize) {
                *n += 1;
            }
            let scopes =
                *scopes_of.entry(x.fp).or_insert_with(|| tokens.get(&fps.text(x.fp)).and_then(|t| t.scopes.as_ref()));
            if let Some(scopes) = scopes {
                let e = s.by_key.entry(x.key).or_insert_with(|| Shared {
                    scopes: scopes.clone(),
                    calls: 0,
                    credentials: Default::default(),
                    proofs: Vec::new(),
                });
                if e.scopes != *scopes {
                    e.scopes = e.scopes.iter().filter(|y| scopes.contains(y)).collect();
                }
                e.calls += 1;
                e.credentials.insert(x.fp);
                if e.proofs.len() < 3 {
                    e.proofs.push(x.origin());
                }
            }
        }
        drop(scopes_of);
        // By credential, each in capture order, in place.
        let mut from = 0;
        let all = records.as_mut_slice();
        all.par_sort_unstable_by_key(|a| (a.fp, a.order()));
        for i in 0..all.len() {
            let fp = all[i].fp;
            if all.get(i + 1).is_none_or(|n| n.fp != fp) {
                s.by_credential.insert(fp, (from as u32, i as u32 + 1));
                if i + 1 - from > SCAN {
                    let mut ix = Index::default();
                    for (p, k) in all[from..=i].iter().enumerate() {
                        ix.by_key.entry(k.key).or_default().push(p as u32);
                        if let Some(r) = s.region(k) {
                            ix.by_region.entry(r).or_default().push(p as u32);
                        }
                    }
                    s.index.insert(fp, ix);
                }
                from = i + 1;
            }
        }
        s.all = records;
        s.keys = keys;
        s.hosts = hosts;
        s.fps = fps;
        s
    }

    /// Region of a success's Genesys host, if any.
    fn region(&self, k: &Kept) -> Option<&'static str> {
        self.regions.get(k.host as usize).copied().flatten()
    }

    /// Successes on operation `key` that carried any credential.
    fn with_credentials(&self, key: &str) -> usize {
        self.keys.get(key).and_then(|k| self.with_credentials.get(k as usize)).copied().unwrap_or(0)
    }

    fn infer(&self, key: &str, mine: &[crate::intern::Str]) -> Option<Inferred> {
        let sh = self.by_key.get(&self.keys.get(key)?)?;
        let lacking: Vec<String> = sh.scopes.iter().filter(|s| !mine.contains(s)).map(String::from).collect();
        (!lacking.is_empty() && sh.calls > 0).then(|| Inferred {
            scopes: lacking,
            calls: sh.calls,
            credentials: sh.credentials.len(),
            proofs: sh.proofs.clone(),
        })
    }

    fn success(&self, k: &Kept) -> Success {
        Success {
            origin: k.origin(),
            time: k.time(),
            host: self.hosts.text(k.host).to_string(),
            region: self.region(k).map(str::to_string),
            key: self.keys.text(k.key).to_string(),
        }
    }

    /// What `fingerprint` did successfully before `at` (at or before: the latest success on
    /// the same operation and at another region's host, each with how many there were).
    fn history(&self, fingerprint: &str, at: DateTime<Utc>, key: &str, region: Option<&str>) -> History {
        let mut h = History::default();
        let Some(fp) = self.fps.find(fingerprint) else { return h };
        let Some(&(from, to)) = self.by_credential.get(&fp) else { return h };
        let mine = self.all.as_slice().get(from as usize..to as usize).unwrap_or(&[]);
        let index = self.index.get(&fp);
        if let Some(k) = self.keys.get(key) {
            let (n, last) = match index {
                Some(ix) => ix.by_key.get(&k).map(|p| before_sorted(mine, p, at)).unwrap_or((0, None)),
                None => before(mine, (0..mine.len()).filter(|&i| mine[i].key == k), at),
            };
            if let Some(last) = last {
                h.same_operation = mine.get(last).map(|s| (self.success(s), n));
            }
        }
        if let Some(here) = region {
            let (mut count, mut last) = (0, None::<usize>);
            match index {
                Some(ix) => {
                    for (r, positions) in &ix.by_region {
                        if *r != here {
                            let (n, l) = before_sorted(mine, positions, at);
                            count += n;
                            last = last.max(l);
                        }
                    }
                }
                None => {
                    let other = (0..mine.len()).filter(|&i| self.region(&mine[i]).is_some_and(|r| r != here));
                    (count, last) = before(mine, other, at);
                }
            }
            if let Some(l) = last {
                h.other_region = mine.get(l).map(|s| (self.success(s), count));
            }
        }
        h
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
        let mut tok = Token {
            fingerprint: "1a2b3c4d5e6f".into(),
            kind: if grant == Grant::Guest { CredentialKind::GuestJwt } else { CredentialKind::Opaque },
            grant,
            issuer: Some("login.mypurecloud.com".into()),
            region: Some("us_east_1"),
            scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
            issued: Some(t(-60)),
            expires: Some(t(24 * 60)),
            first_use: Some(t(-59)),
            last_use: Some(t(0)),
            uses: 2,
            refused: 1,
            issued_at: Some(Box::new(o(0))),
            has_user: match grant {
                Grant::ClientCredentials => Some(false),
                Grant::Guest | Grant::Unknown => None,
                _ => Some(true),
            },
            client_id: None,
            ..Token::default()
        };
        if scopes.is_some() {
            tok.rare_mut().scopes_source = Some(Box::new(o(1)));
        }
        tok
    }

    /// A success of the same credential `min` minutes before the refusal, at exchange `index`.
    pub fn prior(index: usize, min: i64) -> Success {
        Success {
            origin: o(index),
            time: t(-min),
            host: "api.mypurecloud.com".into(),
            region: Some("us_east_1".into()),
            key: String::new(),
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

    /// A credential with more successes than [`SCAN`] is answered from its index: the same
    /// history as scanning its successes, at every instant.
    #[test]
    fn history_by_index_is_history_by_scan() {
        let seen = |n: usize| {
            let mut s = Seen::default();
            for i in 0..n {
                let host = if i % 3 == 0 { "api.mypurecloud.ie" } else { "api.mypurecloud.com" };
                let key = if i % 2 == 0 { "GET /api/v2/users/me" } else { "GET /api/v2/routing/queues" };
                let x = SuccessSeen {
                    origin: o(i),
                    time: t(i as i64),
                    fingerprint: "0123456789ab".into(),
                    key: key.into(),
                    host: host.into(),
                };
                s.add(SeenOne { success: Some(x), handshake: None }, t(i as i64));
            }
            Successes::build(s, &TokenIndex::default())
        };
        let n = SCAN * 3;
        let big = seen(n);
        assert!(!big.index.is_empty());
        // The same successes, scanned.
        let mut scanned = seen(n);
        scanned.index.clear();
        for at in [-1, 0, 1, 7, 64, 100, n as i64 - 1, n as i64 + 5] {
            for key in ["GET /api/v2/users/me", "GET /api/v2/routing/queues", "GET /nope"] {
                for region in [Some("us_east_1"), Some("eu_west_1"), None] {
                    let by_index = big.history("0123456789ab", t(at), key, region);
                    assert_eq!(by_index, scanned.history("0123456789ab", t(at), key, region), "{at} {key} {region:?}");
                }
            }
        }
        let h = big.history("0123456789ab", t(10), "GET /api/v2/users/me", Some("us_east_1"));
        assert_eq!(h.same_operation.as_ref().map(|(s, n)| (s.origin.index, *n)), Some((10, 6)));
        assert_eq!(
            h.other_region.as_ref().map(|(s, n)| (s.origin.index, s.region.clone(), *n)),
            Some((9, Some("eu_west_1".into()), 4))
        );
        assert_eq!(big.history("ffffffffffff", t(10), "GET /api/v2/users/me", None), History::default());
    }

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
    fn every_authentication_scheme_parses() {
        let all = challenges(
            r#"Basic realm="intranet, main", charset="UTF-8", Digest realm="r", qop="auth,auth-int", nonce="n\"1", algorithm=SHA-256, NTLM, Negotiate oYH1MIHyoAMKAQ==, Bearer realm="api", error="insufficient_scope", scope="a b""#,
        );
        let schemes: Vec<&str> = all.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, vec!["Basic", "Digest", "NTLM", "Negotiate", "Bearer"]);
        assert_eq!(all[0].param("realm"), Some("intranet, main"));
        assert_eq!(all[0].param("charset"), Some("UTF-8"));
        assert_eq!(all[1].param("qop"), Some("auth,auth-int"));
        assert_eq!(all[1].param("nonce"), Some("n\"1"));
        assert_eq!(all[1].param("algorithm"), Some("SHA-256"));
        assert!(all[2].params.is_empty() && all[2].token68.is_none());
        assert_eq!(all[3].token68.as_deref(), Some("oYH1MIHyoAMKAQ=="));
        assert_eq!(all[4].error.as_deref(), Some("insufficient_scope"));
        assert_eq!(all[4].scope.as_deref(), Some("a b"));
        assert_eq!(challenge("Negotiate").scheme, "Negotiate");
        assert_eq!(challenges("NTLM TlRMTVNTUAACAAAA")[0].token68.as_deref(), Some("TlRMTVNTUAACAAAA"));
        assert!(challenges("").is_empty());
        assert_eq!(challenges(", ,Basic,,").len(), 1);
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
