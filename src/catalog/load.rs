//! `--catalog FILE`: read a Swagger 2.0 or OpenAPI 3.x document (JSON or YAML) into a
//! [`Catalog`].
//!
//! Per operation it reads:
//! - `security` (or the document's top-level `security`): the OAuth scopes of every
//!   requirement, any one of which suffices; `security: []` means no authentication; schemes
//!   whose name says JWT or guest (`Webmessaging JWT`, `Guest Chat JWT`) mark guest-JWT
//!   operations; `x-harken-scopes-unknown: true` leaves the scopes unknown (`None`);
//! - `x-inin-requires-permissions` (`{"type": "ALL"|"ANY", "permissions": [...]}`), the
//!   extension the live Genesys swagger uses;
//! - `x-harken-requires-user: true`, or a summary/description saying the operation is "not
//!   valid when using the Client Credentials OAuth grant", marks user-only operations.
//!
//! A document describes its API completely: every path under the longest common prefix of its
//! templates (e.g. `/api/v2`) that matches no operation is reported as non-existent. A
//! partial document can narrow this with a top-level `x-harken-families: [prefix, ...]`.
//! Hosts come from Swagger `host` or OpenAPI `servers`; a Genesys region API host stands for
//! every region's API host.

use super::{genesys, segments, AuthKind, Catalog, Hosts, Operation, PermissionMode};
use anyhow::{bail, Context as _};
use serde_json::Value;
use std::path::Path;

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Read a catalog file.
pub fn load(path: &Path) -> anyhow::Result<Catalog> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the catalog", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let doc: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).with_context(|| format!("{}: not valid JSON", path.display()))?
    } else {
        yaml(text).with_context(|| format!("{}: not valid YAML", path.display()))?
    };
    from_document(&doc, &path.display().to_string())
}

/// Parse YAML into JSON values: anchors and aliases resolve, `<<` merge keys are applied
/// (shared security blocks are often written that way), and non-string keys (`200:` response
/// codes) become strings.
fn yaml(text: &str) -> anyhow::Result<Value> {
    let mut v: serde_norway::Value = serde_norway::from_str(text)?;
    v.apply_merge()?;
    Ok(serde_json::to_value(v)?)
}

/// Build a catalog from a parsed Swagger/OpenAPI document.
pub fn from_document(doc: &Value, source: &str) -> anyhow::Result<Catalog> {
    let swagger2 = doc.get("swagger").and_then(Value::as_str).is_some_and(|v| v.starts_with('2'));
    let openapi3 = doc.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with('3'));
    if !swagger2 && !openapi3 {
        bail!("{source}: not a Swagger 2.0 or OpenAPI 3.x document (no \"swagger\": \"2.0\" or \"openapi\": \"3.x\")");
    }
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        bail!("{source}: the document has no \"paths\" object");
    };
    let schemes = if swagger2 { doc.get("securityDefinitions") } else { doc.pointer("/components/securitySchemes") };
    let (base, hosts) = if swagger2 { swagger_base(doc) } else { openapi_base(doc) };
    let top_security = doc.get("security");
    let mut operations = Vec::new();
    for (template, item) in paths {
        let Some(item) = item.as_object() else { continue };
        let full = join(&base, template);
        for (method, op) in item {
            if !METHODS.contains(&method.to_ascii_lowercase().as_str()) {
                continue;
            }
            operations.push(operation(&method.to_ascii_uppercase(), &full, op, top_security, schemes));
        }
    }
    let families = match doc.get("x-harken-families").and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        None => common_prefix(&operations).into_iter().collect(),
    };
    Ok(Catalog::new(source, operations, families, hosts))
}

