//! Retries: bounded exponential backoff with full jitter, for throttling, concurrent
//! modification, 5xx and transport failures. The SDK's own retries are turned off so this is the
//! one place that decides (and logs) them.

use std::time::Duration;

/// How retries back off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff ceiling.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

/// Retries when the provider's `max_retries` is not set.
pub const DEFAULT_MAX_RETRIES: u32 = 25;

impl RetryPolicy {
    /// The ceiling of the backoff before retry number `retry` (0-based): doubles from
    /// `base_delay`, capped at `max_delay`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(20));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The backoff before retry number `retry`: uniform in `[0, ceiling]` ("full jitter"), so
    /// concurrent callers that failed together do not retry together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::random_range(0..=nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert_eq!(p.ceiling(0), Duration::from_millis(100));
        assert_eq!(p.ceiling(1), Duration::from_millis(200));
        assert_eq!(p.ceiling(3), Duration::from_millis(800));
        assert_eq!(p.ceiling(4), Duration::from_secs(1));
        assert_eq!(p.ceiling(1000), Duration::from_secs(1));
    }

    #[test]
    fn backoff_is_jittered_within_the_ceiling() {
        let p = RetryPolicy::default();
        let samples: Vec<_> = (0..64).map(|_| p.backoff(3)).collect();
        assert!(samples.iter().all(|d| *d <= p.ceiling(3)));
        // 64 draws from a continuous range are not all equal unless there is no jitter.
        assert!(samples.iter().any(|d| *d != samples[0]));
    }
}
