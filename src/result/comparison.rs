//! The comparison as data: every effect of every variant against its
//! baseline, the verdict per backend, and the same variant across engines.
//! `compare` computes it once; it is stored in `result.json` and reporters
//! only format it.

use crate::scenario::{BackendKind, Metric};
use serde::{Deserialize, Serialize};

/// How a variant compares with the baseline on one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// The whole interval is beyond the noise band, in the good direction.
    Better,
    /// The whole interval is beyond the noise band, in the bad direction.
    Worse,
    /// The whole interval is inside the noise band.
    NoSignificantChange,
    /// Too few rounds, or the interval straddles an edge of the band.
    Inconclusive,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::Better => "better",
            Class::Worse => "worse",
            Class::NoSignificantChange => "no significant change",
            Class::Inconclusive => "inconclusive",
        }
    }
}

/// A variant's value of a metric relative to the baseline's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Effect {
    pub value: f64,
    pub baseline_value: f64,
    /// The effect: the geometric mean of the paired round ratios (the
    /// statistic the interval is about), or `value / baseline_value` for a
    /// single measurement.
    pub ratio: f64,
    /// Smallest and largest per-round ratio (rounds paired by number);
    /// `None` for whole-variant metrics and when no round pairs exist.
    pub round_min: Option<f64>,
    pub round_max: Option<f64>,
    /// Paired rounds behind the interval (0 for single measurements).
    pub rounds: usize,
    /// 95% interval of the ratio across rounds (log-t, see compare::stats).
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Against the noise band.
    pub class: Class,
    /// Rounds (0-based) whose ratio is an outlier; flagged, not dropped.
    pub outlier_rounds: Vec<usize>,
    /// For an inconclusive effect: the rounds that would settle it at the
    /// observed round-to-round noise (`None`: not within 100 rounds, or no
    /// noise estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds_needed: Option<usize>,
    /// Rounds left out of the interval, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_rounds: Vec<DroppedRound>,
    /// The confidence level the class was decided at: 95% shared among all
    /// of the variant's effects (Bonferroni), so identical designs have at
    /// most a 5% chance of any effect being called better or worse.
    #[serde(default = "default_class_level")]
    pub class_level: f64,
    /// The fewest operations of a round, when too few for this percentile
    /// to be classified (see `compare::min_ops`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub too_few_ops: Option<u64>,
}

fn default_class_level() -> f64 {
    0.95
}

/// A round without a ratio.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct DroppedRound {
    /// 1-based, as the progress output counts.
    pub round: usize,
    pub reason: DropReason,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The variant completed no operation of this kind in the round.
    VariantIdle,
    /// The baseline completed no operation of this kind in the round.
    BaselineIdle,
    /// A zero value on either side leaves no ratio.
    Zero,
}

impl DropReason {
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::VariantIdle => "the variant completed no operation",
            DropReason::BaselineIdle => "the baseline completed no operation",
            DropReason::Zero => "a zero value leaves no ratio",
        }
    }
}

/// One effect and what it is of: `op` is `None` for whole-variant metrics
/// (storage, setup time, WAL per write).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct EffectEntry {
    pub backend: BackendKind,
    pub variant: String,
    pub op: Option<String>,
    pub metric: Metric,
    /// Measured in the equal-load phase (per-operation latency as service
    /// time) rather than under the scenario's load model.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub equal_load: bool,
    #[serde(flatten)]
    pub effect: Effect,
}

/// What a verdict decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A variant is significantly better than the baseline on the goal and
    /// passes every guard.
    Winner,
    /// No qualified variant is better than the baseline on the goal.
    BaselineHolds,
    /// The best-looking variant's effect is not settled by the evidence: run
    /// more rounds or longer.
    Inconclusive,
    /// No variant besides the baseline has measurements.
    NothingToCompare,
    /// The baseline has no measurements.
    NoData,
}

/// One guard applied to one candidate.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GuardOutcome {
    /// e.g. `place_order p99`.
    pub guard: String,
    pub metric: Metric,
    pub effect: Option<Effect>,
    /// Worst accepted ratio (1.25 for a 25% regression of a latency; 0.75 for
    /// throughput); unused when `absolute` is set.
    pub limit_ratio: f64,
    /// An absolute bound on the variant's own value (evidence metrics),
    /// instead of a ratio to the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absolute: Option<AbsoluteLimit>,
    pub pass: bool,
    /// A failed latency guard of a closed-loop run whose variant ran at a very
    /// different total throughput than the baseline (this ratio): the
    /// operations competed for the machine at different loads, so the
    /// regression is not a verdict on the design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confounded_by_load: Option<f64>,
    /// Judged in the equal-load phase, at this many operations per second
    /// on every variant (per-operation latency as service time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_equal_load: Option<u32>,
}

