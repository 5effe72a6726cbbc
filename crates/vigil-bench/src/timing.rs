//! Timings: medians and tail percentiles of repeated runs.

use std::time::Duration;

/// Durations of repeated runs.
#[derive(Debug, Default)]
pub struct Samples(Vec<Duration>);

impl Samples {
    /// Records one run.
    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    /// The value at quantile `q` (nearest rank).
    pub fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// The median.
    pub fn median(&self) -> Duration {
        self.quantile(0.5)
    }

    /// `p50 / p99 / max` in milliseconds.
    pub fn summary(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!("{:8.1} {:8.1} {:8.1}", ms(self.median()), ms(self.quantile(0.99)), ms(self.quantile(1.0)))
    }
}
