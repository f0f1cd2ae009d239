//! Genesys Cloud regions and their hosts, written by hand from
//! ../shared/docs/genesys-cloud-facts.md §5 (SDK-JS `PureCloudRegionHosts.js`, SDK-NET
//! `PureCloudRegionHosts.cs`, WM-JAVA). Host pattern: `api.{domain}`, `login.{domain}`,
//! `webmessaging.{domain}`, `api-cdn.{domain}`, `apps.{domain}`.

/// One region: the SDK's key and its domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub key: &'static str,
    pub domain: &'static str,
}

/// All 18 regions, in the SDK's order.
pub const REGIONS: &[Region] = &[
    Region { key: "us_east_1", domain: "mypurecloud.com" },
    Region { key: "eu_west_1", domain: "mypurecloud.ie" },
    Region { key: "ap_southeast_2", domain: "mypurecloud.com.au" },
    Region { key: "ap_northeast_1", domain: "mypurecloud.jp" },
    Region { key: "eu_central_1", domain: "mypurecloud.de" },
    Region { key: "us_west_2", domain: "usw2.pure.cloud" },
    Region { key: "ca_central_1", domain: "cac1.pure.cloud" },
    Region { key: "ap_northeast_2", domain: "apne2.pure.cloud" },
    Region { key: "eu_west_2", domain: "euw2.pure.cloud" },
    Region { key: "ap_south_1", domain: "aps1.pure.cloud" },
    Region { key: "us_east_2", domain: "use2.us-gov-pure.cloud" },
    Region { key: "sa_east_1", domain: "sae1.pure.cloud" },
    Region { key: "me_central_1", domain: "mec1.pure.cloud" },
    Region { key: "ap_northeast_3", domain: "apne3.pure.cloud" },
    Region { key: "eu_central_2", domain: "euc2.pure.cloud" },
    Region { key: "mx_central_1", domain: "mxc1.pure.cloud" },
    Region { key: "ap_southeast_1", domain: "apse1.pure.cloud" },
    Region { key: "eusc_de_east_1", domain: "edee1.eusc-pure.cloud" },
];

/// The role a Genesys host plays in its region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRole {
    Api,
    Login,
    WebMessaging,
    Other,
}

/// The Genesys Cloud region a host belongs to, and the host's role, if it is a Genesys host.
/// `api.mypurecloud.ie` → (eu_west_1, Api). Matching is on the whole domain suffix, longest
/// first, so `mypurecloud.com.au` is never taken for `mypurecloud.com`.
pub fn region_of_host(host: &str) -> Option<(&'static Region, HostRole)> {
    let host = host.trim_end_matches('.');
    let host = host.split(':').next().unwrap_or("");
    // This runs for every request and most hosts are not Genesys hosts: no allocation unless
    // the host needs lowering.
    let lowered;
    let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        lowered = host.to_ascii_lowercase();
        lowered.as_str()
    } else {
        host
    };
    let mut best: Option<&'static Region> = None;
    for r in REGIONS {
        let matches = host == r.domain
            || (host.len() > r.domain.len()
                && host.ends_with(r.domain)
                && host.as_bytes()[host.len() - r.domain.len() - 1] == b'.');
        if matches && best.is_none_or(|b| r.domain.len() > b.domain.len()) {
            best = Some(r);
        }
    }
    let r = best?;
    let prefix = host.strip_suffix(r.domain).unwrap_or("").trim_end_matches('.');
    let role = match prefix {
        "api" => HostRole::Api,
        "login" => HostRole::Login,
        "webmessaging" => HostRole::WebMessaging,
        _ => HostRole::Other,
    };
    Some((r, role))
}

/// A region by its SDK key.
pub fn by_key(key: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_suffix_wins() {
        let (r, role) = region_of_host("api.mypurecloud.com.au").unwrap();
        assert_eq!((r.key, role), ("ap_southeast_2", HostRole::Api));
        let (r, role) = region_of_host("login.mypurecloud.com").unwrap();
        assert_eq!((r.key, role), ("us_east_1", HostRole::Login));
        let (r, role) = region_of_host("webmessaging.euw2.pure.cloud").unwrap();
        assert_eq!((r.key, role), ("eu_west_2", HostRole::WebMessaging));
        assert!(region_of_host("api.example.com").is_none());
        assert!(region_of_host("evilmypurecloud.com").is_none());
        assert_eq!(
            region_of_host("API.MyPureCloud.IE:443").map(|(r, role)| (r.key, role)),
            Some(("eu_west_1", HostRole::Api))
        );
        assert!(region_of_host("").is_none());
        assert_eq!(REGIONS.len(), 18);
    }
}
