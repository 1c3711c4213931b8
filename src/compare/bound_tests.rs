//! Metrics judged against absolute bounds as well as the baseline:
//! `[[evidence]]` queries and recall.

use super::tests::{judge, names, result, rule, variant};
use super::*;
use crate::result::*;
use crate::scenario::{BackendKind, EvidenceQuery, EvidenceRef, Guard, GuardLimit, Objective, PerBackend};

#[test]
fn evidence_metrics_are_goals_with_a_direction_and_guards_with_absolute_bounds() {
    let readings = |v: &mut VariantResult, recall: &[f64], chunks: &[f64]| {
        let some = |x: &[f64]| x.iter().map(|&r| Some(r)).collect::<Vec<_>>();
        v.evidence = vec![
            EvidenceResult {
                name: "recall".into(),
                after_setup: some(recall),
                after_run: some(recall),
            },
            EvidenceResult {
                name: "chunks".into(),
                after_setup: some(chunks),
                after_run: some(chunks),
            },
        ];
    };
    let mut base = variant("base", &[1000, 1000, 1000], &[100, 100, 100], 1000);
    readings(&mut base, &[0.80, 0.81, 0.79], &[30.0, 30.0, 30.0]);
    let mut good = variant("good", &[1000, 1000, 1000], &[100, 100, 100], 1000);
    readings(&mut good, &[0.95, 0.96, 0.95], &[38.0, 38.0, 38.0]);
    let mut many = variant("many_chunks", &[1000, 1000, 1000], &[100, 100, 100], 1000);
    readings(&mut many, &[0.99, 0.99, 0.99], &[45.0, 45.0, 45.0]);
    let mut r = result(vec![base, good, many], vec![]);
    r.scenario.evidence = vec![
        EvidenceQuery {
            name: "recall".into(),
            sql: PerBackend::all("SELECT 1".to_string()),
            higher_is_better: true,
        },
        EvidenceQuery {
            name: "chunks".into(),
            sql: PerBackend::all("SELECT 1".to_string()),
            higher_is_better: false,
        },
    ];
    let recall = Metric::Evidence(EvidenceRef {
        index: 0,
        higher_is_better: true,
    });
    let chunks = Metric::Evidence(EvidenceRef {
        index: 1,
        higher_is_better: false,
    });
    let mut rule = rule(vec![Guard {
        op: None,
        metric: chunks,
        limit: GuardLimit::AtMost(40.0),
    }]);
    rule.goal = Objective {
        op: None,
        metric: recall,
    };
    let (v, text) = judge(&r, &rule);
    // Higher recall is better; the variant with 45 chunks breaks the bound.
    assert_eq!(v.winner.as_deref(), Some("good"), "{text}");
    assert_eq!(v.goal, "evidence.recall");
    let many = v.candidates.iter().find(|c| c.variant == "many_chunks").unwrap();
    assert!(!many.guards[0].pass);
    assert!(text.contains("evidence.chunks 45 (limit ≤ 40) FAIL"), "{text}");
    let good = v.lead_candidate().unwrap();
    assert_eq!(good.goal.as_ref().unwrap().class, Class::Better);
    assert!(text.contains("evidence.chunks 38 (limit ≤ 40) pass"), "{text}");
    // Every evidence query has an effect with its rounds.
    let cmp = compare(&r, &rule, &names());
    let e = cmp.effect(BackendKind::Sqlite, "good", None, chunks).unwrap();
    assert!((e.ratio - 38.0 / 30.0).abs() < 1e-9 && e.rounds == 3);
}

#[test]
fn recall_is_a_per_operation_metric_with_absolute_guards_and_higher_is_better() {
    let with_recall = |v: &mut VariantResult, rounds: &[f64]| {
        let o = v.ops.iter_mut().find(|o| o.op == "read").unwrap();
        o.recall = Some(crate::result::OpRecall {
            k: 10,
            queries_per_round: 100,
            rounds: rounds.to_vec(),
            mean: rounds.iter().sum::<f64>() / rounds.len() as f64,
            interval: None,
            worst_query: 0.5,
        });
    };
    let mut base = variant("base", &[1000, 1000, 1000], &[100, 100, 100], 1000);
    with_recall(&mut base, &[1.0, 1.0, 1.0]);
    // Faster, but misses neighbours.
    let mut lossy = variant("lossy", &[100, 100, 100], &[100, 100, 100], 1000);
    with_recall(&mut lossy, &[0.80, 0.82, 0.81]);
    let mut good = variant("good", &[300, 300, 300], &[100, 100, 100], 1000);
    with_recall(&mut good, &[0.97, 0.98, 0.97]);
    let r = result(vec![base, lossy, good], vec![]);
    let rule = rule(vec![Guard {
        op: Some(crate::scenario::OpId(0)),
        metric: Metric::Recall,
        limit: GuardLimit::AtLeast(0.95),
    }]);
    let (v, text) = judge(&r, &rule);
    assert_eq!(v.winner.as_deref(), Some("good"), "{text}");
    assert!(text.contains("read recall 0.81 (limit ≥ 0.95) FAIL"), "{text}");
    assert!(text.contains("read recall 0.97 (limit ≥ 0.95) pass"), "{text}");
    // Recall has an effect of its own, where lower is worse.
    let cmp = compare(&r, &rule, &names());
    let e = cmp
        .effect(BackendKind::Sqlite, "lossy", Some("read"), Metric::Recall)
        .unwrap();
    assert!((e.ratio - 0.81).abs() < 0.01, "{}", e.ratio);
    assert_eq!(e.class, Class::Worse);
}
