//! Database engines behind one interface. The runner talks to an [`Engine`]
//! (load, clone per variant, measure sizes) and to one [`Session`] per client.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The engines schemabench can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
