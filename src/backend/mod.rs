//! Database engines behind one interface. The runner talks to an [`Engine`]
//! (load the base once, clone it per variant, measure sizes) and to one
//! [`Session`] per client thread.

pub mod mock;
pub mod postgres;
pub mod sqlite;

use crate::datagen::{TablePlan, Value};
use crate::scenario::OpKind;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub use crate::scenario::BackendKind;

/// One statement ready for a backend: dialect-specific SQL and which of the
/// operation's parameter values bind to its placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementPlan {
    pub sql: String,
    pub args: Vec<usize>,
}

/// An operation as one variant runs it on one backend.
#[derive(Debug, Clone, PartialEq)]
pub struct OpPlan {
    pub name: String,
    pub kind: OpKind,
    pub transaction: bool,
    pub steps: Vec<StatementPlan>,
}

/// Where the client ran relative to the server: at one client, placement
/// alone changes latency severalfold, so every result records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Placement {
    /// Client and server on one host (`None`: unknown, e.g. a remote URL).
    pub same_host: Option<bool>,
    /// How sessions reach the server; `None` for an engine inside the
    /// client's process (SQLite).
    pub transport: Option<crate::provision::Transport>,
    pub summary: String,
}

/// Why an operation failed, classified the same way for every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Serialization failure (SQLSTATE 40001); retrying may succeed.
    SerializationFailure,
    /// Deadlock detected (SQLSTATE 40P01).
    Deadlock,
    /// A lock or statement timeout; SQLite's SQLITE_BUSY/SQLITE_LOCKED after `busy_timeout`.
    Timeout,
    /// The connection to the server was lost.
    ConnectionLost,
    /// A constraint violation (unique, foreign key, check, not null).
    Constraint,
    /// Anything else.
    Other,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 6] = [
        ErrorClass::SerializationFailure,
        ErrorClass::Deadlock,
        ErrorClass::Timeout,
        ErrorClass::ConnectionLost,
        ErrorClass::Constraint,
        ErrorClass::Other,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::SerializationFailure => "serialization_failure",
            ErrorClass::Deadlock => "deadlock",
            ErrorClass::Timeout => "timeout",
            ErrorClass::ConnectionLost => "connection_lost",
            ErrorClass::Constraint => "constraint",
            ErrorClass::Other => "other",
        }
    }
}

/// A failed operation: data for the records, not a reason to stop.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{class:?}: {message}")]
pub struct OpError {
    pub class: ErrorClass,
    pub message: String,
}

/// A failure of the engine itself (loading, cloning, connecting).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("{backend}: {context}: {message}")]
    Database {
        backend: BackendKind,
        context: String,
        message: String,
    },
    #[error("{backend}: {message}")]
    Unavailable { backend: BackendKind, message: String },
    /// A signal asked the run to stop while this step was under way.
    #[error("{backend}: interrupted while {during}")]
    Interrupted { backend: BackendKind, during: String },
    #[error("{backend}: {context}")]
    Io {
        backend: BackendKind,
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// Rows loaded into one table and how long it took.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TableLoad {
    pub table: String,
    pub rows: u64,
    /// Data checksum of the generated rows (same on every backend).
    pub checksum: String,
    pub seconds: f64,
    pub rows_per_sec: f64,
}

/// Time spent preparing one variant from the loaded base.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantSetup {
    /// Copying the loaded base (SQLite file copy, PostgreSQL TEMPLATE clone).
    pub clone_seconds: f64,
    /// The variant's `setup` statements (index builds, denormalised copies).
    pub setup_seconds: f64,
    /// Per setup statement, in order.
    pub statement_seconds: Vec<f64>,
    /// Refreshing planner statistics (`ANALYZE`).
    pub analyze_seconds: f64,
}

impl VariantSetup {
    /// A setup record; `setup_seconds` is the sum of the statements' times.
    pub fn new(clone_seconds: f64, statement_seconds: Vec<f64>, analyze_seconds: f64) -> Self {
        VariantSetup {
            clone_seconds,
            // `+ 0.0` turns the empty sum's -0.0 into 0.0 (it printed as "-0 ns").
            setup_seconds: statement_seconds.iter().sum::<f64>() + 0.0,
            statement_seconds,
            analyze_seconds,
        }
    }
}

