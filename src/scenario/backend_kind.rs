//! The engines a scenario can name. Defined here, below every engine, so
//! the scenario model does not depend on the engines that run it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The engines schemabench can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub const ALL: [BackendKind; 2] = [BackendKind::Sqlite, BackendKind::Postgres];

    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

impl BackendKind {
    /// Rewrites `$n` placeholders into this backend's dialect (SQLite: `?n`).
    pub fn translate(self, sql: &str) -> String {
        match self {
            BackendKind::Sqlite => crate::sqltext::to_question_numbered(sql),
            BackendKind::Postgres => sql.to_string(),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
