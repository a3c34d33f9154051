//! Per-connection inbound rate limiting: a token bucket plus an abuse counter.

use std::time::{Duration, Instant};

/// A token bucket owned by one connection's reader (no sharing, so no atomics).
///
/// Holds at most `burst` tokens and refills at `per_sec`; each inbound data frame takes one.
#[derive(Debug)]
pub struct TokenBucket {
    /// Tokens available now; never above `burst`.
    tokens: f64,
    /// Capacity of the bucket.
    burst: f64,
    /// Refill rate in tokens per second.
    per_sec: f64,
    /// When `tokens` was last brought up to date.
    refilled_at: Instant,
}

impl TokenBucket {
    /// A full bucket as of `now`.
    pub fn new(per_sec: f64, burst: u32, now: Instant) -> Self {
        TokenBucket {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            per_sec,
            refilled_at: now,
        }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Counts rate-limited frames in a fixed window; too many in one window is abuse.
#[derive(Debug)]
pub struct StrikeCounter {
    /// Strikes in the current window.
    strikes: u32,
    /// Strikes that make a window abusive.
    limit: u32,
    /// Start of the current window.
    window_start: Instant,
}

/// Length of one abuse-counting window.
pub const STRIKE_WINDOW: Duration = Duration::from_secs(10);

impl StrikeCounter {
    /// No strikes yet; the first window starts at `now`.
    pub fn new(limit: u32, now: Instant) -> Self {
        StrikeCounter {
            strikes: 0,
            limit,
            window_start: now,
        }
    }

    /// Records one rate-limited frame; true when the window's strikes reach the limit.
    pub fn strike(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.window_start) >= STRIKE_WINDOW {
            self.window_start = now;
            self.strikes = 0;
        }
        self.strikes += 1;
        self.strikes >= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 3, t0);
        assert!(b.try_take(t0) && b.try_take(t0) && b.try_take(t0));
        assert!(!b.try_take(t0), "burst exhausted");
        assert!(!b.try_take(t0 + Duration::from_millis(50)), "half a token");
        assert!(
            b.try_take(t0 + Duration::from_millis(110)),
            "one token after 100 ms"
        );
        assert!(b.try_take(t0 + Duration::from_secs(60)));
        assert!(b.try_take(t0 + Duration::from_secs(60)));
        assert!(b.try_take(t0 + Duration::from_secs(60)));
        assert!(!b.try_take(t0 + Duration::from_secs(60)), "capped at burst");
    }

    #[test]
    fn strikes_reset_each_window() {
        let t0 = Instant::now();
        let mut s = StrikeCounter::new(3, t0);
        assert!(!s.strike(t0));
        assert!(!s.strike(t0));
        assert!(!s.strike(t0 + STRIKE_WINDOW), "new window");
        assert!(!s.strike(t0 + STRIKE_WINDOW));
        assert!(s.strike(t0 + STRIKE_WINDOW));
    }
}
