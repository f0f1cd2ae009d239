//! `harken sanitize`: a capture that can be shared.
//!
//! Every input format harken reads is written back as one HAR 1.2 document in which every
//! secret is replaced by a **keyed pseudonym** ([`pseudo::Keyed`], HMAC-SHA256 under `--key`):
//!
//! - bearer tokens, API keys, cookies, secret URL parameters (query, fragment, `Location`,
//!   `Referer`), secrets in JSON bodies, form bodies and websocket frames: the same length and
//!   character classes, so an opaque token still looks like one and the same token gets the
//!   same pseudonym everywhere (token replies, `Authorization`, revocations), in every file and
//!   run under the same key: lineage survives;
//! - JWTs keep their header and claims (`exp`, `scope`, `iss`, …; `sub` is replaced only with
//!   `--pii`) and get a new signature of the same length, so they still parse (they no longer
//!   verify);
//! - Basic credentials keep the user (the OAuth client id) and get a pseudonymous password;
//! - with `--pii`, e-mail addresses, E.164 phone numbers and person names in bodies.
//!
//! Then every string of the output is swept once more for any original secret seen anywhere
//! (an echo in an error message, a token in a `Referer`), and finally the written bytes are
//! scanned ([`self_scan`]): if any original secret of 8 or more characters is still there
//! (raw, JSON-escaped or percent-encoded), nothing is written and the run fails.
//!
//! Entries are written input by input in their original order, so a single input keeps its
//! entry indexes: `harken analyze` on the sanitized file gives the same findings with the same
//! evidence indexes (tests/it/sanitize.rs checks it for every sample).

pub mod pseudo;

mod har;

use crate::model::Capture;
use aho_corasick::{AhoCorasick, MatchKind};
use pseudo::Keyed;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Values shorter than this are replaced where they are found but not searched for elsewhere
/// (a 4-character cookie value would match ordinary text).
pub const MIN_SWEEP: usize = 8;

pub struct Options {
    /// The HMAC key.
    pub key: Vec<u8>,
    /// Also replace e-mail addresses, phone numbers, person names and JWT `sub`.
    pub pii: bool,
}

/// What was replaced.
#[derive(Debug, Default)]
pub struct Summary {
    /// Replacements per kind (occurrences).
    pub counts: BTreeMap<&'static str, usize>,
    /// Distinct original values replaced.
    pub distinct: usize,
    /// Entries written.
    pub entries: usize,
    /// Original secrets (≥ [`MIN_SWEEP`] characters) the self-scan searched for.
    pub scanned: usize,
}

/// The sanitized HAR document and what was replaced.
pub struct Sanitized {
    pub bytes: Vec<u8>,
    pub summary: Summary,
}

/// Sanitize a capture into HAR 1.2 bytes. Fails only when the self-scan finds an original
/// secret in the result (then nothing should be written).
pub fn sanitize(capture: &Capture, opts: &Options) -> anyhow::Result<Sanitized> {
    let mut s = Sanitizer::new(opts);
    let mut order: Vec<usize> = (0..capture.exchanges.len()).collect();
    order.sort_by_key(|&i| (capture.exchanges[i].origin.input, capture.exchanges[i].origin.index));
    let mut entries = Vec::with_capacity(order.len());
    for i in order {
        entries.push(har::entry(capture, &capture.exchanges[i], &mut s));
    }
    let mut doc = har::document(capture, entries);
    s.sweep_value(&mut doc);
    let mut bytes = serde_json::to_vec_pretty(&doc)?;
    bytes.push(b'\n');
    let found = s.self_scan(&bytes);
    if !found.is_empty() {
        anyhow::bail!(
            "self-scan failed: {} original secret(s) still in the output ({}); nothing was written",
            found.len(),
            found.join(", ")
        );
    }
    let summary = Summary {
        counts: s.counts.clone(),
        distinct: s.map.len(),
        entries: capture.exchanges.len(),
        scanned: s.map.keys().filter(|k| k.len() >= MIN_SWEEP).count(),
    };
    Ok(Sanitized { bytes, summary })
}

/// Header names whose whole value is a token or key.
const KEY_HEADERS: &[&str] = &[
    "x-api-key",
    "api-key",
    "apikey",
    "x-apikey",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
    "x-functions-key",
    "x-auth-token",
    "x-access-token",
    "private-token",
    "x-csrf-token",
    "x-xsrf-token",
    "x-amz-security-token",
];

