//! The embedded SQLite backend: the base is loaded once into `base.db`, each
//! variant works on its own copy of that file (WAL mode), and every client
//! thread opens its own connection.

use super::{
    BackendError, BackendKind, BaseSpec, Engine, ErrorClass, LoadProgress, ObjectKind, ObjectSize, OpError, OpPlan,
    QueryPlan, Session, SessionOptions, Sizes, TableLoad, VariantSetup, secs,
};
use crate::datagen::{TablePlan, Value, write_timestamp};
use crate::scenario::OpKind;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, Statement, ToSql};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// SQLite's limit on bound variables per statement (since 3.32).
const MAX_VARIABLES: usize = 32_766;
/// Rows per multi-row INSERT while loading.
const ROWS_PER_INSERT: usize = 256;
/// How long a session waits for a lock before an operation fails as a timeout.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A SQLite engine rooted in a temporary work folder that is deleted on drop.
pub struct SqliteEngine {
    dir: tempfile::TempDir,
    variants: BTreeMap<String, PathBuf>,
    /// Copies made so far: each gets its own file name.
    copies: usize,
    /// The work folder, listed for a second signal's cleanup.
    _listed: crate::leftovers::Registration,
    /// Stops a load between chunks and interrupts a running setup statement.
    cancel: crate::cancel::CancelToken,
}

fn db_error(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> BackendError {
    let context = context.into();
    move |e| BackendError::Database {
        backend: BackendKind::Sqlite,
        context,
        message: e.to_string(),
    }
}

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackendError {
    let context = context.into();
    move |source| BackendError::Io {
        backend: BackendKind::Sqlite,
        context,
        source,
    }
}

impl SqliteEngine {
    /// Creates the engine's work folder inside `parent` (the system temp
    /// folder when `None`).
    pub fn new(parent: Option<&Path>) -> Result<Self, BackendError> {
        vec::register();
        let mut builder = tempfile::Builder::new();
        builder.prefix("schemabench-sqlite-");
        let dir = match parent {
            Some(p) => builder.tempdir_in(p),
            None => builder.tempdir(),
        }
        .map_err(io_error("creating the work folder"))?;
        Ok(SqliteEngine {
            _listed: crate::leftovers::register(crate::leftovers::Leftover::Folder(dir.path().to_path_buf())),
            dir,
            variants: BTreeMap::new(),
            copies: 0,
            cancel: crate::cancel::CancelToken::new(),
        })
    }

    /// Loads stop between chunks, and setup statements are interrupted,
    /// once `cancel` is.
    pub fn with_cancel(mut self, cancel: crate::cancel::CancelToken) -> Self {
        self.cancel = cancel;
        self
    }

    fn base_path(&self, base: &str) -> PathBuf {
        self.dir.path().join(format!("{base}.sqlite"))
    }

    /// The database file of a variant.
    pub fn variant_path(&self, variant: &str) -> Result<&Path, BackendError> {
        self.variants
            .get(variant)
            .map(PathBuf::as_path)
            .ok_or_else(|| BackendError::Database {
                backend: BackendKind::Sqlite,
                context: format!("variant `{variant}`"),
                message: "the variant has not been created".into(),
            })
    }
}

/// Binds a generated value the way SQLite stores it: decimals as REAL (the
/// NUMERIC affinity would convert them anyway), timestamps as ISO text.
struct Bind<'a>(&'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Float(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Decimal { units, scale } => {
                ToSqlOutput::Borrowed(ValueRef::Real(Value::decimal_as_f64(*units, *scale)))
            }
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Timestamp(t) => {
                let mut s = String::with_capacity(26);
                write_timestamp(&mut s, *t);
                ToSqlOutput::Owned(rusqlite::types::Value::Text(s))
            }
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            // Vectors as little-endian float32 blobs: sqlite-vec's own
            // format, read without parsing.
            Value::Vector(v) => ToSqlOutput::Owned(rusqlite::types::Value::Blob(
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )),
            // Documents and arrays as JSON text (SQLite's JSON functions
            // read it); UUIDs, intervals and addresses as text.
            Value::Json(_) | Value::Array(_) => {
                ToSqlOutput::Owned(rusqlite::types::Value::Text(self.0.to_json().to_string()))
            }
            Value::Uuid(_) | Value::Interval { .. } | Value::Inet(_) => {
                ToSqlOutput::Owned(rusqlite::types::Value::Text(self.0.to_string()))
            }
        })
    }
}

