//! Building a scenario in code instead of a file. The builder writes the
//! same TOML a scenario file would hold and resolves it through the same
//! validation, so code and files get the same checks and error messages.
//!
//! ```
//! use schemabench::builder::{ScenarioBuilder, VariantBuilder};
//! use schemabench::report;
//! use schemabench::run::{RunOptions, Silent};
//! use std::time::Duration;
//!
//! let scenario = ScenarioBuilder::new("doc_example", "Does an index on user_id help the account page?")
//!     .workload(concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/orders.toml"))
//!     .param("users", 200.0)
//!     .param("orders", 2_000.0)
//!     .clients(1)
//!     .warmup(Duration::from_millis(50))
//!     .duration(Duration::from_millis(200))
//!     .rounds(1)
//!     .mix("recent_orders", 1)
//!     .variant(VariantBuilder::new("plain"))
//!     .variant(VariantBuilder::new("by_user").setup("CREATE INDEX orders_user ON orders (user_id)"))
//!     .verdict("plain", "recent_orders", "p99")
//!     .build()
//!     .expect("a valid scenario");
//! let out = tempfile::tempdir().unwrap();
//! let finished = schemabench::run_scenario(&scenario, &RunOptions::default(), out.path(), &Silent).unwrap();
//! let sqlite = &finished.result.backends[0];
//! assert_eq!(sqlite.variants.len(), 2);
//! assert!(sqlite.variants[1].ops[0].count > 0);
//! let verdict = &finished.result.comparison.verdicts[0];
//! println!("{}", report::verdict::sentence(verdict, report::verdict::Style::Plain));
//! ```

use crate::backend::BackendKind;
use crate::scenario::{ConfigErrors, Scenario, Source, resolve_scenario};
use std::path::PathBuf;
use std::time::Duration;
use toml::{Table, Value};

/// One candidate design.
#[derive(Debug, Clone)]
pub struct VariantBuilder {
    name: String,
    setup: Vec<String>,
    session: Vec<String>,
    overrides: Vec<(String, String)>,
}

