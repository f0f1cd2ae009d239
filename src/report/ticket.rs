//! The content of `harken report`, built once and drawn by [`super::html`] and
//! [`super::markdown`]: the verdict, findings grouped by cause and operation, a chart per
//! conversation, a lifetime bar per credential, statistics, the capture's quality notes with the
//! steps to capture again, and what was read.
//!
//! Everything here is raw captured text with secrets already masked (unless
//! `--show-secrets`): the renderers escape through [`super::escape`].

use crate::analysis::Analysis;
use crate::diagnose::{Cause, Finding};
use crate::model::{Capture, Level};
use crate::timeline::{ConvState, Conversation};
use crate::token::Token;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// At most this many conversation charts and credential bars are drawn (those with refusals
/// first); the rest are counted.
pub const MAX_CHARTS: usize = 40;
/// At most this many instances are listed in full per finding group.
pub const MAX_INSTANCES: usize = 25;

pub struct Ticket<'a> {
    pub capture: &'a Capture,
    pub analysis: &'a Analysis,
    pub findings: Vec<&'a Finding>,
    pub show_secrets: bool,
    /// First and last request.
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Exchanges answered 401 or 403 (every one has a finding).
    pub refused: usize,
    pub causes: Vec<CauseCount>,
    pub groups: Vec<Group<'a>>,
    pub charts: Vec<Chart<'a>>,
    pub conversations_total: usize,
    pub bars: Vec<Bar<'a>>,
    pub tokens_total: usize,
    pub statuses: Vec<(String, usize)>,
    pub hosts: Vec<HostCount>,
    pub quality: Vec<Quality>,
}

/// One cause and how often it was the primary cause.
pub struct CauseCount {
    pub cause: Cause,
    pub count: usize,
    /// The most common fix given for it.
    pub fix: String,
}

/// Repeated findings: the same primary cause on the same operation.
pub struct Group<'a> {
    pub cause: Cause,
    /// `METHOD /path/{}/template`.
    pub operation: String,
    pub findings: Vec<&'a Finding>,
    pub statuses: BTreeSet<u16>,
}

impl Group<'_> {
    pub fn first(&self) -> &Finding {
        self.findings[0]
    }
    /// An id for links (`g3`).
    pub fn anchor(i: usize) -> String {
        format!("g{}", i + 1)
    }
}

/// One conversation drawn over time.
pub struct Chart<'a> {
    pub conversation: &'a Conversation,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// (from, to, state) in order, covering start..end.
    pub segments: Vec<(DateTime<Utc>, DateTime<Utc>, ConvState)>,
    /// When the conversation ended, and the exchange that proves it.
    pub ended: Option<(DateTime<Utc>, String)>,
    pub refused: usize,
    pub after_end: usize,
}

/// One use of a credential: when, the answer's status, `file#index`.
pub type Use = (DateTime<Utc>, Option<u16>, String);

/// One credential's life.
pub struct Bar<'a> {
    pub token: &'a Token,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Every request that carried it: (time, status, input#index).
    pub uses: Vec<Use>,
}

/// Requests and refusals per host.
pub struct HostCount {
    pub host: String,
    pub requests: usize,
    pub refused: usize,
    pub errors: usize,
}

/// One kind of anomaly in the inputs, and what to do about it.
pub struct Quality {
    pub level: Level,
    pub code: String,
    pub count: usize,
    pub example: String,
    /// How to capture again so the evidence is there.
    pub steps: Vec<&'static str>,
}

/// A plain-language title for a cause.
pub fn title(c: Cause) -> &'static str {
    match c {
        Cause::CredentialsMissing => "No credential was sent",
        Cause::TokenMalformed => "The credential was not a usable token",
        Cause::TokenExpired => "The token had expired",
        Cause::TokenNotYetValid => "The token was not valid yet",
        Cause::TokenRevoked => "The token had been revoked",
        Cause::TokenWrongRegion => "The token belongs to another region",
        Cause::TokenWrongKind => "This endpoint takes another kind of token",
        Cause::ScopeMissing => "The token lacks a scope the operation needs",
        Cause::PermissionMissing => "The user or client lacks a permission",
        Cause::UserContextRequired => "The operation needs a user, the token has none",
        Cause::ConversationEnded => "The conversation had already ended",
        Cause::EndpointUnknown => "The endpoint does not exist",
        Cause::Unexplained => "The capture does not hold the evidence",
    }
}

