//! The PostgreSQL backend: the base is loaded once into its own database with
//! parallel binary COPY, each variant is a `CREATE DATABASE ... TEMPLATE`
//! clone of it, and every client thread holds one connection with prepared
//! statements. All databases are named `schemabench_<run>_...` and dropped
//! when the engine is dropped; the server itself goes when its provisioner's
//! handle does.

mod load;
mod query_plan;
mod session;
mod sizes;
mod timescale;

pub use timescale::tsl_features;
pub mod value;

use session::check_transport;
pub use session::{CLIENT_GRACE, PgSession};

use super::{
    BackendError, BackendKind, BaseSpec, Counters, Engine, LoadProgress, OpPlan, QueryPlan, Session, SessionOptions,
    Sizes, TableLoad, VariantSetup, secs,
};
use crate::cancel::CancelToken;
use crate::datagen::{TablePlan, Value};
use crate::pgwire::{ConnInfo, Limits, Wire, WireError, cell, quote_ident, quote_literal};
use crate::provision::{self, Server};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

pub(crate) fn db_error(context: impl Into<String>) -> impl FnOnce(WireError) -> BackendError {
    let context = context.into();
    move |e| BackendError::Database {
        backend: BackendKind::Postgres,
        context,
        message: e.to_string(),
    }
}

pub struct PostgresEngine {
    admin: Mutex<Wire>,
    prefix: String,
    /// Loaded bases: name → database.
    bases: BTreeMap<String, String>,
    variants: BTreeMap<String, String>,
    created: Vec<String>,
    /// Variant copies made so far (names `{prefix}_v{n}`).
    copies: usize,
    version_num: i32,
    version: String,
    /// How measured sessions connect.
    transport: provision::Transport,
    /// Cancelled on Ctrl-C: what any connection waits for is cancelled.
    cancel: CancelToken,
    // Dropped last: a local cluster stops here.
    server: Box<dyn Server>,
}

impl PostgresEngine {
    /// Provisions a server and connects to it.
    pub fn start(request: &provision::Request) -> Result<Self, BackendError> {
        let server = provision::provision(request).map_err(|e| BackendError::Unavailable {
            backend: BackendKind::Postgres,
            message: e.to_string(),
        })?;
        Self::on(server, request.transport)
    }

    /// Waiting statements of every connection are cancelled once `cancel` is.
    pub fn with_cancel(mut self, cancel: CancelToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// What a connection's reads give up on.
    fn limits(&self, reply_timeout: Option<std::time::Duration>) -> Limits {
        Limits {
            reply_timeout,
            cancel: Some(self.cancel.clone()),
        }
    }

    /// An engine on a server that is already running; measured sessions
    /// connect over `transport`.
    pub fn on(server: Box<dyn Server>, transport: provision::Transport) -> Result<Self, BackendError> {
        let endpoint = server.endpoint().clone();
        check_transport(server.as_ref(), transport)?;
        let mut admin = endpoint.connect(endpoint.admin_db()).map_err(db_error(format!(
            "connecting to {}",
            endpoint.display(endpoint.admin_db())
        )))?;
        let row = admin
            .simple_query("SELECT current_setting('server_version'), current_setting('server_version_num')")
            .map_err(db_error("reading the server version"))?;
        let column = |i: usize| cell(&row, i).unwrap_or_default().to_string();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Ok(PostgresEngine {
            prefix: format!("schemabench_{}_{:08x}", std::process::id(), nanos),
            version: column(0),
            version_num: column(1).parse().unwrap_or(0),
            admin: Mutex::new(admin),
            bases: BTreeMap::new(),
            variants: BTreeMap::new(),
            created: Vec::new(),
            copies: 0,
            transport,
            cancel: CancelToken::new(),
            server,
        })
    }

    fn admin(&self) -> std::sync::MutexGuard<'_, Wire> {
        self.admin.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the admin session; when the server had closed that
    /// session (`idle_session_timeout` while the run measured, a restart, a
    /// terminated backend), opens a fresh one and runs `f` once more.
    fn with_admin<T>(&self, f: impl Fn(&mut Wire) -> Result<T, WireError>) -> Result<T, WireError> {
        let mut admin = self.admin();
        match f(&mut admin) {
            Err(e) if e.closed || admin.is_closed() => {
                let endpoint = self.server.endpoint();
                *admin = endpoint.connect(endpoint.admin_db())?;
                tracing::debug!(error = %e, "the admin session was closed; reconnected");
                f(&mut admin)
            }
            other => other,
        }
    }

    fn create_database(&mut self, name: &str, template: Option<&str>) -> Result<(), BackendError> {
        let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
        if let Some(t) = template {
            sql.push_str(&format!(" TEMPLATE {}", quote_ident(t)));
            // PostgreSQL 15 copies through the WAL by default; a file copy
            // after a checkpoint is much faster for a loaded base.
            if self.version_num >= 150000 {
                sql.push_str(" STRATEGY FILE_COPY");
            }
        }
        let mut tries = 0;
        // A TEMPLATE must have no other session. On a server schemabench did
        // not start, TimescaleDB's background scheduler may hold one on the
        // base (ours): end it, and only background processes, then try again.
        while let Err(e) = self.with_admin(|a| a.batch(&sql)) {
            let Some(base) = template.filter(|_| e.code() == Some("55006") && tries < 5) else {
                return Err(db_error(format!("creating database {name}"))(e));
            };
            tries += 1;
            let end = format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = {} AND pid <> pg_backend_pid() AND backend_type <> 'client backend'",
                quote_literal(base)
            );
            if let Err(e) = self.with_admin(|a| a.simple_query(&end)) {
                tracing::debug!(error = %e, "could not end background sessions on the base");
            }
            std::thread::sleep(std::time::Duration::from_millis(100 * tries));
        }
        self.created.push(name.to_string());
        Ok(())
    }

