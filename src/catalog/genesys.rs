//! The built-in Genesys Cloud profile, written from ../shared/docs/genesys-cloud-facts.md.
//!
//! - Operations: the messaging agent API (`/api/v2/conversations/messages*`), messaging
//!   configuration (`/api/v2/conversations/messaging/*`), the generic conversation API
//!   (`/api/v2/conversations/{conversationId}*`), tokens, `users/me`, OAuth, web messaging,
//!   web deployment tokens and notifications, with their scopes (any one suffices) and
//!   permissions (ALL/ANY), transcribed in `genesys_ops.rs`.
//! - Families known completely, so that calls inside them that match no operation are
//!   endpoints that do not exist: the families above, plus the prefixes the facts say never
//!   existed (`/api/v2/conversations/webmessaging`, `/api/v2/conversations/webchat`,
//!   `/api/v2/communications`, `/api/v2/oauth/guest`).
//! - User context: `GET /api/v2/users/me` and `POST /api/v2/conversations/emails/{id}/reconnect`
//!   are documented as "not valid when using the Client Credentials OAuth grant".
//! - Client-credentials tokens carry no user and are governed by the OAuth client's roles,
//!   not by scopes (facts §3): the diagnosis rules apply that, the catalog only states the
//!   operation's requirements.
//! - The 401/403 error codes and what each means: [`error_code_meaning`].

use super::{genesys_ops::OPS, AuthKind, Catalog, Hosts, Operation, PermissionMode};

/// Families (segment-aligned path prefixes) the profile lists completely.
pub const FAMILIES: &[&str] = &[
    "/api/v2/conversations/messages",
    "/api/v2/conversations/messaging",
    "/api/v2/conversations/webmessaging",
    "/api/v2/conversations/webchat",
    "/api/v2/communications",
    "/api/v2/oauth",
    "/api/v2/tokens",
    "/api/v2/webmessaging",
    "/api/v2/webdeployments/token",
    "/api/v2/notifications",
    "/api/v2/messaging",
];

/// Operations documented as needing a user (not valid with client credentials).
pub const REQUIRES_USER: &[(&str, &str)] =
    &[("GET", "/api/v2/users/me"), ("POST", "/api/v2/conversations/emails/{conversationId}/reconnect")];

pub(super) fn profile() -> Catalog {
    let operations = OPS
        .iter()
        .map(|&(method, path, id, auth, scopes, mode, perms)| Operation {
            method: method.to_string(),
            path: path.to_string(),
            operation_id: Some(id.to_string()),
            scopes: match scopes {
                "?" => None,
                "" => Some(Vec::new()),
                s => Some(s.split(',').map(str::to_string).collect()),
            },
            permission_mode: match mode {
                "ALL" => Some(PermissionMode::All),
                "ANY" => Some(PermissionMode::Any),
                _ => None,
            },
            permissions: perms.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect(),
            auth: match auth {
                'P' => AuthKind::Platform,
                'G' => AuthKind::GuestJwt,
                'N' => AuthKind::None,
                _ => AuthKind::Unknown,
            },
            requires_user: REQUIRES_USER.iter().any(|(m, p)| *m == method && *p == path),
            summary: None,
        })
        .collect();
    Catalog::new(
        "built-in Genesys Cloud profile",
        operations,
        FAMILIES.iter().map(|s| s.to_string()).collect(),
        Hosts::GenesysApi,
    )
}

/// The endpoints forum answers invent, and what is real instead (facts §1). Returns the
/// method and template of the real operation (looked up in whichever catalog is active) and a
/// hint when no single operation replaces it.
pub(super) fn known_invention(
    method: &str,
    segs: &[&str],
) -> Option<(Option<&'static str>, Option<&'static str>, Option<&'static str>)> {
    let m = method.to_ascii_uppercase();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let s: Vec<&str> = lower.iter().map(String::as_str).collect();
    const SEND: &str = "/api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages";
    const PARTICIPANT: &str = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}";
    let r = match (m.as_str(), s.as_slice()) {
        ("POST", ["api", "v2", "conversations", "messaging", "addresses", ..]) => (
            Some("POST"),
            Some("/api/v2/conversations/messages/agentless"),
            Some("to message a customer first, use POST /api/v2/conversations/messages/agentless (client credentials) or POST /api/v2/conversations/messages"),
        ),
        (_, ["api", "v2", "conversations", "messaging", _, "messages", ..]) => (Some("POST"), Some(SEND), None),
        ("GET", ["api", "v2", "conversations", "messaging", _]) => {
            (Some("GET"), Some("/api/v2/conversations/messages/{conversationId}"), None)
        }
        ("POST", ["api", "v2", "conversations", "messaging", "guests", ..]) => (
            None,
            None,
            Some("guests do not use the REST API to join: they connect to wss://webmessaging.{region domain}/v1 and get a JWT with getJwt"),
        ),
        (_, ["api", "v2", "conversations", "webmessaging", _, "participants", _, ..]) => {
            (Some("PATCH"), Some(PARTICIPANT), Some("send {\"state\":\"disconnected\"} to end the participant"))
        }
        ("DELETE", ["api", "v2", "conversations", "webmessaging", ..]) => (
            Some("PATCH"),
            Some("/api/v2/conversations/messages/{conversationId}"),
            Some("send {\"state\":\"disconnected\"}; or DELETE /api/v2/conversations/{conversationId}"),
        ),
        (_, ["api", "v2", "conversations", "webmessaging", _, "messages", ..]) => (Some("POST"), Some(SEND), None),
        (_, ["api", "v2", "communications", .., "messages"]) => (Some("POST"), Some(SEND), None),
        (_, ["api", "v2", "conversations", "webchat", .., "messages"]) => (Some("POST"), Some(SEND), None),
        (_, ["api", "v2", "oauth", "guest", ..]) => (
            None,
            None,
            Some("platform tokens come only from POST https://login.{region domain}/oauth/token; a web messaging guest gets its JWT over wss://webmessaging.{region domain}/v1 (getJwt), an authenticated messenger from POST /api/v2/webdeployments/token/oauthcodegrantjwtexchange"),
        ),
        (_, ["api", "v2", "oauth", "tokens", ..]) | (_, ["api", "v2", "oauth", "token", ..]) => (
            Some("GET"),
            Some("/api/v2/tokens/me"),
            Some("GET /api/v2/tokens/me returns the token's authorizedScope; new tokens come from https://login.{region domain}/oauth/token"),
        ),
        _ => return None,
    };
    Some(r)
}

/// What a Genesys 401/403 error `code` means (facts §6, `x-inin-error-codes`).
pub fn error_code_meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "authentication.required" => "no bearer token was sent in the Authorization header",
        "bad.credentials" => "the token was not accepted (invalid, expired, revoked or from another region)",
        "missing.permissions" => "the caller lacks ALL of the listed permissions",
        "missing.any.permissions" => "the caller has none of the listed permissions (any one suffices)",
        "not.authorized" => "the caller is not authorized to perform the action",
        "missing.trustor.permissions" => "the trustor organization lacks the permissions",
        "postino.error.forbidden" => "the user is not an active participant on the conversation",
        "conversation.error.forbidden.not.active.participant" => "the user is not active on the conversation",
        "unauthorized" => "the request was not authenticated",
        "forbidden" => "the request was refused",
        _ => return None,
    })
}
