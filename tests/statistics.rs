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
use schemabench::compare::stats::{
    Class, DEFAULT_NOISE, class_level, classify, prediction, round_estimate, round_estimate_at, rounds_needed,
};

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

/// Effects per variant in a run of two operations: 7 per operation, 3 for
/// the variant (as `compare` computes them).
const FAMILY: usize = 2 * 7 + 3;

#[test]
fn identical_designs_are_almost_never_called_different() {
    // A whole run's worth of effects, each with its own noise (independent:
    // the worst case for the family-wise level), classified as compare does.
    let level = class_level(FAMILY);
    for (i, rounds) in [3, 5, 10].into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + i as u64);
        let split = (0..EXPERIMENTS)
            .filter(|_| {
                (0..FAMILY).any(|_| {
                    let ratios = experiment(&mut rng, 1.0, rounds, true);
                    let e = round_estimate_at(&ratios, level).unwrap();
                    matches!(
                        classify(e.ratio, e.interval, e.rounds, DEFAULT_NOISE, true),
                        Class::Better | Class::Worse
                    )
                })
            })
            .count();
        let rate = split as f64 / EXPERIMENTS as f64;
        eprintln!("{rounds} rounds: identical designs split in {rate:.4} of runs of {FAMILY} effects");
        assert!(
            rate <= 0.05,
            "{rounds} rounds: identical designs split in {rate:.3} of runs"
        );
    }
}

#[test]
fn the_suggested_round_count_settles_far_more_often_than_rerunning_as_before() {
    // An effect of 0.85x measured over 3 rounds is usually unsettled. The
    // suggestion is a point estimate from three rounds' spread, so it is a
    // guide, not a promise: running that many rounds must settle the effect
    // far more often than running 3 rounds again.
    let level = class_level(FAMILY);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let settles = |rng: &mut ChaCha8Rng, n: usize| {
        let e = round_estimate_at(&experiment(rng, 0.85, n, true), level).unwrap();
        classify(e.ratio, e.interval, e.rounds, DEFAULT_NOISE, true) == Class::Better
    };
    let (mut suggested, mut with_suggestion, mut with_three) = (0, 0, 0);
    for _ in 0..500 {
        let e = round_estimate_at(&experiment(&mut rng, 0.85, 3, true), level).unwrap();
        if classify(e.ratio, e.interval, e.rounds, DEFAULT_NOISE, true) != Class::Inconclusive {
            continue;
        }
        let Some(n) = rounds_needed(&e, DEFAULT_NOISE, level) else {
            continue;
        };
        suggested += 1;
        with_suggestion += settles(&mut rng, n) as usize;
        with_three += settles(&mut rng, 3) as usize;
    }
    eprintln!(
        "of {suggested} unsettled: {with_suggestion} settled with the suggested rounds, {with_three} with 3 again"
    );
    assert!(suggested > 20, "too few unsettled experiments to judge: {suggested}");
    assert!(
        with_suggestion >= 3 * with_three.max(1),
        "suggested rounds settled {with_suggestion}, 3 rounds {with_three}"
    );
}

/// Runs of one scenario on one machine, each the geometric mean of its
/// rounds: a run-level shift (the machine's state that hour) shared by its
/// rounds, plus round noise averaged over three rounds. The shift is what
/// rounds within one run cannot see.
fn run_logs(rng: &mut ChaCha8Rng, runs: usize, effect: f64) -> Vec<f64> {
    let shift = Normal::new(0.0, 0.08).unwrap();
    let round = Normal::new(0.0, WINDOW_SD).unwrap();
    (0..runs)
        .map(|_| effect.ln() + shift.sample(rng) + (0..3).map(|_| round.sample(rng)).sum::<f64>() / 3.0)
        .collect()
}

#[test]
fn the_prediction_interval_for_a_new_run_covers_it_95_percent_of_the_time() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for baseline_runs in [3, 5, 10] {
        let covered = (0..EXPERIMENTS)
            .filter(|_| {
                let earlier = run_logs(&mut rng, baseline_runs, 1.0);
                let now = run_logs(&mut rng, 1, 1.0)[0];
                let (_, lo, hi) = prediction(&earlier, now, 0.95).unwrap();
                lo <= 1.0 && 1.0 <= hi
            })
            .count() as f64
            / EXPERIMENTS as f64;
        eprintln!("{baseline_runs} baseline runs: a new identical run inside the 95% prediction interval {covered:.3}");
        assert!((0.935..=0.965).contains(&covered), "{baseline_runs} runs: {covered}");
    }
}

