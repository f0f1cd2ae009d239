//! Where replayed requests go: `--target`, `--map HOST=URL`, `--allow-host`, and the Genesys
//! region rewrite. [`Targets::allows`] is the one allow-list every outgoing connection (each
//! redirect hop included) is checked against.

use crate::region;
use anyhow::{bail, Context};
use url::Url;

/// One `--map HOST=URL` (or a host derived from one by the region rewrite).
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Captured host, lower case (a `:port` is kept when the user gave one).
    pub from: String,
    pub to: Url,
    /// True when derived from another mapping by the Genesys region rewrite.
    pub derived: bool,
}

/// The routing and allow-list of one replay.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// `--target`: every captured host not otherwise mapped goes here.
    pub default: Option<Url>,
    pub maps: Vec<Mapping>,
    /// `--allow-host` entries: `host` (any port) or `host:port`.
    pub extra: Vec<(String, Option<u16>)>,
    /// Genesys region moves seen in `--map`: (from domain, to domain, scheme).
    pub region_moves: Vec<(&'static str, &'static str, String)>,
}

fn parse_base(s: &str, flag: &str) -> anyhow::Result<Url> {
    let u =
        Url::parse(s).with_context(|| format!("{flag} {s:?} is not an absolute URL (e.g. https://api.example.com)"))?;
    if !matches!(u.scheme(), "http" | "https") {
        bail!("{flag} {s:?}: only http and https targets can be replayed to");
    }
    if u.host_str().is_none_or(str::is_empty) {
        bail!("{flag} {s:?} names no host");
    }
    if u.query().is_some() || u.fragment().is_some() {
        bail!("{flag} {s:?}: a target is a base URL; it cannot carry a query or fragment");
    }
    Ok(u)
}

/// Genesys host prefixes rewritten together when a capture is moved to another region.
const REGION_PREFIXES: &[&str] = &["api", "login", "webmessaging", "api-cdn", "apps"];

impl Targets {
    pub fn new(target: Option<&str>, maps: &[String], allow: &[String]) -> anyhow::Result<Targets> {
        let mut t = Targets { default: target.map(|s| parse_base(s, "--target")).transpose()?, ..Default::default() };
        for m in maps {
            let Some((host, url)) = m.split_once('=') else {
                bail!("--map {m:?}: expected HOST=URL, e.g. api.mypurecloud.com=http://127.0.0.1:8080");
            };
            let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
            if host.is_empty() || host.contains('/') {
                bail!("--map {m:?}: {host:?} is not a host name");
            }
            let to = parse_base(url.trim(), "--map")?;
            t.maps.push(Mapping { from: host, to, derived: false });
        }
        for a in allow {
            let a = a.trim().to_ascii_lowercase();
            let (h, p) = match a.rsplit_once(':') {
                Some((h, p)) if !h.contains(']') || h.ends_with(']') => match p.parse::<u16>() {
                    Ok(p) => (h.to_string(), Some(p)),
                    Err(_) => bail!("--allow-host {a:?}: the port is not a number"),
                },
                _ => (a.clone(), None),
            };
            if h.is_empty() || h.contains('/') {
                bail!("--allow-host {a:?}: give a host name or host:port, not a URL");
            }
            t.extra.push((h, p));
        }
        t.derive_regions();
        if t.default.is_none() && t.maps.is_empty() {
            bail!("say where to replay: --target URL, or --map HOST=URL (repeatable)");
        }
        Ok(t)
    }

    /// `--map api.mypurecloud.com=https://api.mypurecloud.ie` moves the capture from us_east_1
    /// to eu_west_1: the other hosts of the region (login., webmessaging., ...) follow, unless
    /// mapped explicitly, so that a token is fetched in the same region it is used in.
    fn derive_regions(&mut self) {
        let explicit = self.maps.clone();
        for m in &explicit {
            let (Some((from, _)), Some((to, _))) =
                (region::region_of_host(&m.from), m.to.host_str().and_then(region::region_of_host))
            else {
                continue;
            };
            if from.key == to.key {
                continue;
            }
            if !self.region_moves.iter().any(|(f, _, _)| *f == from.domain) {
                self.region_moves.push((from.domain, to.domain, m.to.scheme().to_string()));
            }
            for p in REGION_PREFIXES {
                let src = format!("{p}.{}", from.domain);
                if self.maps.iter().any(|x| x.from == src) {
                    continue;
                }
                if let Ok(u) = Url::parse(&format!("{}://{p}.{}/", m.to.scheme(), to.domain)) {
                    self.maps.push(Mapping { from: src, to: u, derived: true });
                }
            }
        }
    }

