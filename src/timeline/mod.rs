//! Conversations: one timeline per business conversation, with its state at every moment.
//!
//! Support engineers think in conversations ("we closed the chat, the follow-up got a 403"),
//! not in requests. This module groups every exchange, and every websocket message, by the
//! conversation it belongs to, orders them across all inputs, and tracks the conversation's
//! state from what the capture proves:
//!
//! - **Keys** (which conversation): a [`Profile`] says where ids are (path templates, JSON
//!   pointers into bodies, websocket topics). The built-in Genesys Cloud profile also catches
//!   paths that do not exist in the API but that people call, so the refused call still lands
//!   in its conversation.
//! - **State** ([`ConvState`]): `unknown` until an exchange proves a state (a conversation GET
//!   reply, an accepted disconnect, a notification event, a message accepted...). Every change
//!   records the exchange that proves it; nothing is guessed.
//!
//! Public surface used by other modules: [`ConvState`], [`Event`], [`Conversation`],
//! [`StateMet`], [`Timeline`], [`Timeline::build`] (Genesys profile), [`Timeline::build_with`],
//! [`Timeline::conversation_of`], [`Timeline::state_met`], [`Profile`].
//! Rules and profile format: docs/conversations.md.

pub mod profile;

pub use profile::Profile;

use crate::body;
use crate::model::{BodyState, Capture, Direction, Exchange, Origin, WsOpcode};
use chrono::{DateTime, Utc};
use profile::{aggregate, Effect, KeySource, Pointer, Split};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// A conversation's state. `Unknown` means the capture holds no evidence (yet); it is never a
/// guess for another state. Names are part of the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvState {
    /// Some participant connected or alerting; or a message was accepted on it.
    Active,
    /// Every participant disconnected, or the conversation ended (`endTime`, accepted disconnect).
    Disconnected,
    /// Every participant terminated.
    Terminated,
    /// No evidence.
    Unknown,
}

impl ConvState {
    pub fn name(self) -> &'static str {
        match self {
            ConvState::Active => "active",
            ConvState::Disconnected => "disconnected",
            ConvState::Terminated => "terminated",
            ConvState::Unknown => "unknown",
        }
    }
    /// Whether the conversation is over (disconnected or terminated).
    pub fn is_ended(self) -> bool {
        matches!(self, ConvState::Disconnected | ConvState::Terminated)
    }
}

impl fmt::Display for ConvState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The exchange (and, for websocket events, the message in it) that proved a state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proof {
    /// Input path.
    pub input: String,
    pub index: usize,
    /// Index of the websocket message within the exchange, for notification events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<usize>,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub time: DateTime<Utc>,
    /// The rule that concluded (e.g. `PATCH {"state":"disconnected"} accepted`).
    pub rule: String,
    #[serde(skip)]
    pub origin: Origin,
}

/// A websocket message that belongs to a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsEvent {
    /// Index of the message within its exchange's websocket messages.
    pub message: usize,
    pub direction: Direction,
    /// The notification topic, when the frame names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// One exchange (or websocket message) in a conversation's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Request start (exchanges) or message time (websocket messages).
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub time: DateTime<Utc>,
    /// Input path.
    pub input: String,
    pub index: usize,
    /// HTTP method, or `WS` for a websocket message.
    pub method: String,
    /// Request path without query, or the notification topic for a websocket message.
    pub path: String,
    pub status: Option<u16>,
    /// `kind:fingerprint` of the credential that acted, if any.
    pub credential: Option<String>,
    /// State after this event.
    pub state: ConvState,
    /// State just before this event: the state the request met.
    pub state_before: ConvState,
    /// True for a request made after the conversation had ended (disconnected or terminated).
    pub after_end: bool,
    /// How the exchange was tied to the conversation (`path`, `request /conversationId`, `topic`...).
    pub key: String,
    /// Set when this event is itself evidence of a state: the rule that concluded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The exchange that established `state` (None while `unknown`).
    pub proof: Option<Proof>,
    /// The exchange that established `state_before` (None while `unknown`).
    pub proof_before: Option<Proof>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WsEvent>,
    #[serde(skip)]
    pub origin: Origin,
}

