use super::*;
use crate::backend::{Sizes, VariantSetup};
use crate::result::*;
use crate::run::{AnswerReport, CheckPhase, Mismatch};
use crate::scenario::{BackendKind, Guard, GuardLimit, LoadModel, LoadShape, Objective};
use std::num::NonZeroU32;
use std::time::Duration;

/// An operation whose p99 per round is given (ns); p50 is a tenth of it.
fn op(name: &str, p99s: &[u64]) -> OpResult {
    let lat = |p99: u64| Latency {
        p50: p99 / 10,
        p90: p99 / 2,
        p99,
        p999: p99,
        max: p99,
        mean: p99 as f64 / 5.0,
    };
    let merged = p99s.iter().sum::<u64>() / p99s.len() as u64;
    OpResult {
        op: name.into(),
        count: 10_000 * p99s.len() as u64,
        errors: Default::default(),
        first_error: None,
        rows: 0,
        throughput_per_s: 1e9 / merged as f64,
        latency_ns: lat(merged),
        service_ns: None,
        rounds: p99s
            .iter()
            .map(|&p| RoundOp {
                count: 10_000,
                throughput_per_s: 1e9 / p as f64,
                latency_ns: lat(p),
                service_ns: None,
                per_second: vec![],
                p99_per_second_ns: vec![],
                started_at_unix_ns: None,
                histogram: None,
                service_histogram: None,
            })
            .collect(),
        histogram: String::new(),
        recall: None,
    }
}

pub(super) fn variant(name: &str, read: &[u64], write: &[u64], bytes: u64) -> VariantResult {
    VariantResult {
        name: name.into(),
        setup: VariantSetup {
            clone_seconds: 0.0,
            setup_seconds: 0.0,
            statement_seconds: vec![],
            analyze_seconds: 0.0,
        },
        setup_rounds: vec![],
        sizes: Sizes {
            total_bytes: bytes,
            objects: vec![],
        },
        rounds_completed: read.len(),
        ops: vec![op("read", read), op("write", write)],
        plans: vec![],
        added_indexes: vec![],
        unused_indexes: vec![],
        server_counters: None,
        schedule: None,
        client_cpu_max: 0.0,
        notices: 0,
        reconnects: 0,
        warnings: vec![],
        slo: None,
        machine_busy_max: None,
        equal_load: None,
        evidence: vec![],
        groups: vec![],
        own_load: None,
    }
}

/// `v` with an equal-load phase whose service times are `read` and
/// `write` per round (response times three times those: queueing).
fn with_equal_load(mut v: VariantResult, read: &[u64], write: &[u64]) -> VariantResult {
    let service = |mut o: OpResult| {
        o.service_ns = Some(o.latency_ns);
        o.latency_ns.p50 *= 3;
        o.latency_ns.p99 *= 3;
        for r in &mut o.rounds {
            r.service_ns = Some(r.latency_ns);
            r.latency_ns.p50 *= 3;
            r.latency_ns.p99 *= 3;
        }
        o
    };
    v.equal_load = Some(EqualLoadResult {
        rounds_completed: read.len(),
        ops: vec![service(op("read", read)), service(op("write", write))],
        schedule: None,
        server_counters: None,
        machine_busy_max: None,
        warnings: vec![],
    });
    v
}

