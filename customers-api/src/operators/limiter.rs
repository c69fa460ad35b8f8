//! Brute-force protection for `POST /auth/token`: attempts are limited per e-mail and per client
//! address; past the limit the answer is 429 with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Keys kept before idle ones are dropped, so random e-mails cannot grow memory without bound.
const MAX_KEYS: usize = 10_000;

pub struct LoginLimiter {
    by_email: DefaultKeyedRateLimiter<String>,
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    /// `per_minute` attempts per e-mail (in a burst or spread out), ten times that per address.
    pub fn new(per_minute: NonZeroU32) -> Self {
        let per_ip = per_minute.saturating_mul(NonZeroU32::new(10).expect("non-zero"));
        Self {
            by_email: RateLimiter::keyed(Quota::per_minute(per_minute)),
            by_ip: RateLimiter::keyed(Quota::per_minute(per_ip)),
        }
    }

    /// `Err(seconds to wait)` when this attempt is over a limit.
    pub fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), u64> {
        for limiter_len in [self.by_email.len(), self.by_ip.len()] {
            if limiter_len > MAX_KEYS {
                self.by_email.retain_recent();
                self.by_ip.retain_recent();
            }
        }
        let now = DefaultClock::default().now();
        let wait = |n: governor::NotUntil<_>| n.wait_time_from(now).as_secs().max(1);
        if let Some(ip) = ip {
            self.by_ip.check_key(&ip).map_err(wait)?;
        }
        self.by_email
            .check_key(&b2b_domain::identity::key(email))
            .map_err(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_email_and_address() {
        let l = LoginLimiter::new(NonZeroU32::new(3).unwrap());
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..3 {
            assert!(l.check("a@x.com", ip).is_ok());
        }
        let wait = l.check("A@x.com", ip).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            l.check("b@x.com", ip).is_ok(),
            "another e-mail has its own budget"
        );
    }
}