/// One conversation: its events in time order across all inputs, and its last known state.
#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: String,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub first_seen: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub last_seen: DateTime<Utc>,
    /// Last known state.
    pub state: ConvState,
    pub events: Vec<Event>,
}

/// The state a request met, and the exchange that proved that state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateMet {
    pub state: ConvState,
    /// The exchange that established the state (None when `Unknown`).
    pub proof: Option<Origin>,
    pub since: Option<DateTime<Utc>>,
}

/// Every conversation of a capture. Built once per run.
#[derive(Debug, Default)]
pub struct Timeline {
    pub conversations: Vec<Conversation>,
    /// The profile's name.
    pub profile: String,
    /// (input, index) of an exchange → (conversation, event).
    by_origin: HashMap<(usize, usize), (usize, usize)>,
}

impl Timeline {
    /// Build with the built-in Genesys Cloud profile.
    pub fn build(capture: &Capture) -> Timeline {
        Timeline::build_with(capture, &Profile::genesys())
    }

    /// Build with a given profile.
    pub fn build_with(capture: &Capture, profile: &Profile) -> Timeline {
        let found: Vec<Found> = capture.exchanges.par_iter().map(|ex| examine(ex, profile)).collect();
        let mut events = Events::default();
        for (ex, f) in capture.exchanges.iter().zip(found) {
            events.add(ex, Seen(f), capture.input_path(&ex.origin), || {
                crate::token::primary_credential(ex).map(|c| c.label())
            });
        }
        events.finish(profile)
    }

    /// A timeline from conversations already built (tests, other producers): indexes the
    /// exchanges' events so that [`Timeline::conversation_of`] and [`Timeline::state_met`] work.
    pub fn from_conversations(conversations: Vec<Conversation>) -> Timeline {
        let mut by_origin = HashMap::new();
        for (ci, c) in conversations.iter().enumerate() {
            for (ei, e) in c.events.iter().enumerate() {
                if e.websocket.is_none() {
                    by_origin.insert((e.origin.input, e.origin.index), (ci, ei));
                }
            }
        }
        Timeline { conversations, profile: String::new(), by_origin }
    }

    /// The conversation an exchange belongs to.
    pub fn conversation_of(&self, origin: &Origin) -> Option<&Conversation> {
        let (c, _) = self.by_origin.get(&(origin.input, origin.index))?;
        self.conversations.get(*c)
    }

    /// The exchange's own event in its conversation's timeline.
    pub fn event_of(&self, origin: &Origin) -> Option<&Event> {
        let (c, e) = self.by_origin.get(&(origin.input, origin.index))?;
        self.conversations.get(*c)?.events.get(*e)
    }

    /// The state of the exchange's conversation just before the exchange was made, with the
    /// exchange that proved it. None when the exchange belongs to no conversation.
    pub fn state_met(&self, origin: &Origin) -> Option<StateMet> {
        let ev = self.event_of(origin)?;
        Some(StateMet {
            state: ev.state_before,
            proof: ev.proof_before.as_ref().map(|p| p.origin),
            since: ev.proof_before.as_ref().map(|p| p.time),
        })
    }

    /// One conversation by id (ids are compared as the profile normalizes them, and also
    /// case-insensitively).
    pub fn get(&self, id: &str) -> Option<&Conversation> {
        self.conversations
            .iter()
            .find(|c| c.id == id)
            .or_else(|| self.conversations.iter().find(|c| c.id.eq_ignore_ascii_case(id)))
    }
}

/// An event waiting to be ordered, with what it proves.
/// Conversation events folded as exchanges are read, in any order: what a timeline keeps of
/// each exchange (its event and effect), not the exchange. [`Events::finish`] orders each
/// conversation's events and walks them.
#[derive(Default)]
pub struct Events {
    /// (conversation id, event) in the order they were added.
    items: Vec<(String, Pending)>,
}

/// What the profile found in one exchange ([`Events::of`], on any thread).
pub struct Seen(Found);

impl Events {
    /// Examine one exchange (its URL and, where the profile's rules say, its bodies).
    pub fn of(ex: &Exchange, profile: &Profile) -> Seen {
        Seen(examine(ex, profile))
    }

