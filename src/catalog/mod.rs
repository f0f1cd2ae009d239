//! What each API operation requires: scopes, permissions, user context, kind of token.
//!
//! A [`Catalog`] is a list of [`Operation`]s (method + path template) plus the path
//! *families* it knows completely. [`Catalog::lookup`] answers "what is this call?":
//! a real operation ([`Lookup::Known`]), a call inside a completely-known family that matches
//! no operation, i.e. an endpoint that does not exist ([`Lookup::Unknown`], with the real
//! operation that was probably meant), or a path the catalog says nothing about
//! ([`Lookup::NotCovered`]). Diagnosis needs that distinction: forum answers routinely invent
//! endpoints, and "your token lacks a scope" is the wrong answer for a call that cannot succeed.
//!
//! Two sources:
//! - [`Catalog::genesys`], the built-in Genesys Cloud profile written from
//!   ../shared/docs/genesys-cloud-facts.md (see [`genesys`]);
//! - [`Catalog::load`], any Swagger 2.0 / OpenAPI 3.x document, JSON or YAML (see [`load`]).
//!
//! Path templates are matched segment by segment; a literal segment beats a `{param}` one.

pub mod genesys;
mod genesys_ops;
pub mod load;

use serde::Serialize;

/// How a list of permissions is required: all of them, or any one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PermissionMode {
    All,
    Any,
}

impl PermissionMode {
    pub fn name(self) -> &'static str {
        match self {
            PermissionMode::All => "ALL",
            PermissionMode::Any => "ANY",
        }
    }
}

/// Which kind of credential an operation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// A platform OAuth access token from `login.{region}/oauth/token` (user or client).
    Platform,
    /// A web messaging guest JWT (Webmessaging JWT / Guest Chat JWT schemes).
    GuestJwt,
    /// No authentication declared (token exchange endpoints).
    None,
    /// The source does not say.
    Unknown,
}

/// One API operation and what it requires.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub method: String,
    /// Path template, e.g. `/api/v2/conversations/messages/{conversationId}`.
    pub path: String,
    pub operation_id: Option<String>,
    /// Any one of these scopes suffices; `None` when unknown.
    pub scopes: Option<Vec<String>>,
    pub permission_mode: Option<PermissionMode>,
    pub permissions: Vec<String>,
    pub auth: AuthKind,
    /// Needs a token that acts for a user (not valid with client credentials).
    pub requires_user: bool,
    pub summary: Option<String>,
}

impl Operation {
    /// `POST /api/v2/...` (method and template).
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// `ANY of conversation:message:create, conversation:webmessaging:create`, or None.
    pub fn permissions_text(&self) -> Option<String> {
        if self.permissions.is_empty() {
            return None;
        }
        let mode = self.permission_mode.unwrap_or(PermissionMode::All);
        Some(format!("{} of {}", mode.name(), self.permissions.join(", ")))
    }
}

/// The answer to "what is this call?".
#[derive(Debug, Clone)]
pub enum Lookup<'a> {
    /// A real operation.
    Known(&'a Operation),
    /// The path lies in a family the catalog knows completely, and no operation matches:
    /// the endpoint does not exist. `suggestion` is the real operation probably meant;
    /// `hint` says more when no single operation replaces it (e.g. tokens come from the login
    /// host, not from the API).
    Unknown { suggestion: Option<&'a Operation>, hint: Option<String>, family: String },
    /// The catalog does not cover this path.
    NotCovered,
}

/// Which hosts a catalog describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Hosts {
    /// Every host (a document that names none).
    #[default]
    Any,
    /// The API host of every Genesys Cloud region (`api.{region domain}`).
    GenesysApi,
    /// Exactly these hosts.
    Named(Vec<String>),
}

/// A set of operations and the families known completely.
///
/// Lookups go through an index (operations grouped by method and segment count, templates
/// pre-split) built on the first lookup, so a 3,300-operation `--catalog` costs a handful of
/// comparisons per call rather than a scan; do not change `operations` or `families` after
/// the first lookup.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    /// Where it came from: `built-in Genesys Cloud profile` or the file path.
    pub source: String,
    pub operations: Vec<Operation>,
    /// Path prefixes (segment-aligned) under which every real operation is listed: a call
    /// under one of them that matches no operation does not exist.
    pub families: Vec<String>,
    pub hosts: Hosts,
    index: std::sync::OnceLock<Index>,
}

/// A template split once: lower-cased literal segments, `None` for a `{param}`.
#[derive(Debug, Clone)]
struct Template {
    segs: Vec<Option<String>>,
    /// Literal words (not `api`/`v2`), for suggestions.
    words: Vec<String>,
}