/// What a cause means, in one or two plain sentences for a ticket.
pub fn meaning(c: Cause) -> &'static str {
    match c {
        Cause::CredentialsMissing => {
            "The request carried no Authorization header, API key or session cookie, so the server could not tell who was calling."
        }
        Cause::TokenMalformed => {
            "The value sent as the credential cannot be a token (for example `Bearer undefined`, an empty value, or a cut-off JWT): the client had no token at hand when it made the call."
        }
        Cause::TokenExpired => {
            "Access tokens live for a limited time. This one had passed its expiry when the request was made, so the server refused it."
        }
        Cause::TokenNotYetValid => {
            "The token's validity starts later than the request (its `nbf`/`iat`), usually a clock difference between machines."
        }
        Cause::TokenRevoked => "The token had been revoked (logged out or deleted) before this request used it.",
        Cause::TokenWrongRegion => {
            "Tokens are only accepted in the region that issued them; this one was sent to another region's API."
        }
        Cause::TokenWrongKind => {
            "The endpoint accepts another kind of credential (for example a guest web messaging JWT versus a platform OAuth token)."
        }
        Cause::ScopeMissing => {
            "OAuth scopes limit what a token may do. The token was granted without the scope this operation requires."
        }
        Cause::PermissionMissing => {
            "The token is valid, but the user or OAuth client behind it has no role with the permission this operation requires."
        }
        Cause::UserContextRequired => {
            "The operation acts on behalf of a user (`/users/me`, a user's own data) but the token was issued to a client without a user."
        }
        Cause::ConversationEnded => {
            "The request acted on a conversation after the capture shows it ended; ended conversations accept no more messages or changes."
        }
        Cause::EndpointUnknown => {
            "The path called is not an operation of the API (often an invented or outdated endpoint); the gateway answers it with a refusal."
        }
        Cause::Unexplained => {
            "The refusal is real, but the capture lacks what would explain it (credentials removed, bodies dropped). See the capture notes for how to capture again."
        }
    }
}

/// `METHOD /path/{}/template` of a URL (identifiers replaced by `{}`).
pub fn operation(method: &str, url: &str) -> String {
    let path = url::Url::parse(url).map(|u| u.path().to_string()).unwrap_or_else(|_| {
        let end = url.find(['?', '#']).unwrap_or(url.len());
        url[..end].to_string()
    });
    let segs: Vec<&str> = crate::catalog::segments(&path)
        .into_iter()
        .map(|s| if crate::catalog::looks_like_id(s) && !is_version(s) { "{}" } else { s })
        .collect();
    format!("{} /{}", method.to_ascii_uppercase(), segs.join("/"))
}

/// `v2`, `V10`: an API version, not an identifier.
fn is_version(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b.len() <= 4 && (b[0] == b'v' || b[0] == b'V') && b[1..].iter().all(u8::is_ascii_digit)
}

/// The path of a URL (no query: it may hold secrets even when masked).
pub fn path_of(url: &str) -> String {
    url::Url::parse(url).map(|u| u.path().to_string()).unwrap_or_else(|_| {
        let end = url.find(['?', '#']).unwrap_or(url.len());
        url[..end].to_string()
    })
}

/// `file#index` with the file's name only.
pub fn at(input: &str, index: usize) -> String {
    format!("{}#{index}", super::rows::short_input(input))
}