    /// No events (for a fold that builds no timeline).
    pub fn nothing() -> Seen {
        Seen(Found::default())
    }

    /// Add the events of `ex` (read from input `input`); `credential` names its primary
    /// credential, asked only when the exchange belongs to a conversation.
    pub fn add(&mut self, ex: &Exchange, seen: Seen, input: &str, credential: impl FnOnce() -> Option<String>) {
        let f = seen.0;
        if let Some((id, key)) = f.conv {
            let ev = Event {
                time: ex.started,
                input: input.to_string(),
                index: ex.origin.index,
                method: ex.request.method.clone(),
                path: ex.path().into_owned(),
                status: ex.status(),
                credential: credential(),
                state: ConvState::Unknown,
                state_before: ConvState::Unknown,
                after_end: false,
                key,
                evidence: None,
                proof: None,
                proof_before: None,
                websocket: None,
                origin: ex.origin,
            };
            self.items.push((id, Pending { ev, effect: f.effect, msg: None }));
        }
        for w in f.ws {
            let ev = Event {
                time: w.time,
                input: input.to_string(),
                index: ex.origin.index,
                method: "WS".into(),
                path: w.topic.clone().unwrap_or_default(),
                status: None,
                credential: None,
                state: ConvState::Unknown,
                state_before: ConvState::Unknown,
                after_end: false,
                key: w.key,
                evidence: None,
                proof: None,
                proof_before: None,
                websocket: Some(WsEvent { message: w.msg, direction: w.direction, topic: w.topic }),
                origin: ex.origin,
            };
            self.items.push((w.conv, Pending { ev, effect: w.effect, msg: Some(w.msg) }));
        }
    }

    /// Every conversation, its events in time order ([`fold`] orders them), the conversations
    /// by first appearance.
    pub fn finish(self, profile: &Profile) -> Timeline {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut pending: Vec<(String, Vec<Pending>)> = Vec::new();
        for (id, p) in self.items {
            let i = *ids.entry(id.clone()).or_insert_with(|| {
                pending.push((id, Vec::new()));
                pending.len() - 1
            });
            pending[i].1.push(p);
        }
        let mut conversations: Vec<Conversation> = pending.into_iter().filter_map(|(id, evs)| fold(id, evs)).collect();
        conversations.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then_with(|| a.id.cmp(&b.id)));
        let mut tl = Timeline::from_conversations(conversations);
        tl.profile = profile.name.clone();
        tl
    }
}

struct Pending {
    ev: Event,
    effect: Option<(ConvState, String)>,
    msg: Option<usize>,
}

/// Order a conversation's events and walk them, carrying the state and its proof.
fn fold(id: String, mut evs: Vec<Pending>) -> Option<Conversation> {
    evs.sort_by(|a, b| {
        a.ev.time
            .cmp(&b.ev.time)
            .then(a.ev.origin.input.cmp(&b.ev.origin.input))
            .then(a.ev.origin.index.cmp(&b.ev.origin.index))
            .then(a.msg.map_or(0, |m| m.saturating_add(1)).cmp(&b.msg.map_or(0, |m| m.saturating_add(1))))
    });
    let mut state = ConvState::Unknown;
    let mut proof: Option<Proof> = None;
    let mut events = Vec::with_capacity(evs.len());
    for p in evs {
        let mut ev = p.ev;
        ev.state_before = state;
        ev.proof_before = proof.clone();
        ev.after_end = ev.websocket.is_none() && state.is_ended();
        if let Some((s, rule)) = p.effect {
            ev.evidence = Some(rule.clone());
            // A confirmation keeps the proof that established the state; a change records
            // this event.
            if s != state || proof.is_none() {
                state = s;
                proof = Some(Proof {
                    input: ev.input.clone(),
                    index: ev.index,
                    message: p.msg,
                    time: ev.time,
                    rule,
                    origin: ev.origin,
                });
            }
        }
        ev.state = state;
        ev.proof = proof.clone();
        events.push(ev);
    }
    let first_seen = events.first()?.time;
    let last_seen = events.iter().map(|e| e.time).max().unwrap_or(first_seen);
    Some(Conversation { id, first_seen, last_seen, state, events })
}