#[test]
fn a_nightly_run_of_unchanged_designs_is_rarely_called_a_regression() {
    // 40 metrics per variant, as a scenario with five operations has; each
    // judged at the shared family-wise level.
    let (metrics, nights) = (40, 1000);
    let level = class_level(metrics);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut false_alarms = 0;
    let mut single_run_alarms = 0;
    for _ in 0..nights {
        let mut alarm = false;
        let mut single = false;
        for _ in 0..metrics {
            let earlier = run_logs(&mut rng, 3, 1.0);
            let now = run_logs(&mut rng, 1, 1.0)[0];
            let (ratio, lo, hi) = prediction(&earlier, now, level).unwrap();
            alarm |= classify(ratio, Some((lo, hi)), 3, DEFAULT_NOISE, true) == Class::Worse;
            // A one-run baseline with its three rounds paired: only round
            // noise is in the interval, the run shift is not.
            let round = Normal::new(0.0, WINDOW_SD).unwrap();
            let (a, b) = (run_logs(&mut rng, 1, 1.0)[0], run_logs(&mut rng, 1, 1.0)[0]);
            let ratios: Vec<f64> = (0..3)
                .map(|_| (a - b + round.sample(&mut rng) - round.sample(&mut rng)).exp())
                .collect();
            let e = round_estimate_at(&ratios, level).unwrap();
            single |= classify(e.ratio, e.interval, 3, DEFAULT_NOISE, true) == Class::Worse;
        }
        false_alarms += usize::from(alarm);
        single_run_alarms += usize::from(single);
    }
    let rate = false_alarms as f64 / nights as f64;
    let single_rate = single_run_alarms as f64 / nights as f64;
    eprintln!(
        "unchanged designs, {metrics} metrics a night: a false regression on {rate:.3} of nights with a 3-run \
         baseline, {single_rate:.3} with a 1-run baseline"
    );
    assert!(rate <= 0.05, "{rate}");
    assert!(
        single_rate > rate,
        "the one-run baseline should show the problem it has"
    );
}

#[test]
fn the_more_baseline_runs_the_smaller_the_slowdown_that_is_caught() {
    // Power at the family-wise level of 40 metrics: with 3 baseline runs the
    // t quantile (2 degrees of freedom) is large, so only big breaks are
    // caught; 5 and 10 runs catch ordinary slowdowns.
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let level = class_level(40);
    for (runs, slowdown, at_least) in [(3, 100.0, 0.9), (5, 3.0, 0.8), (10, 2.0, 0.9)] {
        let caught = (0..EXPERIMENTS)
            .filter(|_| {
                let earlier = run_logs(&mut rng, runs, 1.0);
                let now = run_logs(&mut rng, 1, slowdown)[0];
                let (ratio, lo, hi) = prediction(&earlier, now, level).unwrap();
                classify(ratio, Some((lo, hi)), runs, DEFAULT_NOISE, true) == Class::Worse
            })
            .count() as f64
            / EXPERIMENTS as f64;
        eprintln!("{runs} baseline runs: a {slowdown}× slowdown called a regression in {caught:.3} of nights");
        assert!(caught >= at_least, "{runs} runs, {slowdown}×: {caught}");
    }
}

/// The recall interval (`ops[].recall.interval`): each round builds a fresh
/// index (a graph as good as chance makes it: the copy's recall varies by
/// 0.01 around the true one) and asks 100 queries of varying difficulty,
/// each a share of 10 neighbours found. The 95% interval of the mean across
/// rounds must cover the true recall 95% of the time.
#[test]
fn the_recall_interval_covers_the_true_recall_95_percent_of_the_time() {
    let true_recall: f64 = 0.92;
    for rounds in [3, 5, 10] {
        let mut rng = ChaCha8Rng::seed_from_u64(17 + rounds as u64);
        let copy = Normal::new(0.0, 0.01).unwrap();
        let difficulty = Normal::new(0.0, 0.05).unwrap();
        let covered = (0..EXPERIMENTS)
            .filter(|_| {
                let means: Vec<f64> = (0..rounds)
                    .map(|_| {
                        let built = true_recall + copy.sample(&mut rng);
                        let found: u32 = (0..100)
                            .map(|_| {
                                let p = (built + difficulty.sample(&mut rng)).clamp(0.0, 1.0);
                                (0..10).filter(|_| rng.random_bool(p)).count() as u32
                            })
                            .sum();
                        f64::from(found) / 1000.0
                    })
                    .collect();
                let (_, interval) = schemabench::util::mean_interval(&means);
                let (lo, hi) = interval.unwrap();
                lo <= true_recall && true_recall <= hi
            })
            .count();
        let rate = covered as f64 / EXPERIMENTS as f64;
        eprintln!(
            "recall interval, {rounds} rounds: covers the true recall in {:.1}%",
            rate * 100.0
        );
        assert!((0.93..=0.97).contains(&rate), "{rounds} rounds: {rate}");
    }
}