impl<'a> Ticket<'a> {
    pub fn build(capture: &'a Capture, analysis: &'a Analysis, findings: Vec<&'a Finding>, show_secrets: bool) -> Self {
        let span = match (
            capture.exchanges.iter().map(|e| e.started).min(),
            capture.exchanges.iter().map(|e| e.started).max(),
        ) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        let refused = capture.exchanges.iter().filter(|e| matches!(e.status(), Some(401 | 403))).count();

        // Causes, most frequent first; the most common fix of each.
        let mut by_cause: HashMap<Cause, (usize, HashMap<&str, usize>)> = HashMap::new();
        for f in &findings {
            let e = by_cause.entry(f.cause).or_default();
            e.0 += 1;
            *e.1.entry(f.fix.as_str()).or_insert(0) += 1;
        }
        let mut causes: Vec<CauseCount> = by_cause
            .into_iter()
            .map(|(cause, (count, fixes))| {
                let fix = fixes
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                    .map(|x| x.0.to_string())
                    .unwrap_or_default();
                CauseCount { cause, count, fix }
            })
            .collect();
        causes.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.name().cmp(b.cause.name())));

        // Groups: cause + operation, in order of first appearance.
        let mut index: HashMap<(Cause, String), usize> = HashMap::new();
        let mut groups: Vec<Group<'a>> = Vec::new();
        for f in &findings {
            let op = operation(&f.method, &f.url);
            let i = *index.entry((f.cause, op.clone())).or_insert_with(|| {
                groups.push(Group { cause: f.cause, operation: op, findings: Vec::new(), statuses: BTreeSet::new() });
                groups.len() - 1
            });
            groups[i].findings.push(f);
            groups[i].statuses.insert(f.status);
        }

        // Conversations with refusals first, then by size.
        let convs = &analysis.timeline.conversations;
        let mut charts: Vec<Chart<'a>> = convs.iter().filter(|c| !c.events.is_empty()).map(chart).collect();
        charts.sort_by(|a, b| {
            (b.refused + b.after_end)
                .cmp(&(a.refused + a.after_end))
                .then(b.conversation.events.len().cmp(&a.conversation.events.len()))
                .then(a.start.cmp(&b.start))
        });
        charts.truncate(MAX_CHARTS);

        // Credentials with refusals first.
        let tokens = &analysis.tokens.tokens;
        let mut chosen: Vec<&'a Token> = tokens.iter().collect();
        chosen.sort_by(|a, b| b.refused.cmp(&a.refused).then(b.uses.cmp(&a.uses)).then(a.first_use.cmp(&b.first_use)));
        chosen.truncate(MAX_CHARTS);
        let bars = bars(capture, &chosen);

        let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
        for ex in &capture.exchanges {
            let key = ex.status().map(|s| s.to_string()).unwrap_or_else(|| "none".into());
            *by_status.entry(key).or_insert(0) += 1;
        }
        let statuses: Vec<(String, usize)> = by_status.into_iter().collect();
        let mut hosts: BTreeMap<String, HostCount> = BTreeMap::new();
        for ex in &capture.exchanges {
            let h = ex.host().into_owned();
            let e = hosts.entry(h.clone()).or_insert(HostCount { host: h, requests: 0, refused: 0, errors: 0 });
            e.requests += 1;
            match ex.status() {
                Some(401 | 403) => e.refused += 1,
                Some(s) if s >= 400 => e.errors += 1,
                _ => {}
            }
        }
        let mut hosts: Vec<HostCount> = hosts.into_values().collect();
        hosts.sort_by(|a, b| b.refused.cmp(&a.refused).then(b.requests.cmp(&a.requests)));

        Ticket {
            capture,
            analysis,
            show_secrets,
            span,
            refused,
            causes,
            groups,
            conversations_total: convs.len(),
            charts,
            tokens_total: tokens.len(),
            bars,
            statuses,
            hosts,
            quality: quality(capture, analysis, &findings),
            findings,
        }
    }

    /// The verdict in one paragraph, as plain sentences (renderers escape it).
    pub fn verdict(&self) -> String {
        let n = self.capture.exchanges.len();
        let inputs = self.capture.inputs.len();
        let mut s = format!(
            "harken read {n} exchange{} from {inputs} input{}",
            if n == 1 { "" } else { "s" },
            if inputs == 1 { "" } else { "s" }
        );
        if let Some((a, b)) = self.span {
            s.push_str(&format!(" ({} to {} UTC)", super::short_time(&a), super::short_time(&b)));
        }
        s.push_str(". ");
        if self.findings.is_empty() {
            if self.refused == 0 {
                s.push_str("No request was refused (no 401 or 403).");
            } else {
                s.push_str("No refusal falls in the selected time window.");
            }
            return s;
        }
        let total = self.findings.len();
        s.push_str(&format!(
            "{total} request{} {} refused (401/403): ",
            if total == 1 { "" } else { "s" },
            if total == 1 { "was" } else { "were" }
        ));
        let detailed = self.causes.len() <= 3;
        let parts: Vec<String> = self
            .causes
            .iter()
            .map(|c| {
                if detailed {
                    format!(
                        "{} because {} ({}); fix: {}",
                        c.count,
                        lower_first(title(c.cause)),
                        c.cause.name(),
                        c.fix.trim_end_matches('.')
                    )
                } else {
                    format!("{} {}", c.count, c.cause.name())
                }
            })
            .collect();
        if detailed {
            s.push_str(&parts.join(". "));
        } else {
            s.push_str(&format!(
                "{} causes ({}); the most frequent is that {}. The fix for each cause follows",
                self.causes.len(),
                parts.join(", "),
                lower_first(title(self.causes[0].cause))
            ));
        }
        s.push('.');
        s
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn chart(c: &Conversation) -> Chart<'_> {
    let start = c.events.first().map(|e| e.time).unwrap_or(c.first_seen).min(c.first_seen);
    let end = c.events.last().map(|e| e.time).unwrap_or(c.last_seen).max(c.last_seen);
    let mut segments = Vec::new();
    let mut from = start;
    let mut state = c.events.first().map(|e| e.state_before).unwrap_or(ConvState::Unknown);
    let mut ended = None;
    for e in &c.events {
        if e.state != state {
            if e.time > from {
                segments.push((from, e.time, state));
            }
            from = e.time;
            if e.state.is_ended() && !state.is_ended() && ended.is_none() {
                let proof = e.proof.as_ref().map(super::rows::proof_ref).unwrap_or_else(|| at(&e.input, e.index));
                ended = Some((e.time, proof));
            }
            state = e.state;
        }
    }
    segments.push((from, end.max(from), state));
    let refused = c.events.iter().filter(|e| matches!(e.status, Some(401 | 403))).count();
    let after_end = c.events.iter().filter(|e| e.after_end).count();
    Chart { conversation: c, start, end, segments, ended, refused, after_end }
}