/// `max = N` (`at_most`) or `min = N` on an evidence metric, and the
/// variant's value it was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AbsoluteLimit {
    pub at_most: bool,
    pub bound: f64,
    pub value: Option<f64>,
}

/// A total throughput ratio (variant / baseline) from which a closed-loop
/// latency regression is confounded: the variant's operations competed with
/// this many times more work. (A variant that ran *less* work and was still
/// slower is judged: less load would only have hidden the regression.)
pub const CONFOUNDING_LOAD: f64 = 1.5;

/// Why a candidate cannot win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RuledOut {
    /// The answer check found different rows than the baseline's.
    DifferentAnswers,
    /// Operations failed in the measured windows.
    FailedOperations { count: u64 },
    /// These guards failed (labels as in [`GuardOutcome::guard`]).
    FailedGuards { guards: Vec<String> },
    /// These latency guards failed while the variant ran at a very different
    /// load than the baseline: not judged. `equal_load_rate` is an open-loop
    /// rate (operations per second) every variant sustained, at which the
    /// comparison can be rerun (`--equal-load on` runs at it).
    ConfoundedGuards {
        guards: Vec<String>,
        throughput_ratio: f64,
        equal_load_rate: u64,
    },
}

/// A variant measured against the baseline.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Candidate {
    pub variant: String,
    pub goal: Option<Effect>,
    pub guards: Vec<GuardOutcome>,
    /// False when the answer check found different rows than the baseline's.
    pub answers_match: bool,
    /// Failed operations in the measured windows.
    pub errors: u64,
    /// Answers match, no errors, all guards pass.
    pub qualified: bool,
    /// Empty for qualified candidates.
    pub ruled_out: Vec<RuledOut>,
}

/// The verdict rule applied to one backend's variants.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    pub backend: BackendKind,
    pub outcome: Outcome,
    pub winner: Option<String>,
    /// The candidate the verdict leads with: the winner, or the best-looking
    /// variant of an inconclusive verdict.
    pub lead: Option<String>,
    pub baseline: String,
    /// e.g. `recent_orders p99`.
    pub goal: String,
    pub goal_metric: Metric,
    pub candidates: Vec<Candidate>,
}

impl Verdict {
    pub fn lead_candidate(&self) -> Option<&Candidate> {
        let lead = self.lead.as_deref()?;
        self.candidates.iter().find(|c| c.variant == lead)
    }
}

/// The same variant and operation on two engines: `second / first`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct AcrossEngines {
    pub first: BackendKind,
    pub second: BackendKind,
    pub variant: String,
    pub op: String,
    pub p50_ratio: Option<f64>,
    pub p99_ratio: Option<f64>,
    pub throughput_ratio: Option<f64>,
}

/// Everything `compare` concluded.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// Noise band as a fraction: ratios within `1 ± noise` are no significant change.
    pub noise: f64,
    /// Every non-baseline variant × operation × metric, and every
    /// whole-variant metric, per backend.
    pub effects: Vec<EffectEntry>,
    /// One per backend.
    pub verdicts: Vec<Verdict>,
    /// Filled when exactly two engines ran.
    pub across_engines: Vec<AcrossEngines>,
}

impl Comparison {
    /// The effect of `variant` on `metric` (of `op` for per-operation
    /// metrics) against the baseline on `backend`.
    pub fn effect(&self, backend: BackendKind, variant: &str, op: Option<&str>, metric: Metric) -> Option<&Effect> {
        self.find(backend, variant, op, metric, false)
    }

    /// The same effect measured in the equal-load phase, if it ran.
    pub fn effect_at_equal_load(
        &self,
        backend: BackendKind,
        variant: &str,
        op: Option<&str>,
        metric: Metric,
    ) -> Option<&Effect> {
        self.find(backend, variant, op, metric, true)
    }

    fn find(
        &self,
        backend: BackendKind,
        variant: &str,
        op: Option<&str>,
        metric: Metric,
        equal: bool,
    ) -> Option<&Effect> {
        let op = op.filter(|_| metric.is_per_op());
        self.effects
            .iter()
            .find(|e| {
                e.backend == backend
                    && e.variant == variant
                    && e.metric == metric
                    && e.op.as_deref() == op
                    && e.equal_load == equal
            })
            .map(|e| &e.effect)
    }
}
