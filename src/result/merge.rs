//! Merging the results of a sharded run's N shards into one result, exactly:
//! latency histograms are added (never percentiles averaged), counts,
//! errors and rows summed, per-second timelines summed by wall-clock second,
//! each shard's environment and placement kept. Shards of different
//! scenarios, seeds, scales, load shapes or windows are refused, naming
//! what differs. The comparison is left empty for the caller to compute
//! from the merged data (`compare::compare`), like any run.

use super::*;
use crate::record::{decode_histogram, encode_histogram, new_histogram};
use hdrhistogram::Histogram;

/// Why shard results cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("{run}: is not a shard of a sharded run (run with --shard K/N --run-key KEY)")]
    NotAShard { run: String },
    #[error("{run}: is already a merged result")]
    Merged { run: String },
    #[error("{first} and {other} are shards of different runs: {what}")]
    Differs { first: String, other: String, what: String },
    #[error("shard {index} of {count} is given twice: {a} and {b}")]
    Twice {
        index: u32,
        count: u32,
        a: String,
        b: String,
    },
    #[error("shard(s) {missing} of {count} are missing (given: {given})")]
    Missing { missing: String, count: u32, given: String },
    #[error(
        "{run}: its {backend} `{variant}` window of round {round} started {skew_ms:.0} ms from shard 1's: the shards \
         did not measure the same window"
    )]
    Window {
        run: String,
        backend: BackendKind,
        variant: String,
        round: usize,
        skew_ms: f64,
    },
    #[error("{run}: {what} has no per-round histogram (written by a schemabench without shard support?)")]
    NoHistogram { run: String, what: String },
    #[error("{run}: {what}: unreadable histogram: {message}")]
    BadHistogram { run: String, what: String, message: String },
}

/// Windows whose starts differ by more than this are not the same window.
pub const SAME_WINDOW_MS: f64 = 1000.0;

/// One shard's result and the name of its run folder.
pub struct ShardResult {
    pub run_id: String,
    pub result: RunResult,
}

fn decode(run: &str, what: impl Fn() -> String, text: &str) -> Result<Histogram<u64>, MergeError> {
    decode_histogram(text).map_err(|message| MergeError::BadHistogram {
        run: run.to_string(),
        what: what(),
        message,
    })
}

/// Checks that `shards` are the N shards of one run and puts them in shard
/// order.
fn check(mut shards: Vec<ShardResult>) -> Result<Vec<ShardResult>, MergeError> {
    if shards.is_empty() {
        return Err(MergeError::Missing {
            missing: "all".into(),
            count: 0,
            given: "none".into(),
        });
    }
    for s in &shards {
        match &s.result.run.shard {
            None => return Err(MergeError::NotAShard { run: s.run_id.clone() }),
            Some(info) if info.index.is_none() => return Err(MergeError::Merged { run: s.run_id.clone() }),
            Some(_) => {}
        }
    }
    let index = |s: &ShardResult| s.result.run.shard.as_ref().and_then(|i| i.index).unwrap_or(0);
    shards.sort_by_key(index);
    let first = &shards[0];
    let fi = first.result.run.shard.as_ref().expect("checked");
    for other in &shards[1..] {
        let oi = other.result.run.shard.as_ref().expect("checked");
        let (a, b) = (&first.result, &other.result);
        // What would keep two runs from being compared keeps shards apart,
        // and so does anything else about the window they shared.
        let mut differ = differences(b, a);
        let mut also = |what: &str, x: String, y: String| {
            if x != y {
                differ.push(format!("{what}: {x} → {y}"));
            }
        };
        also("run key", fi.key.clone(), oi.key.clone());
        also("shard count", fi.count.to_string(), oi.count.to_string());
        let window = |r: &RunResult| {
            let l = &r.scenario.load;
            format!("warmup {:?}, {:?} × {} rounds", l.warmup, l.duration, l.rounds)
        };
        also("window", window(a), window(b));
        let variants = |r: &RunResult| {
            let names: Vec<&str> = r.scenario.variants.iter().map(|v| v.name.as_str()).collect();
            names.join(", ")
        };
        also("variants", variants(a), variants(b));
        if !differ.is_empty() {
            return Err(MergeError::Differs {
                first: first.run_id.clone(),
                other: other.run_id.clone(),
                what: differ.join("; "),
            });
        }
    }
    for pair in shards.windows(2) {
        if index(&pair[0]) == index(&pair[1]) {
            return Err(MergeError::Twice {
                index: index(&pair[0]),
                count: fi.count,
                a: pair[0].run_id.clone(),
                b: pair[1].run_id.clone(),
            });
        }
    }
    let given: Vec<u32> = shards.iter().map(index).collect();
    let missing: Vec<String> = (1..=fi.count)
        .filter(|k| !given.contains(k))
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing: missing.join(", "),
            count: fi.count,
            given: given.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
        });
    }
    Ok(shards)
}