fn bars<'a>(capture: &Capture, tokens: &[&'a Token]) -> Vec<Bar<'a>> {
    let wanted: HashMap<&str, usize> = tokens.iter().enumerate().map(|(i, t)| (t.fingerprint.as_str(), i)).collect();
    let mut uses: Vec<Vec<Use>> = vec![Vec::new(); tokens.len()];
    for ex in &capture.exchanges {
        let mut seen = BTreeSet::new();
        for c in crate::token::request_credentials(ex) {
            if let Some(&i) = wanted.get(c.fingerprint.as_str()) {
                if seen.insert(i) {
                    uses[i].push((ex.started, ex.status(), at(capture.input_path(&ex.origin), ex.origin.index)));
                }
            }
        }
    }
    tokens
        .iter()
        .zip(uses)
        .map(|(t, u)| {
            // The chart spans what happened; an expiry far after the last use is pointed at,
            // not drawn to scale (a 24-hour token used for two minutes).
            let times =
                [t.issued, t.rare().not_before, t.rare().revoked, t.rare().superseded_at, t.first_use, t.last_use];
            let mut all: Vec<DateTime<Utc>> = times.iter().flatten().copied().collect();
            all.extend(u.iter().map(|x| x.0));
            if all.is_empty() {
                all.extend(t.expires);
            }
            let start = all.iter().min().copied().unwrap_or_default();
            let mut end = all.iter().max().copied().unwrap_or(start);
            if let Some(x) = t.expires {
                let room = ((end - start) / 4).max(chrono::Duration::seconds(60));
                if x <= end + room {
                    end = end.max(x);
                }
            }
            Bar { token: t, start, end, uses: u }
        })
        .collect()
}

