//! TimescaleDB features that only its Timescale License (TSL) build has.
//! The Apache-2.0 build (what Debian packages, and what this project
//! builds from source) has hypertables, chunks, `time_bucket` and
//! `drop_chunks`, but no compression, columnstore, continuous aggregates,
//! retention or reorder policies and no gap filling. A scenario that uses
//! them is refused right after `CREATE EXTENSION`, before anything is
//! loaded, rather than failing at a variant's setup after the load.

use super::db_error;
use crate::backend::{BackendError, BackendKind, BaseSpec};
use crate::pgwire::{Wire, cell};

/// (text that gives the feature away, the feature's name).
const TSL_ONLY: &[(&str, &str)] = &[
    ("timescaledb.compress", "compression"),
    ("compress_chunk(", "compression"),
    ("add_compression_policy(", "compression"),
    ("timescaledb.enable_columnstore", "the columnstore"),
    ("add_columnstore_policy(", "the columnstore"),
    ("convert_to_columnstore(", "the columnstore"),
    ("timescaledb.continuous", "continuous aggregates"),
    ("add_continuous_aggregate_policy(", "continuous aggregates"),
    ("refresh_continuous_aggregate(", "continuous aggregates"),
    ("add_retention_policy(", "retention policies"),
    ("add_reorder_policy(", "reorder policies"),
    ("reorder_chunk(", "reorder policies"),
    ("time_bucket_gapfill(", "gap filling (time_bucket_gapfill)"),
];

/// The TSL-only features `sql` uses, by name, in the order of [`TSL_ONLY`].
pub fn tsl_features<'a>(statements: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for sql in statements {
        let lower = sql.to_ascii_lowercase().replace(' ', "");
        for (needle, feature) in TSL_ONLY {
            if lower.contains(&needle.replace(' ', "")) && !found.iter().any(|f| f == feature) {
                found.push(feature.to_string());
            }
        }
    }
    found
}

/// Refuses a base whose scenario uses TSL-only features on a server whose
/// TimescaleDB is not the TSL build (or is missing). Runs in the base
/// database after its extensions are created: the Apache build defines
/// `timescaledb.license` only where the extension is loaded.
pub(super) fn check_license(client: &mut Wire, spec: &BaseSpec) -> Result<(), BackendError> {
    if spec.tsl_features.is_empty() {
        return Ok(());
    }
    let rows = client
        .simple_query("SELECT current_setting('timescaledb.license', true)")
        .map_err(db_error("reading timescaledb.license"))?;
    let license = cell(&rows, 0).unwrap_or("").to_string();
    if license == "timescale" {
        return Ok(());
    }
    let features = spec.tsl_features.join(", ");
    let found = if license.is_empty() {
        "TimescaleDB is not loaded in this database (add `extensions = [\"timescaledb\"]` to the workload)".to_string()
    } else {
        format!(
            "this server's TimescaleDB is the {license}-licensed build (timescaledb.license = {license}), which has \
             hypertables, chunks and time_bucket but none of these"
        )
    };
    Err(BackendError::Database {
        backend: BackendKind::Postgres,
        context: "before loading".into(),
        message: format!(
            "the scenario uses {features}, which only the Timescale License (TSL) build of TimescaleDB has; \
             {found}. Nothing was loaded. Run it against a server with the TSL build (Timescale's own packages, \
             e.g. timescaledb-2-postgresql-15 from Timescale's apt repository) through --postgres-url, or leave \
             those statements out (docs/timeseries.md)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsl_features_are_found_in_any_spelling_and_named_once() {
        let sql = [
            "ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'id')",
            "SELECT add_compression_policy('m', INTERVAL '7 days')",
            "CREATE MATERIALIZED VIEW h WITH (timescaledb.continuous) AS SELECT 1",
            "SELECT ADD_RETENTION_POLICY ('m', INTERVAL '30 days')",
        ];
        assert_eq!(
            tsl_features(sql),
            ["compression", "continuous aggregates", "retention policies"]
        );
        let apache = [
            "SELECT create_hypertable('m', by_range('time', INTERVAL '1 day'))",
            "SELECT time_bucket('1 hour', time), avg(v) FROM m GROUP BY 1",
            "SELECT drop_chunks('m', older_than => INTERVAL '1 day')",
        ];
        assert!(tsl_features(apache).is_empty());
    }
}