/// Operations by (upper-case method, segment count), and every template pre-split.
#[derive(Debug, Clone, Default)]
struct Index {
    templates: Vec<Template>,
    by_shape: std::collections::HashMap<(String, usize), Vec<usize>>,
    families: Vec<Vec<String>>,
}

impl Index {
    fn build(c: &Catalog) -> Index {
        let mut ix = Index::default();
        for (i, op) in c.operations.iter().enumerate() {
            let segs: Vec<Option<String>> =
                segments(&op.path).iter().map(|s| (!is_param(s)).then(|| s.to_ascii_lowercase())).collect();
            let words = segs.iter().flatten().filter(|s| !matches!(s.as_str(), "api" | "v2")).cloned().collect();
            ix.by_shape.entry((op.method.to_ascii_uppercase(), segs.len())).or_default().push(i);
            ix.templates.push(Template { segs, words });
        }
        ix.families = c.families.iter().map(|f| segments(f).iter().map(|s| s.to_ascii_lowercase()).collect()).collect();
        ix
    }
}

/// Whether the (lower-cased) path segments match a template; the score counts literal
/// segments, so the most specific template wins (`/messages/agentless` beats
/// `/messages/{conversationId}`). Outside the families a catalog lists completely, a
/// `{param}` only takes an identifier-like segment: the built-in profile knows
/// `/api/v2/conversations/{conversationId}` but not `/api/v2/conversations/calls`, which must
/// not be mistaken for it.
fn score(t: &Template, segs: &[String], in_family: bool) -> Option<usize> {
    if t.segs.len() != segs.len() {
        return None;
    }
    let mut literal = 0;
    for (a, b) in t.segs.iter().zip(segs) {
        match a {
            None if b.is_empty() => return None,
            None if !in_family && !looks_like_id(b) => return None,
            None => {}
            Some(a) if a == b => literal += 1,
            Some(_) => return None,
        }
    }
    Some(literal)
}

impl Catalog {
    /// The built-in Genesys Cloud profile.
    pub fn genesys() -> Catalog {
        genesys::profile()
    }

    /// Load a Swagger 2.0 / OpenAPI 3.x document (JSON or YAML).
    pub fn load(path: &std::path::Path) -> anyhow::Result<Catalog> {
        load::load(path)
    }