    /// The URL a captured URL is sent to, or None when no flag names its host.
    pub fn rewrite(&self, captured: &Url) -> Option<Url> {
        let host = captured.host_str()?.trim_end_matches('.').to_ascii_lowercase();
        let with_port = captured.port().map(|p| format!("{host}:{p}"));
        let base = self
            .maps
            .iter()
            .find(|m| with_port.as_deref() == Some(m.from.as_str()))
            .or_else(|| self.maps.iter().find(|m| m.from == host))
            .map(|m| m.to.clone())
            .or_else(|| self.region_move(&host, captured.scheme()))
            .or_else(|| self.default.clone())?;
        let mut out = base.clone();
        let prefix = base.path().trim_end_matches('/');
        out.set_path(&format!("{prefix}{}", captured.path()));
        out.set_query(captured.query());
        out.set_fragment(None);
        Some(out)
    }

    fn region_move(&self, host: &str, _scheme: &str) -> Option<Url> {
        self.region_moves.iter().find_map(|(from, to, scheme)| {
            let prefix = host.strip_suffix(from)?.strip_suffix('.')?;
            if prefix.is_empty() || prefix.contains('/') {
                return None;
            }
            Url::parse(&format!("{scheme}://{prefix}.{to}/")).ok()
        })
    }

    /// Whether a connection to this URL's host and port is allowed: a host named by
    /// `--target`, `--map` (or its region rewrite) or `--allow-host`, nothing else.
    pub fn allows(&self, u: &Url) -> bool {
        let Some(host) = u.host_str().map(|h| h.trim_end_matches('.').to_ascii_lowercase()) else {
            return false;
        };
        let Some(port) = u.port_or_known_default() else { return false };
        let same = |t: &Url| {
            t.host_str().is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(&host))
                && t.port_or_known_default() == Some(port)
        };
        if self.default.as_ref().is_some_and(same) || self.maps.iter().any(|m| same(&m.to)) {
            return true;
        }
        if self.region_moves.iter().any(|(_, to, _)| host.ends_with(&format!(".{to}"))) {
            return true;
        }
        self.extra.iter().any(|(h, p)| *h == host && p.is_none_or(|p| p == port))
    }

    /// The hosts this replay may contact, for the plan's header line.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(d) = &self.default {
            out.push(format!("* -> {d}"));
        }
        for m in &self.maps {
            out.push(format!("{} -> {}{}", m.from, m.to, if m.derived { " (region rewrite)" } else { "" }));
        }
        for (from, to, _) in &self.region_moves {
            out.push(format!("*.{from} -> *.{to} (region rewrite)"));
        }
        for (h, p) in &self.extra {
            out.push(match p {
                Some(p) => format!("allowed: {h}:{p}"),
                None => format!("allowed: {h}"),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn target_keeps_path_and_query() {
        let t = Targets::new(Some("http://127.0.0.1:9/base/"), &[], &[]).unwrap();
        let r = t.rewrite(&u("https://api.x.example/v1/a?b=1#frag")).unwrap();
        assert_eq!(r.as_str(), "http://127.0.0.1:9/base/v1/a?b=1");
        assert!(t.allows(&r));
        assert!(!t.allows(&u("http://127.0.0.1:10/")));
        assert!(!t.allows(&u("http://localhost:9/")));
    }

    #[test]
    fn maps_and_unmapped_hosts() {
        let t = Targets::new(None, &["api.a.example=http://127.0.0.1:1".into()], &["127.0.0.1:7".into()]).unwrap();
        assert!(t.rewrite(&u("https://api.a.example/x")).is_some());
        assert!(t.rewrite(&u("https://api.b.example/x")).is_none());
        assert!(t.allows(&u("http://127.0.0.1:7/")));
        assert!(!t.allows(&u("http://127.0.0.1:8/")));
        assert!(Targets::new(None, &[], &[]).is_err());
        assert!(Targets::new(Some("ftp://x"), &[], &[]).is_err());
        assert!(Targets::new(None, &["nohost".into()], &[]).is_err());
    }

    #[test]
    fn region_moves_follow_every_host() {
        let t = Targets::new(None, &["api.mypurecloud.com=https://api.mypurecloud.ie".into()], &[]).unwrap();
        let r = t.rewrite(&u("https://login.mypurecloud.com/oauth/token")).unwrap();
        assert_eq!(r.as_str(), "https://login.mypurecloud.ie/oauth/token");
        let r = t.rewrite(&u("https://webmessaging.mypurecloud.com/v1")).unwrap();
        assert_eq!(r.host_str(), Some("webmessaging.mypurecloud.ie"));
        assert!(t.allows(&r));
        // The source region is not contacted, nor any other host.
        assert!(!t.allows(&u("https://login.mypurecloud.com/")));
        assert!(!t.allows(&u("https://example.com/")));
        // No rewrite when the target is not a Genesys host.
        let t = Targets::new(None, &["api.mypurecloud.com=http://127.0.0.1:5".into()], &[]).unwrap();
        assert!(t.rewrite(&u("https://login.mypurecloud.com/oauth/token")).is_none());
    }
}
