//! Order statistics of samples and their bootstrap intervals.

/// The `q`-quantile (0.0 ..= 1.0) of `values` by linear interpolation
/// between the closest ranks; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    let weight = rank - low as f64;
    Some(sorted[low] + (sorted[high] - sorted[low]) * weight)
}

/// The median of `values`; `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Bootstrap resamples per interval: enough that the 2.5 % and 97.5 %
/// percentiles move by well under one sample between seeds.
pub const RESAMPLES: usize = 4000;

/// A 95 % interval `[low, high]`.
pub type Interval = [f64; 2];

/// A small deterministic generator (SplitMix64): the same seed gives the
/// same resamples, so a report's intervals are reproducible from its samples.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (`n > 0`; the modulo bias is below 2^-50
    /// for the sample counts used here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A seed derived from a text (FNV-1a), so each record gets its own
/// resampling stream, the same in every run.
pub fn seed(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The median of one resample (with replacement) of `values`.
fn resampled_median(values: &[f64], rng: &mut SplitMix64, scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend((0..values.len()).map(|_| values[rng.below(values.len())]));
    median(scratch).unwrap_or(f64::NAN)
}

/// The 95 % percentile-bootstrap interval of the median of `values`:
/// [`RESAMPLES`] resamples with replacement, drawn from a generator seeded
/// with `seed`; `None` when empty. One sample gives a zero-width interval.
pub fn median_interval(values: &[f64], seed: u64) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut scratch = Vec::with_capacity(values.len());
    let medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| resampled_median(values, &mut rng, &mut scratch))
        .collect();
    // Every resampled median lies within the sample's range; clamp away
    // rounding in the interpolation.
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some([
        quantile(&medians, 0.025)?.clamp(min, max),
        quantile(&medians, 0.975)?.clamp(min, max),
    ])
}

/// The 95 % bootstrap interval of `median(values) / median(best)`: each
/// resample draws both sets independently; `None` when either is empty or a
/// resampled best median is zero.
pub fn ratio_interval(values: &[f64], best: &[f64], seed: u64) -> Option<Interval> {
    if values.is_empty() || best.is_empty() {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut scratch = Vec::with_capacity(values.len().max(best.len()));
    let mut ratios = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        let top = resampled_median(values, &mut rng, &mut scratch);
        let bottom = resampled_median(best, &mut rng, &mut scratch);
        if bottom <= 0.0 {
            return None;
        }
        ratios.push(top / bottom);
    }
    Some([quantile(&ratios, 0.025)?, quantile(&ratios, 0.975)?])
}

/// Whether two intervals share a point.
pub fn overlap(a: Interval, b: Interval) -> bool {
    a[0] <= b[1] && b[0] <= a[1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 0.0), Some(0.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&[1.0, 2.0], 0.25), Some(1.25));
    }

    #[test]
    fn the_median_interval_of_a_known_sample_brackets_the_order_statistics() {
        // 1, 2, …, 101: the median is 51 and the distribution-free 95 %
        // interval of the median of 101 values lies between the 41st and
        // 61st order statistics; the percentile bootstrap agrees within
        // a sample or two at each end.
        let values: Vec<f64> = (1..=101).map(f64::from).collect();
        let [low, high] = median_interval(&values, 7).unwrap();
        assert!((40.0..=44.0).contains(&low), "low {low}");
        assert!((58.0..=62.0).contains(&high), "high {high}");
        // Deterministic: the same seed gives the same interval.
        assert_eq!(median_interval(&values, 7), Some([low, high]));
        // A constant sample has a zero-width interval; one sample too.
        assert_eq!(median_interval(&[3.0; 8], 1), Some([3.0, 3.0]));
        assert_eq!(median_interval(&[5.0], 1), Some([5.0, 5.0]));
        assert_eq!(median_interval(&[], 1), None);
    }

    #[test]
    fn the_ratio_interval_covers_the_ratio_of_the_medians() {
        let fast: Vec<f64> = (0..10).map(|i| 1.0 + f64::from(i) * 0.01).collect();
        let slow: Vec<f64> = fast.iter().map(|x| x * 3.0).collect();
        let [low, high] = ratio_interval(&slow, &fast, 3).unwrap();
        assert!(
            low < 3.0 && 3.0 < high && low > 2.8 && high < 3.2,
            "{low} {high}"
        );
        assert_eq!(ratio_interval(&slow, &[0.0], 3), None);
    }

    #[test]
    fn intervals_overlap_when_they_share_a_point() {
        assert!(overlap([1.0, 2.0], [2.0, 3.0]));
        assert!(overlap([1.0, 5.0], [2.0, 3.0]));
        assert!(!overlap([1.0, 2.0], [2.5, 3.0]));
    }
}
