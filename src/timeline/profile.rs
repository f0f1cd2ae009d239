//! Conversation profiles: where an API puts conversation ids, and what proves a state.
//!
//! A [`Profile`] is data, read from TOML (docs/conversations.md). It holds:
//! - **keys**: where a conversation id is found: a path template with a named `{conversation}`
//!   segment, a JSON pointer into the request or response body, or a websocket topic pattern
//!   (with the id in the topic or at a pointer into the event body);
//! - **ignore**: path templates whose segments are never conversation ids even when they look
//!   like one (e.g. an integration id in `/api/v2/conversations/messages/{integrationId}/inbound/...`);
//! - **state rules**: which exchange or websocket event proves which state (`set` a state when a
//!   request succeeds, or read values out of a reply or event body and `map` them to states).
//!
//! The built-in Genesys Cloud profile ([`Profile::genesys`]) is itself such a file
//! (`src/timeline/genesys.toml`), so users can copy and extend it. Matching never panics on
//! input: templates and pointers are checked when the profile is loaded.

use super::ConvState;
use anyhow::{bail, Context as _};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The built-in Genesys Cloud profile, as TOML.
pub const GENESYS_TOML: &str = include_str!("genesys.toml");
/// The built-in generic profile, as TOML.
pub const GENERIC_TOML: &str = include_str!("generic.toml");

/// One segment of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// Must equal this text (ASCII case-insensitive).
    Lit(String),
    /// `{name}`: any one non-empty segment.
    Any,
    /// `{conversation}`: one segment that is a conversation id.
    Conv,
    /// `*`: any one segment.
    Star,
    /// `**`: zero or more segments.
    Rest,
}

/// A path (`/`-separated) or topic (`.`-separated) pattern: literal segments, `{name}` for any
/// one segment, `{conversation}` for the conversation id, `*` for any one segment and `**` for
/// any number of segments.
#[derive(Debug, Clone)]
pub struct Template {
    text: String,
    sep: char,
    segs: Vec<Seg>,
}

impl Template {
    /// Parse a pattern; `sep` is `/` for paths and `.` for topics.
    pub fn parse(text: &str, sep: char) -> anyhow::Result<Template> {
        let body = if sep == '/' { text.trim_start_matches('/') } else { text };
        let mut segs = Vec::new();
        for s in body.split(sep) {
            if s.is_empty() {
                continue;
            }
            let seg = if s == "**" {
                Seg::Rest
            } else if s == "*" {
                Seg::Star
            } else if let Some(name) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                if name == "conversation" {
                    Seg::Conv
                } else if name.is_empty() || name.contains(['{', '}']) {
                    bail!("template {text:?}: bad segment {s:?}");
                } else {
                    Seg::Any
                }
            } else if s.contains(['{', '}', '*']) {
                bail!("template {text:?}: segment {s:?} mixes text with {{…}} or *; a segment is all literal or all placeholder");
            } else {
                Seg::Lit(s.to_string())
            };
            segs.push(seg);
        }
        if segs.iter().filter(|s| **s == Seg::Conv).count() > 1 {
            bail!("template {text:?}: more than one {{conversation}} segment");
        }
        Ok(Template { text: text.to_string(), sep, segs })
    }

    /// Whether the template has a `{conversation}` segment.
    pub fn has_conversation(&self) -> bool {
        self.segs.contains(&Seg::Conv)
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Match a path or topic. `Some(Some(id))` when it matches with an id, `Some(None)` when it
    /// matches and has no `{conversation}` segment, `None` when it does not match. `is_id` says
    /// whether a segment may be a conversation id.
    pub fn matches<'a>(&self, input: &'a str, is_id: &dyn Fn(&str) -> bool) -> Option<Option<&'a str>> {
        self.matches_split(&Split::new(input, self.sep), is_id)
    }

    /// [`Template::matches`] on an input split once ([`Split`]) for all the templates it is
    /// matched against (every exchange meets every template of a profile: splitting the path
    /// again for each was a fifth of `analyze` on an access log).
    pub fn matches_split<'a>(&self, input: &Split<'a>, is_id: &dyn Fn(&str) -> bool) -> Option<Option<&'a str>> {
        if input.sep != self.sep {
            return self.matches(input.text, is_id);
        }
        let mut found = None;
        if match_segs(&self.segs, &input.parts, is_id, &mut found) {
            Some(found)
        } else {
            None
        }
    }
}

