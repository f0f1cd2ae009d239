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

    /// Whether the path (already split into segments) matches this template; the score
    /// counts literal segments, so the most specific template wins.
    fn matches(&self, segs: &[&str]) -> Option<usize> {
        let t = segments(&self.path);
        if t.len() != segs.len() {
            return None;
        }
        let mut literal = 0;
        for (a, b) in t.iter().zip(segs) {
            if is_param(a) {
                if b.is_empty() {
                    return None;
                }
            } else if a.eq_ignore_ascii_case(b) {
                literal += 1;
            } else {
                return None;
            }
        }
        Some(literal)
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
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    /// Where it came from: `built-in Genesys Cloud profile` or the file path.
    pub source: String,
    pub operations: Vec<Operation>,
    /// Path prefixes (segment-aligned) under which every real operation is listed: a call
    /// under one of them that matches no operation does not exist.
    pub families: Vec<String>,
    pub hosts: Hosts,
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

    /// What a call is, by method and path (query and fragment are ignored).
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let segs = segments(path);
        let family = self.families.iter().filter(|f| under(&segs, &segments(f))).max_by_key(|f| segments(f).len());
        let candidates = self.operations.iter().filter(|op| match family {
            Some(f) => under(&segments(&op.path), &segments(f)),
            None => true,
        });
        let mut best: Option<(&Operation, usize)> = None;
        for op in candidates {
            if !op.method.eq_ignore_ascii_case(method) {
                continue;
            }
            if let Some(score) = op.matches(&segs) {
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((op, score));
                }
            }
        }
        if let Some((op, _)) = best {
            return Lookup::Known(op);
        }
        match family {
            Some(f) => {
                let (suggestion, hint) = self.suggest(method, &segs);
                Lookup::Unknown { suggestion, hint, family: f.clone() }
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
        let mut best: Option<(&Operation, i64)> = None;
        for op in &self.operations {
            let t = segments(&op.path);
            let lits: Vec<String> = t
                .iter()
                .filter(|s| !is_param(s) && !matches!(**s, "api" | "v2"))
                .map(|s| s.to_ascii_lowercase())
                .collect();
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
            score -= (t.len() as i64 - segs.len() as i64).abs();
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

fn is_param(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

/// Whether `segs` lies under the family `fam` (segment-aligned, case-insensitive).
fn under(segs: &[&str], fam: &[&str]) -> bool {
    segs.len() >= fam.len() && segs.iter().zip(fam).all(|(a, b)| a.eq_ignore_ascii_case(b))
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
    fn hosts() {
        let c = Catalog::genesys();
        assert!(c.describes_host("api.mypurecloud.ie"));
        assert!(!c.describes_host("login.mypurecloud.ie"));
        assert!(matches!(c.lookup_at("example.com", "GET", "/api/v2/users/me"), Lookup::NotCovered));
    }
}