/// What a storage object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    // Declared in this order so a descending sort lists tables first.
    Index,
    Table,
}

impl ObjectKind {
    /// From the engine catalogues' words (`index`; anything else is a table).
    pub fn from_catalog(kind: &str) -> Self {
        if kind == "index" {
            ObjectKind::Index
        } else {
            ObjectKind::Table
        }
    }
}

/// Storage taken by one object (table or index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ObjectSize {
    pub name: String,
    pub kind: ObjectKind,
    /// The table an index belongs to (the table itself for tables).
    pub table: String,
    /// Main storage (tables include their free-space and visibility maps).
    pub bytes: u64,
    /// Out-of-line storage of large values (PostgreSQL TOAST; 0 on SQLite).
    pub toast_bytes: u64,
    /// Partitions or TimescaleDB chunks counted in this table or index
    /// (0: a plain one).
    #[serde(default, skip_serializing_if = "crate::util::is_zero")]
    pub parts: u64,
}

/// Storage of one variant after setup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sizes {
    /// Total database size in bytes.
    pub total_bytes: u64,
    pub objects: Vec<ObjectSize>,
}

/// The base every variant without a schema of its own is cloned from.
pub const DEFAULT_BASE: &str = "base";

/// Callback for loading progress: rows inserted since the last call.
pub type LoadProgress<'a> = &'a (dyn Fn(u64) + Sync);

/// What to create before and after loading the generated tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaseSpec {
    pub schema: Vec<String>,
    /// Run after every table is loaded (e.g. primary keys, like `pgbench -i`).
    pub after_load: Vec<String>,
    /// Extensions to create first (PostgreSQL).
    pub extensions: Vec<String>,
    /// TimescaleDB features of the scenario that only its TSL build has
    /// (PostgreSQL refuses to load without that build).
    pub tsl_features: Vec<String>,
}

impl BaseSpec {
    /// What `workload` creates on `backend`: its schema and `after_load`
    /// statements for that backend, and its extensions on PostgreSQL.
    pub fn for_workload(workload: &crate::scenario::Workload, backend: BackendKind) -> Self {
        BaseSpec {
            schema: workload.schema.get(backend).cloned().unwrap_or_default(),
            after_load: workload.after_load.get(backend).cloned().unwrap_or_default(),
            extensions: if backend == BackendKind::Postgres {
                workload.extensions.clone()
            } else {
                Vec::new()
            },
            tsl_features: Vec::new(),
        }
    }
}

/// Server-side counters of a variant's database, read around a measured
/// window (PostgreSQL: WAL position and buffer cache hits).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    /// WAL insert position in bytes.
    pub wal_bytes: u64,
    pub blocks_hit: u64,
    pub blocks_read: u64,
}

/// How to start engines for a run.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Parent folder for temporary files (system temp when `None`).
    pub work_dir: Option<std::path::PathBuf>,
    /// Where a PostgreSQL server comes from.
    pub postgres: crate::provision::Request,
    /// Cancelled on Ctrl-C: waiting statements are cancelled.
    pub cancel: crate::cancel::CancelToken,
}

/// A query plan of one operation step on one variant.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QueryPlan {
    /// One line, e.g. "Index Only Scan using orders_user_cov on orders".
    pub summary: String,
    /// Indexes the plan uses.
    pub indexes: Vec<String>,
    /// Tables, partitions and chunks the plan scans, in plan order (after
    /// pruning at plan time and at executor startup).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<String>,
    /// PostgreSQL: whether the plan cache ran the prepared statement with a
    /// `generic` or a `custom` plan (`None`: not a prepared statement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_cache: Option<String>,
    /// The engine's full plan output (PostgreSQL: EXPLAIN JSON; SQLite:
    /// EXPLAIN QUERY PLAN lines).
    pub detail: serde_json::Value,
}

/// An engine instance for one run: owns the loaded base and the variants.
pub trait Engine: Send + Sync {
    fn kind(&self) -> BackendKind;

    /// Engine version, e.g. "3.54.1".
    fn version(&self) -> String;

    /// Settings that influence results (durability, cache), as reported.
    fn settings(&self) -> Vec<(String, String)>;