/// What one exchange tells: its conversation, what it proves, and its websocket messages.
#[derive(Default)]
struct Found {
    conv: Option<(String, String)>,
    effect: Option<(ConvState, String)>,
    ws: Vec<WsFound>,
}

struct WsFound {
    msg: usize,
    time: DateTime<Utc>,
    direction: Direction,
    conv: String,
    key: String,
    topic: Option<String>,
    effect: Option<(ConvState, String)>,
}

/// A body parsed as JSON at most once, and only when a rule needs it.
struct LazyJson<'a> {
    ex: &'a Exchange,
    response: bool,
    /// An encoded body's decoded bytes, once a rule looked into them.
    decoded: Option<body::Decoded<'a>>,
    value: Option<Option<Value>>,
}

impl<'a> LazyJson<'a> {
    fn new(ex: &'a Exchange, response: bool) -> Self {
        LazyJson { ex, response, decoded: None, value: None }
    }
    /// The body (not omitted) and the headers that say how it is encoded.
    fn body(&self) -> Option<(&'a crate::model::Body, &'a crate::model::Headers)> {
        let (b, headers) = if self.response {
            let r = self.ex.response.as_ref()?;
            (r.body.as_deref()?, &r.headers)
        } else {
            (self.ex.request.body.as_deref()?, &self.ex.request.headers)
        };
        (!b.omitted).then_some((b, headers))
    }
    /// The body's bytes with every coding undone: the stored bytes when they are plain (no
    /// content or transfer coding left), else decoded once and kept for [`Self::get`].
    fn bytes(&mut self) -> Option<&[u8]> {
        let (b, headers) = self.body()?;
        let plain =
            (b.state == BodyState::Decoded || !headers.contains("content-encoding")) && b.state != BodyState::Chunked;
        if plain {
            return Some(&b.raw);
        }
        Some(&self.decoded.get_or_insert_with(|| body::decode(b, headers)).bytes)
    }
    fn get(&mut self) -> Option<&Value> {
        if self.value.is_none() {
            self.value = Some(self.bytes().and_then(body::json_bytes));
        }
        self.value.as_ref().and_then(Option::as_ref)
    }
    /// Values at a pointer; skips parsing when the body's bytes (decoded, for an encoded
    /// body) cannot hold the field name.
    fn strings(&mut self, p: &Pointer) -> Vec<String> {
        if let Some(name) = p.last_name() {
            if self.bytes().is_some_and(|b| memchr::memmem::find(b, name.as_bytes()).is_none()) {
                return Vec::new();
            }
        }
        self.get().map(|v| p.strings(v)).unwrap_or_default()
    }
}

fn method_ok(methods: &[String], m: &str) -> bool {
    methods.is_empty() || methods.iter().any(|x| x.eq_ignore_ascii_case(m))
}