pub(super) fn result(variants: Vec<VariantResult>, mismatches: Vec<Mismatch>) -> RunResult {
    let load = LoadShape {
        model: LoadModel::Closed {
            clients: NonZeroU32::MIN,
        },
        warmup: Duration::ZERO,
        duration: Duration::from_secs(1),
        rounds: NonZeroU32::MIN,
        cache: Default::default(),
        op_timeout: None,
        groups: Vec::new(),
    };
    RunResult {
        schema_version: SCHEMA_VERSION,
        run: RunInfo {
            id: "t".into(),
            started_at: String::new(),
            finished_at: String::new(),
            complete: true,
            interrupted: false,
            failure: None,
            quick: false,
            fit_for_decisions: true,
            unfit_because: Vec::new(),
            load_model: "closed".into(),
            peak_rss_bytes: None,
            shard: None,
        },
        scenario: ScenarioSummary {
            name: "t".into(),
            question: "q".into(),
            rule: None,
            description: None,
            path: String::new(),
            workload: "w".into(),
            workload_path: String::new(),
            backends: vec![BackendKind::Sqlite],
            params: Default::default(),
            load,
            mix: vec![],
            variants: vec![],
            verdict_rule: VerdictRuleSummary {
                baseline: "base".into(),
                goal: String::new(),
                guards: vec![],
                noise: stats::DEFAULT_NOISE,
            },
            evidence: vec![],
        },
        seed: 1,
        order_seed: 1,
        environment: crate::environment::Environment::detect(),
        backends: vec![BackendResult {
            backend: BackendKind::Sqlite,
            version: "3".into(),
            server: "embedded".into(),
            placement: crate::backend::Placement {
                same_host: Some(true),
                transport: None,
                summary: "embedded".into(),
            },
            settings: Default::default(),
            relaxed_durability: vec![],
            load: LoadResult {
                tables: vec![],
                rows: 0,
                seconds: 0.0,
                rows_per_sec: 0.0,
                data_checksum: String::new(),
            },
            answers: AnswerReport {
                checked_ops: vec!["read".into()],
                unchecked_ops: vec![],
                recall_ops: vec![],
                samples_per_op: 20,
                writes_applied: 0,
                mismatches,
            },
            round_order: vec![],
            equal_load_rate_per_s: None,
            variants,
        }],
        comparison: Default::default(),
    }
}

pub(super) fn rule(guards: Vec<Guard>) -> VerdictRule {
    VerdictRule {
        baseline: crate::scenario::VariantId(0),
        goal: Objective {
            op: Some(crate::scenario::OpId(0)),
            metric: Metric::P99,
        },
        guards,
        noise: stats::DEFAULT_NOISE,
        equal_load: None,
    }
}

pub(super) fn names() -> Vec<String> {
    vec!["read".into(), "write".into()]
}

/// The first backend's verdict and its Markdown sentence.
pub(super) fn judge(r: &RunResult, rule: &VerdictRule) -> (Verdict, String) {
    let v = compare(r, rule, &names()).verdicts[0].clone();
    let text = crate::report::verdict::sentence(&v, crate::report::verdict::Style::Markdown);
    (v, text)
}

fn write_guard(max: f64) -> Guard {
    Guard {
        op: Some(crate::scenario::OpId(1)),
        metric: Metric::P99,
        limit: GuardLimit::Regression(max),
    }
}

#[test]
fn the_fastest_variant_that_passes_its_guards_wins() {
    let r = result(
        vec![
            variant("base", &[1000, 1100, 1050], &[100, 100, 100], 1000),
            variant("fast_but_heavy", &[100, 110, 105], &[200, 210, 190], 1000),
            variant("good", &[300, 310, 290], &[110, 105, 115], 1200),
        ],
        vec![],
    );
    let (v, text) = judge(&r, &rule(vec![write_guard(0.25)]));
    assert_eq!(v.outcome, Outcome::Winner);
    assert_eq!(v.winner.as_deref(), Some("good"));
    assert!(text.contains("**good** wins"), "{}", text);
    assert!(text.contains("write p99"), "{}", text);
    assert!(
        text.contains("fast_but_heavy") && text.contains("guard failed"),
        "{}",
        text
    );
    let heavy = v.candidates.iter().find(|c| c.variant == "fast_but_heavy").unwrap();
    assert!(!heavy.qualified);
    assert!(!heavy.guards[0].pass);
}

#[test]
fn rounds_that_disagree_make_the_verdict_inconclusive() {
    let r = result(
        vec![
            variant("base", &[1000, 1000, 1000], &[100; 3], 1000),
            variant("noisy", &[700, 900, 800], &[100; 3], 1000),
        ],
        vec![],
    );
    let (v, text) = judge(&r, &rule(vec![]));
    assert_eq!(v.outcome, Outcome::Inconclusive);
    assert_eq!(v.winner, None);
    assert!(
        text.contains("inconclusive — about") && text.contains("rounds would settle it"),
        "{}",
        text
    );
}

#[test]
fn a_variant_with_different_answers_never_wins() {
    let mismatch = Mismatch {
        backend: BackendKind::Sqlite,
        op: "read".into(),
        variant: "wrong".into(),
        baseline: "base".into(),
        params: "1".into(),
        differing_samples: 3,
        samples: 20,
        detail: "0 rows instead of 2".into(),
        phase: CheckPhase::BeforeWrites,
    };
    let r = result(
        vec![
            variant("base", &[1000; 2], &[100; 2], 1000),
            variant("wrong", &[10; 2], &[100; 2], 1000),
        ],
        vec![mismatch],
    );
    let (v, text) = judge(&r, &rule(vec![]));
    assert_eq!(v.outcome, Outcome::BaselineHolds);
    assert!(text.contains("returned different answers"), "{}", text);
}

