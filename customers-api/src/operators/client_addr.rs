//! Which client a log-in comes from. Behind a load balancer the TCP peer is the balancer, so
//! when the peer is one of `TRUSTED_PROXIES` the client is the right-most `X-Forwarded-For`
//! entry that is not itself a trusted proxy (each proxy appends the address it was reached
//! from; entries further left are whatever the client chose to send). From any other peer the
//! header is ignored. IPv6 clients are keyed by their /64: one host usually owns a whole /64.

use std::net::IpAddr;

use anyhow::Context;
use axum::http::HeaderMap;
use ipnet::{IpNet, Ipv6Net};

/// The networks whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated CIDRs (`10.0.0.0/8, fd00::/8`) or single addresses; empty trusts none.
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .with_context(|| {
                        format!(
                            "TRUSTED_PROXIES: {s:?} is not a CIDR such as 10.0.0.0/8 or an address"
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with these headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(parse_hop)
            .collect::<Option<_>>()
            .unwrap_or_default();
        // Right to left, past our own proxies; an all-trusted chain is an internal client.
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
/// `None` for anything else: a chain with a malformed entry our proxy appended is not believed.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are the IPv4 clients they stand for.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The budget key of a client address: an IPv4 address as it is, an IPv6 one as its /64.
pub fn budget_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => Ipv6Net::new(v6, 64)
            .map(|n| n.trunc().to_string())
            .unwrap_or_else(|_| v6.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let none = TrustedProxies::parse("").unwrap();
        assert_eq!(
            none.client(ip("203.0.113.9"), &xff(&["1.1.1.1"])),
            ip("203.0.113.9")
        );
        let lb = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            lb.client(ip("203.0.113.9"), &xff(&["1.1.1.1"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let lb = TrustedProxies::parse(" 10.0.0.0/8 , 192.168.1.7 ").unwrap();
        let peer = ip("10.1.2.3");
        // The client spoofs a left-most entry; the balancer appends what it saw.
        let h = xff(&["6.6.6.6, 198.51.100.4"]);
        assert_eq!(lb.client(peer, &h), ip("198.51.100.4"));
        // Two proxies of ours in the chain, over two header lines.
        let h = xff(&["6.6.6.6, 198.51.100.4", "192.168.1.7"]);
        assert_eq!(lb.client(peer, &h), ip("198.51.100.4"));
        // Ports and brackets as some proxies write them.
        assert_eq!(
            lb.client(peer, &xff(&["198.51.100.4:5123"])),
            ip("198.51.100.4")
        );
        assert_eq!(
            lb.client(peer, &xff(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
        // No header, a malformed chain, or only our own hops.
        assert_eq!(lb.client(peer, &HeaderMap::new()), peer);
        assert_eq!(lb.client(peer, &xff(&["198.51.100.4, junk"])), peer);
        assert_eq!(lb.client(peer, &xff(&["10.9.9.9"])), ip("10.9.9.9"));
    }

    #[test]
    fn mapped_addresses_are_their_ipv4_clients() {
        let lb = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = ip("::ffff:10.1.2.3");
        assert_eq!(
            lb.client(peer, &xff(&["::ffff:198.51.100.4"])),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(budget_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            budget_key(ip("2001:db8:1:2:ffff::9")),
            budget_key(ip("2001:db8:1:2::1"))
        );
        assert_ne!(
            budget_key(ip("2001:db8:1:3::1")),
            budget_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(budget_key(ip("198.51.100.4")), "198.51.100.4");
    }

    #[test]
    fn bad_lists_are_refused_with_the_setting_named() {
        let e = TrustedProxies::parse("10.0.0.0/8, nonsense").unwrap_err();
        assert!(
            e.to_string()
                .contains(b2b_platform::config::names::TRUSTED_PROXIES),
            "{e}"
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }
}