/// The capture's notes grouped by code, with the steps to capture again where evidence is
/// missing.
fn quality(capture: &Capture, analysis: &Analysis, findings: &[&Finding]) -> Vec<Quality> {
    let mut by: BTreeMap<String, Quality> = BTreeMap::new();
    let mut add = |level: Level, code: &str, msg: &str| {
        let q = by.entry(code.to_string()).or_insert_with(|| Quality {
            level,
            code: code.to_string(),
            count: 0,
            example: msg.to_string(),
            steps: steps(code),
        });
        q.count += 1;
        q.level = q.level.max(level);
    };
    for i in &capture.inputs {
        for n in &i.notes {
            add(n.level, &n.code, &n.message);
        }
        if let Some(e) = &i.error {
            add(Level::Error, "input.unreadable", e);
        }
    }
    for n in &capture.notes {
        add(n.level, &n.code, &n.message);
    }
    for ex in &capture.exchanges {
        for n in &ex.notes {
            add(n.level, &n.code, &n.message);
        }
    }
    // Evidence harken looked for and did not find.
    let refused_without_body = capture
        .exchanges
        .iter()
        .filter(|e| matches!(e.status(), Some(401 | 403)))
        .filter(|e| e.response.as_ref().and_then(|r| r.body.as_ref()).is_some_and(|b| b.omitted && b.size() > 0))
        .count();
    for _ in 0..refused_without_body {
        add(
            Level::Warning,
            "report.refusal_body_missing",
            "a refused response declared a body the capture does not hold: the server's error code and message are lost",
        );
    }
    let no_issue = analysis.tokens.tokens.iter().filter(|t| t.issued.is_none() && t.refused > 0).count();
    for _ in 0..no_issue {
        add(
            Level::Info,
            "report.token_issue_missing",
            "a refused credential was issued before the capture started: its grant, scopes and expiry may be unknown",
        );
    }
    let unexplained = findings.iter().filter(|f| f.cause == Cause::Unexplained).count();
    for _ in 0..unexplained {
        add(Level::Warning, "report.unexplained", "a refusal could not be explained from what the capture holds");
    }
    let mut v: Vec<Quality> = by.into_values().collect();
    v.sort_by(|a, b| b.level.cmp(&a.level).then(b.count.cmp(&a.count)).then(a.code.cmp(&b.code)));
    v
}

/// How to capture again when a note says evidence is missing.
pub fn steps(code: &str) -> Vec<&'static str> {
    match code {
        "har.sanitized" => vec![
            "Chrome/Edge: DevTools → Network → the download arrow → \"Export HAR (with sensitive data)\" (Chrome 130+ exports sanitized by default; enable Settings → Preferences → Network → \"Allow to generate HAR with sensitive data\").",
            "Then run `harken sanitize capture.har -o shareable.har` and attach that file: the credentials become pseudonyms but the diagnosis still works.",
        ],
        "report.refusal_body_missing" | "har.content_omitted" | "body.omitted" => vec![
            "Keep DevTools open from before the first request, and reproduce once more; bodies of earlier requests are not kept.",
            "Firefox: raise devtools.netmonitor.responseBodyLimit in about:config. mitmproxy: do not use --set stream_large_bodies. Charles/Fiddler: keep response bodies in the session export.",
        ],
        "pcap.tls" => vec![
            "Capture with the TLS keys: start the client with SSLKEYLOGFILE=/tmp/keys.log and pass the key log to Wireshark/tshark (`-o tls.keylog_file:/tmp/keys.log`), then export the decrypted HTTP, or",
            "capture behind the TLS terminator, or use a browser HAR / mitmproxy session instead of packets.",
        ],
        "pcap.tcp_gap" | "pcap.truncated" | "http.truncated" | "pcap.tcp_midstream" => vec![
            "Capture with the full packet length and a larger buffer (`tcpdump -s 0 -B 8192 -w out.pcap`), and start the capture before the client connects.",
        ],
        "report.token_issue_missing" => vec![
            "Start the capture before signing in (or before the client requests its token), so the token reply with its grant, scopes and expiry is included.",
        ],
        "report.unexplained" => vec![
            "Capture with credentials and response bodies (see the notes above), from before the sign-in, and run harken again.",
        ],
        "har.no_response" | "pcap.no_response" => {
            vec!["Requests without a response are usually still pending or cancelled when the export was made: wait for the page to settle before exporting."]
        }
        _ => Vec::new(),
    }
}