    /// A connection to `db` for setup and evidence; Ctrl-C cancels what it runs.
    fn connect(&self, db: &str) -> Result<Wire, BackendError> {
        let e = self.server.endpoint();
        let mut wire = e
            .connect(db)
            .map_err(db_error(format!("connecting to {}", e.display(db))))?;
        wire.set_limits(self.limits(None));
        Ok(wire)
    }

    /// How sessions on `db` connect.
    fn session_conninfo(&self, db: &str) -> ConnInfo {
        self.server.endpoint().conninfo(db, self.transport)
    }

    fn variant_db(&self, variant: &str) -> Result<&str, BackendError> {
        self.variants
            .get(variant)
            .map(String::as_str)
            .ok_or_else(|| BackendError::Database {
                backend: BackendKind::Postgres,
                context: format!("variant `{variant}`"),
                message: "the variant has not been created".into(),
            })
    }

    /// Changes how sessions opened from now on connect.
    pub fn set_transport(&mut self, transport: provision::Transport) -> Result<(), BackendError> {
        check_transport(self.server.as_ref(), transport)?;
        self.transport = transport;
        Ok(())
    }

    /// The server's endpoint (for tools run beside the engine, like pgbench).
    pub fn endpoint(&self) -> &provision::Endpoint {
        self.server.endpoint()
    }

    /// The database holding a variant.
    pub fn database_of(&self, variant: &str) -> Result<&str, BackendError> {
        self.variant_db(variant)
    }
}

impl Drop for PostgresEngine {
    fn drop(&mut self) {
        // Only what this engine created. On a server we started this is a
        // courtesy (the server goes anyway); on someone else's server every
        // database must go, so a failed DROP is retried on a fresh
        // connection (the server may have closed the idle admin session:
        // `idle_session_timeout`, a restart) and what still stays is named.
        let endpoint = self.server.endpoint().clone();
        let owned = self.server.owned();
        let mut left = Vec::new();
        for db in self.created.iter().rev() {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(db));
            match self.with_admin(|a| a.batch(&sql)) {
                Err(e) if !owned => left.push(format!("{db} ({e})")),
                _ => {}
            }
        }
        if !left.is_empty() {
            eprintln!(
                "warning: could not drop these databases schemabench created on {}; drop them by hand: {}",
                endpoint.display(endpoint.admin_db()),
                left.join(", ")
            );
        }
    }
}

