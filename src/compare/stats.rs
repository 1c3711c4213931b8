//! Statistics for comparing a variant with the baseline across rounds.
//!
//! Rounds are paired: round *i* of every variant ran back to back, in a
//! shuffled order, under the same machine conditions. The effect is the
//! ratio of means (variant / baseline) over rounds; its 95% confidence
//! interval comes from a paired percentile bootstrap (Efron & Tibshirani,
//! *An Introduction to the Bootstrap*, 1993, ch. 13): resample rounds with
//! replacement 10,000 times, recompute the ratio, take the 2.5th and 97.5th
//! percentiles. A change counts only if the whole interval lies outside the
//! noise band around 1 (default ±5%). Outlier rounds are flagged with the
//! median absolute deviation rule (|x − median| > 3 × 1.4826 × MAD, with at
//! least five rounds), never dropped.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 10_000;
/// Fewer rounds than this cannot support a confidence interval.
pub const MIN_ROUNDS: usize = 3;
pub use crate::scenario::DEFAULT_NOISE;
/// Fixed seed: the same measurements always give the same interval.
const SEED: u64 = 0x5eed_b007;

pub use crate::result::Class;

/// 95% percentile-bootstrap interval of `sum(v) / sum(b)` over paired rounds.
/// `None` with fewer than two pairs.
pub fn bootstrap_ratio(v: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let n = v.len().min(b.len());
    if n < 2 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let (mut sv, mut sb) = (0.0, 0.0);
            for _ in 0..n {
                let i = (rng.next_u64() % n as u64) as usize;
                sv += v[i];
                sb += b[i];
            }
            sv / sb
        })
        .filter(|r| r.is_finite())
        .collect();
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    Some((at(0.025), at(0.975)))
}

/// Classifies an effect. `interval` is the bootstrap interval, or `None` for
/// a single measurement (then the point estimate decides, as for storage).
pub fn classify(ratio: f64, interval: Option<(f64, f64)>, rounds: usize, noise: f64, lower_is_better: bool) -> Class {
    let (lo, hi) = match interval {
        Some(_) if rounds < MIN_ROUNDS => return Class::Inconclusive,
        Some(i) => i,
        None if rounds > 0 => return Class::Inconclusive,
        None => (ratio, ratio),
    };
    let (down, up) = (1.0 - noise, 1.0 + noise);
    let class_low = if lower_is_better { Class::Better } else { Class::Worse };
    let class_high = if lower_is_better { Class::Worse } else { Class::Better };
    if hi < down {
        class_low
    } else if lo > up {
        class_high
    } else if lo >= down && hi <= up {
        Class::NoSignificantChange
    } else {
        Class::Inconclusive
    }
}

/// Fewer values than this cannot tell an outlier from ordinary spread.
pub const MIN_FOR_OUTLIERS: usize = 5;

/// Indexes of outlier values by the MAD rule (needs at least
/// [`MIN_FOR_OUTLIERS`] values: with three, the MAD is one value's deviation
/// and any spread looks extreme).
pub fn outliers(values: &[f64]) -> Vec<usize> {
    if values.len() < MIN_FOR_OUTLIERS {
        return Vec::new();
    }
    let median = |xs: &mut Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        let m = xs.len() / 2;
        if xs.len().is_multiple_of(2) {
            (xs[m - 1] + xs[m]) / 2.0
        } else {
            xs[m]
        }
    };
    let med = median(&mut values.to_vec());
    let mad = median(&mut values.iter().map(|x| (x - med).abs()).collect());
    if mad == 0.0 {
        return Vec::new();
    }
    values
        .iter()
        .enumerate()
        .filter(|(_, x)| (*x - med).abs() > 3.0 * 1.4826 * mad)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(v: &[f64], b: &[f64], lower_is_better: bool) -> Class {
        let ratio = v.iter().sum::<f64>() / b.iter().sum::<f64>();
        classify(ratio, bootstrap_ratio(v, b), v.len(), DEFAULT_NOISE, lower_is_better)
    }

    #[test]
    fn a_known_two_fold_effect_is_classified_in_its_direction() {
        let base = [100.0, 103.0, 98.0, 101.0, 99.0];
        let double = [201.0, 205.0, 196.0, 199.0, 203.0];
        assert_eq!(class(&double, &base, true), Class::Worse, "twice the latency");
        assert_eq!(class(&double, &base, false), Class::Better, "twice the throughput");
        assert_eq!(class(&base, &double, true), Class::Better, "half the latency");
        let (lo, hi) = bootstrap_ratio(&double, &base).unwrap();
        assert!(lo > 1.9 && hi < 2.1, "{lo}..{hi}");
    }

    #[test]
    fn identical_inputs_show_no_significant_change() {
        let a = [100.0, 103.0, 98.0, 101.0, 99.0];
        assert_eq!(class(&a, &a, true), Class::NoSignificantChange);
        let b = [101.0, 102.0, 99.0, 100.0, 98.0];
        assert_eq!(class(&a, &b, true), Class::NoSignificantChange);
    }

    #[test]
    fn noisy_or_short_evidence_is_inconclusive() {
        assert_eq!(
            class(&[50.0, 50.0], &[100.0, 100.0], true),
            Class::Inconclusive,
            "two rounds"
        );
        let noisy = [70.0, 130.0, 80.0, 125.0, 90.0];
        let base = [100.0, 100.0, 100.0, 100.0, 100.0];
        assert_eq!(class(&noisy, &base, true), Class::Inconclusive);
    }

    #[test]
    fn single_measurements_compare_by_point_against_the_band() {
        assert_eq!(classify(1.6, None, 0, DEFAULT_NOISE, true), Class::Worse);
        assert_eq!(classify(1.02, None, 0, DEFAULT_NOISE, true), Class::NoSignificantChange);
    }

    #[test]
    fn outlier_rounds_are_flagged() {
        assert_eq!(outliers(&[1.0, 1.02, 0.98, 1.01, 3.0]), vec![4]);
        assert!(outliers(&[1.0, 1.02, 0.98]).is_empty());
        assert!(
            outliers(&[1.0, 1.01, 1.3]).is_empty(),
            "three rounds cannot name an outlier"
        );
    }
}