fn insert_sql(table: &TablePlan, rows: usize) -> String {
    let cols: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let one = format!("({})", vec!["?"; cols.len()].join(", "));
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        table.name,
        cols.join(", "),
        vec![one.as_str(); rows].join(", ")
    )
}

fn load_table(
    conn: &Connection,
    table: &TablePlan,
    seed: u64,
    threads: usize,
    progress: LoadProgress<'_>,
    cancel: &crate::cancel::CancelToken,
) -> Result<String, BackendError> {
    let ncols = table.columns.len().max(1);
    let batch = ROWS_PER_INSERT.min(MAX_VARIABLES / ncols).max(1);
    let context = format!("loading table `{}`", table.name);
    let full = insert_sql(table, batch);
    let mut full_stmt = conn.prepare(&full).map_err(db_error(context.clone()))?;
    let tx = conn.unchecked_transaction().map_err(db_error(context.clone()))?;
    let checksum = table.generate(seed, threads, |chunk| {
        if cancel.is_cancelled() {
            return Err(BackendError::Interrupted {
                backend: BackendKind::Sqlite,
                during: context.clone(),
            });
        }
        let n = chunk.len();
        let mut row = 0;
        while row < n {
            let take = batch.min(n - row);
            let mut tail;
            let stmt: &mut Statement<'_> = if take == batch {
                &mut full_stmt
            } else {
                tail = conn
                    .prepare(&insert_sql(table, take))
                    .map_err(db_error(context.clone()))?;
                &mut tail
            };
            let mut index = 1;
            for r in row..row + take {
                for col in &chunk.columns {
                    stmt.raw_bind_parameter(index, Bind(&col[r]))
                        .map_err(db_error(context.clone()))?;
                    index += 1;
                }
            }
            stmt.raw_execute().map_err(db_error(context.clone()))?;
            row += take;
        }
        progress(n as u64);
        Ok(())
    })?;
    tx.commit().map_err(db_error(context))?;
    Ok(checksum)
}

/// Runs `f` on `conn`, interrupting it (SQLite's `sqlite3_interrupt`) once
/// `cancel` is cancelled.
fn interruptible<T>(conn: &Connection, cancel: &crate::cancel::CancelToken, f: impl FnOnce() -> T) -> T {
    let handle = conn.get_interrupt_handle();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if cancel.is_cancelled() {
                    handle.interrupt();
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let out = f();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    })
}

impl Engine for SqliteEngine {
    fn kind(&self) -> BackendKind {
        BackendKind::Sqlite
    }

    fn version(&self) -> String {
        rusqlite::version().to_string()
    }

    fn describe(&self) -> String {
        format!(
            "embedded SQLite {} in {}",
            rusqlite::version(),
            self.dir.path().display()
        )
    }