/// A path or topic cut into its non-empty segments at a separator, once.
pub struct Split<'a> {
    text: &'a str,
    sep: char,
    /// On the stack up to 24 segments.
    parts: smallvec::SmallVec<[&'a str; 24]>,
}

impl<'a> Split<'a> {
    pub fn new(text: &'a str, sep: char) -> Split<'a> {
        Split { text, sep, parts: text.split(sep).filter(|s| !s.is_empty()).collect() }
    }
}

fn match_segs<'a>(segs: &[Seg], parts: &[&'a str], is_id: &dyn Fn(&str) -> bool, found: &mut Option<&'a str>) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return parts.is_empty();
    };
    if *first == Seg::Rest {
        // A trailing `**` takes whatever is left.
        if rest.is_empty() {
            return true;
        }
        // Try every split; templates are short, so the recursion is shallow.
        return (0..=parts.len()).any(|k| {
            let mut f = *found;
            let ok = parts.get(k..).is_some_and(|tail| match_segs(rest, tail, is_id, &mut f));
            if ok {
                *found = f;
            }
            ok
        });
    }
    let Some((part, tail)) = parts.split_first() else {
        return false;
    };
    let ok = match first {
        Seg::Lit(l) => l.eq_ignore_ascii_case(part),
        Seg::Any | Seg::Star => true,
        Seg::Conv => {
            if is_id(part) {
                *found = Some(part);
                true
            } else {
                false
            }
        }
        Seg::Rest => false,
    };
    ok && match_segs(rest, tail, is_id, found)
}

/// A JSON pointer (RFC 6901) where a `*` token stands for every element of an array or every
/// value of an object.
#[derive(Debug, Clone)]
pub struct Pointer {
    text: String,
    tokens: Vec<String>,
}

impl Pointer {
    pub fn parse(text: &str) -> anyhow::Result<Pointer> {
        if !text.is_empty() && !text.starts_with('/') {
            bail!("JSON pointer {text:?} must be empty or start with /");
        }
        let tokens = text.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")).collect::<Vec<String>>();
        Ok(Pointer { text: text.to_string(), tokens })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The last literal token (used to skip bodies that cannot contain it).
    pub fn last_name(&self) -> Option<&str> {
        self.tokens.iter().rev().find(|t| t.as_str() != "*").map(String::as_str)
    }

    /// Every value the pointer selects.
    pub fn select<'v>(&self, v: &'v Value) -> Vec<&'v Value> {
        let mut cur = vec![v];
        for t in &self.tokens {
            let mut next = Vec::new();
            for c in cur {
                match (c, t.as_str()) {
                    (Value::Array(a), "*") => next.extend(a.iter()),
                    (Value::Object(o), "*") => next.extend(o.values()),
                    (Value::Array(a), idx) => {
                        if let Some(x) = idx.parse::<usize>().ok().and_then(|i| a.get(i)) {
                            next.push(x)
                        }
                    }
                    (Value::Object(o), key) => {
                        if let Some(x) = o.get(key) {
                            next.push(x)
                        }
                    }
                    _ => {}
                }
            }
            cur = next;
            if cur.is_empty() {
                break;
            }
        }
        cur
    }

    /// The selected values that are scalars, as strings (strings as is, numbers and booleans
    /// printed); null, empty strings, arrays and objects are skipped.
    pub fn strings(&self, v: &Value) -> Vec<String> {
        self.select(v).into_iter().filter_map(scalar).collect()
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Which response statuses a rule accepts: codes (`202`), classes (`2xx`), or `any`.
#[derive(Debug, Clone)]
pub struct StatusSpec {
    any: bool,
    codes: Vec<u16>,
    classes: Vec<u16>,
    text: String,
}

impl StatusSpec {
    pub fn parse(s: &str) -> anyhow::Result<StatusSpec> {
        let mut spec = StatusSpec { any: false, codes: vec![], classes: vec![], text: s.to_string() };
        for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let l = p.to_ascii_lowercase();
            if l == "any" {
                spec.any = true;
            } else if let Some(d) =
                l.strip_suffix("xx").and_then(|d| d.parse::<u16>().ok()).filter(|d| (1..=5).contains(d))
            {
                spec.classes.push(d);
            } else if let Ok(c) = l.parse::<u16>() {
                spec.codes.push(c);
            } else {
                bail!("status {s:?}: {p:?} is not a code, a class like 2xx, or `any`");
            }
        }
        Ok(spec)
    }
    /// Whether a response status (None: no response) is accepted. `any` accepts no response too.
    pub fn accepts(&self, status: Option<u16>) -> bool {
        if self.any {
            return true;
        }
        let Some(s) = status else { return false };
        self.codes.contains(&s) || self.classes.contains(&(s / 100))
    }
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A string or a list of strings in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

fn list(o: Option<OneOrMany>) -> Vec<String> {
    o.map(OneOrMany::list).unwrap_or_default()
}

// ---- the TOML file, as written ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    description: Option<String>,
    id_pattern: Option<String>,
    #[serde(default)]
    lowercase_ids: bool,
    hosts: Option<OneOrMany>,
    websocket: Option<RawWebsocket>,
    #[serde(default)]
    ignore: Vec<RawIgnore>,
    #[serde(default)]
    key: Vec<RawKey>,
    #[serde(default)]
    state: Vec<RawState>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebsocket {
    topic: Option<String>,
    body: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    path: OneOrMany,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    method: Option<OneOrMany>,
    path: Option<OneOrMany>,
    topic: Option<OneOrMany>,
    from: Option<String>,
    pointer: Option<OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    name: Option<String>,
    method: Option<OneOrMany>,
    path: Option<OneOrMany>,
    topic: Option<OneOrMany>,
    status: Option<String>,
    request_pointer: Option<String>,
    request_equals: Option<OneOrMany>,
    set: Option<ConvState>,
    values: Option<OneOrMany>,
    map: Option<BTreeMap<String, ConvState>>,
    ended: Option<OneOrMany>,
}

// ---- the compiled profile ----

/// Where a key rule reads the id from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A `{conversation}` segment of the request path.
    Path,
    /// A pointer into the request body.
    Request,
    /// A pointer into the response body.
    Response,
    /// A `{conversation}` segment of a websocket topic.
    Topic,
    /// A pointer into a websocket event body (the topic must match).
    Event,
}

