//! `schemabench baseline` and `schemabench compare`.

use super::{Error, Exit};
use crate::cli::{BaselineAction, CompareArgs};
use crate::compare::across::{Thresholds, compare_runs};
use crate::report::across::{Sides, junit, markdown, terminal};
use crate::report::baseline;

pub(super) fn baseline_command(action: BaselineAction) -> Result<Exit, Error> {
    match action {
        BaselineAction::Save { name, runs, dir } => {
            let folder = baseline::save(&dir, &name, &runs)?;
            println!(
                "saved baseline `{name}` ({} run(s)) in {}",
                runs.len(),
                folder.display()
            );
        }
        BaselineAction::List { dir } => {
            for b in baseline::list(&dir) {
                let runs = b.runs.len().max(1);
                println!(
                    "{}  {} ({runs} run(s), first {}, saved {})",
                    b.name, b.scenario, b.run_id, b.saved_at
                );
            }
        }
    }
    Ok(Exit::Success)
}

pub(super) fn compare_command(args: &CompareArgs) -> Result<Exit, Error> {
    let now = baseline::read_run(&args.run)?;
    let (earlier, earlier_label) = match (&args.baseline, &args.against) {
        (Some(name), _) => (baseline::load(&args.baselines, name)?, format!("baseline `{name}`")),
        (None, Some(other)) => (vec![baseline::read_run(other)?], format!("`{}`", other.display())),
        (None, None) => unreachable!("clap requires --baseline or --against"),
    };
    let thresholds = Thresholds(args.thresholds.iter().copied().collect());
    let c = compare_runs(&now, &earlier, &thresholds, args.allow_different).map_err(Error::Incomparable)?;
    let sides = Sides {
        now: &now,
        earlier: &earlier[0],
        earlier_label,
    };
    print!("{}", terminal(&c, &sides));
    if let Some(path) = &args.markdown {
        crate::report::write_file(path, markdown(&c, &sides).as_bytes())?;
    }
    if let Some(path) = &args.junit {
        crate::report::write_file(path, junit(&c, &sides).as_bytes())?;
    }
    Ok(if c.fails() { Exit::Findings } else { Exit::Success })
}