/// The start of each (backend, variant, round) window of a result.
fn window_starts(r: &RunResult) -> Vec<(BackendKind, String, usize, u64)> {
    let mut out = Vec::new();
    for b in &r.backends {
        for v in &b.variants {
            let Some(op) = v.ops.iter().find(|o| !o.rounds.is_empty()) else {
                continue;
            };
            for (i, round) in op.rounds.iter().enumerate() {
                if let Some(t) = round.started_at_unix_ns {
                    out.push((b.backend, v.name.clone(), i, t));
                }
            }
        }
    }
    out
}

/// Each shard's largest distance from shard 1's window starts, ms;
/// refuses shards that measured different windows.
fn skews(shards: &[ShardResult]) -> Result<Vec<f64>, MergeError> {
    let leader = window_starts(&shards[0].result);
    let mut out = Vec::new();
    for s in shards {
        let mut worst = 0.0f64;
        for (backend, variant, round, t) in window_starts(&s.result) {
            let Some(&(.., t1)) = leader
                .iter()
                .find(|(b, v, r, _)| *b == backend && *v == variant && *r == round)
            else {
                continue;
            };
            let skew_ms = (t as f64 - t1 as f64).abs() / 1e6;
            if skew_ms > SAME_WINDOW_MS {
                return Err(MergeError::Window {
                    run: s.run_id.clone(),
                    backend,
                    variant,
                    round: round + 1,
                    skew_ms,
                });
            }
            worst = worst.max(skew_ms);
        }
        out.push(worst);
    }
    Ok(out)
}

/// Adds `b` into `a` from index `at` on, growing `a` as needed.
fn add_series<T: Copy + Default>(a: &mut Vec<T>, b: &[T], at: usize, add: impl Fn(T, T) -> T) {
    if a.len() < at + b.len() {
        a.resize(at + b.len(), T::default());
    }
    for (i, &x) in b.iter().enumerate() {
        a[at + i] = add(a[at + i], x);
    }
}

/// Merges the shards of one sharded run into one result with the id
/// `run_id`. The comparison is empty.
pub fn merge(shards: Vec<ShardResult>, run_id: &str) -> Result<RunResult, MergeError> {
    let shards = check(shards)?;
    let skews = skews(&shards)?;
    let lead = &shards[0].result;
    let mut merged = lead.clone();
    let info = lead.run.shard.clone().expect("checked");
    for b in &mut merged.backends {
        for v in &mut b.variants {
            let parts: Vec<(&str, &VariantResult)> = shards
                .iter()
                .filter_map(|s| {
                    let other = s.result.backend(b.backend)?.variant(&v.name)?;
                    Some((s.run_id.as_str(), other))
                })
                .collect();
            merge_variant(b.backend, v, &parts, &merged.scenario)?;
        }
    }
    let all = || shards.iter().map(|s| &s.result);
    merged.run.id = run_id.to_string();
    merged.run.started_at = all().map(|r| r.run.started_at.clone()).min().unwrap_or_default();
    merged.run.finished_at = all().map(|r| r.run.finished_at.clone()).max().unwrap_or_default();
    merged.run.complete = all().all(|r| r.run.complete);
    merged.run.interrupted = all().any(|r| r.run.interrupted);
    merged.run.failure = shards.iter().find_map(|s| {
        s.result.run.failure.as_ref().map(|f| {
            let k = s.result.run.shard.as_ref().and_then(|i| i.index).unwrap_or(0);
            format!("shard {k}: {f}")
        })
    });
    merged.run.peak_rss_bytes = all().filter_map(|r| r.run.peak_rss_bytes).max();
    merged.run.unfit_because = summarise::connections_lost(&merged.backends);
    merged.run.fit_for_decisions = merged.run.complete && !merged.run.quick && merged.run.unfit_because.is_empty();
    merged.run.shard = Some(ShardInfo {
        key: info.key,
        index: None,
        count: info.count,
        parts: shards
            .iter()
            .zip(skews)
            .map(|(s, skew)| ShardPart {
                index: s.result.run.shard.as_ref().and_then(|i| i.index).unwrap_or(0),
                run_id: s.run_id.clone(),
                environment: s.result.environment.clone(),
                placement: s.result.backends.iter().map(|b| b.placement.clone()).collect(),
                start_skew_ms: skew,
            })
            .collect(),
    });
    merged.comparison = Comparison::default();
    Ok(merged)
}

