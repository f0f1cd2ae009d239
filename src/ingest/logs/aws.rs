//! AWS load balancer access logs (space-separated, quoted fields).
//!
//! - Application Load Balancer: `type time elb client:port target:port request_processing_time
//!   target_processing_time response_processing_time elb_status_code target_status_code
//!   received_bytes sent_bytes "request" "user_agent" ssl_cipher ssl_protocol target_group_arn
//!   "trace_id" "domain_name" "chosen_cert_arn" matched_rule_priority request_creation_time
//!   "actions_executed" "redirect_url" "error_reason" ...`;
//! - Classic Load Balancer: `time elb client:port backend:port request_processing_time
//!   backend_processing_time response_processing_time elb_status_code backend_status_code
//!   received_bytes sent_bytes "request" "user_agent" ssl_cipher ssl_protocol`.
//!
//! Neither records headers (beyond the user agent), bodies or credentials. The ALB's
//! `authenticate` action (OIDC/Cognito) is kept as a detail; the user it authenticated is not
//! logged.

use super::clf::{tokens, unescape, unescaped, Tok};
use super::{iso_time, number, secs_ms, value, Record};
use crate::model::Unrecorded;

pub fn record(line: &str) -> Option<Record<'_>> {
    let toks = tokens(line)?;
    let first = toks.first()?.text();
    let alb = matches!(first, "http" | "https" | "h2" | "grpcs" | "ws" | "wss");
    let base = if alb { 1 } else { 0 };
    let time = iso_time(toks.get(base)?.text())?;
    let f = |i: usize| toks.get(base + i).map(|t| t.text()).unwrap_or("");
    let Some(Tok::Quoted(req)) = toks.get(base + 11) else { return None };
    if !f(2).contains(':') && f(2) != "-" {
        return None;
    }
    let status = number(f(7)).and_then(|s| u16::try_from(s).ok());
    let mut r = Record {
        family: if alb { "aws alb" } else { "aws classic elb" },
        time: Some(time),
        status,
        unrecorded: Unrecorded::ACCESS_LOG,
        ..Default::default()
    };
    r.client = value(f(2)).map(|c| c.rsplit_once(':').map(|x| x.0).unwrap_or(c).into());
    r.upstream = value(f(3)).map(Into::into);
    let times: Vec<f64> = [f(4), f(5), f(6)].iter().filter_map(|t| secs_ms(t)).collect();
    r.duration_ms = (times.len() == 3).then(|| times.iter().sum());
    r.request_size = number(f(9));
    r.response_size = number(f(10));
    let req = unescape(req);
    if let Some((m, t, p)) = super::request_line(&req) {
        r.method = m.to_string().into();
        // ALB logs `https://host:443/path`: drop the default port.
        r.target = t.replacen(":443/", "/", 1).replacen(":80/", "/", 1).into();
        if t.starts_with("https://") && t.contains(":80/") {
            r.target = t.to_string().into();
        }
        r.http_version = p.to_string().into();
    }
    if let Some(Tok::Quoted(ua)) = toks.get(base + 12) {
        r.user_agent = value(ua).map(unescaped);
    }
    if let Some(target_status) = value(f(8)) {
        if Some(target_status) != status.map(|s| s.to_string()).as_deref() {
            r.details.push(format!("target status {target_status}"));
        }
    }
    if alb {
        let q = |i: usize| match toks.get(i) {
            Some(Tok::Quoted(s)) => value(s).map(Into::into),
            _ => None,
        };
        r.request_id = q(17);
        r.host = q(18);
        if let Some(actions) = q(22) {
            r.details.push(format!("actions {actions}"));
        }
        if let Some(reason) = q(24) {
            r.details.push(format!("error_reason {reason}"));
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_elb() {
        let l = r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -"#;
        let r = record(l).unwrap();
        assert_eq!(r.family, "aws classic elb");
        assert_eq!(r.url(), "http://www.example.com/");
        assert_eq!(r.status, Some(200));
        assert_eq!(r.client.as_deref(), Some("192.168.131.39"));
    }
}