#[test]
fn storage_guards_compare_whole_variants() {
    let r = result(
        vec![
            variant("base", &[1000; 2], &[100; 2], 1000),
            variant("big", &[100; 2], &[100; 2], 1600),
        ],
        vec![],
    );
    let storage = Guard {
        op: None,
        metric: Metric::Storage,
        limit: GuardLimit::Regression(0.5),
    };
    let (v, text) = judge(&r, &rule(vec![storage]));
    assert_eq!(v.outcome, Outcome::BaselineHolds);
    let g = &v.candidates[0].guards[0];
    assert_eq!((g.guard.as_str(), g.pass), ("storage", false));
    assert!((g.effect.as_ref().unwrap().ratio - 1.6).abs() < 1e-9);
    assert!(text.contains("storage 1.60× (limit 1.50×) FAIL"), "{}", text);
}

#[test]
fn throughput_goals_prefer_higher_values() {
    let r = result(
        vec![
            variant("base", &[1000, 1010, 990], &[100; 3], 1000),
            variant("fast", &[500, 505, 495], &[100; 3], 1000),
        ],
        vec![],
    );
    let mut rule = rule(vec![]);
    rule.goal.metric = Metric::Throughput;
    let (v, text) = judge(&r, &rule);
    assert_eq!(v.winner.as_deref(), Some("fast"), "{}", text);
    assert!(text.contains("2.00×"), "{}", text);
}

#[test]
fn identical_variants_leave_the_baseline_holding_with_no_significant_change() {
    let r = result(
        vec![
            variant("base", &[1000, 1020, 990, 1010], &[100; 4], 1000),
            variant("same", &[1005, 1015, 995, 1000], &[100; 4], 1000),
        ],
        vec![],
    );
    let (v, text) = judge(&r, &rule(vec![]));
    assert_eq!(v.outcome, Outcome::BaselineHolds, "{}", text);
    assert_eq!(v.candidates[0].goal.as_ref().unwrap().class, Class::NoSignificantChange);
    assert!(text.contains("no significant change"), "{}", text);
}

#[test]
fn two_rounds_are_too_few_to_name_a_winner() {
    let r = result(
        vec![
            variant("base", &[1000, 1000], &[100; 2], 1000),
            variant("fast", &[100, 100], &[100; 2], 1000),
        ],
        vec![],
    );
    let (v, text) = judge(&r, &rule(vec![]));
    assert_eq!(v.outcome, Outcome::Inconclusive, "{}", text);
    assert!(text.contains("run at least 3"), "{}", text);
}

#[test]
fn wal_per_write_compares_per_round_values_with_an_interval() {
    let counters = |per_round: &[f64]| crate::result::ServerCounters {
        wal_bytes: 0,
        write_ops: 0,
        wal_bytes_per_write: Some(per_round.iter().sum::<f64>() / per_round.len() as f64),
        per_round_wal_per_write: per_round.iter().map(|v| Some(*v)).collect(),
        buffer_hit_ratio: None,
    };
    let mut base = variant("base", &[1000; 3], &[100; 3], 1000);
    base.server_counters = Some(counters(&[250.0, 255.0, 245.0]));
    let mut heavy = variant("heavy", &[1000; 3], &[100; 3], 1000);
    heavy.server_counters = Some(counters(&[500.0, 510.0, 490.0]));
    let e = effect(&heavy, &base, None, Metric::WalPerWrite, stats::DEFAULT_NOISE).unwrap();
    assert!((e.ratio - 2.0).abs() < 0.01, "{e:?}");
    assert_eq!(e.class, Class::Worse);
    assert_eq!(e.rounds, 3);
    assert!(e.ci_low.unwrap() > 1.9 && e.ci_high.unwrap() < 2.1, "{e:?}");
}

