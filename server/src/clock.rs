//! Wall-clock timestamps for frames.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch as a float, the protocol's `timestamp` unit.
pub fn now_epoch_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
