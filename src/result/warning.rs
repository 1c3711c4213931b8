//! Things that make a variant's numbers less trustworthy, as data; their
//! sentences are their `Display`.

use crate::util::format_ns;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// The first measured second of `op` had a p99 `ratio` times the rest's.
    ShortWarmup { round: usize, op: String, ratio: f64 },
    /// A client thread was busy for `cpu` of a core: the load generator may
    /// be the bottleneck.
    ClientSaturated { round: usize, cpu: f64 },
    /// The whole machine's CPUs were busy for `busy` of the busiest round's
    /// window (`rounds` of `of` rounds above 90%): server and client competed
    /// for CPU, so one operation's cost shows in the others' latency.
    MachineSaturated { rounds: usize, of: usize, busy: f64 },
    /// The server sent the sessions notices or warnings.
    Notices { round: usize, count: u64 },
    /// An open-loop operation group (`[load.groups]`) did not hold its rate.
    RateNotHeld {
        group: String,
        target_per_s: f64,
        worst_per_s: f64,
        lag_p99_ns: u64,
    },
    /// Open loop: operations started more than 1 ms after their intended time.
    LateStarts {
        round: usize,
        late_fraction: f64,
        lag_p99_ns: u64,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ShortWarmup { round, op, ratio } => write!(
                f,
                "round {round}: the first second of {op} had a p99 {ratio:.1}× the rest's: the warmup may be too short"
            ),
            Warning::ClientSaturated { round, cpu } => write!(
                f,
                "round {round}: a client thread used {:.0}% of a CPU: the load generator may be what limits throughput",
                cpu * 100.0
            ),
            Warning::MachineSaturated { rounds, of, busy } => write!(
                f,
                "the machine's CPUs were {:.0}% busy (server and client together) in {rounds} of {of} round(s): \
                 operations competed for CPU, so each one's latency includes the others' work",
                busy * 100.0
            ),
            Warning::RateNotHeld {
                group,
                target_per_s,
                worst_per_s,
                lag_p99_ns,
            } => write!(
                f,
                "group {group} did not hold its rate: {:.0}/s achieved in the worst round, {:.1}% of the {:.0}/s \
                 offered ({:.0}/s short), start lag p99 {}: the other groups' figures were measured under less load \
                 than the scenario asks",
                worst_per_s,
                100.0 * worst_per_s / target_per_s.max(1e-9),
                target_per_s,
                target_per_s - worst_per_s,
                format_ns(*lag_p99_ns as f64)
            ),
            Warning::Notices { round, count } => write!(
                f,
                "round {round}: the server sent the sessions {count} notice(s) or warning(s); each costs a message per statement"
            ),
            Warning::LateStarts {
                round,
                late_fraction,
                lag_p99_ns,
            } => write!(
                f,
                "round {round}: {:.1}% of operations started more than 1 ms late (start lag p99 {}): the target rate is more than the clients and system sustain",
                late_fraction * 100.0,
                format_ns(*lag_p99_ns as f64)
            ),
        }
    }
}