    /// Build a catalog from its parts.
    pub fn new(source: impl Into<String>, operations: Vec<Operation>, families: Vec<String>, hosts: Hosts) -> Catalog {
        Catalog { source: source.into(), operations, families, hosts, index: Default::default() }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(self))
    }

    /// What a call is, by method and path (query and fragment are ignored; segments are
    /// percent-decoded and compared case-insensitively; empty segments, as from a trailing
    /// or doubled slash, are dropped).
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        self.resolve(method, path, true)
    }

    /// The real operation a call is, if any: [`Catalog::lookup`] without the search for a
    /// suggestion (a scan of every operation), for callers that only group calls by operation.
    pub fn known_at(&self, host: &str, method: &str, path: &str) -> Option<&Operation> {
        if !self.describes_host(host) {
            return None;
        }
        match self.resolve(method, path, false) {
            Lookup::Known(op) => Some(op),
            _ => None,
        }
    }

    fn resolve(&self, method: &str, path: &str, suggest: bool) -> Lookup<'_> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let segs: Vec<String> = segments(path).iter().map(|s| decode(s).to_ascii_lowercase()).collect();
        let ix = self.index();
        let family = ix
            .families
            .iter()
            .enumerate()
            .filter(|(_, f)| segs.len() >= f.len() && segs.iter().zip(f.iter()).all(|(a, b)| a == b))
            .max_by_key(|(_, f)| f.len());
        let mut best: Option<(&Operation, usize)> = None;
        let shape = (method.to_ascii_uppercase(), segs.len());
        for &i in ix.by_shape.get(&shape).map(Vec::as_slice).unwrap_or(&[]) {
            let t = &ix.templates[i];
            // Inside a completely-known family only its own operations count.
            if let Some((_, f)) = family {
                if !f.iter().zip(&t.segs).all(|(a, b)| b.as_ref() == Some(a)) {
                    continue;
                }
            }
            if let Some(score) = score(t, &segs, family.is_some()) {
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((&self.operations[i], score));
                }
            }
        }
        if let Some((op, _)) = best {
            return Lookup::Known(op);
        }
        match family {
            Some((fi, _)) if !suggest => {
                Lookup::Unknown { suggestion: None, hint: None, family: self.families[fi].clone() }
            }
            Some((fi, _)) => {
                let seg_refs: Vec<&str> = segs.iter().map(String::as_str).collect();
                let (suggestion, hint) = self.suggest(method, &seg_refs);
                Lookup::Unknown { suggestion, hint, family: self.families[fi].clone() }
            }
            None => Lookup::NotCovered,
        }
    }

    /// [`Catalog::lookup`], but only for hosts the catalog describes.
    pub fn lookup_at(&self, host: &str, method: &str, path: &str) -> Lookup<'_> {
        if !self.describes_host(host) {
            return Lookup::NotCovered;
        }
        self.lookup(method, path)
    }

    /// Whether the catalog describes this host.
    pub fn describes_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        match &self.hosts {
            Hosts::Any => true,
            Hosts::GenesysApi => {
                matches!(crate::region::region_of_host(&host), Some((_, crate::region::HostRole::Api)))
            }
            Hosts::Named(h) => h.iter().any(|x| x.eq_ignore_ascii_case(&host)),
        }
    }

    /// An operation by method and exact template.
    pub fn operation(&self, method: &str, template: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.method.eq_ignore_ascii_case(method) && o.path == template)
    }

    /// The real operation a call to a non-existent endpoint probably meant: first the
    /// known inventions (from the facts), then the closest operation by shared words.
    fn suggest(&self, method: &str, segs: &[&str]) -> (Option<&Operation>, Option<String>) {
        if let Some((m, t, hint)) = genesys::known_invention(method, segs) {
            let op = m.and_then(|m| t.and_then(|t| self.operation(m, t)));
            if op.is_some() || hint.is_some() {
                return (op, hint.map(str::to_string));
            }
        }
        let words: Vec<String> = segs
            .iter()
            .filter(|s| !looks_like_id(s) && !matches!(**s, "api" | "v2"))
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let last = words.last().cloned();
        let ix = self.index();
        let mut best: Option<(&Operation, i64)> = None;
        for (op, t) in self.operations.iter().zip(&ix.templates) {
            let lits = &t.words;
            let common = words.iter().filter(|w| lits.iter().any(|l| l == *w || stem(l) == stem(w))).count() as i64;
            if common == 0 {
                continue;
            }
            let mut score = common * 4;
            if op.method.eq_ignore_ascii_case(method) {
                score += 5;
            }
            if last.is_some() && lits.last() == last.as_ref() {
                score += 3;
            }
            score -= (t.segs.len() as i64 - segs.len() as i64).abs();
            score -= lits.len() as i64 - common;
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((op, score));
            }
        }
        (best.map(|(o, _)| o), None)
    }
}

/// Non-empty path segments.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Percent-decode one path segment (`%61gentless` is `agentless`); invalid escapes and
/// non-UTF-8 results are kept as written.
fn decode(seg: &str) -> std::borrow::Cow<'_, str> {
    if !seg.contains('%') {
        return seg.into();
    }
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map(Into::into).unwrap_or_else(|_| seg.into())
}