    /// Where the engine runs, for the start of a run and the report
    /// (e.g. the PostgreSQL provisioner and server).
    fn describe(&self) -> String;

    /// Where the client runs relative to the server. Embedded engines run
    /// in the client's process.
    fn placement(&self) -> Placement {
        Placement {
            same_host: Some(true),
            transport: None,
            summary: "in the client's process (embedded)".into(),
        }
    }

    /// Creates the base schema and loads every table once, as base `base`
    /// ([`DEFAULT_BASE`] unless a variant has its own schema).
    fn load_named_base(
        &mut self,
        base: &str,
        spec: &BaseSpec,
        tables: &[TablePlan],
        seed: u64,
        progress: LoadProgress<'_>,
    ) -> Result<Vec<TableLoad>, BackendError>;

    /// [`Engine::load_named_base`] of the [`DEFAULT_BASE`].
    fn load_base(
        &mut self,
        spec: &BaseSpec,
        tables: &[TablePlan],
        seed: u64,
        progress: LoadProgress<'_>,
    ) -> Result<Vec<TableLoad>, BackendError> {
        self.load_named_base(DEFAULT_BASE, spec, tables, seed, progress)
    }

    /// Clones loaded base `base` for `variant`, runs its setup and
    /// refreshes statistics. Called again for the same variant, it replaces
    /// the copy with a fresh one (each round measures a fresh copy of the
    /// design) and removes the old one; the variant's sessions must be closed.
    fn create_variant_from(
        &mut self,
        variant: &str,
        base: &str,
        setup: &[String],
    ) -> Result<VariantSetup, BackendError>;

    /// [`Engine::create_variant_from`] the [`DEFAULT_BASE`].
    fn create_variant(&mut self, variant: &str, setup: &[String]) -> Result<VariantSetup, BackendError> {
        self.create_variant_from(variant, DEFAULT_BASE, setup)
    }

    /// Opens a client session on a variant: runs its session statements and
    /// prepares the operations it will run.
    fn open_session(&self, variant: &str, options: &SessionOptions<'_>) -> Result<Box<dyn Session>, BackendError>;

    /// Table and index sizes of a variant.
    fn sizes(&self, variant: &str) -> Result<Sizes, BackendError>;

    /// Names of the indexes in loaded base `base` (before any variant setup).
    fn indexes_of_base(&self, base: &str) -> Result<Vec<String>, BackendError>;

    /// [`Engine::indexes_of_base`] of the [`DEFAULT_BASE`].
    fn base_indexes(&self) -> Result<Vec<String>, BackendError> {
        self.indexes_of_base(DEFAULT_BASE)
    }

    /// Empties the engine's caches before a cold-cache window. PostgreSQL:
    /// restarts the server (shared buffers start empty; the OS page cache is
    /// untouched). SQLite: nothing to do — every window opens new
    /// connections, and SQLite's page cache belongs to the connection.
    fn restart(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Called right before every measured window: leaves no work pending
    /// from setup or an earlier window (PostgreSQL: a `CHECKPOINT`, so the
    /// dirty buffers of the last clone, index build or window are not
    /// written out during this one). Best effort: a server that refuses
    /// (no privilege) is measured as it is.
    fn before_window(&self) {}

    /// The database holding a variant, for engines that keep one per
    /// variant on a server (the shards of a sharded run are told where to
    /// connect).
    fn variant_database(&self, _variant: &str) -> Option<String> {
        None
    }

    /// Takes on a variant another process created and owns (a shard
    /// following the one that loads): sessions open on `database`, and it
    /// is never dropped by this engine.
    fn adopt_variant(&mut self, variant: &str, _database: &str) -> Result<(), BackendError> {
        Err(BackendError::Unavailable {
            backend: self.kind(),
            message: format!(
                "cannot measure variant `{variant}` created by another process: only a server given by URL can be shared"
            ),
        })
    }

    /// Server counters for a variant, if the engine has them.
    fn counters(&self, _variant: &str) -> Result<Option<Counters>, BackendError> {
        Ok(None)
    }

    /// The plan of every step of `op` with `params` on a variant. Writes are
    /// rolled back. PostgreSQL explains on a session opened as `session`
    /// says: its statements first (a variant's `SET`s change plans) and its
    /// operations stopped after its `op_timeout`. SQLite's plans do not
    /// depend on its session `PRAGMA`s, which are not run.
    fn explain(
        &self,
        variant: &str,
        op: &OpPlan,
        params: &[Value],
        session: &SessionOptions<'_>,
    ) -> Result<Vec<QueryPlan>, BackendError>;
}

/// How a session is opened.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionOptions<'a> {
    /// Statements run first (the variant's `session` list).
    pub statements: &'a [String],
    /// Operations the session will run: prepared when it opens (PostgreSQL),
    /// so nothing has to be prepared in the middle of a pipeline.
    pub ops: &'a [OpPlan],
    /// Longest an operation may take (PostgreSQL: `statement_timeout` on the
    /// server and a client deadline that cancels the statement).
    pub op_timeout: Option<Duration>,
}

impl<'a> SessionOptions<'a> {
    /// A session that only runs `statements` first.
    pub fn statements(statements: &'a [String]) -> Self {
        SessionOptions {
            statements,
            ..Default::default()
        }
    }
}

/// One client's connection.
pub trait Session: Send {
    /// Runs an operation, reading every row of every result; returns rows read.
    fn execute(&mut self, op: &OpPlan, params: &[Value]) -> Result<u64, OpError>;

