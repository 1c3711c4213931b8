//! The PostgreSQL backend: the base is loaded once into its own database with
//! parallel binary COPY, each variant is a `CREATE DATABASE ... TEMPLATE`
//! clone of it, and every client thread holds one connection with prepared
//! statements. All databases are named `schemabench_<run>_...` and dropped
//! when the engine is dropped; the server itself goes when its provisioner's
//! handle does.

mod load;
mod plan;
mod session;
pub mod value;
pub mod wire;

pub use session::PgSession;

use super::{
    BackendError, BackendKind, BaseSpec, Counters, Engine, ObjectSize, OpPlan, Progress, Session, Sizes, StepPlan,
    TableLoad, VariantSetup, secs,
};
use crate::datagen::{TablePlan, Value};
use crate::provision::{self, Server};
use postgres::{Client, NoTls};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

pub(crate) fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                m.push_str(&format!("; hint: {h}"));
            }
            m
        }
        None => e.to_string(),
    }
}

pub(crate) fn db_error(context: impl Into<String>) -> impl FnOnce(postgres::Error) -> BackendError {
    let context = context.into();
    move |e| BackendError::Database {
        backend: BackendKind::Postgres,
        context,
        message: pg_message(&e),
    }
}

/// Unix-socket sessions need a server whose socket schemabench can reach.
fn check_transport(server: &dyn Server, transport: provision::Transport) -> Result<(), BackendError> {
    if transport == provision::Transport::Unix && server.endpoint().socket_dir.is_none() {
        return Err(BackendError::Unavailable {
            backend: BackendKind::Postgres,
            message: format!(
                "--transport unix needs a server with a unix socket schemabench can reach; the {} provisioner's \
                 server has none (use --provisioner local, or --transport tcp)",
                server.provisioner()
            ),
        });
    }
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub struct PostgresEngine {
    admin: Mutex<Client>,
    prefix: String,
    base: Option<String>,
    variants: BTreeMap<String, String>,
    created: Vec<String>,
    version_num: i32,
    version: String,
    /// How measured sessions connect.
    transport: provision::Transport,
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

    /// An engine on a server that is already running; measured sessions
    /// connect over `transport`.
    pub fn on(server: Box<dyn Server>, transport: provision::Transport) -> Result<Self, BackendError> {
        let endpoint = server.endpoint().clone();
        check_transport(server.as_ref(), transport)?;
        let mut admin = endpoint
            .config(&endpoint.admin_db)
            .connect(NoTls)
            .map_err(db_error(format!(
                "connecting to {}",
                endpoint.display(&endpoint.admin_db)
            )))?;
        let row = admin
            .query_one(
                "SELECT current_setting('server_version'), current_setting('server_version_num')::int",
                &[],
            )
            .map_err(db_error("reading the server version"))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Ok(PostgresEngine {
            prefix: format!("schemabench_{}_{:08x}", std::process::id(), nanos),
            version: row.get(0),
            version_num: row.get(1),
            admin: Mutex::new(admin),
            base: None,
            variants: BTreeMap::new(),
            created: Vec::new(),
            transport,
            server,
        })
    }

    fn admin(&self) -> std::sync::MutexGuard<'_, Client> {
        self.admin.lock().unwrap_or_else(|p| p.into_inner())
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
        self.admin()
            .batch_execute(&sql)
            .map_err(db_error(format!("creating database {name}")))?;
        self.created.push(name.to_string());
        Ok(())
    }

    fn connect(&self, db: &str) -> Result<Client, BackendError> {
        let e = self.server.endpoint();
        e.config(db)
            .connect(NoTls)
            .map_err(db_error(format!("connecting to {}", e.display(db))))
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
        // Only what this engine created; a server we started goes anyway.
        let mut admin = self.admin();
        for db in self.created.iter().rev() {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(db)));
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
        let host = self.server.endpoint().host.as_str();
        let loopback = host == "localhost"
            || host.starts_with('/')
            || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
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
        let via = match self.transport {
            provision::Transport::Tcp => "TCP",
            provision::Transport::Unix => "its unix socket",
        };
        super::Placement {
            same_host,
            transport: self.transport.as_str().into(),
            summary: format!("{summary}, sessions over {via}"),
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut out = vec![("provisioner".to_string(), self.server.provisioner().to_string())];
        let rows = self.admin().query(
            "SELECT name, setting || COALESCE(' ' || unit, '') FROM pg_settings \
             WHERE source NOT IN ('default', 'override', 'client') \
                OR name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'work_mem') \
             ORDER BY name",
            &[],
        );
        if let Ok(rows) = rows {
            out.extend(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))));
        }
        if let Some(base) = &self.base
            && let Ok(mut c) = self.connect(base)
            && let Ok(rows) = c.query(
                "SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql'",
                &[],
            )
        {
            for r in rows {
                out.push((format!("extension {}", r.get::<_, String>(0)), r.get(1)));
            }
        }
        out
    }

    fn load_base(
        &mut self,
        spec: &BaseSpec,
        tables: &[TablePlan],
        seed: u64,
        progress: Progress<'_>,
    ) -> Result<Vec<TableLoad>, BackendError> {
        let base = format!("{}_base", self.prefix);
        self.create_database(&base, None)?;
        self.base = Some(base.clone());
        let mut client = self.connect(&base)?;
        for ext in &spec.extensions {
            client
                .batch_execute(&format!("CREATE EXTENSION IF NOT EXISTS {}", quote_ident(ext)))
                .map_err(db_error(format!("creating extension {ext}")))?;
        }
        for (i, statement) in spec.schema.iter().enumerate() {
            client
                .batch_execute(statement)
                .map_err(db_error(format!("schema statement {}", i + 1)))?;
        }
        // The server parses the COPY stream on one core; leave it that core.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1);
        let endpoint = self.server.endpoint().clone();
        let mut loads = Vec::new();
        for table in tables {
            let start = Instant::now();
            let checksum = load::copy_table(&endpoint, &base, table, seed, threads, progress)?;
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
        let loaded: Vec<String> = tables.iter().filter(|t| t.rows > 0).map(|t| t.name.clone()).collect();
        let sequences = client
            .query(
                "SELECT quote_ident(c.table_schema) || '.' || quote_ident(c.table_name), quote_ident(c.column_name), \
                        pg_get_serial_sequence(quote_ident(c.table_schema) || '.' || quote_ident(c.table_name), c.column_name) \
                 FROM information_schema.columns c \
                 WHERE c.table_schema = current_schema() AND c.table_name = ANY($1) \
                   AND pg_get_serial_sequence(quote_ident(c.table_schema) || '.' || quote_ident(c.table_name), c.column_name) IS NOT NULL",
                &[&loaded],
            )
            .map_err(db_error("finding identity sequences"))?;
        for r in sequences {
            let (table, column, sequence): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            client
                .batch_execute(&format!(
                    "SELECT setval('{sequence}', m + 1, false) FROM (SELECT max({column}) AS m FROM {table}) s WHERE m IS NOT NULL"
                ))
                .map_err(db_error(format!("advancing the sequence of {table}.{column}")))?;
        }
        // Index builds after a bulk load sort every key: give them memory
        // (this session only; the server's settings are untouched).
        client
            .batch_execute("SET maintenance_work_mem = '256MB'")
            .map_err(db_error("configuring the load session"))?;
        for (i, statement) in spec.after_load.iter().enumerate() {
            client
                .batch_execute(statement)
                .map_err(db_error(format!("after_load statement {}", i + 1)))?;
        }
        // Only the loaded tables, and no ANALYZE: every variant is analyzed
        // after its own setup, so statistics gathered here would be replaced
        // before anything reads them. VACUUM sets hint bits and the visibility
        // map for tables that could not be loaded with FREEZE.
        if !tables.is_empty() {
            let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
            client
                .batch_execute(&format!("VACUUM {}", names.join(", ")))
                .map_err(db_error("VACUUM of the base"))?;
        }
        Ok(loads)
    }

    fn create_variant(&mut self, variant: &str, setup: &[String]) -> Result<VariantSetup, BackendError> {
        let base = self.base.clone().ok_or_else(|| BackendError::Database {
            backend: BackendKind::Postgres,
            context: format!("variant `{variant}`"),
            message: "the base has not been loaded".into(),
        })?;
        let db = format!("{}_v{}", self.prefix, self.variants.len() + 1);
        let start = Instant::now();
        self.create_database(&db, Some(&base))?;
        let clone_seconds = secs(start.elapsed());
        let mut client = self.connect(&db)?;
        let mut statement_seconds = Vec::new();
        for (i, statement) in setup.iter().enumerate() {
            let start = Instant::now();
            client
                .batch_execute(statement)
                .map_err(db_error(format!("variant `{variant}`: setup statement {}", i + 1)))?;
            statement_seconds.push(secs(start.elapsed()));
        }
        let start = Instant::now();
        client
            .batch_execute("VACUUM ANALYZE")
            .map_err(db_error(format!("variant `{variant}`: VACUUM ANALYZE")))?;
        let analyze_seconds = secs(start.elapsed());
        self.variants.insert(variant.to_string(), db);
        Ok(VariantSetup::new(clone_seconds, statement_seconds, analyze_seconds))
    }

    fn open_session(&self, variant: &str, session: &[String]) -> Result<Box<dyn Session>, BackendError> {
        let db = self.variant_db(variant)?;
        let e = self.server.endpoint();
        let wire = wire::Wire::connect(e, db, self.transport).map_err(|err| BackendError::Database {
            backend: BackendKind::Postgres,
            context: format!("connecting to {} over {}", e.display(db), self.transport.as_str()),
            message: err.to_string(),
        })?;
        Ok(Box::new(PgSession::new(wire, session)?))
    }

    fn sizes(&self, variant: &str) -> Result<Sizes, BackendError> {
        let mut c = self.connect(self.variant_db(variant)?)?;
        let context = format!("sizes of variant `{variant}`");
        let rows = c
            .query(
                "SELECT c.relname::text, CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END, \
                        COALESCE(t.relname, c.relname)::text, \
                        CASE WHEN c.relkind = 'i' THEN pg_relation_size(c.oid) \
                             ELSE pg_relation_size(c.oid, 'main') + pg_relation_size(c.oid, 'fsm') + pg_relation_size(c.oid, 'vm') END, \
                        CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END \
                 FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_index i ON i.indexrelid = c.oid \
                 LEFT JOIN pg_class t ON t.oid = i.indrelid \
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
                   AND n.nspname NOT LIKE '\\_timescaledb%' AND c.relkind IN ('r', 'i', 'm', 'p') \
                 ORDER BY 3, 2 DESC, 1",
                &[],
            )
            .map_err(db_error(context))?;
        let objects: Vec<ObjectSize> = rows
            .iter()
            .map(|r| ObjectSize {
                name: r.get(0),
                kind: r.get(1),
                table: r.get(2),
                bytes: r.get::<_, i64>(3) as u64,
                toast_bytes: r.get::<_, i64>(4) as u64,
            })
            .collect();
        Ok(Sizes {
            total_bytes: objects.iter().map(|o| o.bytes + o.toast_bytes).sum(),
            objects,
        })
    }

    fn base_indexes(&self) -> Result<Vec<String>, BackendError> {
        let base = self.base.as_deref().unwrap_or("postgres");
        let mut c = self.connect(base)?;
        let rows = c
            .query(
                "SELECT indexname::text FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
                &[],
            )
            .map_err(db_error("listing base indexes"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn restart(&mut self) -> Result<(), BackendError> {
        self.server.restart().map_err(|e| BackendError::Unavailable {
            backend: BackendKind::Postgres,
            message: format!("restarting for a cold cache: {e}"),
        })?;
        let e = self.server.endpoint().clone();
        let admin = e
            .config(&e.admin_db)
            .connect(NoTls)
            .map_err(db_error("reconnecting after a restart"))?;
        *self.admin.lock().unwrap_or_else(|p| p.into_inner()) = admin;
        Ok(())
    }

    fn counters(&self, variant: &str) -> Result<Option<Counters>, BackendError> {
        let db = self.variant_db(variant)?;
        let row = self
            .admin()
            .query_one(
                "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint, \
                        COALESCE(blks_hit, 0), COALESCE(blks_read, 0) \
                 FROM pg_stat_database WHERE datname = $1",
                &[&db],
            )
            .map_err(db_error("reading server counters"))?;
        Ok(Some(Counters {
            wal_bytes: row.get::<_, i64>(0) as u64,
            blocks_hit: row.get::<_, i64>(1) as u64,
            blocks_read: row.get::<_, i64>(2) as u64,
        }))
    }

    fn explain(&self, variant: &str, op: &OpPlan, params: &[Value]) -> Result<Vec<StepPlan>, BackendError> {
        let mut c = self.connect(self.variant_db(variant)?)?;
        plan::explain(&mut c, op, params)
    }
}

#[cfg(test)]
mod tests;