/// Adds every shard's windows of one variant into `v` (shard 1's, which
/// keeps its sizes, plans, evidence and answers).
fn merge_variant(
    backend: BackendKind,
    v: &mut VariantResult,
    parts: &[(&str, &VariantResult)],
    scenario: &ScenarioSummary,
) -> Result<(), MergeError> {
    let rounds = parts.iter().map(|(_, p)| p.rounds_completed).min().unwrap_or(0);
    let lead_rounds: Vec<Option<u64>> = v
        .ops
        .iter()
        .find(|o| !o.rounds.is_empty())
        .map(|o| o.rounds.iter().map(|r| r.started_at_unix_ns).collect())
        .unwrap_or_default();
    v.rounds_completed = rounds;
    v.setup_rounds.truncate(rounds);
    let writes: Vec<&str> = scenario
        .mix
        .iter()
        .filter(|m| m.kind == OpKind::Write)
        .map(|m| m.op.as_str())
        .collect();
    let lead_writes: Vec<u64> = round_writes(v, &writes, rounds);
    for o in &mut v.ops {
        let name = o.op.clone();
        let what = |round: Option<usize>| match round {
            Some(r) => format!("{backend} `{}` {name} round {}", v.name, r + 1),
            None => format!("{backend} `{}` {name}", v.name),
        };
        let mut rounds_out: Vec<RoundOp> = Vec::new();
        let mut total = new_histogram();
        let mut total_service: Option<Histogram<u64>> = None;
        let (mut count, mut rows) = (0u64, 0u64);
        let mut errors: BTreeMap<ErrorClass, u64> = BTreeMap::new();
        let mut first_error = None;
        for r in 0..rounds {
            let mut hist = new_histogram();
            let mut service: Option<Histogram<u64>> = None;
            let (mut n, mut throughput) = (0u64, 0.0);
            let mut per_second: Vec<u32> = Vec::new();
            let mut p99s: Vec<u64> = Vec::new();
            let base = lead_rounds.get(r).copied().flatten();
            // Seconds line up by the wall clock: a shard whose window began
            // 1.4 s after shard 1's adds into second i + 1.
            let shift = |round: &RoundOp| match (base, round.started_at_unix_ns) {
                (Some(a), Some(b)) => ((b as f64 - a as f64) / 1e9).round() as i64,
                _ => 0,
            };
            let here: Vec<(&str, &RoundOp)> = parts
                .iter()
                .filter_map(|(run, p)| Some((*run, p.op(&name)?.rounds.get(r)?)))
                .collect();
            let earliest = here.iter().map(|(_, round)| shift(round)).min().unwrap_or(0);
            for (run, round) in here {
                let text = round.histogram.as_deref().ok_or_else(|| MergeError::NoHistogram {
                    run: run.to_string(),
                    what: what(Some(r)),
                })?;
                hist.add(decode(run, || what(Some(r)), text)?)
                    .expect("histograms share fixed bounds");
                if let Some(text) = round.service_histogram.as_deref() {
                    service
                        .get_or_insert_with(new_histogram)
                        .add(decode(run, || what(Some(r)), text)?)
                        .expect("histograms share fixed bounds");
                }
                n += round.count;
                throughput += round.throughput_per_s;
                let at = (shift(round) - earliest) as usize;
                add_series(&mut per_second, &round.per_second, at, |x, y| x + y);
                // Coarse per-second p99s do not add: the highest is kept.
                add_series(&mut p99s, &round.p99_per_second_ns, at, u64::max);
            }
            total.add(&hist).expect("histograms share fixed bounds");
            if let Some(s) = &service {
                total_service
                    .get_or_insert_with(new_histogram)
                    .add(s)
                    .expect("histograms share fixed bounds");
            }
            count += n;
            rounds_out.push(RoundOp {
                count: n,
                throughput_per_s: throughput,
                latency_ns: Latency::of_histogram(&hist),
                service_ns: service.as_ref().map(Latency::of_histogram),
                per_second,
                p99_per_second_ns: p99s,
                started_at_unix_ns: base,
                histogram: Some(encode_histogram(&hist)),
                service_histogram: service.as_ref().map(encode_histogram),
            });
        }
        for (_, p) in parts {
            let Some(po) = p.op(&name) else { continue };
            rows += po.rows;
            for (class, k) in &po.errors {
                *errors.entry(*class).or_default() += k;
            }
            if first_error.is_none() {
                first_error.clone_from(&po.first_error);
            }
        }
        o.count = count;
        o.rows = rows;
        o.errors = errors;
        o.first_error = first_error;
        // Every shard measured the same windows: their rates add.
        o.throughput_per_s = parts
            .iter()
            .filter_map(|(_, p)| p.op(&name).map(|po| po.throughput_per_s))
            .sum();
        o.latency_ns = Latency::of_histogram(&total);
        o.service_ns = total_service.as_ref().map(Latency::of_histogram);
        o.histogram = encode_histogram(&total);
        o.rounds = rounds_out;
    }
    // Whole-variant figures.
    v.schedule = merge_schedules(parts.iter().map(|(run, p)| (*run, p.schedule.as_ref())))?;
    v.client_cpu_max = parts.iter().map(|(_, p)| p.client_cpu_max).fold(0.0, f64::max);
    v.machine_busy_max = parts.iter().filter_map(|(_, p)| p.machine_busy_max).reduce(f64::max);
    v.notices = parts.iter().map(|(_, p)| p.notices).sum();
    v.reconnects = parts.iter().map(|(_, p)| p.reconnects).sum();
    let mut warnings: Vec<Warning> = Vec::new();
    for (_, p) in parts {
        for w in &p.warnings {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
    }
    v.warnings = warnings;
    // The server's WAL counts every shard's writes: per write over all.
    let all_writes = round_writes(v, &writes, rounds);
    if let Some(c) = &mut v.server_counters {
        c.write_ops = all_writes.iter().sum();
        c.wal_bytes_per_write = (c.write_ops > 0).then(|| c.wal_bytes as f64 / c.write_ops as f64);
        c.per_round_wal_per_write.truncate(rounds);
        for (i, per) in c.per_round_wal_per_write.iter_mut().enumerate() {
            *per = per.and_then(|x| {
                let (lead, all) = (lead_writes.get(i).copied()?, all_writes.get(i).copied()?);
                (all > 0).then(|| x * lead as f64 / all as f64)
            });
        }
    }
    for g in &mut v.groups {
        let name = g.name.clone();
        let same = |p: &VariantResult| p.groups.iter().find(|x| x.name == name).cloned();
        let others: Vec<(&str, GroupResult)> = parts.iter().filter_map(|(run, p)| Some((*run, same(p)?))).collect();
        g.achieved_per_s = (0..rounds)
            .map(|r| others.iter().filter_map(|(_, x)| x.achieved_per_s.get(r)).sum())
            .collect();
        g.schedule = merge_schedules(others.iter().map(|(run, x)| (*run, x.schedule.as_ref())))?;
        let clients = scenario
            .load
            .groups
            .iter()
            .find(|d| d.name == name)
            .map_or(1, |d| d.model.clients().get());
        let duration = scenario.load.duration.as_secs_f64().max(1e-9);
        g.held = g.target_per_s.filter(|_| rounds > 0).map(|target| {
            let rounding = clients as f64 / duration;
            let kept = g.achieved_per_s.iter().all(|&a| a >= HELD_SHARE * target - rounding);
            kept && g.schedule.as_ref().is_none_or(|s| s.lag_ns.p99 <= HELD_LAG_NS)
        });
    }
    Ok(())
}

/// Write operations completed in each of the first `rounds` rounds.
fn round_writes(v: &VariantResult, writes: &[&str], rounds: usize) -> Vec<u64> {
    (0..rounds)
        .map(|r| {
            v.ops
                .iter()
                .filter(|o| writes.contains(&o.op.as_str()))
                .filter_map(|o| o.rounds.get(r).map(|x| x.count))
                .sum()
        })
        .collect()
}

fn merge_schedules<'a>(
    parts: impl Iterator<Item = (&'a str, Option<&'a ScheduleResult>)>,
) -> Result<Option<ScheduleResult>, MergeError> {
    let mut out: Option<(u64, u64, Histogram<u64>)> = None;
    for (run, s) in parts {
        let Some(s) = s else { continue };
        let text = s.lag_histogram.as_deref().ok_or_else(|| MergeError::NoHistogram {
            run: run.to_string(),
            what: "the open-loop schedule".into(),
        })?;
        let h = decode(run, || "the open-loop schedule".into(), text)?;
        let o = out.get_or_insert_with(|| (0, 0, new_histogram()));
        o.0 += s.scheduled;
        o.1 += s.late;
        o.2.add(h).expect("histograms share fixed bounds");
    }
    Ok(out.map(|(scheduled, late, lag)| ScheduleResult {
        scheduled,
        late,
        late_fraction: late as f64 / scheduled.max(1) as f64,
        lag_ns: Latency::of_histogram(&lag),
        lag_histogram: Some(encode_histogram(&lag)),
    }))
}
