//! `schemabench merge`: the shards of a sharded run into one run folder.

use super::{Error, Finished, judge, read_result, write_folder};
use crate::Exit;
use crate::report::{self, RunFolder};
use crate::result::merge::{ShardResult, merge};
use crate::scenario::load_scenario;
use std::path::Path;
use time::OffsetDateTime;

pub fn merge_command(runs: &[std::path::PathBuf], scenario: Option<&Path>, out: &Path) -> Result<Exit, Error> {
    let mut shards = Vec::new();
    for path in runs {
        let (result, folder) = read_result(path)?;
        let run_id = folder
            .file_name()
            .map_or_else(|| result.run.id.clone(), |n| n.to_string_lossy().into_owned());
        shards.push(ShardResult { run_id, result });
    }
    let name = shards
        .first()
        .map(|s| s.result.scenario.name.clone())
        .unwrap_or_default();
    let id = format!("{}-merged", report::run_id(OffsetDateTime::now_utc(), &name));
    let recorded = shards
        .first()
        .map(|s| s.result.scenario.path.clone())
        .unwrap_or_default();
    let mut merged = merge(shards, &id)?;
    // The verdict rule is the scenario file's: the shards recorded its path.
    let path = scenario.map_or_else(|| Path::new(&recorded).to_path_buf(), Path::to_path_buf);
    let sc = load_scenario(&path)?;
    if sc.name != merged.scenario.name {
        return Err(Error::Usage(format!(
            "--scenario {}: is scenario `{}`, the shards ran `{}`",
            path.display(),
            sc.name,
            merged.scenario.name
        )));
    }
    judge(&mut merged, &sc);
    let folder = RunFolder::create(out, &id).map_err(|source| Error::Output {
        path: out.to_path_buf(),
        source,
    })?;
    merged.run.id = folder.id().to_string();
    let folder = write_folder(folder, &merged)?;
    print!("{}", report::terminal::render(&merged, &folder));
    Finished { result: merged, folder }.outcome()
}