/// URL and form parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "api_key",
    "apikey",
    "api-key",
    "key",
    "subscription-key",
    "password",
    "assertion",
    "jwt",
    "sig",
    "signature",
    "x-api-key",
    "session",
    "sessionid",
    "x-amz-signature",
    "x-amz-security-token",
    "x-amz-credential",
];

/// JSON keys whose string values are secrets (`code` is not: in JSON it is an error code).
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "accesstoken",
    "refresh_token",
    "refreshtoken",
    "id_token",
    "idtoken",
    "token",
    "jwt",
    "client_secret",
    "clientsecret",
    "password",
    "secret",
    "assertion",
    "api_key",
    "apikey",
    "code_verifier",
    "session_token",
    "sessiontoken",
    "authorization",
];

/// JSON keys that hold person names, e-mail addresses or phone numbers (`--pii`).
const PII_KEYS: &[&str] = &[
    "firstname",
    "lastname",
    "givenname",
    "familyname",
    "fullname",
    "displayname",
    "nickname",
    "username",
    "email",
    "emailaddress",
    "phone",
    "phonenumber",
    "mobile",
];

fn norm_key(k: &str) -> String {
    k.chars().filter(|c| *c != '-').flat_map(char::to_lowercase).collect()
}

fn is_secret_param(k: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(k.trim()))
}

fn is_secret_key(k: &str) -> bool {
    let n = norm_key(k);
    SECRET_KEYS.contains(&n.as_str())
}

fn is_pii_key(k: &str) -> bool {
    let n = norm_key(k);
    PII_KEYS.contains(&n.as_str())
}

fn jwt_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_=-]*(?:\.[A-Za-z0-9_=-]*){1,3}").expect("valid regex")
    })
}

fn email_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
            .expect("valid regex")
    })
}

fn phone_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\+[1-9][0-9]{7,14}\b").expect("valid regex"))
}

/// The replacement state of one run: pseudonyms made so far and counts.
pub struct Sanitizer {
    keyed: Keyed,
    pii: bool,
    /// original → pseudonym
    map: HashMap<String, String>,
    /// Pseudonyms made (never replaced again).
    produced: HashSet<String>,
    counts: BTreeMap<&'static str, usize>,
    sweeper: Option<(AhoCorasick, Vec<String>)>,
}

impl Sanitizer {
    pub fn new(opts: &Options) -> Sanitizer {
        Sanitizer {
            keyed: Keyed::new(&opts.key),
            pii: opts.pii,
            map: HashMap::new(),
            produced: HashSet::new(),
            counts: BTreeMap::new(),
            sweeper: None,
        }
    }

    fn record(&mut self, kind: &'static str, original: &str, pseudonym: String) -> String {
        *self.counts.entry(kind).or_insert(0) += 1;
        if pseudonym != original {
            self.map.insert(original.to_string(), pseudonym.clone());
            self.produced.insert(pseudonym.clone());
        }
        pseudonym
    }

    /// A token-like value (bearer token, API key, cookie value, token in a body). Placeholders
    /// (`undefined`, `null`) and empty values are kept: they are no secret, and the diagnosis
    /// names them.
    pub fn token(&mut self, kind: &'static str, value: &str) -> String {
        let t = value.trim();
        if t.is_empty() || self.produced.contains(t) {
            return value.to_string();
        }
        if let (_, Some(why)) = crate::token::classify_token(t) {
            if why.starts_with("placeholder") {
                return value.to_string();
            }
        }
        let new = match self.map.get(t) {
            Some(p) => p.clone(),
            None if t.starts_with("eyJ") && t.contains('.') => self.jose(t),
            None => self.opaque(t),
        };
        let new = self.record(kind, t, new);
        if t.len() == value.len() {
            new
        } else {
            value.replacen(t, &new, 1)
        }
    }

    /// Same length and classes, and the same kind and usability as the original (a pseudonym
    /// must not start looking like a JWT or a placeholder).
    fn opaque(&self, t: &str) -> String {
        let want = crate::token::classify_token(t);
        let mut first = None;
        for attempt in 0..16 {
            let p = self.keyed.shape(t, attempt);
            let got = crate::token::classify_token(&p);
            if p != t && got.0 == want.0 && got.1.is_some() == want.1.is_some() {
                return p;
            }
            first.get_or_insert(p);
        }
        first.unwrap_or_else(|| self.keyed.hex(t, t.len()))
    }

