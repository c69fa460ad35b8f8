//! Which address a request comes from behind trusted proxies, and the key its budget uses.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue};
use customers_api::operators::client_addr::*;

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