fn examine(ex: &Exchange, profile: &Profile) -> Found {
    let mut found = Found::default();
    if !profile.covers_host(&ex.host()) {
        return found;
    }
    let is_id = |s: &str| profile.is_id(s);
    let any = |_: &str| true;
    let path = ex.path();
    let path = Split::new(&path, '/');
    let method = ex.request.method.as_str();
    let ignored = profile.ignore.iter().any(|t| t.matches_split(&path, &any).is_some());
    let mut req = LazyJson::new(ex, false);
    let mut resp = LazyJson::new(ex, true);
    'keys: for k in &profile.keys {
        if !method_ok(&k.methods, method) {
            continue;
        }
        match k.source {
            KeySource::Path => {
                if ignored {
                    continue;
                }
                for t in &k.paths {
                    if let Some(Some(id)) = t.matches_split(&path, &is_id) {
                        found.conv = Some((profile.normalize(id), "path".into()));
                        break 'keys;
                    }
                }
            }
            KeySource::Request | KeySource::Response => {
                if !k.paths.is_empty() && !k.paths.iter().any(|t| t.matches_split(&path, &any).is_some()) {
                    continue;
                }
                let (src, side) =
                    if k.source == KeySource::Request { (&mut req, "request") } else { (&mut resp, "response") };
                for p in &k.pointers {
                    if let Some(id) = src.strings(p).into_iter().find(|s| is_id(s)) {
                        found.conv = Some((profile.normalize(&id), format!("{side} {}", p.text())));
                        break 'keys;
                    }
                }
            }
            KeySource::Topic | KeySource::Event => {}
        }
    }
    if let Some((conv, _)) = &found.conv {
        found.effect = exchange_effect(ex, profile, &path, conv, &mut req, &mut resp);
    }
    if let Some(topic_ptr) = &profile.ws_topic {
        for (i, m) in ex.websocket.iter().enumerate() {
            if m.opcode != WsOpcode::Text {
                continue;
            }
            let Some(name) = topic_ptr.last_name() else { continue };
            if memchr::memmem::find(&m.data, name.as_bytes()).is_none() {
                continue;
            }
            let Ok(frame) = serde_json::from_slice::<Value>(&m.data) else { continue };
            let Some(topic) = topic_ptr.strings(&frame).into_iter().next() else { continue };
            let event = profile.ws_body.select(&frame).into_iter().next();
            if let Some((conv, key)) = topic_key(profile, &topic, event) {
                let effect = event.and_then(|b| topic_effect(profile, &topic, &conv, b));
                found.ws.push(WsFound {
                    msg: i,
                    time: m.time,
                    direction: m.direction,
                    conv,
                    key,
                    topic: Some(topic),
                    effect,
                });
            }
        }
    }
    found
}