fn operation(method: &str, path: &str, op: &Value, top_security: Option<&Value>, schemes: Option<&Value>) -> Operation {
    let text = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_string);
    let unknown = op.get("x-harken-scopes-unknown").and_then(Value::as_bool).unwrap_or(false);
    let security = op.get("security").or(top_security);
    let (scopes, auth) = match (unknown, security.and_then(Value::as_array)) {
        (true, _) => (None, AuthKind::Unknown),
        (false, None) => (None, AuthKind::Unknown),
        (false, Some(reqs)) if reqs.is_empty() => (Some(Vec::new()), AuthKind::None),
        (false, Some(reqs)) => {
            let mut scopes: Vec<String> = Vec::new();
            let mut auth = AuthKind::Unknown;
            for req in reqs {
                let Some(req) = req.as_object() else { continue };
                if req.is_empty() {
                    auth = AuthKind::None;
                }
                for (name, list) in req {
                    let kind = scheme_kind(name, schemes.and_then(|s| s.get(name)));
                    if auth == AuthKind::Unknown || kind == AuthKind::Platform {
                        auth = kind;
                    }
                    for s in list.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        if !scopes.iter().any(|x| x == s) {
                            scopes.push(s.to_string());
                        }
                    }
                }
            }
            // `{}` among the alternatives makes authentication optional: no scope is required.
            if reqs.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())) {
                scopes.clear();
            }
            (Some(scopes), auth)
        }
    };
    let perms = op.get("x-inin-requires-permissions");
    let permission_mode =
        perms.and_then(|p| p.get("type")).and_then(Value::as_str).and_then(|t| match t.to_ascii_uppercase().as_str() {
            "ALL" => Some(PermissionMode::All),
            "ANY" => Some(PermissionMode::Any),
            _ => None,
        });
    let permissions: Vec<String> = perms
        .and_then(|p| p.get("permissions"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let summary = text("summary");
    let says_no_cc = [summary.as_deref(), op.get("description").and_then(Value::as_str)]
        .into_iter()
        .flatten()
        .any(|t| t.contains("not valid when using the Client Credentials"));
    let requires_user = op.get("x-harken-requires-user").and_then(Value::as_bool).unwrap_or(false)
        || says_no_cc
        || genesys::REQUIRES_USER.iter().any(|(m, p)| *m == method && *p == path);
    Operation {
        method: method.to_string(),
        path: path.to_string(),
        operation_id: text("operationId"),
        scopes,
        permission_mode: if permissions.is_empty() { None } else { permission_mode },
        permissions,
        auth,
        requires_user,
        summary,
    }
}

/// Which kind of credential a security scheme takes.
fn scheme_kind(name: &str, def: Option<&Value>) -> AuthKind {
    let lower = name.to_ascii_lowercase();
    if lower.contains("jwt") || lower.contains("guest") {
        return AuthKind::GuestJwt;
    }
    match def.and_then(|d| d.get("type")).and_then(Value::as_str) {
        Some("oauth2") | Some("openIdConnect") | Some("http") => AuthKind::Platform,
        Some(_) => AuthKind::Unknown,
        None => AuthKind::Platform,
    }
}

fn host_rule(hosts: Vec<String>) -> Hosts {
    if hosts.is_empty() {
        return Hosts::Any;
    }
    if hosts.iter().all(|h| matches!(crate::region::region_of_host(h), Some((_, crate::region::HostRole::Api)))) {
        return Hosts::GenesysApi;
    }
    Hosts::Named(hosts)
}

fn swagger_base(doc: &Value) -> (String, Hosts) {
    let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("").trim_end_matches('/').to_string();
    let hosts = doc.get("host").and_then(Value::as_str).map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase());
    (base, host_rule(hosts.into_iter().collect()))
}

fn openapi_base(doc: &Value) -> (String, Hosts) {
    let mut hosts = Vec::new();
    let mut any_host = false;
    let mut base: Option<String> = None;
    for s in doc.get("servers").and_then(Value::as_array).into_iter().flatten() {
        let Some(u) = s.get("url").and_then(Value::as_str) else { continue };
        // `https://{region}.example.com/v1` (server variables) does not parse as a URL: split
        // it by hand. A host with a variable could be any host.
        let (host, path) = match u.split_once("://") {
            Some((_, rest)) => match rest.find('/') {
                Some(i) => (Some(&rest[..i]), &rest[i..]),
                None => (Some(rest), ""),
            },
            None => (None, u),
        };
        match host.map(|h| h.rsplit('@').next().unwrap_or(h)) {
            Some(h) if !h.contains('{') && !h.is_empty() => {
                let h = h.split(':').next().unwrap_or(h).to_ascii_lowercase();
                if !hosts.contains(&h) {
                    hosts.push(h);
                }
            }
            _ => any_host = true,
        }
        if base.is_none() {
            base = Some(path.split(['?', '#']).next().unwrap_or("").trim_end_matches('/').to_string());
        }
    }
    (base.unwrap_or_default(), if any_host { Hosts::Any } else { host_rule(hosts) })
}

fn join(base: &str, template: &str) -> String {
    if base.is_empty() {
        template.to_string()
    } else {
        format!("{base}/{}", template.trim_start_matches('/'))
    }
}

