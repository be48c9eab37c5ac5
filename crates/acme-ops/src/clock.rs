//! The time a workflow sees. Every wait of a migration goes through a [`Clock`], so that a
//! test runs a whole migration, bakes and TTLs included, in the time its AWS calls take.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Real time, or a virtual clock that jumps ahead instead of sleeping.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Virtual(Arc<Mutex<SystemTime>>),
}

impl Clock {
    /// A virtual clock starting at `start`.
    pub fn virtual_at(start: SystemTime) -> Clock {
        Clock::Virtual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> SystemTime {
        match self {
            Clock::System => SystemTime::now(),
            Clock::Virtual(now) => *now.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// Seconds since the Unix epoch, as the record of intent writes time.
    pub fn secs(&self) -> u64 {
        self.now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
    }

    /// Wait `d` (a virtual clock moves ahead by `d` at once; it still yields, so that
    /// other tasks run).
    pub async fn sleep(&self, d: Duration) {
        match self {
            Clock::System => tokio::time::sleep(d).await,
            Clock::Virtual(now) => {
                *now.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += d;
                tokio::task::yield_now().await;
            }
        }
    }

    /// Move a virtual clock ahead by `d` (a test's "an hour later"); real time is not moved.
    pub fn advance(&self, d: Duration) {
        if let Clock::Virtual(now) = self {
            *now.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += d;
        }
    }
}

/// `SystemTime` of seconds since the epoch.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_virtual_clock_jumps_instead_of_sleeping() {
        let clock = Clock::virtual_at(at(1_000));
        let started = std::time::Instant::now();
        clock.sleep(Duration::from_secs(3600)).await;
        assert_eq!(clock.secs(), 4_600);
        assert!(started.elapsed() < Duration::from_secs(1));
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.secs(), 4_610);
    }
}
