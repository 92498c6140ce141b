//! Small statistics helpers shared by the benches.

/// Percentiles of a sample, in the sample's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest value.
    pub max: u64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (sorted in place).
    pub fn of(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        let rank = |q: usize| -> u64 {
            if samples.is_empty() {
                return 0;
            }
            let idx = (samples.len() * q).div_ceil(100).saturating_sub(1);
            samples.get(idx).copied().unwrap_or_default()
        };
        Self {
            p50: rank(50),
            p99: rank(99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_one_to_hundred_when_percentiles_then_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(
            Percentiles::of(&mut v),
            Percentiles {
                p50: 50,
                p99: 99,
                max: 100
            }
        );
        assert_eq!(Percentiles::of(&mut []), Percentiles::default());
    }
}