fn topic_key(profile: &Profile, topic: &str, body: Option<&Value>) -> Option<(String, String)> {
    let is_id = |s: &str| profile.is_id(s);
    let any = |_: &str| true;
    for k in &profile.keys {
        match k.source {
            KeySource::Topic => {
                for t in &k.topics {
                    if let Some(Some(id)) = t.matches(topic, &is_id) {
                        return Some((profile.normalize(id), "topic".into()));
                    }
                }
            }
            KeySource::Event => {
                let Some(b) = body else { continue };
                if !k.topics.iter().any(|t| t.matches(topic, &any).is_some()) {
                    continue;
                }
                for p in &k.pointers {
                    if let Some(id) = p.strings(b).into_iter().find(|s| is_id(s)) {
                        return Some((profile.normalize(&id), format!("event {}", p.text())));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// What values found by a rule conclude (see [`aggregate`]); `ended` pointers with a value
/// make it at least disconnected.
fn conclude(
    values: &[Pointer],
    map: &std::collections::BTreeMap<String, ConvState>,
    ended: &[Pointer],
    v: &Value,
) -> Option<ConvState> {
    let vals: Vec<String> = values.iter().flat_map(|p| p.strings(v)).collect();
    let agg = aggregate(&vals, map);
    let has_end = ended.iter().any(|p| !p.strings(v).is_empty());
    if has_end {
        Some(if agg == Some(ConvState::Terminated) { ConvState::Terminated } else { ConvState::Disconnected })
    } else {
        agg
    }
}

/// Whether `s` is the id of conversation `conv` (a rule's `{conversation}` segment must name
/// the conversation the event belongs to: a rule never proves a state for another id, or for a
/// segment that is no id at all).
fn names(profile: &Profile, s: &str, conv: &str) -> bool {
    profile.is_id(s) && profile.normalize(s) == conv
}

fn exchange_effect(
    ex: &Exchange,
    profile: &Profile,
    path: &Split<'_>,
    conv: &str,
    req: &mut LazyJson<'_>,
    resp: &mut LazyJson<'_>,
) -> Option<(ConvState, String)> {
    let this = |s: &str| names(profile, s, conv);
    for r in &profile.states {
        if r.paths.is_empty()
            || !method_ok(&r.methods, &ex.request.method)
            || !r.status.accepts(ex.status())
            || !r.paths.iter().any(|t| t.matches_split(path, &this).is_some())
        {
            continue;
        }
        if let Some(p) = &r.request_pointer {
            let got = req.strings(p);
            if !got.iter().any(|g| r.request_equals.iter().any(|want| want.eq_ignore_ascii_case(g))) {
                continue;
            }
        }
        let state = match &r.effect {
            Effect::Set(s) => Some(*s),
            Effect::Values { values, map, ended } => resp.get().and_then(|v| conclude(values, map, ended, v)),
        };
        if let Some(s) = state {
            return Some((s, r.name.clone()));
        }
    }
    None
}

fn topic_effect(profile: &Profile, topic: &str, conv: &str, body: &Value) -> Option<(ConvState, String)> {
    let this = |s: &str| names(profile, s, conv);
    for r in &profile.states {
        if r.topics.is_empty() || !r.topics.iter().any(|t| t.matches(topic, &this).is_some()) {
            continue;
        }
        let state = match &r.effect {
            Effect::Set(s) => Some(*s),
            Effect::Values { values, map, ended } => conclude(values, map, ended, body),
        };
        if let Some(s) = state {
            return Some((s, r.name.clone()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Body, Headers, Request, Response};

    const CID: &str = "6f1c0a52-3b1e-4d0e-9a51-0c7b9f6a2e11";

    fn ex(
        index: usize,
        secs: i64,
        method: &str,
        path: &str,
        req: Option<&str>,
        status: u16,
        resp: Option<&str>,
    ) -> Exchange {
        let t = DateTime::<Utc>::from_timestamp(1_714_560_000 + secs, 0).unwrap();
        let mut e = Exchange::new(
            Origin::entry(0, index),
            t,
            Request {
                method: method.into(),
                url: format!("https://api.mypurecloud.com{path}"),
                http_version: "HTTP/1.1".into(),
                headers: Headers::new(),
                body: req.map(|b| Body::decoded(b.as_bytes().to_vec())).map(Box::new),
            },
        );
        e.response = Some(Response {
            status,
            reason: String::new(),
            http_version: "HTTP/1.1".into(),
            headers: Headers::new(),
            body: resp.map(|b| Body::decoded(b.as_bytes().to_vec())).map(Box::new),
        });
        e
    }

    fn capture(exchanges: Vec<Exchange>) -> Capture {
        let mut c = Capture::default();
        c.inputs.push(crate::model::Input {
            path: "t.har".into(),
            format: None,
            exchanges: exchanges.len(),
            creator: None,
            notes: vec![],
            error: None,
        });
        c.exchanges = exchanges;
        c
    }

    #[test]
    fn keys_from_real_and_invented_paths_but_not_configuration() {
        let up = CID.to_uppercase();
        let c = capture(vec![
            ex(0, 0, "GET", &format!("/api/v2/conversations/{CID}"), None, 200, None),
            ex(1, 1, "POST", &format!("/api/v2/conversations/messaging/{CID}/messages"), None, 404, None),
            ex(2, 2, "DELETE", &format!("/api/v2/conversations/webmessaging/{up}"), None, 404, None),
            ex(
                3,
                3,
                "POST",
                &format!("/api/v2/communications/conversations/{CID}/participants/x/messages"),
                None,
                404,
                None,
            ),
            ex(4, 4, "POST", "/api/v2/conversations/messages/agentless", None, 403, None),
            ex(5, 5, "POST", &format!("/api/v2/conversations/messages/{CID}/inbound/open/message"), None, 202, None),
            ex(6, 6, "GET", &format!("/api/v2/conversations/messaging/integrations/open/{CID}"), None, 200, None),
        ]);
        let tl = Timeline::build(&c);
        assert_eq!(tl.conversations.len(), 1);
        let idx: Vec<usize> = tl.conversations[0].events.iter().map(|e| e.index).collect();
        assert_eq!(idx, vec![0, 1, 2, 3]);
        assert!(tl.conversation_of(&Origin::entry(0, 4)).is_none());
        assert!(tl.state_met(&Origin::entry(0, 5)).is_none());
    }

    #[test]
    fn states_with_proof_and_unknown_without_evidence() {
        let c = capture(vec![
            ex(
                0,
                0,
                "GET",
                &format!("/api/v2/conversations/messages/{CID}/participants/p/wrapup"),
                None,
                200,
                Some("{}"),
            ),
            ex(
                1,
                10,
                "GET",
                &format!("/api/v2/conversations/messages/{CID}"),
                None,
                200,
                Some(
                    r#"{"id":"x","participants":[{"purpose":"customer","state":"connected"},{"purpose":"agent","state":"alerting"}]}"#,
                ),
            ),
            ex(
                2,
                20,
                "PATCH",
                &format!("/api/v2/conversations/messages/{CID}/participants/p"),
                Some(r#"{"state":"disconnected"}"#),
                202,
                None,
            ),
            ex(
                3,
                30,
                "GET",
                &format!("/api/v2/conversations/{CID}"),
                None,
                200,
                Some(
                    r#"{"id":"x","endTime":"2024-05-01T10:00:00Z","participants":[{"messages":[{"state":"disconnected"}]}]}"#,
                ),
            ),
            ex(
                4,
                40,
                "POST",
                &format!("/api/v2/conversations/messages/{CID}/communications/c/messages"),
                Some(r#"{"textBody":"hi"}"#),
                403,
                None,
            ),
        ]);
        let tl = Timeline::build(&c);
        let conv = &tl.conversations[0];
        let states: Vec<_> = conv.events.iter().map(|e| (e.state_before, e.state)).collect();
        use ConvState::*;
        assert_eq!(
            states,
            vec![
                (Unknown, Unknown),
                (Unknown, Active),
                (Active, Disconnected),
                (Disconnected, Disconnected),
                (Disconnected, Disconnected)
            ]
        );
        let met = tl.state_met(&Origin::entry(0, 4)).unwrap();
        assert_eq!(met.state, Disconnected);
        assert_eq!(met.proof, Some(Origin::entry(0, 2)), "the confirmation at #3 keeps the PATCH as proof");
        assert!(conv.events[4].after_end);
        assert_eq!(conv.events[3].evidence.as_deref(), Some("conversation reply: participants' state, endTime"));
        let first = tl.state_met(&Origin::entry(0, 0)).unwrap();
        assert_eq!((first.state, first.proof, first.since), (Unknown, None, None));
    }

    #[test]
    fn failed_or_unrelated_requests_prove_nothing() {
        let c = capture(vec![
            ex(
                0,
                0,
                "PATCH",
                &format!("/api/v2/conversations/messages/{CID}/participants/p"),
                Some(r#"{"state":"disconnected"}"#),
                403,
                None,
            ),
            ex(
                1,
                1,
                "PATCH",
                &format!("/api/v2/conversations/messages/{CID}/participants/p"),
                Some(r#"{"wrapupSkipped":true}"#),
                202,
                None,
            ),
            ex(
                2,
                2,
                "GET",
                &format!("/api/v2/conversations/messages/{CID}"),
                None,
                200,
                Some(r#"{"participants":[{"state":"parked"}]}"#),
            ),
        ]);
        let tl = Timeline::build(&c);
        assert!(tl.conversations[0].events.iter().all(|e| e.state == ConvState::Unknown && e.proof.is_none()));
    }

    #[test]
    fn agentless_reply_names_the_conversation() {
        let c = capture(vec![ex(
            0,
            0,
            "POST",
            "/api/v2/conversations/messages/agentless",
            Some(r#"{"toAddress":"+15551234567","toAddressMessengerType":"sms","textBody":"x"}"#),
            200,
            Some(&format!(r#"{{"id":"m1","conversationId":"{CID}"}}"#)),
        )]);
        let tl = Timeline::build(&c);
        let e = &tl.conversations[0].events[0];
        // The reply names the conversation; nothing in the facts says what state the send left
        // it in, so it stays unknown.
        assert_eq!((e.state, e.key.as_str()), (ConvState::Unknown, "response /conversationId"));
        assert!(e.evidence.is_none() && e.proof.is_none());
    }

    /// A reply as a packet capture stores it: gzip bytes and `Content-Encoding: gzip`. The
    /// body is decoded once, looked into for the field name, and parsed only when it is there.
    #[test]
    fn an_encoded_reply_is_decoded_once_and_names_the_conversation() {
        use std::io::Write;
        let gzip = |s: &str| {
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(s.as_bytes()).unwrap();
            z.finish().unwrap()
        };
        let encoded = |mut e: Exchange, text: &str| {
            let r = e.response.as_mut().unwrap();
            r.headers.push("Content-Encoding", "gzip");
            let mut b = Body::decoded(gzip(text));
            b.state = BodyState::ContentEncoded;
            r.body = Some(Box::new(b));
            e
        };
        let path = "/api/v2/conversations/messages/agentless";
        let named = format!(r#"{{"id":"m1","conversationId":"{CID}"}}"#);
        let c = capture(vec![
            encoded(ex(0, 0, "POST", path, None, 200, None), &named),
            encoded(ex(1, 1, "POST", path, None, 200, None), r#"{"id":"m2","other":"x"}"#),
        ]);
        let tl = Timeline::build(&c);
        assert_eq!(tl.conversations.len(), 1);
        let events = &tl.conversations[0].events;
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].index, events[0].key.as_str()), (0, "response /conversationId"));

        let ex0 = &c.exchanges[0];
        let mut lazy = LazyJson::new(ex0, true);
        let p = Pointer::parse("/conversationId").unwrap();
        assert_eq!(lazy.strings(&p), vec![CID.to_string()]);
        assert!(lazy.decoded.is_some(), "the decoded bytes are kept for the parse");
        assert!(lazy.strings(&Pointer::parse("/absent").unwrap()).is_empty());
    }

    #[test]
    fn a_later_reply_with_a_participant_connected_makes_it_active_again() {
        let c = capture(vec![
            ex(
                0,
                0,
                "PATCH",
                &format!("/api/v2/conversations/messages/{CID}/participants/agent"),
                Some(r#"{"state":"disconnected"}"#),
                202,
                None,
            ),
            ex(
                1,
                5,
                "GET",
                &format!("/api/v2/conversations/messages/{CID}"),
                None,
                200,
                Some(r#"{"participants":[{"state":"connected"},{"state":"disconnected"}]}"#),
            ),
        ]);
        let tl = Timeline::build(&c);
        let ev = &tl.conversations[0].events;
        assert_eq!(
            (ev[0].state, ev[1].state_before, ev[1].state),
            (ConvState::Disconnected, ConvState::Disconnected, ConvState::Active)
        );
        assert_eq!(ev[1].proof.as_ref().map(|p| p.index), Some(1));
    }

    #[test]
    fn a_rule_proves_a_state_only_for_the_id_it_names() {
        const OTHER: &str = "0a1b2c3d-0000-4000-8000-00000000000b";
        let c = capture(vec![
            // {type} = the id and {conversation} = `suggestions`: the GET-reply rule's template
            // matches the shape, but `suggestions` is no conversation id.
            ex(
                0,
                0,
                "GET",
                &format!("/api/v2/conversations/{CID}/suggestions"),
                None,
                200,
                Some(r#"{"participants":[{"state":"connected"}]}"#),
            ),
        ]);
        let tl = Timeline::build(&c);
        assert_eq!(tl.conversations[0].events[0].state, ConvState::Unknown);
        // A user profile: the cancel of another order (path) must not end the order named in
        // the body, nor a cancel at a segment that is no order id.
        let profile = Profile::parse(
            r#"
id_pattern = "[0-9a-f-]{36}"
[[key]]
from = "request"
pointer = "/order_id"
[[state]]
method = "POST"
path = "/v1/orders/{conversation}/cancel"
set = "disconnected"
"#,
            "t",
        )
        .unwrap();
        let body = format!(r#"{{"order_id":"{CID}"}}"#);
        let c = capture(vec![
            ex(0, 0, "POST", &format!("/v1/orders/{OTHER}/cancel"), Some(&body), 200, None),
            ex(1, 1, "POST", "/v1/orders/latest/cancel", Some(&body), 200, None),
            ex(2, 2, "POST", &format!("/v1/orders/{CID}/cancel"), Some(&body), 200, None),
        ]);
        let tl = Timeline::build_with(&c, &profile);
        let states: Vec<_> = tl.conversations[0].events.iter().map(|e| e.state).collect();
        assert_eq!(states, vec![ConvState::Unknown, ConvState::Unknown, ConvState::Disconnected]);
    }
}