impl Engine for PostgresEngine {
    fn kind(&self) -> BackendKind {
        BackendKind::Postgres
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn describe(&self) -> String {
        self.server.describe()
    }

    fn placement(&self) -> super::Placement {
        let host = self.server.endpoint().conn.host.to_string();
        let loopback = host == "localhost"
            || host.starts_with('/')
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let (same_host, summary) = match self.server.provisioner() {
            "local" => (
                Some(true),
                "same host: a local cluster in separate processes".to_string(),
            ),
            "docker" => (Some(true), "same host: a container on the host network".to_string()),
            _ if loopback => (Some(true), format!("same host: an existing server on {host}")),
            _ => (
                None,
                format!("an existing server on {host} (host unknown to schemabench)"),
            ),
        };
        // A URL that names a socket folder connects through it whatever --transport says.
        let transport = match self.server.endpoint().conn.host {
            crate::pgwire::Host::Socket(_) => provision::Transport::Unix,
            crate::pgwire::Host::Tcp(_) => self.transport,
        };
        let via = match transport {
            provision::Transport::Tcp => "TCP",
            provision::Transport::Unix => "its unix socket",
        };
        super::Placement {
            same_host,
            transport: Some(transport),
            summary: format!("{summary}, sessions over {via}"),
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut out = vec![("provisioner".to_string(), self.server.provisioner().to_string())];
        let pairs = |rows: Vec<Vec<Option<String>>>| -> Vec<(String, String)> {
            rows.into_iter()
                .map(|r| {
                    let mut r = r.into_iter().map(Option::unwrap_or_default);
                    (r.next().unwrap_or_default(), r.next().unwrap_or_default())
                })
                .collect()
        };
        let rows = self.with_admin(|a| {
            a.simple_query(
                "SELECT name, setting || COALESCE(' ' || unit, '') FROM pg_settings \
                 WHERE source NOT IN ('default', 'override', 'client') \
                    OR name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'work_mem', \
                                 'maintenance_work_mem', 'max_parallel_maintenance_workers') \
                 ORDER BY name",
            )
        });
        if let Ok(rows) = rows {
            // `primary_conninfo` and the like carry passwords.
            out.extend(
                pairs(rows)
                    .into_iter()
                    .map(|(k, v)| (k, crate::pgwire::conninfo::redact_conninfo(&v))),
            );
        }
        if let Some(base) = self.bases.values().next()
            && let Ok(mut c) = self.connect(base)
            && let Ok(rows) = c.simple_query("SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql'")
        {
            out.extend(pairs(rows).into_iter().map(|(k, v)| (format!("extension {k}"), v)));
        }
        let tls = self.admin().is_tls();
        out.push(("connection tls".into(), if tls { "on" } else { "off" }.into()));
        out
    }

    fn load_named_base(
        &mut self,
        name: &str,
        spec: &BaseSpec,
        tables: &[TablePlan],
        seed: u64,
        progress: LoadProgress<'_>,
    ) -> Result<Vec<TableLoad>, BackendError> {
        let base = match self.bases.len() {
            0 => format!("{}_base", self.prefix),
            n => format!("{}_base{}", self.prefix, n + 1),
        };
        self.create_database(&base, None)?;
        self.bases.insert(name.to_string(), base.clone());
        let mut client = self.connect(&base)?;
        for ext in &spec.extensions {
            client
                .batch(&format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(ext)))
                .map_err(db_error(format!("creating extension {ext}")))?;
        }
        timescale::check_license(&mut client, spec)?;
        for (i, statement) in spec.schema.iter().enumerate() {
            client
                .batch(statement)
                .map_err(db_error(format!("schema statement {}", i + 1)))?;
        }
        // The server parses the COPY stream on one core; leave it that core.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1);
        let info = self.server.endpoint().conninfo(&base, provision::Transport::Tcp);
        let mut loads = Vec::new();
        for table in tables {
            let start = Instant::now();
            let checksum = load::copy_table(&info, self.limits(None), table, seed, threads, progress, &self.cancel)?;
            let seconds = secs(start.elapsed());
            loads.push(TableLoad {
                table: table.name.clone(),
                rows: table.rows,
                checksum,
                seconds,
                rows_per_sec: table.rows as f64 / seconds.max(1e-9),
            });
        }
        // Loaded keys bypass identity and serial sequences: move each sequence
        // of a loaded table past the largest loaded value so inserts get
        // fresh keys. (Other tables, e.g. an extension's, are left alone.)
        let loaded: Vec<String> = tables
            .iter()
            .filter(|t| t.rows > 0)
            .map(|t| quote_literal(&t.name))
            .collect();
        let sequences = if loaded.is_empty() {
            Vec::new()
        } else {
            client
                .simple_query(&format!(
                    "SELECT quote_ident(c.table_schema) || '.' || quote_ident(c.table_name), quote_ident(c.column_name), \
                        pg_get_serial_sequence(quote_ident(c.table_schema) || '.' || quote_ident(c.table_name), c.column_name) \
                 FROM information_schema.columns c \
                 WHERE c.table_schema = current_schema() AND c.table_name IN ({}) \
                   AND pg_get_serial_sequence(quote_ident(c.table_schema) || '.' || quote_ident(c.table_name), c.column_name) IS NOT NULL",
                    loaded.join(", ")
                ))
                .map_err(db_error("finding identity sequences"))?
        };
        for r in sequences {
            let text = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            let (table, column, sequence) = (text(0), text(1), text(2));
            client
                .batch(&format!(
                    "SELECT setval('{sequence}', m + 1, false) FROM (SELECT max({column}) AS m FROM {table}) s WHERE m IS NOT NULL"
                ))
                .map_err(db_error(format!("advancing the sequence of {table}.{column}")))?;
        }
        // Index builds after a bulk load sort every key: give them memory
        // (this session only; the server's settings are untouched).
        client
            .batch("SET maintenance_work_mem = '256MB'")
            .map_err(db_error("configuring the load session"))?;
        for (i, statement) in spec.after_load.iter().enumerate() {
            client
                .batch(statement)
                .map_err(db_error(format!("after_load statement {}", i + 1)))?;
        }
        // Only the loaded tables, and no ANALYZE: every variant is analyzed
        // after its own setup, so statistics gathered here would be replaced
        // before anything reads them. VACUUM sets hint bits and the visibility
        // map for tables that could not be loaded with FREEZE.
        if !tables.is_empty() {
            let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
            client
                .batch(&format!("VACUUM {}", names.join(", ")))
                .map_err(db_error("VACUUM of the base"))?;
        }
        Ok(loads)
    }

    fn create_variant_from(
        &mut self,
        variant: &str,
        base: &str,
        setup: &[String],
    ) -> Result<VariantSetup, BackendError> {
        let base = self.bases.get(base).cloned().ok_or_else(|| BackendError::Database {
            backend: BackendKind::Postgres,
            context: format!("variant `{variant}`"),
            message: format!("base `{base}` has not been loaded"),
        })?;
        // A new name for every copy: a replaced copy is dropped after its
        // successor exists, so the names must not collide.
        self.copies += 1;
        let db = format!("{}_v{}", self.prefix, self.copies);
        let start = Instant::now();
        self.create_database(&db, Some(&base))?;
        let clone_seconds = secs(start.elapsed());
        let mut client = self.connect(&db)?;
        let mut statement_seconds = Vec::new();
        for (i, statement) in setup.iter().enumerate() {
            let start = Instant::now();
            client
                .batch(statement)
                .map_err(db_error(format!("variant `{variant}`: setup statement {}", i + 1)))?;
            statement_seconds.push(secs(start.elapsed()));
        }
        let start = Instant::now();
        client
            .batch("VACUUM ANALYZE")
            .map_err(db_error(format!("variant `{variant}`: VACUUM ANALYZE")))?;
        let analyze_seconds = secs(start.elapsed());
        drop(client);
        if let Some(old) = self.variants.insert(variant.to_string(), db) {
            self.with_admin(|a| a.batch(&format!("DROP DATABASE {} WITH (FORCE)", quote_ident(&old))))
                .map_err(db_error(format!("variant `{variant}`: dropping the previous copy")))?;
            self.created.retain(|d| *d != old);
        }
        Ok(VariantSetup::new(clone_seconds, statement_seconds, analyze_seconds))
    }

    fn open_session(&self, variant: &str, options: &SessionOptions<'_>) -> Result<Box<dyn Session>, BackendError> {
        let info = self.session_conninfo(self.variant_db(variant)?);
        Ok(Box::new(PgSession::open(&info, options, &self.cancel)?))
    }

    fn sizes(&self, variant: &str) -> Result<Sizes, BackendError> {
        let mut c = self.connect(self.variant_db(variant)?)?;
        sizes::read(&mut c).map_err(db_error(format!("sizes of variant `{variant}`")))
    }

    fn indexes_of_base(&self, base: &str) -> Result<Vec<String>, BackendError> {
        let base = self.bases.get(base).map_or("postgres", String::as_str);
        let mut c = self.connect(base)?;
        let rows = c
            .simple_query(
                "SELECT indexname FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            )
            .map_err(db_error("listing base indexes"))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    fn restart(&mut self) -> Result<(), BackendError> {
        self.server.restart().map_err(|e| BackendError::Unavailable {
            backend: BackendKind::Postgres,
            message: format!("restarting for a cold cache: {e}"),
        })?;
        let e = self.server.endpoint().clone();
        let admin = e
            .connect(e.admin_db())
            .map_err(db_error("reconnecting after a restart"))?;
        *self.admin.lock().unwrap_or_else(|p| p.into_inner()) = admin;
        Ok(())
    }

    fn before_window(&self) {
        if let Err(e) = self.with_admin(|a| a.batch("CHECKPOINT")) {
            tracing::debug!(error = %e, "no CHECKPOINT before the window");
        }
    }

    fn variant_database(&self, variant: &str) -> Option<String> {
        self.variants.get(variant).cloned()
    }

    fn adopt_variant(&mut self, variant: &str, database: &str) -> Result<(), BackendError> {
        // Not in `created`: the process that made it drops it.
        self.variants.insert(variant.to_string(), database.to_string());
        Ok(())
    }

    fn counters(&self, variant: &str) -> Result<Option<Counters>, BackendError> {
        let db = self.variant_db(variant)?;
        let sql = format!(
            "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint, \
                    COALESCE(blks_hit, 0), COALESCE(blks_read, 0) \
             FROM pg_stat_database WHERE datname = {}",
            quote_literal(db)
        );
        let rows = self
            .with_admin(|a| a.simple_query(&sql))
            .map_err(db_error("reading server counters"))?;
        let num = |i: usize| cell(&rows, i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Ok(Some(Counters {
            wal_bytes: num(0),
            blocks_hit: num(1),
            blocks_read: num(2),
        }))
    }

    /// EXPLAIN on a session of the variant, through the statement that
    /// session prepared, after executing it as often as the plan cache needs
    /// to settle on a generic or custom plan (see `PgSession::explain`).
    fn explain(
        &self,
        variant: &str,
        op: &OpPlan,
        params: &[Value],
        options: &SessionOptions<'_>,
    ) -> Result<Vec<QueryPlan>, BackendError> {
        let info = self.session_conninfo(self.variant_db(variant)?);
        let ops = std::slice::from_ref(op);
        let mut session = PgSession::open(
            &info,
            &SessionOptions {
                statements: options.statements,
                ops,
                op_timeout: options.op_timeout,
            },
            &self.cancel,
        )?;
        let mut plans = session
            .explain(op, params)
            .map_err(db_error(format!("EXPLAIN of `{}`", op.name)))?;
        // Scans of a partition or chunk name its copy of the index; the
        // variant added the top one.
        let used: Vec<String> = plans.iter().flat_map(|p| p.indexes.iter().cloned()).collect();
        if !used.is_empty() {
            let mut c = self.connect(self.variant_db(variant)?)?;
            let roots = sizes::root_indexes(&mut c, &used).map_err(db_error("finding the indexes plans use"))?;
            for p in &mut plans {
                let mut top: Vec<String> = Vec::new();
                for i in &p.indexes {
                    let root = roots.get(i).unwrap_or(i);
                    if !top.contains(root) {
                        top.push(root.clone());
                    }
                }
                p.indexes = top;
            }
        }
        Ok(plans)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod type_tests;

#[cfg(test)]
mod session_tests;