    fn indexes_of_base(&self, base: &str) -> Result<Vec<String>, BackendError> {
        let conn = Connection::open_with_flags(self.base_path(base), OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(db_error("listing base indexes"))?;
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index'")
            .map_err(db_error("listing base indexes"))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(db_error("listing base indexes"))
    }

    fn explain(
        &self,
        variant: &str,
        op: &OpPlan,
        params: &[Value],
        _session: &crate::backend::SessionOptions<'_>,
    ) -> Result<Vec<QueryPlan>, BackendError> {
        let conn = Connection::open_with_flags(self.variant_path(variant)?, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(db_error(format!("explaining `{}`", op.name)))?;
        op.steps
            .iter()
            .map(|step| explain_step(&conn, &step.sql, &step.args, params))
            .collect::<Result<_, _>>()
            .map_err(db_error(format!("EXPLAIN QUERY PLAN of `{}`", op.name)))
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("journal_mode".into(), "wal".into()),
            (
                "synchronous".into(),
                "normal unless the variant's session sets it".into(),
            ),
            ("busy_timeout".into(), format!("{}ms", BUSY_TIMEOUT.as_millis())),
        ]
    }

    fn load_named_base(
        &mut self,
        base: &str,
        spec: &BaseSpec,
        tables: &[TablePlan],
        seed: u64,
        progress: LoadProgress<'_>,
    ) -> Result<Vec<TableLoad>, BackendError> {
        let path = self.base_path(base);
        let conn = Connection::open(&path).map_err(db_error("creating the base database"))?;
        // Nothing to protect while loading: a failed load is thrown away.
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;")
            .map_err(db_error("configuring the base database"))?;
        for (i, statement) in spec.schema.iter().enumerate() {
            conn.execute_batch(statement)
                .map_err(db_error(format!("schema statement {}", i + 1)))?;
        }
        // One thread inserts; the others generate.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1);
        let mut loads = Vec::new();
        for table in tables {
            let start = Instant::now();
            let checksum = load_table(&conn, table, seed, threads, progress, &self.cancel)?;
            let seconds = secs(start.elapsed());
            loads.push(TableLoad {
                table: table.name.clone(),
                rows: table.rows,
                checksum,
                seconds,
                rows_per_sec: table.rows as f64 / seconds.max(1e-9),
            });
        }
        for (i, statement) in spec.after_load.iter().enumerate() {
            conn.execute_batch(statement)
                .map_err(db_error(format!("after_load statement {}", i + 1)))?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error("switching the base database to WAL"))?;
        conn.close()
            .map_err(|(_, e)| db_error("closing the base database")(e))?;
        Ok(loads)
    }

    fn create_variant_from(
        &mut self,
        variant: &str,
        base: &str,
        setup: &[String],
    ) -> Result<VariantSetup, BackendError> {
        // A prefix keeps every variant name (even `base`) clear of the base
        // file. Every copy gets a new file, made before the previous copy is
        // removed: a copy written into the blocks and pages its predecessor
        // just freed would sit where that one sat, and whatever that
        // placement does to speed would repeat in every round.
        self.copies += 1;
        let path = self
            .dir
            .path()
            .join(format!("variant-{variant}-{}.sqlite", self.copies));
        let start = Instant::now();
        std::fs::copy(self.base_path(base), &path)
            .map_err(io_error(format!("copying the base for variant `{variant}`")))?;
        let clone_seconds = secs(start.elapsed());
        let conn = Connection::open(&path).map_err(db_error(format!("opening variant `{variant}`")))?;
        let mut statement_seconds = Vec::new();
        for (i, statement) in setup.iter().enumerate() {
            let start = Instant::now();
            let context = format!("variant `{variant}`: setup statement {}", i + 1);
            interruptible(&conn, &self.cancel, || conn.execute_batch(statement)).map_err(|e| {
                if self.cancel.is_cancelled() {
                    BackendError::Interrupted {
                        backend: BackendKind::Sqlite,
                        during: context.clone(),
                    }
                } else {
                    db_error(context.clone())(e)
                }
            })?;
            statement_seconds.push(secs(start.elapsed()));
        }
        let start = Instant::now();
        conn.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(db_error(format!("variant `{variant}`: ANALYZE")))?;
        let analyze_seconds = secs(start.elapsed());
        conn.close()
            .map_err(|(_, e)| db_error(format!("closing variant `{variant}`"))(e))?;
        if let Some(old) = self.variants.insert(variant.to_string(), path) {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = old.clone().into_os_string();
                file.push(suffix);
                match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io_error(format!("removing the previous copy of variant `{variant}`"))(
                            e,
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(VariantSetup::new(clone_seconds, statement_seconds, analyze_seconds))
    }

    fn open_session(&self, variant: &str, options: &SessionOptions<'_>) -> Result<Box<dyn Session>, BackendError> {
        Ok(Box::new(SqliteSession::open(
            self.variant_path(variant)?,
            options.statements,
        )?))
    }

    fn sizes(&self, variant: &str) -> Result<Sizes, BackendError> {
        let path = self.variant_path(variant)?;
        let context = format!("sizes of variant `{variant}`");
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(db_error(context.clone()))?;
        let mut stmt = conn
            .prepare(
                "SELECT m.name, m.type, m.tbl_name, sum(s.pgsize) FROM dbstat s \
                 JOIN sqlite_schema m ON m.name = s.name \
                 WHERE m.type IN ('table', 'index') AND m.name NOT LIKE 'sqlite_stat%' \
                 GROUP BY m.name ORDER BY m.tbl_name, m.type DESC, m.name",
            )
            .map_err(db_error(context.clone()))?;
        let objects = stmt
            .query_map([], |r| {
                Ok(ObjectSize {
                    name: r.get(0)?,
                    kind: ObjectKind::from_catalog(&r.get::<_, String>(1)?),
                    table: r.get(2)?,
                    bytes: r.get::<_, i64>(3)? as u64,
                    toast_bytes: 0,
                    parts: 0,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(db_error(context.clone()))?;
        let total_bytes = conn
            .query_row(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db_error(context))? as u64;
        Ok(Sizes { total_bytes, objects })
    }
}

/// `EXPLAIN QUERY PLAN` of one statement: its detail lines as the summary,
/// and the indexes named in them.
fn explain_step(conn: &Connection, sql: &str, args: &[usize], params: &[Value]) -> rusqlite::Result<QueryPlan> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    for (i, &arg) in args.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, Bind(&params[arg]))?;
    }
    let mut lines = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        lines.push(r.get::<_, String>(3)?);
    }
    let mut indexes = Vec::new();
    for line in &lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        for w in words.windows(2) {
            if w[0] == "INDEX" && !indexes.iter().any(|x: &String| x == w[1]) {
                indexes.push(w[1].to_string());
            }
        }
    }
    Ok(QueryPlan {
        summary: lines.join("; "),
        indexes,
        relations: Vec::new(),
        plan_cache: None,
        detail: serde_json::Value::from(lines),
    })
}

/// One client connection to a variant's file.
pub struct SqliteSession {
    conn: Connection,
}

impl SqliteSession {
    pub fn open(path: &Path, session: &[String]) -> Result<Self, BackendError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(db_error("opening a session"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(db_error("setting busy_timeout"))?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")
            .map_err(db_error("configuring a session"))?;
        for (i, statement) in session.iter().enumerate() {
            conn.execute_batch(statement)
                .map_err(db_error(format!("session statement {}", i + 1)))?;
        }
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteSession { conn })
    }

    /// Runs every step, handing each row to `row`, inside a transaction when
    /// the operation asks for one.
    fn run(
        &mut self,
        op: &OpPlan,
        params: &[Value],
        mut row: impl FnMut(&rusqlite::Row<'_>, usize) -> rusqlite::Result<()>,
    ) -> Result<(), OpError> {
        if op.transaction {
            let begin = match op.kind {
                OpKind::Write => "BEGIN IMMEDIATE",
                OpKind::Read => "BEGIN",
            };
            self.conn
                .prepare_cached(begin)
                .and_then(|mut s| s.raw_execute())
                .map_err(classify)?;
        }
        let result = op.steps.iter().try_for_each(|step| {
            let mut stmt = self.conn.prepare_cached(&step.sql)?;
            for (i, &arg) in step.args.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, Bind(&params[arg]))?;
            }
            let columns = stmt.column_count();
            let mut rows = stmt.raw_query();
            while let Some(r) = rows.next()? {
                row(r, columns)?;
            }
            Ok(())
        });
        match (result, op.transaction) {
            (Ok(()), true) => self
                .conn
                .prepare_cached("COMMIT")
                .and_then(|mut s| s.raw_execute())
                .map(drop)
                .map_err(|e| {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    classify(e)
                }),
            (Ok(()), false) => Ok(()),
            (Err(e), transaction) => {
                if transaction && !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                Err(classify(e))
            }
        }
    }
}

impl Session for SqliteSession {
    fn execute(&mut self, op: &OpPlan, params: &[Value]) -> Result<u64, OpError> {
        let mut count = 0u64;
        self.run(op, params, |r, columns| {
            // Read every column, as an application would.
            for c in 0..columns {
                std::hint::black_box(r.get_ref(c)?);
            }
            count += 1;
            Ok(())
        })?;
        Ok(count)
    }

    fn fetch(&mut self, op: &OpPlan, params: &[Value]) -> Result<Vec<Vec<Value>>, OpError> {
        let mut out = Vec::new();
        self.run(op, params, |r, columns| {
            let mut values = Vec::with_capacity(columns);
            for c in 0..columns {
                values.push(match r.get_ref(c)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Float(v),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                });
            }
            out.push(values);
            Ok(())
        })?;
        Ok(out)
    }
}

fn classify(e: rusqlite::Error) -> OpError {
    let class = match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => ErrorClass::Timeout,
        Some(ErrorCode::ConstraintViolation) => ErrorClass::Constraint,
        _ => ErrorClass::Other,
    };
    OpError {
        class,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests;

pub mod check;
pub mod vec;
