//! Simulation tests of the statistics the tool prints: thousands of
//! synthetic experiments with a known effect and realistic noise, checking
//! the coverage of the 95% interval and how often identical designs are
//! called different.
//!
//! The noise model: each round measures a fresh copy of each design, so a
//! round's log ratio is the true effect plus the difference of two window
//! noises (machine state, scheduling) and two copy noises (file and page
//! layout, index build). One window in twenty is three times as noisy, as
//! on a shared machine.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use schemabench::compare::stats::{Class, DEFAULT_NOISE, classify, round_estimate, rounds_needed};

const EXPERIMENTS: usize = 4000;
const WINDOW_SD: f64 = 0.04;
const COPY_SD: f64 = 0.03;

/// Per-round ratios of one experiment. `fresh_copies: false` models the old
/// runner: one copy per design measured in every round.
fn experiment(rng: &mut ChaCha8Rng, effect: f64, rounds: usize, fresh_copies: bool) -> Vec<f64> {
    let window = Normal::new(0.0, WINDOW_SD).unwrap();
    let copy = Normal::new(0.0, COPY_SD).unwrap();
    let noisy = |rng: &mut ChaCha8Rng| {
        let scale = if rng.random_bool(0.05) { 3.0 } else { 1.0 };
        window.sample(rng) * scale
    };
    let fixed = (copy.sample(rng), copy.sample(rng));
    (0..rounds)
        .map(|_| {
            let (cv, cb) = if fresh_copies {
                (copy.sample(rng), copy.sample(rng))
            } else {
                fixed
            };
            (effect.ln() + noisy(rng) - noisy(rng) + cv - cb).exp()
        })
        .collect()
}

fn coverage(effect: f64, rounds: usize, fresh_copies: bool, seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let covered = (0..EXPERIMENTS)
        .filter(|_| {
            let e = round_estimate(&experiment(&mut rng, effect, rounds, fresh_copies)).unwrap();
            let (lo, hi) = e.interval.unwrap();
            lo <= effect && effect <= hi
        })
        .count();
    covered as f64 / EXPERIMENTS as f64
}

#[test]
fn the_95_percent_interval_covers_the_true_effect_95_percent_of_the_time() {
    for (i, rounds) in [3, 5, 10].into_iter().enumerate() {
        for (j, effect) in [1.0, 0.8, 1.3].into_iter().enumerate() {
            let c = coverage(effect, rounds, true, 17 + (i * 3 + j) as u64);
            eprintln!("{rounds} rounds, effect {effect}: coverage {c:.3}");
            assert!(
                (0.93..=0.97).contains(&c),
                "{rounds} rounds, effect {effect}: coverage {c:.3}, outside 0.93–0.97"
            );
        }
    }
}

#[test]
fn measuring_one_copy_in_every_round_would_overstate_the_evidence() {
    // Why each round gets a fresh copy: with one copy per design, copy noise
    // is a fixed offset that rounds cannot average away.
    let c = coverage(1.0, 10, false, 99);
    eprintln!("one copy for all 10 rounds: coverage {c:.3}");
    assert!(c < 0.90, "one copy for all rounds still covered {c:.3}");
}

#[test]
fn identical_designs_are_almost_never_called_different() {
    for (i, rounds) in [3, 5, 10].into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + i as u64);
        let split = (0..EXPERIMENTS)
            .filter(|_| {
                let e = round_estimate(&experiment(&mut rng, 1.0, rounds, true)).unwrap();
                matches!(
                    classify(e.ratio, e.interval, e.rounds, DEFAULT_NOISE, true),
                    Class::Better | Class::Worse
                )
            })
            .count();
        let rate = split as f64 / EXPERIMENTS as f64;
        eprintln!("{rounds} rounds: identical designs split in {rate:.4}");
        assert!(rate <= 0.05, "{rounds} rounds: identical designs split in {rate:.3}");
    }
}

#[test]
fn the_suggested_round_count_settles_the_effect_at_the_same_noise() {
    // An effect of 0.85x measured over 3 rounds is often unsettled; running
    // the suggested number of rounds settles it in most experiments.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut suggested, mut settled) = (0, 0);
    for _ in 0..500 {
        let e = round_estimate(&experiment(&mut rng, 0.85, 3, true)).unwrap();
        if classify(e.ratio, e.interval, e.rounds, DEFAULT_NOISE, true) != Class::Inconclusive {
            continue;
        }
        let Some(n) = rounds_needed(&e, DEFAULT_NOISE) else {
            continue;
        };
        suggested += 1;
        let again = round_estimate(&experiment(&mut rng, 0.85, n, true)).unwrap();
        if classify(again.ratio, again.interval, again.rounds, DEFAULT_NOISE, true) == Class::Better {
            settled += 1;
        }
    }
    assert!(suggested > 20, "too few unsettled experiments to judge: {suggested}");
    let rate = settled as f64 / suggested as f64;
    eprintln!("suggested rounds settled {settled} of {suggested}");
    assert!(
        rate >= 0.5,
        "the suggested rounds settled only {rate:.2} of {suggested}"
    );
}