/// One place a conversation id is found.
#[derive(Debug, Clone)]
pub struct KeyRule {
    pub source: KeySource,
    pub methods: Vec<String>,
    pub paths: Vec<Template>,
    pub topics: Vec<Template>,
    pub pointers: Vec<Pointer>,
}

/// What a state rule concludes.
#[derive(Debug, Clone)]
pub enum Effect {
    /// The matching event proves this state.
    Set(ConvState),
    /// Read values (reply body, or websocket event body) and map them to states; then, if a
    /// value is present at an `ended` pointer, the conversation has ended.
    Values { values: Vec<Pointer>, map: BTreeMap<String, ConvState>, ended: Vec<Pointer> },
}

/// One rule that proves a state.
#[derive(Debug, Clone)]
pub struct StateRule {
    /// Short human name, used as the evidence text.
    pub name: String,
    pub methods: Vec<String>,
    pub paths: Vec<Template>,
    pub topics: Vec<Template>,
    pub status: StatusSpec,
    pub request_pointer: Option<Pointer>,
    pub request_equals: Vec<String>,
    pub effect: Effect,
}

/// A compiled conversation profile. See the module docs and docs/conversations.md.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub description: Option<String>,
    /// Conversation ids must match this (whole id).
    pub id_pattern: Option<Regex>,
    /// Lower-case ids (UUIDs) so that `ABC…` and `abc…` are one conversation.
    pub lowercase_ids: bool,
    /// Host patterns (`api.example.com`, `*.example.com`); empty: every host.
    pub hosts: Vec<String>,
    /// Pointer to a websocket frame's topic.
    pub ws_topic: Option<Pointer>,
    /// Pointer to a websocket frame's event body (empty pointer: the whole frame).
    pub ws_body: Pointer,
    pub ignore: Vec<Template>,
    pub keys: Vec<KeyRule>,
    pub states: Vec<StateRule>,
}

impl Profile {
    /// The built-in Genesys Cloud profile (src/timeline/genesys.toml).
    pub fn genesys() -> Profile {
        Profile::parse(GENESYS_TOML, "built-in genesys profile").expect("the built-in genesys profile is valid")
    }

    /// A generic profile for REST APIs that put ids after a `conversations` segment or in a
    /// `conversationId` field; it knows no state rules, so every state stays `unknown`.
    pub fn generic() -> Profile {
        Profile::parse(GENERIC_TOML, "built-in generic profile").expect("the built-in generic profile is valid")
    }

