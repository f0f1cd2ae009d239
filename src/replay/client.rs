//! Sending the plan: a small tokio runtime that lives only for this command, reqwest (rustls
//! with the ring provider) with its own redirect following turned off. Every hop, the first
//! one included, is checked against [`Targets::allows`] before a connection is made; redirects
//! are followed here, one checked hop at a time.

use super::diff::Observed;
use super::plan::{Outgoing, Step};
use super::target::Targets;
use crate::model::Headers;
use anyhow::{bail, Context};
use base64::Engine;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Largest response body read (the rest is dropped; the shape diff sees the start).
const MAX_BODY: usize = 16 << 20;
/// Redirect hops followed per request.
const MAX_HOPS: usize = 10;

/// `--timing`: when each request starts relative to the first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timing {
    /// As fast as `--rate` and `--concurrency` allow.
    Asap,
    /// The captured spacing divided by this factor (`original` is 1, `x2` twice as fast).
    Scaled(f64),
}

impl Timing {
    pub fn parse(s: &str) -> anyhow::Result<Timing> {
        let l = s.trim().to_ascii_lowercase();
        match l.as_str() {
            "asap" => return Ok(Timing::Asap),
            "original" => return Ok(Timing::Scaled(1.0)),
            _ => {}
        }
        let num = l.strip_prefix('x').or_else(|| l.strip_suffix('x')).unwrap_or("");
        match num.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 && f <= 1e6 => Ok(Timing::Scaled(f)),
            _ => bail!("--timing {s:?}: use asap, original, or a speed factor such as x2 (twice as fast) or x0.5"),
        }
    }
}

/// `--rate N/s` (also `N/m`, `N/h`, or a bare N per second): requests per second.
pub fn parse_rate(s: &str) -> anyhow::Result<f64> {
    let l = s.trim().to_ascii_lowercase();
    let (n, per) = match l.split_once('/') {
        Some((n, "s" | "sec" | "second")) => (n, 1.0),
        Some((n, "m" | "min" | "minute")) => (n, 60.0),
        Some((n, "h" | "hour")) => (n, 3600.0),
        Some(_) => bail!("--rate {s:?}: use N/s, N/m or N/h"),
        None => (l.as_str(), 1.0),
    };
    match n.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v / per),
        _ => bail!("--rate {s:?}: the rate must be a positive number"),
    }
}

/// How to send.
#[derive(Debug, Clone)]
pub struct SendOptions {
    pub timing: Timing,
    /// Requests per second at most.
    pub rate: Option<f64>,
    pub concurrency: usize,
    pub timeout: Duration,
}

/// The answer to one step: the response, or why there is none.
#[derive(Debug, Clone)]
pub enum Answer {
    Response { observed: Observed, notes: Vec<String> },
    Failed(String),
}

/// Fetch a token with the client-credentials grant. The endpoint must be an allowed host.
async fn client_credentials(
    client: &reqwest::Client,
    targets: &Targets,
    endpoint: &url::Url,
    id: &str,
    secret: &str,
) -> anyhow::Result<String> {
    if !targets.allows(endpoint) {
        bail!("the token endpoint {endpoint} is not an allowed host (add --map or --allow-host)");
    }
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let resp = client
        .post(endpoint.clone())
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("grant_type=client_credentials")
        .send()
        .await
        .with_context(|| format!("token request to {endpoint}"))?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.context("reading the token reply")?;
    if status != 200 {
        bail!(
            "the token endpoint {endpoint} answered {status}: {}",
            crate::redact::escape(&String::from_utf8_lossy(&body[..body.len().min(300)]))
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body).context("the token reply is not JSON")?;
    match v.get("access_token").and_then(|t| t.as_str()) {
        Some(t) if !t.is_empty() => Ok(t.to_string()),
        _ => bail!("the token reply from {endpoint} has no access_token"),
    }
}

fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    // reqwest is built without a default crypto provider (no aws-lc C build): install ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Never a proxy from the environment: the allow-list names the hosts connected to.
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
        .context("building the HTTP client")
}

