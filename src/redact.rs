//! Keeping secrets and terminal escapes out of every output.
//!
//! Every renderer passes captured text through the one escape boundary
//! ([`crate::escape`], used through [`crate::report::escape`]) and every URL through [`mask_url`] unless the user gave
//! `--show-secrets`. Credentials are shown as kind + fingerprint
//! (see [`crate::token`]), never as values.

use sha2::{Digest, Sha256};

/// Query and fragment parameters whose values are secrets.
pub const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "code",
    "client_secret",
    "api_key",
    "apikey",
    "key",
    "password",
    "assertion",
    "jwt",
    "sig",
    "signature",
    "x-api-key",
];

/// Header names whose values are secrets.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-access-token",
    "sec-websocket-protocol",
];

/// Whether a query/fragment parameter name carries a secret.
pub fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// Whether a header carries a secret.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// A stable short fingerprint of a secret: the first 12 hex digits of its SHA-256.
/// Stable across runs and machines, so two reports about the same token can be matched, and
/// too short to help anyone recover the token.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut s = String::with_capacity(12);
    for b in &digest[..6] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Escape captured text for a terminal or a CSV cell: the one implementation is
/// [`crate::escape::escape`]; this owned-string form is for messages built elsewhere.
pub fn escape(s: &str) -> String {
    crate::escape::escape(s).into_owned()
}

/// Mask the values of secret query and fragment parameters in a URL
/// (`?access_token=abc` → `?access_token=<masked:1a2b3c4d5e6f>`), and any userinfo password.
pub fn mask_url(url: &str) -> String {
    let (before_frag, frag) = match url.split_once('#') {
        Some((a, b)) => (a, Some(b)),
        None => (url, None),
    };
    let (base, query) = match before_frag.split_once('?') {
        Some((a, b)) => (a, Some(b)),
        None => (before_frag, None),
    };
    let mut out = mask_userinfo(base);
    if let Some(q) = query {
        out.push('?');
        out.push_str(&mask_params(q));
    }
    if let Some(f) = frag {
        out.push('#');
        out.push_str(&mask_params(f));
    }
    out
}

fn mask_userinfo(base: &str) -> String {
    if let Some(scheme_end) = base.find("://") {
        let rest = &base[scheme_end + 3..];
        let auth_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..auth_end].rfind('@') {
            let userinfo = &rest[..at];
            if let Some((user, pass)) = userinfo.split_once(':') {
                return format!("{}{}:<masked:{}>{}", &base[..scheme_end + 3], user, fingerprint(pass), &rest[at..]);
            }
        }
    }
    base.to_string()
}

fn mask_params(q: &str) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if is_secret_param(k) && !v.is_empty() => {
                format!("{k}=<masked:{}>", fingerprint(v))
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Mask a header value when the header carries a secret: keeps the scheme word of
/// `Authorization` (`Bearer <masked:…>`), masks cookie values but keeps cookie names.
pub fn mask_header(name: &str, value: &str) -> String {
    if !is_secret_header(name) {
        return value.to_string();
    }
    let lname = name.to_ascii_lowercase();
    if lname == "cookie" || lname == "set-cookie" {
        let mut parts = Vec::new();
        for (i, c) in value.split(';').enumerate() {
            let c = c.trim();
            match c.split_once('=') {
                Some((k, v)) if i == 0 || lname == "cookie" => parts.push(format!("{k}=<masked:{}>", fingerprint(v))),
                _ => parts.push(c.to_string()),
            }
        }
        return parts.join("; ");
    }
    match value.split_once(' ') {
        Some((scheme, rest)) if lname.ends_with("authorization") && !rest.trim().is_empty() => {
            format!("{scheme} <masked:{}>", fingerprint(rest.trim()))
        }
        _ => format!("<masked:{}>", fingerprint(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls() {
        assert_eq!(escape("a\x1b[31mb\n"), "a\\x1b[31mb\\n");
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn masks_urls() {
        let m = mask_url("https://h/cb#access_token=SECRET&expires_in=3600");
        assert!(!m.contains("SECRET"));
        assert!(m.contains("expires_in=3600"));
        let m = mask_url("https://u:pw@h/p?x=1&api_key=K");
        assert!(!m.contains("pw@") && !m.contains("=K"));
    }

    #[test]
    fn masks_headers() {
        let m = mask_header("Authorization", "Bearer abc.def");
        assert!(m.starts_with("Bearer <masked:") && !m.contains("abc"));
        let m = mask_header("Cookie", "sid=s3cret; theme=dark");
        assert!(m.contains("sid=<masked:") && !m.contains("s3cret"));
        assert_eq!(mask_header("Accept", "x"), "x");
    }

    #[test]
    fn fingerprint_is_stable() {
        assert_eq!(fingerprint("abc"), "ba7816bf8f01");
    }
}
