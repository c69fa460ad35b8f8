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