    /// Runs an operation and returns its rows, for answer comparison.
    fn fetch(&mut self, op: &OpPlan, params: &[Value]) -> Result<Vec<Vec<Value>>, OpError>;

    /// Notices (warnings and notices from the server) received so far.
    fn notices(&self) -> u64 {
        0
    }

    /// Several operations in flight on this connection, when the engine
    /// can (PostgreSQL); `None` otherwise.
    fn pipeline(&mut self) -> Option<&mut dyn Pipeline> {
        None
    }
}

/// Pipelined requests on one connection: `submit` queues, `send` writes
/// what is queued, `complete` reads the oldest reply (replies come back in
/// order). Only single-statement operations without a transaction.
pub trait Pipeline {
    fn submit(&mut self, op: &OpPlan, params: &[Value]) -> Result<(), OpError>;
    /// Queues one statement: `sql` with `args` drawn from `params`.
    fn submit_sql(&mut self, sql: &str, args: &[usize], params: &[Value]) -> Result<(), OpError>;
    fn send(&mut self) -> Result<(), OpError>;
    /// The oldest request's rows read, or its error.
    fn complete(&mut self) -> Result<u64, OpError>;
    /// [`Pipeline::complete`] for a reply the caller saw arrive (its socket
    /// polled readable): the read need not wait in `poll` again.
    fn complete_arrived(&mut self) -> Result<u64, OpError> {
        self.complete()
    }
    fn in_flight(&self) -> usize;
    /// Whether reply bytes are already buffered (the next `complete` will
    /// not wait for the server, or only for the rest of a reply).
    fn reply_arrived(&self) -> bool;
    /// The connection's socket, for waiting on several connections at once.
    fn fd(&self) -> Option<i32>;
    /// Asks the server to cancel what is running (a request past its
    /// deadline, or the user interrupted).
    fn cancel(&mut self) {}
    /// Gives up on the requests in flight (no reply even after a cancel):
    /// the connection is closed; returns the error to record.
    fn abandon(&mut self) -> OpError {
        OpError {
            class: ErrorClass::Timeout,
            message: "no reply; the request was abandoned".into(),
        }
    }
}

/// Starts an engine of `kind`: SQLite in a temp folder, PostgreSQL on a
/// provisioned server.
pub fn open(kind: BackendKind, options: &EngineOptions) -> Result<Box<dyn Engine>, BackendError> {
    match kind {
        BackendKind::Sqlite => Ok(Box::new(
            sqlite::SqliteEngine::new(options.work_dir.as_deref())?.with_cancel(options.cancel.clone()),
        )),
        BackendKind::Postgres => Ok(Box::new(
            postgres::PostgresEngine::start(&options.postgres)?.with_cancel(options.cancel.clone()),
        )),
    }
}

/// Seconds of a duration as f64, the unit of timing fields in results.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
