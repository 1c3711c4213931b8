//! A shard other than the first of a sharded run (see [`super::shard`]).

use super::{BackendRecords, Observer, Records, RunOptions, RunPlan, VariantRecords, engine_options, shard, workers};
use crate::backend::{self, BackendError, BackendKind};

/// A shard other than the first: measures each window shard 1 announces,
/// on the copy it made, with this shard's share of the clients. Loads,
/// prepares and checks nothing itself.
pub(super) fn follow(
    plan: &RunPlan,
    options: &RunOptions,
    kind: BackendKind,
    observer: &dyn Observer,
    records: &mut Records,
    barrier: &mut shard::Barrier,
) -> Result<(), BackendError> {
    let stop = options.cancel.flag();
    let mut engine = backend::open(kind, &engine_options(plan, options))?;
    observer.provisioned(kind, &engine.describe());
    records.backends.push(BackendRecords::of(engine.as_ref(), kind));
    let rec = records.backends.last_mut().expect("just pushed");
    loop {
        let a = match barrier.next_window()? {
            shard::Next::Window(a) => a,
            shard::Next::End(None) => return Ok(()),
            shard::Next::End(Some(why)) => {
                return Err(BackendError::Unavailable {
                    backend: kind,
                    message: format!("shard 1 ended the run: {why}"),
                });
            }
        };
        let ti = (0..plan.targets.len())
            .find(|&i| plan.targets[i].backend == kind && plan.targets[i].name == a.variant)
            .ok_or_else(|| BackendError::Unavailable {
                backend: kind,
                message: format!(
                    "shard 1 announced variant `{}`, which this shard's scenario does not have: every shard must \
                     run the same scenario file",
                    a.variant
                ),
            })?;
        let target = &plan.targets[ti];
        engine.adopt_variant(&target.name, &a.database)?;
        let v = match rec.variants.iter().position(|v| v.target == ti) {
            Some(v) => v,
            None => {
                // Sizes, plans and evidence are shard 1's to record.
                rec.variants.push(VariantRecords {
                    target: ti,
                    ..Default::default()
                });
                rec.variants.len() - 1
            }
        };
        let total = plan.load.warmup + plan.load.duration;
        observer.measuring(a.round + 1, plan.load.rounds.get(), kind, &target.name, total);
        let window = workers::measure(
            &*engine,
            target,
            plan,
            a.round,
            stop,
            &|e| observer.measure_tick(e),
            &mut || barrier.ready(a.step).map(Some),
        )?;
        barrier.done(a.step)?;
        if window.interrupted {
            return Ok(());
        }
        while rec.round_order.len() <= a.round as usize {
            rec.round_order.push(Vec::new());
        }
        rec.round_order[a.round as usize].push(target.name.clone());
        rec.variants[v].rounds.push(window);
    }
}