    /// A built-in profile by name (`genesys`, `generic`).
    pub fn builtin(name: &str) -> Option<Profile> {
        match name.to_ascii_lowercase().as_str() {
            "genesys" | "genesys-cloud" => Some(Profile::genesys()),
            "generic" => Some(Profile::generic()),
            _ => None,
        }
    }

    /// Read a profile file (TOML); `genesys` or `generic` name a built-in profile when no such
    /// file exists.
    pub fn load(path: &Path) -> anyhow::Result<Profile> {
        if !path.exists() {
            if let Some(p) = path.to_str().and_then(Profile::builtin) {
                return Ok(p);
            }
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read profile {} (built-in profiles: genesys, generic)", path.display()))?;
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parse a profile from TOML text; `what` names it in errors.
    pub fn parse(text: &str, what: &str) -> anyhow::Result<Profile> {
        let raw: RawProfile = toml::from_str(text).with_context(|| format!("profile {what}"))?;
        compile(raw).with_context(|| format!("profile {what}"))
    }

    /// Whether a host is covered by this profile.
    pub fn covers_host(&self, host: &str) -> bool {
        self.hosts.is_empty()
            || self.hosts.iter().any(|h| match h.strip_prefix("*.") {
                Some(suffix) => {
                    host.len() > suffix.len()
                        && host.to_ascii_lowercase().ends_with(&suffix.to_ascii_lowercase())
                        && host.as_bytes().get(host.len() - suffix.len() - 1) == Some(&b'.')
                }
                None => h.eq_ignore_ascii_case(host),
            })
    }

    /// Whether a string may be a conversation id.
    pub fn is_id(&self, s: &str) -> bool {
        !s.is_empty() && s.len() <= 256 && self.id_pattern.as_ref().is_none_or(|re| re.is_match(s))
    }

    /// The id as the timeline keys it.
    pub fn normalize(&self, s: &str) -> String {
        if self.lowercase_ids {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    }
}

fn templates(v: Option<OneOrMany>, sep: char) -> anyhow::Result<Vec<Template>> {
    list(v).iter().map(|t| Template::parse(t, sep)).collect()
}

fn pointers(v: Option<OneOrMany>) -> anyhow::Result<Vec<Pointer>> {
    list(v).iter().map(|p| Pointer::parse(p)).collect()
}

fn methods(v: Option<OneOrMany>) -> Vec<String> {
    list(v).into_iter().map(|m| m.to_ascii_uppercase()).collect()
}

fn compile(raw: RawProfile) -> anyhow::Result<Profile> {
    let id_pattern = match raw.id_pattern {
        Some(p) => {
            let anchored = format!("^(?:{p})$");
            Some(Regex::new(&anchored).with_context(|| format!("id_pattern {p:?}"))?)
        }
        None => None,
    };
    let ws = raw.websocket.unwrap_or(RawWebsocket { topic: None, body: None });
    let ws_topic = ws.topic.as_deref().map(Pointer::parse).transpose().context("[websocket] topic")?;
    let ws_body = Pointer::parse(ws.body.as_deref().unwrap_or("")).context("[websocket] body")?;
    let mut ignore = Vec::new();
    for (n, i) in raw.ignore.into_iter().enumerate() {
        for t in i.path.list() {
            ignore.push(Template::parse(&t, '/').with_context(|| format!("[[ignore]] #{}", n + 1))?);
        }
    }
    let mut keys = Vec::new();
    for (n, k) in raw.key.into_iter().enumerate() {
        let n = n + 1;
        let paths = templates(k.path, '/').with_context(|| format!("[[key]] #{n}"))?;
        let topics = templates(k.topic, '.').with_context(|| format!("[[key]] #{n}"))?;
        let ptrs = pointers(k.pointer).with_context(|| format!("[[key]] #{n}"))?;
        let source = match (k.from.as_deref(), ptrs.is_empty(), topics.is_empty()) {
            (Some("request"), false, true) => KeySource::Request,
            (Some("response"), false, true) => KeySource::Response,
            (Some("event") | None, false, false) => KeySource::Event,
            (None, true, true) if !paths.is_empty() => KeySource::Path,
            (None, true, false) => KeySource::Topic,
            _ => bail!(
                "[[key]] #{n}: give `path` templates with {{conversation}}, `topic` patterns, or `from` = \"request\"/\"response\" with `pointer`"
            ),
        };
        if source == KeySource::Path && !paths.iter().all(Template::has_conversation) {
            bail!("[[key]] #{n}: every path template needs a {{conversation}} segment");
        }
        if source == KeySource::Topic && !topics.iter().all(Template::has_conversation) {
            bail!("[[key]] #{n}: every topic pattern needs a {{conversation}} segment, or give a `pointer` into the event body");
        }
        if source == KeySource::Event && ws_topic.is_none() {
            bail!("[[key]] #{n}: topic rules need [websocket] topic = \"/pointer/to/topic\"");
        }
        keys.push(KeyRule { source, methods: methods(k.method), paths, topics, pointers: ptrs });
    }
    let mut states = Vec::new();
    for (n, s) in raw.state.into_iter().enumerate() {
        let n = n + 1;
        let cx = || format!("[[state]] #{n}");
        let paths = templates(s.path, '/').with_context(cx)?;
        let topics = templates(s.topic, '.').with_context(cx)?;
        if paths.is_empty() == topics.is_empty() {
            bail!("[[state]] #{n}: give either `path` templates or `topic` patterns");
        }
        if !topics.is_empty() && ws_topic.is_none() {
            bail!("[[state]] #{n}: topic rules need [websocket] topic = \"/pointer/to/topic\"");
        }
        let status = StatusSpec::parse(s.status.as_deref().unwrap_or("2xx")).with_context(cx)?;
        let request_pointer = s.request_pointer.as_deref().map(Pointer::parse).transpose().with_context(cx)?;
        let request_equals = list(s.request_equals);
        if request_pointer.is_some() && request_equals.is_empty() {
            bail!("[[state]] #{n}: request_pointer needs request_equals");
        }
        let effect = match (s.set, s.values, s.map, s.ended) {
            (Some(st), None, None, None) => Effect::Set(st),
            (None, v, map, ended) if v.is_some() || ended.is_some() => {
                let values = pointers(v).with_context(cx)?;
                let map = map.unwrap_or_default().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
                Effect::Values { values, map, ended: pointers(ended).with_context(cx)? }
            }
            _ => bail!("[[state]] #{n}: give either `set` or `values` + `map` (and/or `ended`)"),
        };
        if let Effect::Set(ConvState::Unknown) = effect {
            bail!("[[state]] #{n}: `set = \"unknown\"` proves nothing; use active, disconnected or terminated");
        }
        if let Effect::Values { map, .. } = &effect {
            if map.values().any(|v| *v == ConvState::Unknown) {
                bail!("[[state]] #{n}: map values are active, disconnected or terminated");
            }
        }
        let name = s.name.unwrap_or_else(|| {
            let m = list_text(&methods(s.method.clone()));
            let what = paths.first().or(topics.first()).map(|t| t.text().to_string()).unwrap_or_default();
            format!("{m}{}{what}", if m.is_empty() { "" } else { " " })
        });
        states.push(StateRule {
            name,
            methods: methods(s.method),
            paths,
            topics,
            status,
            request_pointer,
            request_equals,
            effect,
        });
    }
    if keys.is_empty() {
        bail!(
            "no [[key]] rule: nothing can tie an exchange to a conversation \
             (give path templates with {{conversation}}, body pointers or topic patterns; see docs/conversations.md)"
        );
    }
    Ok(Profile {
        name: raw.name.unwrap_or_else(|| "custom".into()),
        description: raw.description,
        id_pattern,
        lowercase_ids: raw.lowercase_ids,
        hosts: list(raw.hosts),
        ws_topic,
        ws_body,
        ignore,
        keys,
        states,
    })
}

fn list_text(v: &[String]) -> String {
    v.join("|")
}

/// Fold mapped values into one state: any `active` → active; otherwise, when every value is
/// mapped (all ended), terminated if all are terminated, else disconnected; otherwise (a value
/// the map does not know, or no value) no conclusion.
pub fn aggregate(values: &[String], map: &BTreeMap<String, ConvState>) -> Option<ConvState> {
    if values.is_empty() {
        return None;
    }
    let mapped: Vec<Option<ConvState>> = values.iter().map(|v| map.get(&v.to_ascii_lowercase()).copied()).collect();
    if mapped.contains(&Some(ConvState::Active)) {
        return Some(ConvState::Active);
    }
    if mapped.iter().any(Option::is_none) {
        return None;
    }
    if mapped.iter().all(|m| *m == Some(ConvState::Terminated)) {
        Some(ConvState::Terminated)
    } else {
        Some(ConvState::Disconnected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uuid(s: &str) -> bool {
        Profile::genesys().is_id(s)
    }

    #[test]
    fn templates_match_segments() {
        let t = Template::parse("/api/v2/conversations/{type}/{conversation}/**", '/').unwrap();
        let id = "6f1c0a52-3b1e-4d0e-9a51-0c7b9f6a2e11";
        assert_eq!(t.matches(&format!("/api/v2/conversations/messages/{id}"), &uuid), Some(Some(id)));
        assert_eq!(
            t.matches(&format!("/api/v2/conversations/messages/{id}/communications/x/messages"), &uuid),
            Some(Some(id))
        );
        assert_eq!(t.matches("/api/v2/conversations/messages/agentless", &uuid), None);
        assert_eq!(t.matches("/api/v2/conversations/messaging/integrations/open", &uuid), None);
        let topic = Template::parse("v2.conversations.{conversation}.**", '.').unwrap();
        assert_eq!(topic.matches(&format!("v2.conversations.{id}.messages"), &uuid), Some(Some(id)));
        assert!(Template::parse("/a/b{c}", '/').is_err());
        assert!(Template::parse("/a/{conversation}/{conversation}", '/').is_err());
    }

    #[test]
    fn pointers_with_wildcards() {
        let v: Value = serde_json::json!({"participants": [{"state": "connected", "messages": [{"state": "alerting"}]}, {"state": "disconnected"}]});
        let p = Pointer::parse("/participants/*/state").unwrap();
        assert_eq!(p.strings(&v), vec!["connected", "disconnected"]);
        let p = Pointer::parse("/participants/0/messages/*/state").unwrap();
        assert_eq!(p.strings(&v), vec!["alerting"]);
        assert!(Pointer::parse("participants").is_err());
        assert!(Pointer::parse("/a/9999999999999999999999").unwrap().select(&serde_json::json!({"a": [1]})).is_empty());
    }

    #[test]
    fn aggregation_never_guesses() {
        let map: BTreeMap<String, ConvState> = [
            ("connected".to_string(), ConvState::Active),
            ("disconnected".to_string(), ConvState::Disconnected),
            ("terminated".to_string(), ConvState::Terminated),
        ]
        .into();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(aggregate(&s(&["disconnected", "connected"]), &map), Some(ConvState::Active));
        assert_eq!(aggregate(&s(&["disconnected", "terminated"]), &map), Some(ConvState::Disconnected));
        assert_eq!(aggregate(&s(&["terminated"]), &map), Some(ConvState::Terminated));
        assert_eq!(aggregate(&s(&["disconnected", "parked"]), &map), None);
        assert_eq!(aggregate(&s(&[]), &map), None);
    }

    #[test]
    fn status_specs() {
        let s = StatusSpec::parse("2xx,304").unwrap();
        assert!(s.accepts(Some(202)) && s.accepts(Some(304)) && !s.accepts(Some(403)) && !s.accepts(None));
        assert!(StatusSpec::parse("abc").is_err());
        assert!(StatusSpec::parse("any").unwrap().accepts(None));
    }

    #[test]
    fn builtins_load_and_bad_profiles_explain() {
        assert!(!Profile::genesys().states.is_empty());
        let _ = Profile::generic();
        let e = Profile::parse("[[key]]\npath = \"/v1/orders/{id}\"\n", "t").unwrap_err();
        assert!(format!("{e:#}").contains("{conversation}"), "{e:#}");
        let e = Profile::parse("[[state]]\npath = \"/x/{conversation}\"\nset = \"unknown\"\n", "t").unwrap_err();
        assert!(format!("{e:#}").contains("proves nothing"), "{e:#}");
        let e = Profile::parse("bogus = 1\n", "t").unwrap_err();
        assert!(format!("{e:#}").contains("bogus"), "{e:#}");
    }

    #[test]
    fn hosts() {
        let p = Profile::parse(
            "hosts = [\"*.example.com\", \"api.shop.test\"]\n[[key]]\npath = \"/c/{conversation}\"\n",
            "t",
        )
        .unwrap();
        assert!(p.covers_host("api.example.com") && p.covers_host("API.SHOP.TEST"));
        assert!(!p.covers_host("example.com") && !p.covers_host("badexample.com"));
    }
}