    /// A JOSE token: the header and (JWS) the claims are kept, every other segment gets a
    /// pseudonym of the same decoded length; with `--pii`, `sub` and person claims too.
    fn jose(&mut self, t: &str) -> String {
        let parts: Vec<&str> = t.split('.').collect();
        let keep = if parts.len() == 5 { 1 } else { 2 };
        let mut out = Vec::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            if i < keep {
                if i == 1 && self.pii {
                    out.push(self.jwt_payload(p));
                } else {
                    out.push(p.to_string());
                }
            } else if p.is_empty() {
                out.push(String::new());
            } else {
                out.push(self.keyed.b64_segment(p).unwrap_or_else(|| self.keyed.shape(p, 0)));
            }
        }
        out.join(".")
    }

    fn jwt_payload(&mut self, p: &str) -> String {
        use base64::Engine;
        let Some(bytes) = crate::token::jwt::b64url(p) else { return p.to_string() };
        let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&bytes) else { return p.to_string() };
        let mut changed = false;
        for (k, v) in m.iter_mut() {
            if let Value::String(s) = v {
                if k == "sub" || k == "email" || k == "name" || is_pii_key(k) {
                    let n = self.pii_value("jwt sub/person claim", s);
                    changed |= n != *s;
                    *s = n;
                }
            }
        }
        if !changed {
            return p.to_string();
        }
        let json = serde_json::to_vec(&Value::Object(m)).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn pii_value(&mut self, kind: &'static str, v: &str) -> String {
        if v.trim().is_empty() || self.produced.contains(v) {
            return v.to_string();
        }
        let new = match self.map.get(v) {
            Some(p) => p.clone(),
            None => self.keyed.shape(v, 0),
        };
        self.record(kind, v, new)
    }

    /// A Basic credential (`base64(user:password)`): the user stays (an OAuth client id), the
    /// password gets the pseudonym any other occurrence of it gets (`client_secret=` in a form).
    fn basic(&mut self, b64: &str) -> String {
        use base64::Engine;
        let t = b64.trim();
        if t.is_empty() {
            return b64.to_string();
        }
        let decoded = crate::ingest::har::base64_lenient(t).and_then(|b| String::from_utf8(b).ok());
        let new = match decoded.as_deref().and_then(|d| d.split_once(':')) {
            Some((user, pass)) => {
                let p = if pass.is_empty() { String::new() } else { self.token("basic password", pass) };
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{p}"))
            }
            None => self.opaque(t),
        };
        self.record("basic credential", t, new)
    }

    /// One header value.
    pub fn header(&mut self, name: &str, value: &str) -> String {
        let l = name.trim().to_ascii_lowercase();
        match l.as_str() {
            "authorization" | "proxy-authorization" => self.authorization(value),
            "cookie" => self.cookies(value, false),
            "set-cookie" => self.cookies(value, true),
            "sec-websocket-protocol" => self.ws_protocol(value),
            "location" | "referer" | "content-location" | "refresh" => self.url(value),
            _ if KEY_HEADERS.contains(&l.as_str()) => self.token("api key / token header", value),
            _ => self.jwts_in(value),
        }
    }

    fn authorization(&mut self, value: &str) -> String {
        let v = value.trim();
        match v.split_once(char::is_whitespace) {
            Some((scheme, rest)) => {
                let rest = rest.trim();
                let new = match scheme.to_ascii_lowercase().as_str() {
                    "basic" => self.basic(rest),
                    "bearer" => self.token("bearer token", rest),
                    _ => self.token("other authorization", rest),
                };
                format!("{scheme} {new}")
            }
            None if matches!(
                v.to_ascii_lowercase().as_str(),
                "bearer" | "basic" | "token" | "digest" | "negotiate"
            ) =>
            {
                value.to_string()
            }
            None => self.token("bearer token", v),
        }
    }

    fn cookies(&mut self, value: &str, set: bool) -> String {
        let mut out = Vec::new();
        for (i, part) in value.split(';').enumerate() {
            if set && i > 0 {
                out.push(part.to_string());
                continue;
            }
            match part.split_once('=') {
                Some((k, v)) if !v.trim().is_empty() => {
                    let nv = self.token("cookie", v.trim());
                    out.push(format!("{k}={nv}"));
                }
                _ => out.push(part.to_string()),
            }
        }
        out.join(";")
    }

    fn ws_protocol(&mut self, value: &str) -> String {
        let members: Vec<&str> = value.split(',').collect();
        let markers = ["access_token", "bearer", "authorization", "token", "jwt"];
        let mut out = Vec::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            let t = m.trim();
            let after_marker =
                i > 0 && members.get(i - 1).is_some_and(|p| markers.contains(&p.trim().to_ascii_lowercase().as_str()));
            let new = if let Some(tok) = t.strip_prefix("base64url.bearer.authorization.k8s.io.") {
                format!("base64url.bearer.authorization.k8s.io.{}", self.token("websocket protocol token", tok))
            } else if after_marker || (t.starts_with("eyJ") && t.contains('.')) {
                self.token("websocket protocol token", t)
            } else {
                t.to_string()
            };
            out.push(m.replacen(t, &new, 1));
        }
        out.join(",")
    }

    /// A URL: secret query and fragment parameters, and a userinfo password.
    pub fn url(&mut self, url: &str) -> String {
        let (before_frag, frag) = match url.split_once('#') {
            Some((a, b)) => (a, Some(b)),
            None => (url, None),
        };
        let (base, query) = match before_frag.split_once('?') {
            Some((a, b)) => (a, Some(b)),
            None => (before_frag, None),
        };
        let mut out = self.userinfo(base);
        if let Some(q) = query {
            out.push('?');
            out.push_str(&self.params(q, "url parameter"));
        }
        if let Some(f) = frag {
            out.push('#');
            out.push_str(&self.params(f, "url parameter"));
        }
        if self.pii {
            out = self.pii_text(&out);
        }
        out
    }

    fn userinfo(&mut self, base: &str) -> String {
        if let Some(scheme_end) = base.find("://") {
            let rest = &base[scheme_end + 3..];
            let auth_end = rest.find('/').unwrap_or(rest.len());
            if let Some(at) = rest[..auth_end].rfind('@') {
                if let Some((user, pass)) = rest[..at].split_once(':') {
                    let p = self.token("url password", pass);
                    return format!("{}{user}:{p}{}", &base[..scheme_end + 3], &rest[at..]);
                }
            }
        }
        base.to_string()
    }

    /// `a=1&token=…` with secret values replaced; the rest of the text is kept byte for byte.
    fn params(&mut self, q: &str, kind: &'static str) -> String {
        q.split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if !v.is_empty() && is_secret_param(&decode_component(k)) => {
                    if v.contains('%') || v.contains('+') {
                        let decoded = decode_component(v);
                        let new = self.token(kind, &decoded);
                        format!("{k}={}", url::form_urlencoded::byte_serialize(new.as_bytes()).collect::<String>())
                    } else {
                        format!("{k}={}", self.token(kind, v))
                    }
                }
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// A message body or websocket frame as text: JSON (secret keys), a form (secret
    /// parameters), JWTs anywhere, and with `--pii` e-mails, phone numbers and names.
    pub fn text(&mut self, s: &str, form_hint: bool, kind: &'static str) -> String {
        let trimmed = s.trim_start_matches('\u{feff}').trim_start();
        let mut out = if trimmed.starts_with('{') || trimmed.starts_with('[') {
            match serde_json::from_str::<Value>(trimmed) {
                Ok(mut v) => {
                    if self.json(&mut v, kind) {
                        serde_json::to_string(&v).unwrap_or_else(|_| s.to_string())
                    } else {
                        s.to_string()
                    }
                }
                Err(_) => s.to_string(),
            }
        } else if form_hint || looks_form(trimmed) {
            self.params(s, "form field")
        } else {
            s.to_string()
        };
        out = self.jwts_in(&out);
        if self.pii {
            out = self.pii_text(&out);
        }
        out
    }

    /// Replace every JWT-looking substring that is not already a pseudonym.
    fn jwts_in(&mut self, s: &str) -> String {
        if !s.contains("eyJ") {
            return s.to_string();
        }
        let found: Vec<(usize, usize)> = jwt_re().find_iter(s).map(|m| (m.start(), m.end())).collect();
        if found.is_empty() {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for (a, b) in found {
            out.push_str(&s[last..a]);
            let t = &s[a..b];
            if self.produced.contains(t) {
                out.push_str(t);
            } else {
                let n = self.token("jwt in text", t);
                out.push_str(&n);
            }
            last = b;
        }
        out.push_str(&s[last..]);
        out
    }

    fn pii_text(&mut self, s: &str) -> String {
        let mut out = s.to_string();
        for (re, kind) in [(email_re(), "email"), (phone_re(), "phone")] {
            let found: Vec<String> = re.find_iter(&out).map(|m| m.as_str().to_string()).collect();
            for f in found {
                if self.produced.contains(&f) {
                    continue;
                }
                let n = self.pii_value(kind, &f);
                out = out.replace(&f, &n);
            }
        }
        out
    }

    /// Replace secrets in a JSON value in place; true when something changed.
    fn json(&mut self, v: &mut Value, kind: &'static str) -> bool {
        match v {
            Value::Object(m) => {
                let mut changed = false;
                for (k, val) in m.iter_mut() {
                    match val {
                        Value::String(s) if is_secret_key(k) => {
                            let n = self.token(kind, s);
                            changed |= n != *s;
                            *s = n;
                        }
                        Value::String(s) if self.pii && is_pii_key(k) => {
                            let n = self.pii_value(if norm_key(k).contains("mail") { "email" } else { "name" }, s);
                            changed |= n != *s;
                            *s = n;
                        }
                        Value::String(s) => {
                            let n = self.nested(s, kind);
                            changed |= n != *s;
                            *s = n;
                        }
                        other => changed |= self.json(other, kind),
                    }
                }
                changed
            }
            Value::Array(a) => {
                let mut changed = false;
                for x in a {
                    if let Value::String(s) = x {
                        let n = self.nested(s, kind);
                        changed |= n != *s;
                        *s = n;
                    } else {
                        changed |= self.json(x, kind);
                    }
                }
                changed
            }
            _ => false,
        }
    }

    /// A string inside JSON: JSON in a string (web messaging frames), or text with JWTs.
    fn nested(&mut self, s: &str, kind: &'static str) -> String {
        let t = s.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            if let Ok(mut inner) = serde_json::from_str::<Value>(t) {
                if self.json(&mut inner, kind) {
                    return serde_json::to_string(&inner).unwrap_or_else(|_| s.to_string());
                }
                return s.to_string();
            }
        }
        let mut out = self.jwts_in(s);
        if self.pii {
            out = self.pii_text(&out);
        }
        out
    }

    /// Every original → pseudonym pair worth searching for, with its JSON-escaped and
    /// percent-encoded forms.
    fn sweep_pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (o, p) in &self.map {
            if o.len() < MIN_SWEEP {
                continue;
            }
            pairs.push((o.clone(), p.clone()));
            let oj = json_escaped(o);
            if oj != *o {
                pairs.push((oj, json_escaped(p)));
            }
            let oe: String = url::form_urlencoded::byte_serialize(o.as_bytes()).collect();
            if oe != *o {
                pairs.push((oe, url::form_urlencoded::byte_serialize(p.as_bytes()).collect()));
            }
        }
        pairs.sort();
        pairs.dedup_by(|a, b| a.0 == b.0);
        pairs
    }

    fn sweeper(&mut self) -> Option<&(AhoCorasick, Vec<String>)> {
        if self.sweeper.is_none() {
            let pairs = self.sweep_pairs();
            if pairs.is_empty() {
                return None;
            }
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(pairs.iter().map(|p| p.0.as_bytes()))
                .ok()?;
            self.sweeper = Some((ac, pairs.into_iter().map(|p| p.1).collect()));
        }
        self.sweeper.as_ref()
    }

    /// Replace any original secret left anywhere in the document (echoes).
    fn sweep_value(&mut self, v: &mut Value) {
        let Some((ac, with)) = self.sweeper().map(|(a, w)| (a.clone(), w.clone())) else { return };
        let mut echoes = 0usize;
        sweep(v, &ac, &with, &mut echoes);
        if echoes > 0 {
            *self.counts.entry("echo elsewhere").or_insert(0) += echoes;
        }
    }

    /// Which original secrets (as `kind-less` fingerprints) the bytes still contain.
    pub fn self_scan(&mut self, bytes: &[u8]) -> Vec<String> {
        let pairs = self.sweep_pairs();
        if pairs.is_empty() {
            return Vec::new();
        }
        let Ok(ac) =
            AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(pairs.iter().map(|p| p.0.as_bytes()))
        else {
            return vec!["(the scan could not be built)".into()];
        };
        let mut found: Vec<String> = ac
            .find_iter(bytes)
            .map(|m| format!("secret:{}", crate::redact::fingerprint(&pairs[m.pattern().as_usize()].0)))
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

fn sweep(v: &mut Value, ac: &AhoCorasick, with: &[String], echoes: &mut usize) {
    match v {
        Value::String(s) if ac.is_match(s.as_bytes()) => {
            *echoes += ac.find_iter(s.as_bytes()).count();
            *s = ac.replace_all(s, with);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| sweep(x, ac, with, echoes)),
        Value::Object(m) => {
            let base64 = m.get("encoding").and_then(Value::as_str).is_some_and(|e| e == "base64");
            for (k, x) in m.iter_mut() {
                if base64 && k == "text" {
                    if let Value::String(s) = x {
                        use base64::Engine;
                        let e = &base64::engine::general_purpose::STANDARD;
                        if let Ok(bytes) = e.decode(s.as_bytes()) {
                            if ac.is_match(&bytes) {
                                *echoes += ac.find_iter(&bytes).count();
                                *s = e.encode(ac.replace_all_bytes(&bytes, with));
                            }
                        }
                    }
                } else {
                    sweep(x, ac, with, echoes);
                }
            }
        }
        _ => {}
    }
}

fn json_escaped(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    q.get(1..q.len().saturating_sub(1)).unwrap_or("").to_string()
}

fn decode_component(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn looks_form(b: &str) -> bool {
    !b.is_empty() && b.contains('=') && !b.chars().any(|c| c.is_whitespace() || c == '{' || c == '<')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> Sanitizer {
        Sanitizer::new(&Options { key: b"test".to_vec(), pii: false })
    }

    #[test]
    fn bearer_and_json_get_the_same_pseudonym() {
        let mut z = s();
        let tok = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let h = z.header("Authorization", &format!("Bearer {tok}"));
        let body = z.text(&format!(r#"{{"access_token":"{tok}","expires_in":300}}"#), false, "json field");
        let p = h.strip_prefix("Bearer ").unwrap();
        assert_ne!(p, tok);
        assert!(body.contains(p), "{body}");
        assert_eq!(z.header("Authorization", "Bearer undefined"), "Bearer undefined");
    }

    #[test]
    fn jwt_keeps_claims_and_parses() {
        use base64::Engine;
        let e = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let t = format!(
            "{}.{}.{}",
            e.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            e.encode(r#"{"sub":"u1","exp":1714560000}"#),
            e.encode([9u8; 32])
        );
        let mut z = s();
        let p = z.token("bearer token", &t);
        assert_ne!(p, t);
        let (a, b) = (t.rsplit_once('.').unwrap().0, p.rsplit_once('.').unwrap().0);
        assert_eq!(a, b);
        assert!(crate::token::jwt::decode(&p).is_jose());
    }

    #[test]
    fn basic_keeps_the_user_and_matches_the_form_secret() {
        use base64::Engine;
        let e = &base64::engine::general_purpose::STANDARD;
        let mut z = s();
        let h = z.header("Authorization", &format!("Basic {}", e.encode("client-1:s3cr3t-value-xyz")));
        let decoded = String::from_utf8(e.decode(h.strip_prefix("Basic ").unwrap()).unwrap()).unwrap();
        let (user, pass) = decoded.split_once(':').unwrap();
        assert_eq!(user, "client-1");
        let form = z.text("grant_type=client_credentials&client_secret=s3cr3t-value-xyz", true, "form field");
        assert!(form.ends_with(pass), "{form} vs {pass}");
    }

    #[test]
    fn urls_and_cookies() {
        let mut z = s();
        let u = z.url("https://h/cb#access_token=SECRETSECRET123&expires_in=3600");
        assert!(!u.contains("SECRETSECRET123") && u.contains("expires_in=3600"));
        let c = z.header("Cookie", "sid=abcdefgh1234; theme=dark");
        assert!(!c.contains("abcdefgh1234") && c.contains("theme="));
        let sc = z.header("Set-Cookie", "sid=abcdefgh1234; Path=/; HttpOnly");
        assert!(sc.ends_with("; Path=/; HttpOnly"));
        assert_eq!(c.split(';').next().unwrap(), sc.split(';').next().unwrap());
    }

    #[test]
    fn pii_only_when_asked() {
        let mut z = s();
        let t = z.text(r#"{"email":"alice@example.com","note":"call +14155550123"}"#, false, "json field");
        assert!(t.contains("alice@example.com"));
        let mut z = Sanitizer::new(&Options { key: b"test".to_vec(), pii: true });
        let t = z.text(r#"{"email":"alice@example.com","note":"call +14155550123"}"#, false, "json field");
        assert!(!t.contains("alice@example.com") && !t.contains("+14155550123"), "{t}");
    }
}