#[test]
fn a_latency_guard_failed_at_a_very_different_load_is_not_blamed_on_the_design() {
    // Reads 100x faster: in a closed loop the clients then issue far more
    // writes, and the write tail measures that load, not the design.
    let r = result(
        vec![
            variant("base", &[1000, 1000, 1000], &[100, 100, 100], 1000),
            variant("busy", &[10, 11, 10], &[200, 210, 190], 1000),
        ],
        vec![],
    );
    let (v, text) = judge(&r, &rule(vec![write_guard(0.25)]));
    let busy = &v.candidates[0];
    assert!(!busy.qualified, "an unjudged guard still cannot crown a winner");
    assert_eq!(v.winner, None);
    assert!(
        busy.guards[0].confounded_by_load.is_some_and(|l| l > 5.0),
        "{:?}",
        busy.guards[0]
    );
    assert!(
        busy.ruled_out
            .iter()
            .all(|r| !matches!(r, RuledOut::FailedGuards { .. })),
        "{:?}",
        busy.ruled_out
    );
    let base_total: f64 = 1e9 / 1000.0 + 1e9 / 100.0;
    let rate = busy.ruled_out.iter().find_map(|r| match r {
        RuledOut::ConfoundedGuards { equal_load_rate, .. } => Some(*equal_load_rate),
        _ => None,
    });
    assert_eq!(
        rate,
        Some((base_total * crate::run::EQUAL_LOAD_FRACTION).floor() as u64)
    );
    assert!(
        text.contains("confounded by load") && text.contains("`--equal-load on`"),
        "{text}"
    );

    // A regression with less work done than the baseline is a failed guard.
    let r = result(
        vec![
            variant("base", &[1000, 1000, 1000], &[100, 100, 100], 1000),
            variant("slow_writes", &[1000, 1000, 1000], &[200, 210, 190], 1000),
        ],
        vec![],
    );
    let (v, _) = judge(&r, &rule(vec![write_guard(0.25)]));
    assert!(v.candidates[0].guards[0].confounded_by_load.is_none());
    assert!(matches!(v.candidates[0].ruled_out[..], [RuledOut::FailedGuards { .. }]));
}

#[test]
fn guards_are_judged_at_equal_load_when_that_phase_ran() {
    // Closed loop: the fast-read variant's writes look 2x slower (load), but
    // at equal load its writes cost the same as the baseline's.
    let mut r = result(
        vec![
            with_equal_load(
                variant("base", &[1000, 1000, 1000], &[100, 100, 100], 1000),
                &[900, 910, 905],
                &[100, 102, 98],
            ),
            with_equal_load(
                variant("indexed", &[10, 11, 10], &[200, 210, 190], 1000),
                &[10, 10, 10],
                &[101, 100, 99],
            ),
        ],
        vec![],
    );
    r.backends[0].equal_load_rate_per_s = Some(800);
    let (v, text) = judge(&r, &rule(vec![write_guard(0.25)]));
    let c = &v.candidates[0];
    let g = &c.guards[0];
    assert_eq!(g.at_equal_load, Some(800));
    assert!(g.pass && g.confounded_by_load.is_none(), "{g:?}");
    let e = g.effect.as_ref().expect("an effect");
    assert!((e.ratio - 1.0).abs() < 0.02, "judged on service time: {}", e.ratio);
    assert_eq!(v.winner.as_deref(), Some("indexed"), "{text}");
    assert!(text.contains("write p99 at equal load 1.00×"), "{text}");
    // The goal stays on the main phase, and the phase's effects are kept apart.
    let goal = c.goal.as_ref().expect("goal");
    assert!(goal.ratio < 0.02, "{}", goal.ratio);
    let cmp = compare(&r, &rule(vec![]), &names());
    let closed = cmp
        .effect(BackendKind::Sqlite, "indexed", Some("write"), Metric::P99)
        .unwrap();
    let equal = cmp
        .effect_at_equal_load(BackendKind::Sqlite, "indexed", Some("write"), Metric::P99)
        .unwrap();
    assert!(closed.ratio > 1.9 && (equal.ratio - 1.0).abs() < 0.02);

    // At equal load a real write regression fails the guard outright.
    let mut r = result(
        vec![
            with_equal_load(
                variant("base", &[1000, 1000, 1000], &[100, 100, 100], 1000),
                &[900, 900, 900],
                &[100, 100, 100],
            ),
            with_equal_load(
                variant("costly", &[10, 11, 10], &[100, 100, 100], 1000),
                &[10, 10, 10],
                &[150, 155, 148],
            ),
        ],
        vec![],
    );
    r.backends[0].equal_load_rate_per_s = Some(800);
    let (v, text) = judge(&r, &rule(vec![write_guard(0.25)]));
    assert!(
        matches!(v.candidates[0].ruled_out[..], [RuledOut::FailedGuards { .. }]),
        "{text}"
    );
    assert_eq!(v.winner, None);
}
