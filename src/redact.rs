//! Keeping secrets and terminal escapes out of every output.
//!
//! Every renderer passes captured text through the one escape boundary
//! ([`crate::escape`], used through [`crate::report::escape`]) and every URL through [`mask_url`] unless the user gave
//! `--show-secrets`. Credentials are shown as kind + fingerprint
//! (see [`crate::token`]), never as values.

use sha2::{Digest, Sha256};

/// Query and fragment parameters whose values are secrets, compared after percent-decoding,
/// lower-casing and dropping `-` and `_` (so `X-Amz-Signature`, `x_amz_signature` and
/// `access%5Ftoken` all match).
pub const SECRET_PARAMS: &[&str] = &[
    "accesstoken",
    "idtoken",
    "refreshtoken",
    "token",
    "code",
    "codeverifier",
    "clientsecret",
    "clientassertion",
    "apikey",
    "key",
    "password",
    "passwd",
    "pwd",
    "assertion",
    "jwt",
    "sig",
    "signature",
    "xapikey",
    "xamzsignature",
    "xamzsecuritytoken",
    "xamzcredential",
    "xgoogsignature",
    "xgoogcredential",
    "awsaccesskeyid",
    "googleaccessid",
    "sessionid",
    "jsessionid",
    "phpsessid",
    "sid",
    "auth",
    "authorization",
    "secret",
    "otp",
    "ticket",
    "samlresponse",
    "samlrequest",
];

/// Parts of a (normalized) parameter name that make its value a secret wherever they appear
/// (`upload_token`, `webhookSecret`, `userPassword`, `sessionId`, `X-Goog-Signature`).
const SECRET_STEMS: &[&str] = &["token", "secret", "password", "signature", "apikey", "sessionid", "credential"];

/// Normalized names containing a stem that are not secrets.
const NOT_SECRET: &[&str] = &["tokentype", "tokenendpoint", "tokenexpiresin"];

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

/// Whether a query/fragment parameter name carries a secret (percent-encoded names included).
pub fn is_secret_param(name: &str) -> bool {
    let decoded = percent_decode(name);
    // A short ASCII name (nearly all) is folded on the stack: this runs for every query
    // parameter of every row.
    let mut buf = [0u8; 48];
    let mut len = 0;
    let folded: std::borrow::Cow<'_, str> = if decoded.len() <= buf.len() && decoded.is_ascii() {
        for b in decoded.bytes().filter(|b| *b != b'-' && *b != b'_') {
            buf[len] = b.to_ascii_lowercase();
            len += 1;
        }
        std::str::from_utf8(&buf[..len]).unwrap_or_default().into()
    } else {
        decoded.chars().filter(|c| *c != '-' && *c != '_').flat_map(char::to_lowercase).collect::<String>().into()
    };
    let n = folded;
    if NOT_SECRET.contains(&n.as_ref()) {
        return false;
    }
    SECRET_PARAMS.contains(&n.as_ref()) || has_stem(n.as_bytes())
}

/// Whether a normalized name contains one of [`SECRET_STEMS`]: one pass over its (few) bytes
/// comparing only where a stem's first byte is (a substring search per stem was a tenth of
/// `harken exchanges` on a log whose URLs have queries).
fn has_stem(n: &[u8]) -> bool {
    (0..n.len()).any(|i| {
        let rest = &n[i..];
        SECRET_STEMS.iter().any(|s| s.as_bytes()[0] == rest[0] && rest.starts_with(s.as_bytes()))
    })
}

fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    if memchr::memchr2(b'%', b'+', s.as_bytes()).is_none() {
        return std::borrow::Cow::Borrowed(s);
    }
    let plus = s.replace('+', " ");
    std::borrow::Cow::Owned(
        url::form_urlencoded::parse(format!("x={plus}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default(),
    )
}

/// Whether a value looks like a credential by its shape alone, whatever its name: a JWT
/// (`eyJ….….…`), or a long run (24 characters, mixed-case, or 32) of token characters mixing letters
/// and digits that is not a UUID. Catches secrets under names no list can foresee (`/bot<token>/`,
/// `?x=<api key>`). Identifiers harken must show (UUIDs, numbers, words) do not match.
pub fn looks_like_secret(v: &str) -> bool {
    // Both shapes below need 20 characters or more, and decoding never lengthens a value.
    if v.len() < 20 {
        return false;
    }
    let v = percent_decode(v);
    let v = v.trim();
    if v.starts_with("eyJ") && v.split('.').count() >= 3 && v.len() >= 20 {
        return true;
    }
    if v.len() < 24 || is_uuid(v) {
        return false;
    }
    let token_char = |c: char| c.is_ascii_alphanumeric() || "-_.~+/=:".contains(c);
    if !v.chars().all(token_char) {
        return false;
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let letters = v.chars().filter(char::is_ascii_alphabetic).count();
    // Words joined by dashes or dots (a slug, a host name) are not secrets: a token has
    // long runs without separators.
    let longest_run = v.split(|c: char| "-_.~+/=:".contains(c)).map(str::len).max().unwrap_or(0);
    let mixed_case = v.chars().any(|c| c.is_ascii_uppercase()) && v.chars().any(|c| c.is_ascii_lowercase());
    // 24 to 31 characters only when mixed-case (webhook and bot secrets); from 32 on, hex too.
    digits >= 2 && letters >= 2 && longest_run >= 20 && (v.len() >= 32 || mixed_case)
}

fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

/// Whether a header carries a secret.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// A stable short fingerprint of a secret: the first 12 hex digits of its SHA-256.
/// Stable across runs and machines, so two reports about the same token can be matched, and
/// too short to help anyone recover the token.
pub fn fingerprint(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(secret.as_bytes());
    let mut s = String::with_capacity(12);
    for b in &digest[..6] {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// A map keyed by [`FingerprintKeys`] numbers: hashed with foldhash, not SipHash (looked up on
/// every credential use; the numbers are already spread by SHA-256).
pub type ByFingerprint<V> = std::collections::HashMap<u64, V, foldhash::fast::RandomState>;

/// Fingerprints as numbers, for state kept per credential or per call while a capture is read:
/// a [`fingerprint`]'s 12 hex digits are a number below 2^48; any other text (none that harken
/// makes) gets a number of its own, at or above 2^63.
#[derive(Debug, Default)]
pub struct FingerprintKeys {
    odd: Vec<String>,
}

impl FingerprintKeys {
    const ODD: u64 = 1 << 63;

    pub fn key(&mut self, fp: &str) -> u64 {
        if let Some(k) = self.find(fp) {
            return k;
        }
        self.odd.push(fp.to_string());
        Self::ODD + (self.odd.len() - 1) as u64
    }

    /// The number of `fp`, if it has one ([`FingerprintKeys::key`] gave it one or would).
    pub fn find(&self, fp: &str) -> Option<u64> {
        if fp.len() == 12 && fp.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return u64::from_str_radix(fp, 16).ok();
        }
        self.odd.iter().position(|o| o == fp).map(|i| Self::ODD + i as u64)
    }

    /// The fingerprint `key` was made from.
    pub fn text(&self, key: u64) -> String {
        match key.checked_sub(Self::ODD) {
            Some(i) => self.odd.get(i as usize).cloned().unwrap_or_default(),
            None => format!("{key:012x}"),
        }
    }
}

/// Escape captured text for a terminal or a CSV cell: the one implementation is
/// [`crate::escape::escape`]; this owned-string form is for messages built elsewhere.
pub fn escape(s: &str) -> String {
    crate::escape::escape(s).into_owned()
}

/// Mask the secrets of a URL: values of secret query and fragment parameters
/// (`?access_token=abc` → `?access_token=<masked:1a2b3c4d5e6f>`, names compared after
/// percent-decoding, parameters split on `&` and `;`), any value or path segment shaped like a
/// token ([`looks_like_secret`]: `/bot<token>/getMe`), `;name=value` path parameters
/// (`;jsessionid=…`), and the userinfo (`user:<masked>@`, or `<masked>@` for a bare token).
pub fn mask_url(url: &str) -> String {
    mask_url_cow(url).into_owned()
}

/// [`mask_url`], borrowing when nothing is masked (most URLs).
pub fn mask_url_cow(url: &str) -> std::borrow::Cow<'_, str> {
    if !may_hold_secret(url) {
        return std::borrow::Cow::Borrowed(url);
    }
    // Built in one string (this runs on every row of `harken exchanges`).
    let mut out = String::with_capacity(url.len() + 8);
    let (before_frag, frag) = match split_at_byte(url, b'#') {
        Some((a, b)) => (a, Some(b)),
        None => (url, None),
    };
    let (base, query) = match split_at_byte(before_frag, b'?') {
        Some((a, b)) => (a, Some(b)),
        None => (before_frag, None),
    };
    mask_path(&mask_userinfo(base), &mut out);
    if let Some(q) = query {
        out.push('?');
        mask_params(q, &mut out);
    }
    if let Some(f) = frag {
        out.push('#');
        mask_params(f, &mut out);
    }
    std::borrow::Cow::Owned(out)
}

/// Whether [`mask_url`] could change `url`: it has a query, a fragment, `;` parameters, a
/// userinfo `@` or a part between slashes long enough to look like a secret. With memchr: most
/// URLs of a log are short paths, and this runs on every row.
fn may_hold_secret(url: &str) -> bool {
    let b = url.as_bytes();
    if !crate::escape::all_bytes(b, |c| (c != b'?') & (c != b'#') & (c != b';') & (c != b'@')) {
        return true;
    }
    if b.len() < 20 {
        return false;
    }
    // looks_like_secret needs 20 characters or more between slashes.
    let mut start = 0;
    for slash in memchr::memchr_iter(b'/', b).chain(std::iter::once(b.len())) {
        if slash - start >= 20 {
            return true;
        }
        start = slash + 1;
    }
    false
}

/// Where the first `://` of `s` is. URLs are short: memchr's substring search falls back to a
/// rolling hash over every byte there, where a search for `:` alone skips ahead (nearly all
/// paths of a log have none).
pub fn scheme_sep(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    memchr::memchr_iter(b':', b).find(|&i| b[i + 1..].starts_with(b"//"))
}

/// `s` split around the first `b` (an ASCII byte, so both sides are `str`), found with memchr.
fn split_at_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    memchr::memchr(b, s.as_bytes()).map(|i| (&s[..i], &s[i + 1..]))
}

fn masked(secret: &str) -> String {
    format!("<masked:{}>", fingerprint(secret))
}

fn mask_userinfo(base: &str) -> std::borrow::Cow<'_, str> {
    if let Some(scheme_end) = scheme_sep(base) {
        let rest = &base[scheme_end + 3..];
        let auth_end = rest.find(['/', '\\']).unwrap_or(rest.len());
        if let Some(at) = rest[..auth_end].rfind('@') {
            let userinfo = &rest[..at];
            let shown = match userinfo.split_once(':') {
                Some((user, pass)) if looks_like_secret(user) => format!("{}:{}", masked(user), masked(pass)),
                Some((user, pass)) => format!("{user}:{}", masked(pass)),
                None if userinfo.is_empty() => String::new(),
                // A bare userinfo is a token more often than a user name (`https://<token>@host`).
                None => masked(userinfo),
            };
            return format!("{}{shown}{}", &base[..scheme_end + 3], &rest[at..]).into();
        }
    }
    base.into()
}