/// The longest segment-aligned literal prefix every operation shares (`/api/v2`).
fn common_prefix(ops: &[Operation]) -> Option<String> {
    let mut it = ops.iter();
    let first = it.next()?;
    let mut prefix: Vec<&str> = segments(&first.path).into_iter().take_while(|s| !s.starts_with('{')).collect();
    for op in it {
        let segs = segments(&op.path);
        let n = prefix.iter().zip(&segs).take_while(|(a, b)| a.eq_ignore_ascii_case(b)).count();
        prefix.truncate(n);
    }
    // A template that is the prefix itself (e.g. `/api/v2/users`) keeps it; never the root.
    (!prefix.is_empty()).then(|| format!("/{}", prefix.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Lookup;
    use serde_json::json;

    #[test]
    fn swagger2_security_permissions_and_families() {
        let doc = json!({
            "swagger": "2.0", "host": "api.mypurecloud.com", "basePath": "/",
            "securityDefinitions": {"PureCloud OAuth": {"type": "oauth2"}, "Webmessaging JWT": {"type": "apiKey"}},
            "paths": {
                "/api/v2/conversations/messages/{conversationId}": {
                    "get": {"operationId": "getConversationsMessage",
                            "security": [{"PureCloud OAuth": ["conversations", "conversations:readonly"]}]},
                    "patch": {"security": [{"PureCloud OAuth": ["conversations"]}],
                              "x-inin-requires-permissions": {"type": "ANY", "permissions": ["conversation:communication:disconnect"]}}
                },
                "/api/v2/webmessaging/messages": {"get": {"security": [{"Webmessaging JWT": []}]}},
                "/api/v2/conversations/{conversationId}": {"delete": {"x-harken-scopes-unknown": true}},
                "/api/v2/users/me": {"get": {"security": [{"PureCloud OAuth": ["user-basic-info"]}]}}
            }
        });
        let c = from_document(&doc, "t.json").unwrap();
        assert_eq!(c.families, vec!["/api/v2".to_string()]);
        assert_eq!(c.hosts, Hosts::GenesysApi);
        let Lookup::Known(op) = c.lookup("PATCH", "/api/v2/conversations/messages/abc") else { panic!() };
        assert_eq!(op.scopes, Some(vec!["conversations".to_string()]));
        assert_eq!(op.permission_mode, Some(PermissionMode::Any));
        let Lookup::Known(op) = c.lookup("GET", "/api/v2/webmessaging/messages") else { panic!() };
        assert_eq!(op.auth, AuthKind::GuestJwt);
        let Lookup::Known(op) = c.lookup("DELETE", "/api/v2/conversations/abc") else { panic!() };
        assert_eq!(op.scopes, None);
        let Lookup::Known(op) = c.lookup("GET", "/api/v2/users/me") else { panic!() };
        assert!(op.requires_user);
        assert!(matches!(c.lookup("POST", "/api/v2/communications/x/messages"), Lookup::Unknown { .. }));
        assert!(matches!(c.lookup("GET", "/other"), Lookup::NotCovered));
    }

    #[test]
    fn openapi3_yaml_with_servers() {
        let yaml = "openapi: 3.0.3\nservers:\n  - url: https://api.example.com/v1\ncomponents:\n  securitySchemes:\n    oauth:\n      type: oauth2\nsecurity:\n  - oauth: [read]\npaths:\n  /items/{id}:\n    get: {}\n    delete:\n      security:\n        - oauth: [write]\n";
        let doc: Value = serde_norway::from_str(yaml).unwrap();
        let c = from_document(&doc, "t.yaml").unwrap();
        assert_eq!(c.hosts, Hosts::Named(vec!["api.example.com".into()]));
        let Lookup::Known(op) = c.lookup("GET", "/v1/items/7") else { panic!() };
        assert_eq!(op.scopes, Some(vec!["read".to_string()]));
        let Lookup::Known(op) = c.lookup("DELETE", "/v1/items/7") else { panic!() };
        assert_eq!(op.scopes, Some(vec!["write".to_string()]));
    }

    #[test]
    fn odd_documents() {
        // OpenAPI 3.1, server variables in the host with a base path, path-level parameters,
        // `security: []` (no auth), an optional-auth alternative, an unknown permission type.
        let doc = json!({
            "openapi": "3.1.0",
            "servers": [{"url": "https://{region}.example.com/base/", "variables": {"region": {"default": "eu"}}}],
            "components": {"securitySchemes": {"oauth": {"type": "oauth2"}}},
            "security": [{"oauth": ["read"]}],
            "paths": {
                "/things/{id}": {
                    "parameters": [{"name": "id", "in": "path"}],
                    "summary": "a path item summary, not an operation",
                    "get": {},
                    "delete": {"security": []},
                    "patch": {"security": [{}, {"oauth": ["write"]}]},
                    "put": {"x-inin-requires-permissions": {"type": "SOME", "permissions": ["a:b:c"]}}
                },
                "/things/special": {"get": {"operationId": "special"}},
                "/broken": "not an object"
            }
        });
        let c = from_document(&doc, "odd.json").unwrap();
        assert_eq!(c.hosts, Hosts::Any, "a templated host could be any host");
        assert_eq!(c.operations.len(), 5, "{:?}", c.operations.iter().map(Operation::label).collect::<Vec<_>>());
        let Lookup::Known(op) = c.lookup("GET", "/base/things/7") else { panic!() };
        assert_eq!(op.scopes, Some(vec!["read".to_string()]));
        let Lookup::Known(op) = c.lookup("GET", "/base/things/special") else { panic!() };
        assert_eq!(op.operation_id.as_deref(), Some("special"));
        let Lookup::Known(op) = c.lookup("DELETE", "/base/things/7") else { panic!() };
        assert_eq!((op.auth, op.scopes.clone()), (AuthKind::None, Some(vec![])));
        let Lookup::Known(op) = c.lookup("PATCH", "/base/things/7") else { panic!() };
        assert_eq!(op.scopes, Some(vec![]), "auth is optional: no scope is required");
        let Lookup::Known(op) = c.lookup("PUT", "/base/things/7") else { panic!() };
        assert_eq!(op.permissions_text().as_deref(), Some("ALL of a:b:c"));
        assert!(matches!(c.lookup("GET", "/base/things/7/extra"), Lookup::Unknown { .. }));
        // A relative server URL keeps its base path; swagger basePath is prefixed.
        let c =
            from_document(&json!({"openapi": "3.0.0", "servers": [{"url": "/v9"}], "paths": {"/a": {"get": {}}}}), "r")
                .unwrap();
        assert!(matches!(c.lookup("GET", "/v9/a"), Lookup::Known(_)));
        let c = from_document(
            &json!({"swagger": "2.0", "host": "h.example.com:8443", "basePath": "/api/", "paths": {"/a": {"get": {}}}}),
            "s",
        )
        .unwrap();
        assert_eq!(c.hosts, Hosts::Named(vec!["h.example.com".into()]));
        assert!(matches!(c.lookup("GET", "/api/a"), Lookup::Known(_)));
        // No paths: an error that says so; an empty paths object: an empty catalog.
        let e = from_document(&json!({"openapi": "3.1.0", "webhooks": {}}), "w.yaml").unwrap_err();
        assert!(e.to_string().contains("w.yaml") && e.to_string().contains("paths"), "{e}");
        let c = from_document(&json!({"openapi": "3.1.0", "paths": {}}), "e").unwrap();
        assert!(matches!(c.lookup("GET", "/x"), Lookup::NotCovered));
    }

    #[test]
    fn yaml_anchors_merge_keys_integer_keys_and_bom() {
        let yaml = "\u{feff}openapi: 3.0.3\nx-common: &common\n  security:\n    - oauth: [orders]\n  x-inin-requires-permissions:\n    type: ANY\n    permissions: [orders:order:edit]\ncomponents:\n  securitySchemes:\n    oauth: {type: oauth2}\npaths:\n  /orders/{id}:\n    put:\n      <<: *common\n      operationId: putOrder\n      responses:\n        200: {description: ok}\n    patch: *common\n";
        let (_d, p) = {
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("anchors.yaml");
            std::fs::write(&p, yaml).unwrap();
            (d, p)
        };
        let c = load(&p).unwrap();
        for m in ["PUT", "PATCH"] {
            let Lookup::Known(op) = c.lookup(m, "/orders/1") else { panic!("{m}") };
            assert_eq!(op.scopes, Some(vec!["orders".to_string()]), "{m}");
            assert_eq!(op.permissions_text().as_deref(), Some("ANY of orders:order:edit"), "{m}");
        }
    }

    #[test]
    fn not_a_document() {
        assert!(from_document(&json!({"a": 1}), "x").is_err());
    }
}