impl VariantBuilder {
    pub fn new(name: &str) -> Self {
        VariantBuilder {
            name: name.into(),
            setup: Vec::new(),
            session: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// A statement run once after the base is copied (index, table, trigger).
    pub fn setup(mut self, sql: &str) -> Self {
        self.setup.push(sql.into());
        self
    }

    /// A statement run on every new connection.
    pub fn session(mut self, sql: &str) -> Self {
        self.session.push(sql.into());
        self
    }

    /// Replacement SQL for an operation (same parameters).
    pub fn op_sql(mut self, op: &str, sql: &str) -> Self {
        self.overrides.push((op.into(), sql.into()));
        self
    }

    fn to_table(&self) -> Table {
        let mut t = Table::new();
        t.insert("name".into(), self.name.clone().into());
        let list = |v: &[String]| Value::Array(v.iter().cloned().map(Value::from).collect());
        if !self.setup.is_empty() {
            t.insert("setup".into(), list(&self.setup));
        }
        if !self.session.is_empty() {
            t.insert("session".into(), list(&self.session));
        }
        if !self.overrides.is_empty() {
            let mut ops = Table::new();
            for (op, sql) in &self.overrides {
                let mut o = Table::new();
                o.insert("sql".into(), sql.clone().into());
                ops.insert(op.clone(), o.into());
            }
            t.insert("ops".into(), ops.into());
        }
        t
    }
}

/// A design question built in code.
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    root: Table,
    load: Table,
    params: Table,
    mix: Table,
    variants: Vec<VariantBuilder>,
    verdict: Option<Table>,
    guards: Vec<Value>,
    dir: PathBuf,
}

fn duration_text(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

impl ScenarioBuilder {
    pub fn new(name: &str, question: &str) -> Self {
        let mut root = Table::new();
        root.insert("name".into(), name.into());
        root.insert("question".into(), question.into());
        ScenarioBuilder {
            root,
            load: Table::new(),
            params: Table::new(),
            mix: Table::new(),
            variants: Vec::new(),
            verdict: None,
            guards: Vec::new(),
            dir: std::env::current_dir().unwrap_or_default().join("scenarios"),
        }
    }

    /// The workload: a name looked up like a scenario file's
    /// (`workloads/<name>.toml`), or a path to a `.toml` file.
    pub fn workload(mut self, name_or_path: &str) -> Self {
        self.root.insert("workload".into(), name_or_path.into());
        self
    }

    pub fn backends(mut self, backends: &[BackendKind]) -> Self {
        let list = backends.iter().map(|b| Value::from(b.as_str())).collect();
        self.root.insert("backends".into(), Value::Array(list));
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.root.insert("seed".into(), Value::Integer(seed as i64));
        self
    }

    /// Overrides a workload scale parameter.
    pub fn param(mut self, name: &str, value: f64) -> Self {
        self.params.insert(name.into(), Value::Float(value));
        self
    }

    pub fn clients(mut self, n: u32) -> Self {
        self.load.insert("clients".into(), Value::Integer(n as i64));
        self
    }

    pub fn warmup(mut self, d: Duration) -> Self {
        self.load.insert("warmup".into(), duration_text(d).into());
        self
    }

    pub fn duration(mut self, d: Duration) -> Self {
        self.load.insert("duration".into(), duration_text(d).into());
        self
    }

    pub fn rounds(mut self, n: u32) -> Self {
        self.load.insert("rounds".into(), Value::Integer(n as i64));
        self
    }

    /// Open loop at `per_second` arrivals over all clients.
    pub fn rate(mut self, per_second: u32) -> Self {
        self.load.insert("rate".into(), Value::Integer(per_second as i64));
        self
    }

    pub fn mix(mut self, op: &str, weight: u32) -> Self {
        self.mix.insert(op.into(), Value::Integer(weight as i64));
        self
    }

    pub fn variant(mut self, v: VariantBuilder) -> Self {
        self.variants.push(v);
        self
    }

    /// The verdict rule's baseline and goal (`metric` as in files: "p99", "throughput", ...).
    pub fn verdict(mut self, baseline: &str, goal_op: &str, metric: &str) -> Self {
        let mut v = Table::new();
        v.insert("baseline".into(), baseline.into());
        let mut goal = Table::new();
        goal.insert("op".into(), goal_op.into());
        goal.insert("metric".into(), metric.into());
        v.insert("goal".into(), goal.into());
        self.verdict = Some(v);
        self
    }

    /// A guard: `op` for per-operation metrics, `None` for storage and the like.
    pub fn guard(mut self, op: Option<&str>, metric: &str, max_regression: &str) -> Self {
        let mut g = Table::new();
        if let Some(op) = op {
            g.insert("op".into(), op.into());
        }
        g.insert("metric".into(), metric.into());
        g.insert("max_regression".into(), max_regression.into());
        self.guards.push(g.into());
        self
    }

    /// The scenario as the TOML file it corresponds to.
    pub fn to_toml(&self) -> String {
        let mut root = self.root.clone();
        if !self.params.is_empty() {
            root.insert("params".into(), self.params.clone().into());
        }
        if !self.load.is_empty() {
            root.insert("load".into(), self.load.clone().into());
        }
        root.insert("mix".into(), self.mix.clone().into());
        root.insert(
            "variant".into(),
            Value::Array(self.variants.iter().map(|v| v.to_table().into()).collect()),
        );
        if let Some(v) = &self.verdict {
            let mut v = v.clone();
            if !self.guards.is_empty() {
                v.insert("guards".into(), Value::Array(self.guards.clone()));
            }
            root.insert("verdict".into(), v.into());
        }
        toml::to_string(&root).expect("tables serialise")
    }

    /// Validates and resolves the scenario, exactly as a file would be.
    pub fn build(&self) -> Result<Scenario, ConfigErrors> {
        let name = self.root.get("name").and_then(Value::as_str).unwrap_or("scenario");
        let path = self.dir.join(format!("{name}.toml"));
        resolve_scenario(&Source::from_text(&path, self.to_toml()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_scenarios_get_the_same_checks_as_files() {
        let err = ScenarioBuilder::new("x", "q")
            .workload(concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/orders.toml"))
            .mix("recent_order", 1)
            .variant(VariantBuilder::new("a"))
            .verdict("a", "recent_orders", "p99")
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `recent_orders`?"), "{err}");
    }
}