/// Send one request, following redirects hop by hop inside the allow-list.
async fn send_one(client: &reqwest::Client, targets: &Targets, out: &Outgoing, auth: Option<&str>) -> Answer {
    let mut method = out.method.clone();
    let mut url = out.url.clone();
    let mut body = out.body.clone();
    let mut headers = out.headers.clone();
    if let Some(a) = auth {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
        headers.push(("Authorization".into(), a.to_string()));
    }
    let mut notes = Vec::new();
    let started = Instant::now();
    for hop in 0..=MAX_HOPS {
        if !targets.allows(&url) {
            return Answer::Failed(format!(
                "{} is not an allowed host: not contacted",
                crate::redact::mask_url(url.as_str())
            ));
        }
        let m = match reqwest::Method::from_bytes(method.as_bytes()) {
            Ok(m) => m,
            Err(_) => return Answer::Failed(format!("{method:?} is not a valid method")),
        };
        let mut req = client.request(m, url.clone());
        for (n, v) in &headers {
            req = req.header(n.as_str(), v.as_str());
        }
        if !body.is_empty() {
            req = req.body(body.clone());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Answer::Failed(describe(&e)),
        };
        let status = resp.status().as_u16();
        let mut rh = Headers::new();
        for (n, v) in resp.headers() {
            rh.push(n.as_str(), String::from_utf8_lossy(v.as_bytes()));
        }
        let location = rh.get("location").and_then(|l| url.join(l).ok());
        if matches!(status, 301 | 302 | 303 | 307 | 308) && hop < MAX_HOPS {
            if let Some(next) = location {
                if !targets.allows(&next) {
                    notes.push(format!(
                        "redirect to {} not followed: not an allowed host",
                        crate::redact::mask_url(next.as_str())
                    ));
                } else {
                    if status == 303 || ((status == 301 || status == 302) && method == "POST") {
                        method = "GET".into();
                        body.clear();
                        headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
                    }
                    if next.host_str() != url.host_str() || next.port_or_known_default() != url.port_or_known_default()
                    {
                        // Like browsers: credentials do not follow a redirect to another origin.
                        headers.retain(|(n, _)| !crate::redact::is_secret_header(n));
                    }
                    notes.push(format!("followed {status} to {}", crate::redact::mask_url(next.as_str())));
                    url = next;
                    continue;
                }
            }
        }
        let mut bytes = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    let room = MAX_BODY.saturating_sub(bytes.len());
                    bytes.extend_from_slice(&c[..c.len().min(room)]);
                    if room < c.len() {
                        notes.push(format!("body cut at {MAX_BODY} bytes"));
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    notes.push(format!("body not read to its end: {}", describe(&e)));
                    break;
                }
            }
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        return Answer::Response { observed: Observed { status, headers: rh, body: bytes, ms }, notes };
    }
    Answer::Failed(format!("more than {MAX_HOPS} redirects"))
}

fn describe(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    crate::redact::escape(&s)
}

/// Send every step that has something to send, in order, honouring timing, rate and
/// concurrency. Returns one answer per step (None for skipped steps).
pub fn run(
    steps: &[Step],
    targets: &Targets,
    oauth: Option<(&url::Url, &str, &str)>,
    opts: &SendOptions,
) -> anyhow::Result<Vec<Option<Answer>>> {
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let client = client(opts.timeout)?;
        let auth: Option<Arc<str>> = match oauth {
            Some((endpoint, id, secret)) => {
                let token = client_credentials(&client, targets, endpoint, id, secret).await?;
                Some(Arc::from(format!("Bearer {token}")))
            }
            None => None,
        };
        let targets = Arc::new(targets.clone());
        let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
        let start = tokio::time::Instant::now();
        let mut handles = Vec::with_capacity(steps.len());
        let mut sent = 0usize;
        for step in steps {
            let Some(out) = step.send.clone() else {
                handles.push(None);
                continue;
            };
            let mut at = Duration::ZERO;
            if let Timing::Scaled(f) = opts.timing {
                at = Duration::from_secs_f64((step.captured_offset_s / f).clamp(0.0, 1e7));
            }
            if let Some(r) = opts.rate {
                at = at.max(Duration::from_secs_f64(sent as f64 / r));
            }
            tokio::time::sleep_until(start + at).await;
            // Acquiring here, in order, keeps the start order the capture order.
            let permit = sem.clone().acquire_owned().await.context("semaphore closed")?;
            sent += 1;
            let client = client.clone();
            let targets = targets.clone();
            let auth = if out.wants_oauth { auth.clone() } else { None };
            handles.push(Some(tokio::spawn(async move {
                let a = send_one(&client, &targets, &out, auth.as_deref()).await;
                drop(permit);
                a
            })));
        }
        let mut answers = Vec::with_capacity(handles.len());
        for h in handles {
            answers.push(match h {
                Some(h) => Some(h.await.unwrap_or_else(|e| Answer::Failed(format!("the request task failed: {e}")))),
                None => None,
            });
        }
        Ok(answers)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_and_rate() {
        assert_eq!(Timing::parse("asap").unwrap(), Timing::Asap);
        assert_eq!(Timing::parse("original").unwrap(), Timing::Scaled(1.0));
        assert_eq!(Timing::parse("x2").unwrap(), Timing::Scaled(2.0));
        assert_eq!(Timing::parse("0.5x").unwrap(), Timing::Scaled(0.5));
        assert!(Timing::parse("x0").is_err() && Timing::parse("fast").is_err());
        assert_eq!(parse_rate("10/s").unwrap(), 10.0);
        assert_eq!(parse_rate("120/m").unwrap(), 2.0);
        assert_eq!(parse_rate("5").unwrap(), 5.0);
        assert!(parse_rate("0").is_err() && parse_rate("3/week").is_err());
    }
}
