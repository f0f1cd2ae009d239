//! The endpoint an exchange called, for grouping: the catalog's operation template when the
//! catalog knows the call, otherwise a template inferred from the path by collapsing the
//! segments that are identifiers (`/api/v2/users/{uuid}`, `/orders/{n}`).

use crate::catalog::Catalog;

/// The endpoint (a path template) of a call.
pub fn endpoint(catalog: &Catalog, host: &str, method: &str, path: &str) -> String {
    if let Some(op) = catalog.known_at(host, method, path) {
        return op.path.clone();
    }
    infer(path)
}

/// A path template inferred by replacing identifier segments: `{uuid}` (8-4-4-4-12 hex),
/// `{n}` (digits), `{hex}` (16 or more hex digits), `{id}` (20 or more characters of a base64
/// or base64url alphabet mixing letters and digits, or an email-like segment). Words, versions
/// (`v2`) and short codes are kept. No query, no trailing slash; `/` for an empty path.
pub fn infer(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut out = String::with_capacity(path.len());
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        match classify(seg) {
            Some(name) => out.push_str(name),
            None => out.push_str(seg),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn classify(seg: &str) -> Option<&'static str> {
    let b = seg.as_bytes();
    if is_uuid(b) {
        return Some("{uuid}");
    }
    if b.iter().all(u8::is_ascii_digit) {
        return Some("{n}");
    }
    if b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) {
        return Some("{hex}");
    }
    let has_digit = b.iter().any(u8::is_ascii_digit);
    let has_alpha = b.iter().any(u8::is_ascii_alphabetic);
    if b.len() >= 20
        && has_digit
        && has_alpha
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'=' | b'.' | b'%'))
    {
        return Some("{id}");
    }
    if seg.contains('@') && seg.len() >= 5 {
        return Some("{id}");
    }
    None
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_identifiers() {
        assert_eq!(infer("/api/v2/users/3f2a9c01-b7d4-4e2a-9c01-b7d43f2a9c01"), "/api/v2/users/{uuid}");
        assert_eq!(infer("/orders/12345/items/7?x=1"), "/orders/{n}/items/{n}");
        assert_eq!(infer("/blobs/0123456789abcdef0123"), "/blobs/{hex}");
        assert_eq!(infer("/s/aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ="), "/s/{id}");
        assert_eq!(infer("/users/jane@example.com/"), "/users/{id}");
        assert_eq!(infer("/api/v2/conversations/messages"), "/api/v2/conversations/messages");
        assert_eq!(infer(""), "/");
        assert_eq!(infer("/cafe"), "/cafe");
    }

    #[test]
    fn catalog_templates_win() {
        let c = Catalog::genesys();
        let e = endpoint(
            &c,
            "api.mypurecloud.com",
            "GET",
            "/api/v2/conversations/messages/3f2a9c01-b7d4-4e2a-9c01-b7d43f2a9c01",
        );
        assert_eq!(e, "/api/v2/conversations/messages/{conversationId}");
    }
}