/// Path segments: token-shaped ones and the values of `;name=value` parameters.
fn mask_path(base: &str, out: &mut String) {
    let start = match scheme_sep(base) {
        Some(i) => memchr::memchr(b'/', &base.as_bytes()[i + 3..]).map(|j| i + 3 + j).unwrap_or(base.len()),
        None => 0,
    };
    let (head, path) = base.split_at(start);
    out.push_str(head);
    if path.is_empty() {
        return;
    }
    let mut from = 0;
    let ends = memchr::memchr_iter(b'/', path.as_bytes()).chain(std::iter::once(path.len()));
    for (i, end) in ends.enumerate() {
        let seg = &path[from..end];
        from = end + 1;
        if i > 0 {
            out.push('/');
        }
        let (name, params) = match split_at_byte(seg, b';') {
            Some((n, p)) => (n, Some(p)),
            None => (seg, None),
        };
        if looks_like_secret(name) {
            out.push_str(&masked(name));
        } else {
            out.push_str(name);
        }
        if let Some(p) = params {
            out.push(';');
            mask_params(p, out);
        }
    }
}

fn mask_params(q: &str, out: &mut String) {
    let mut rest = q;
    while !rest.is_empty() {
        let end = memchr::memchr2(b'&', b';', rest.as_bytes()).unwrap_or(rest.len());
        let pair = &rest[..end];
        match split_at_byte(pair, b'=') {
            Some((k, v)) if !v.is_empty() && (is_secret_param(k) || looks_like_secret(v)) => {
                out.push_str(k);
                out.push('=');
                out.push_str(&masked(v));
            }
            None if looks_like_secret(pair) => out.push_str(&masked(pair)),
            _ => out.push_str(pair),
        }
        out.push_str(&rest[end..(end + 1).min(rest.len())]);
        rest = &rest[(end + 1).min(rest.len())..];
    }
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
    fn fingerprints_are_kept_as_numbers_and_given_back() {
        let mut k = FingerprintKeys::default();
        let fp = fingerprint("a token");
        let n = k.key(&fp);
        assert!(n < 1 << 48);
        assert_eq!((k.text(n), k.find(&fp)), (fp, Some(n)));
        // Any other text gets a number of its own, the same each time.
        let odd = k.key("not-hex");
        assert_eq!((k.key("not-hex"), k.text(odd), k.find("not-hex")), (odd, "not-hex".to_string(), Some(odd)));
        assert_ne!(k.key("ABCDEF012345"), k.key("abcdef012345"));
        assert_eq!(k.find("never seen"), None);
    }

    #[test]
    fn escapes_controls() {
        assert_eq!(escape("a\x1b[31mb\n"), "a\\x1b[31mb\\n");
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn short_plain_urls_are_kept_as_they_are() {
        for u in ["/api/v2/users/me", "/a/1234567890123456789/b", "https://example.com/x", ""] {
            assert!(!may_hold_secret(u), "{u}");
            assert_eq!(mask_url(u), u);
        }
        // Twenty characters between slashes, a query, parameters, userinfo: the full check.
        for u in ["/a/12345678901234567890", "/p?x=1", "/p;x=1", "https://u@h/", "/p#f"] {
            assert!(may_hold_secret(u), "{u}");
        }
        assert_ne!(mask_url("/bot1234567890abcdefABCDEF12/x"), "/bot1234567890abcdefABCDEF12/x");
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
    fn masks_url_secrets_by_name_and_by_shape() {
        let cases = [
            // Signing parameters (AWS, GCS, Azure SAS) and session ids.
            ("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIAEXAMPLE%2F2024&X-Amz-Signature=deadbeef01&X-Amz-Security-Token=FQoGZXIvYXdzEJr", &["deadbeef01", "FQoGZXIvYXdzEJr", "AKIAEXAMPLE"][..]),
            ("https://a.blob.core.windows.net/c/f?sv=2020&se=2024&sig=Zm9vYmFy%3D", &["Zm9vYmFy"]),
            ("https://h/p?signature=abc123&sessionid=s355", &["abc123", "s355"]),
            // Percent-encoded names and `;` separators.
            ("https://h/p?access%5Ftoken=SEKRIT1&x=1", &["SEKRIT1"]),
            ("https://h/p#state=1;access_token=SEKRIT2;expires_in=3600", &["SEKRIT2"]),
            ("https://h/app;jsessionid=SEKRIT3?x=1", &["SEKRIT3"]),
            // Userinfo: a bare token, and user:password.
            ("https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r.git", &["ghp_abcdef"]),
            ("https://u:pw123@h/p", &["pw123"]),
            // Token-shaped path segments and values under innocent names.
            ("https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe", &["AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"]),
            ("https://h/v1?x=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", &["eyJzdWIiOiIxIn0"]),
            ("https://h/hook/T0123ABCD/B0123ABCD/abcdefGHIJKL0123456789mnopQR", &["abcdefGHIJKL0123456789mnopQR"]),
        ];
        for (url, secrets) in cases {
            let m = mask_url(url);
            for s in secrets {
                assert!(!m.contains(s), "{url} -> {m} still shows {s}");
            }
            assert!(m.contains("<masked:"), "{m}");
        }
        // What must stay readable: ids, expiry, ordinary values, the path's shape.
        let keep = "https://api.mypurecloud.com/api/v2/conversations/messages/5c1f0e1a-1111-4111-8111-111111111111/communications/abc?pageSize=25&expires_in=3600&token_type=bearer&q=hello-world-this-is-a-long-slug-value";
        assert_eq!(mask_url(keep), keep);
        let m = mask_url("https://h/p?X-Amz-Date=20240501T000000Z&X-Amz-Expires=900");
        assert!(!m.contains("<masked:"), "{m}");
        assert!(is_secret_param("access%5Ftoken") && is_secret_param("Upload-Token") && !is_secret_param("token_type"));
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