fn is_param(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

fn stem(w: &str) -> &str {
    w.strip_suffix('s').unwrap_or(w)
}

/// A segment that is an identifier rather than a word: digits, UUID-like, or long tokens.
pub fn looks_like_id(seg: &str) -> bool {
    is_param(seg) || seg.chars().any(|c| c.is_ascii_digit()) || seg.len() >= 24 || seg.contains('-') && seg.len() >= 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_operations_are_known_with_scopes_and_permissions() {
        let c = Catalog::genesys();
        let Lookup::Known(op) = c.lookup(
            "PATCH",
            "/api/v2/conversations/messages/6f1c2e4a-0000-4000-8000-000000000001/participants/9a1b2c3d-0000-4000-8000-000000000002",
        ) else {
            panic!("not known")
        };
        assert_eq!(op.path, "/api/v2/conversations/messages/{conversationId}/participants/{participantId}");
        assert_eq!(op.scopes.as_deref(), Some(&["conversations".to_string()][..]));
        assert_eq!(op.permission_mode, Some(PermissionMode::Any));
        assert!(op.permissions.contains(&"conversation:communication:disconnect".to_string()));
        // A literal segment beats a parameter: agentless is not {conversationId}.
        let Lookup::Known(op) = c.lookup("POST", "/api/v2/conversations/messages/agentless") else { panic!() };
        assert_eq!(op.operation_id.as_deref(), Some("postConversationsMessagesAgentless"));
        let Lookup::Known(op) = c.lookup("GET", "/api/v2/users/me") else { panic!() };
        assert!(op.requires_user);
        let Lookup::Known(op) = c.lookup("GET", "/api/v2/webmessaging/messages?pageNumber=1") else { panic!() };
        assert_eq!(op.auth, AuthKind::GuestJwt);
    }

    #[test]
    fn invented_endpoints_are_unknown_with_the_real_one_suggested() {
        let c = Catalog::genesys();
        let cases = [
            (
                "POST",
                "/api/v2/conversations/messaging/addresses",
                Some("POST /api/v2/conversations/messages/agentless"),
            ),
            (
                "POST",
                "/api/v2/conversations/messaging/5c1f0e1a-1111-4111-8111-111111111111/messages",
                Some("POST /api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages"),
            ),
            (
                "GET",
                "/api/v2/conversations/messaging/5c1f0e1a-1111-4111-8111-111111111111",
                Some("GET /api/v2/conversations/messages/{conversationId}"),
            ),
            (
                "DELETE",
                "/api/v2/conversations/webmessaging/5c1f0e1a-1111-4111-8111-111111111111",
                Some("PATCH /api/v2/conversations/messages/{conversationId}"),
            ),
            (
                "POST",
                "/api/v2/communications/conversations/c1/participants/p1/messages",
                Some("POST /api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages"),
            ),
            ("GET", "/api/v2/oauth/tokens/self/scopes", Some("GET /api/v2/tokens/me")),
            ("POST", "/api/v2/oauth/guest/token", None),
        ];
        for (m, p, want) in cases {
            match c.lookup(m, p) {
                Lookup::Unknown { suggestion, hint, .. } => {
                    assert_eq!(suggestion.map(|o| o.label()).as_deref(), want, "{m} {p}");
                    if want.is_none() {
                        assert!(hint.is_some(), "{m} {p}: no hint");
                    }
                }
                other => panic!("{m} {p}: {other:?}"),
            }
        }
        // Configuration endpoints under /messaging are real; other families are not covered.
        assert!(matches!(c.lookup("GET", "/api/v2/conversations/messaging/settings"), Lookup::Known(_)));
        assert!(matches!(c.lookup("GET", "/api/v2/routing/queues"), Lookup::NotCovered));
        assert!(matches!(c.lookup("GET", "/api/v2/conversations/calls/x"), Lookup::NotCovered));
    }

    #[test]
    fn path_shapes_precedence_and_encoding() {
        let c = Catalog::genesys();
        let id = |l: Lookup<'_>| match l {
            Lookup::Known(op) => op.operation_id.clone().unwrap_or_default(),
            other => format!("{other:?}"),
        };
        // Literal beats {param}, whatever the method case, trailing slash, query or encoding.
        for p in [
            "/api/v2/conversations/messages/agentless",
            "/api/v2/conversations/messages/agentless/",
            "/api/v2/conversations/messages/agentless?useNormalizedMessage=true",
            "/api/v2/conversations/messages/%61gentless",
            "/API/V2/Conversations/Messages/AGENTLESS",
            "//api/v2/conversations//messages/agentless",
        ] {
            assert_eq!(id(c.lookup("post", p)), "postConversationsMessagesAgentless", "{p}");
        }
        assert_eq!(
            id(c.lookup("GET", "/api/v2/conversations/messages/6f1c2e4a-0000-4000-8000-000000000001")),
            "getConversationsMessage"
        );
        // A bad escape or a non-UTF-8 one stays as written (no panic).
        assert!(matches!(c.lookup("POST", "/api/v2/conversations/messages/%zz%"), Lookup::Unknown { .. }));
        assert!(matches!(c.lookup("GET", "/api/v2/conversations/messages/%ff%fe"), Lookup::Known(_)));
        // Outside a completely-known family a word is not an id: /conversations/calls is a real
        // operation the profile does not describe, not getConversation.
        assert!(matches!(c.lookup("GET", "/api/v2/conversations/calls"), Lookup::NotCovered));
        assert!(matches!(c.lookup("GET", "/api/v2/conversations/emails"), Lookup::NotCovered));
        assert_eq!(
            id(c.lookup("GET", "/api/v2/conversations/5c1f0e1a-1111-4111-8111-111111111111")),
            "getConversation"
        );
        assert!(matches!(c.lookup("", ""), Lookup::NotCovered));
    }

    #[test]
    fn hosts() {
        let c = Catalog::genesys();
        assert!(c.describes_host("api.mypurecloud.ie"));
        assert!(!c.describes_host("login.mypurecloud.ie"));
        assert!(matches!(c.lookup_at("example.com", "GET", "/api/v2/users/me"), Lookup::NotCovered));
    }
}
