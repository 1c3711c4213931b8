//! Sharded runs: N processes (on one machine or many) measure the same
//! windows against one server, each with its share of the clients, and
//! `schemabench merge` adds their histograms exactly (docs/scale-out.md).
//!
//! Shard 1 leads: it loads, prepares every variant's copy, checks answers
//! and announces each window. The others follow: they load nothing and
//! measure the copy the leader announces. They meet in a table of the
//! target database itself, `schemabench_barrier_<hash of the run key>`,
//! which the leader creates and drops:
//!
//! 1. the leader announces step `s` (variant, round, database);
//! 2. every shard opens its sessions and checks in `ready`;
//! 3. when all N are ready the leader sets the start a short lead ahead on
//!    the server's clock; each shard reads how long until then (server
//!    time, so clock skew between machines does not matter — only half a
//!    round trip of network asymmetry) and starts its window then;
//! 4. every shard checks in `done`; the leader waits for all before the
//!    next copy replaces this one.

use crate::backend::{BackendError, BackendKind};
use crate::cancel::CancelToken;
use crate::pgwire::{Wire, WireError, cell, quote_literal};
use crate::provision::{self, Request};
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Shard `index` of `count` (1-based), `--shard K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The shard that loads, prepares and announces.
    pub fn leads(&self) -> bool {
        self.index == 1
    }

    /// Whether global client `client` (numbered across all shards) is this
    /// shard's: clients are dealt round-robin, so every group's clients and
    /// open-loop share spread evenly.
    pub fn owns(&self, client: u32) -> bool {
        client % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not K/N: shard K of N, 1 ≤ K ≤ N ≤ 1024 (e.g. 2/3)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count || count > 1024 {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// A sharded run's identity: the shard, and the key every shard of the run
/// shares (`--run-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRun {
    pub shard: Shard,
    pub key: String,
    /// How long a follower waits for the leader (`--shard-wait`).
    pub wait: Duration,
}

/// How long the leader gives the other shards to check in for a window.
pub const CHECK_IN_TIMEOUT: Duration = Duration::from_secs(120);
/// How far ahead (server clock) the leader sets a window's start once every
/// shard is ready: enough for each to read it.
pub const START_LEAD: Duration = Duration::from_millis(300);
const POLL: Duration = Duration::from_millis(10);

/// A window the leader announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    pub step: u32,
    pub variant: String,
    pub round: u32,
    pub database: String,
}

/// What a follower finds at its next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Window(Announced),
    /// The leader finished; `Some` with why when it failed.
    End(Option<String>),
}

/// One shard's connection to the barrier table.
pub struct Barrier {
    wire: Wire,
    table: String,
    run: ShardRun,
    cancel: CancelToken,
    /// Whether this process created the table (and drops it).
    owner: bool,
    /// The next step to announce (leader) or wait for (the others).
    step: u32,
}

fn err(context: impl Into<String>) -> impl FnOnce(WireError) -> BackendError {
    let context = context.into();
    move |e| BackendError::Database {
        backend: BackendKind::Postgres,
        context,
        message: e.to_string(),
    }
}

fn failed(message: String) -> BackendError {
    BackendError::Unavailable {
        backend: BackendKind::Postgres,
        message,
    }
}

/// The barrier table's name for a run key: a hash, so any key is safe.
pub fn table_name(key: &str) -> String {
    format!("schemabench_barrier_{:016x}", crate::datagen::mix64(fnv(key)))
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Barrier {
    /// Connects to the target's database (`request.url`). The leader
    /// creates the run's table and refuses a key already in use; the others
    /// wait for it (up to `wait`).
    pub fn open(request: &Request, run: ShardRun, cancel: CancelToken) -> Result<Self, BackendError> {
        let wait = run.wait;
        let server = provision::provision(request).map_err(|e| failed(e.to_string()))?;
        let endpoint = server.endpoint().clone();
        let wire = endpoint
            .connect(endpoint.admin_db())
            .map_err(err(format!("shard {}: connecting for the barrier", run.shard)))?;
        let mut b = Barrier {
            wire,
            table: table_name(&run.key),
            run,
            cancel,
            owner: false,
            step: 0,
        };
        if b.run.shard.leads() {
            let create = format!(
                "CREATE TABLE {} (step int NOT NULL, shard int NOT NULL, state text NOT NULL, variant text, round \
                 int, db text, start_at timestamptz, PRIMARY KEY (step, shard))",
                b.table
            );
            b.wire.batch(&create).map_err(|e| {
                if e.code() == Some("42P07") {
                    failed(format!(
                        "run key `{}` is in use: its barrier table {} exists (another sharded run with this key is \
                         running, or one was killed: drop the table, or choose another --run-key)",
                        b.run.key, b.table
                    ))
                } else {
                    err("creating the shards' barrier table")(e)
                }
            })?;
            b.owner = true;
        } else {
            let exists = format!("SELECT to_regclass({}) IS NOT NULL", quote_literal(&b.table));
            b.poll(wait, "the leading shard (1) to start the run", |w| {
                Ok(cell(&w.simple_query(&exists)?, 0) == Some("t")).map(|t| t.then_some(()))
            })?;
        }
        Ok(b)
    }

    pub fn run(&self) -> &ShardRun {
        &self.run
    }

    /// Polls `f` every few milliseconds until it gives a value, `wait`
    /// passes (an error naming `what`) or the run is cancelled.
    fn poll<T>(
        &mut self,
        wait: Duration,
        what: &str,
        mut f: impl FnMut(&mut Wire) -> Result<Option<T>, WireError>,
    ) -> Result<T, BackendError> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(v) = f(&mut self.wire).map_err(err(format!("shard {}: waiting for {what}", self.run.shard)))? {
                return Ok(v);
            }
            if self.cancel.is_cancelled() {
                return Err(BackendError::Interrupted {
                    backend: BackendKind::Postgres,
                    during: format!("waiting for {what}"),
                });
            }
            if Instant::now() >= deadline {
                return Err(failed(format!(
                    "shard {}: gave up after {} s waiting for {what}",
                    self.run.shard,
                    wait.as_secs()
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Leader: announces a window on `database`; returns its step.
    pub fn announce(&mut self, variant: &str, round: u32, database: &str) -> Result<u32, BackendError> {
        let a = Announced {
            step: self.step,
            variant: variant.to_string(),
            round,
            database: database.to_string(),
        };
        let sql = format!(
            "INSERT INTO {} (step, shard, state, variant, round, db) VALUES ({}, 0, 'window', {}, {}, {})",
            self.table,
            a.step,
            quote_literal(&a.variant),
            a.round,
            quote_literal(&a.database)
        );
        self.wire
            .batch(&sql)
            .map_err(err("announcing a window to the shards"))?;
        self.step += 1;
        Ok(a.step)
    }

    /// Leader: tells the others the run is over (`failure` when it failed).
    pub fn end(&mut self, failure: Option<&str>) -> Result<(), BackendError> {
        let step = self.step;
        let state = failure.map_or_else(|| "end".to_string(), |f| format!("failed: {f}"));
        let sql = format!(
            "INSERT INTO {} (step, shard, state) VALUES ({step}, 0, {})",
            self.table,
            quote_literal(&state)
        );
        self.wire.batch(&sql).map_err(err("telling the shards the run ended"))
    }

    /// Follower: waits (up to `--shard-wait`) for the leader's next
    /// announcement.
    pub fn next_window(&mut self) -> Result<Next, BackendError> {
        let (step, wait) = (self.step, self.run.wait);
        self.step += 1;
        let sql = format!(
            "SELECT state, variant, round, db FROM {} WHERE step = {step} AND shard = 0",
            self.table
        );
        self.poll(wait, "the leading shard's next window", |w| {
            let rows = match w.simple_query(&sql) {
                // The leader dropped the table: it ended without saying so.
                Err(e) if e.code() == Some("42P01") => {
                    return Ok(Some(Next::End(Some(
                        "the leading shard's barrier table was dropped".into(),
                    ))));
                }
                rows => rows?,
            };
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            let col = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            Ok(Some(match col(0).as_str() {
                "window" => Next::Window(Announced {
                    step,
                    variant: col(1),
                    round: col(2).parse().unwrap_or(0),
                    database: col(3),
                }),
                "end" => Next::End(None),
                other => Next::End(Some(other.strip_prefix("failed: ").unwrap_or(other).to_string())),
            }))
        })
    }

    /// Every shard, sessions open: checks in for `step` and waits for the
    /// common start; returns it on this machine's clock.
    pub fn ready(&mut self, step: u32) -> Result<Instant, BackendError> {
        let me = self.run.shard;
        let sql = format!(
            "INSERT INTO {} (step, shard, state) VALUES ({step}, {}, 'ready')",
            self.table, me.index
        );
        self.wire.batch(&sql).map_err(err("checking in for a window"))?;
        if me.leads() {
            self.wait_for_all(step, "ready", "every shard to check in")
                .map_err(|e| match e {
                    BackendError::Unavailable { .. } => failed(format!(
                        "shard(s) {} did not check in within {} s: is every shard running with the same --run-key?",
                        self.missing(step).unwrap_or_default(),
                        CHECK_IN_TIMEOUT.as_secs()
                    )),
                    e => e,
                })?;
            let set = format!(
                "UPDATE {} SET start_at = clock_timestamp() + interval '{} milliseconds' WHERE step = {step} AND \
                 shard = 0",
                self.table,
                START_LEAD.as_millis()
            );
            self.wire.batch(&set).map_err(err("setting a window's start"))?;
        }
        // Time left until the start on the server's clock, read with half
        // the round trip added back.
        let left = format!(
            "SELECT (extract(epoch FROM start_at - clock_timestamp()) * 1000000)::bigint FROM {} WHERE step = {step} \
             AND shard = 0 AND start_at IS NOT NULL",
            self.table
        );
        self.poll(CHECK_IN_TIMEOUT, "the window's start", |w| {
            let sent = Instant::now();
            let rows = w.simple_query(&left)?;
            let Some(micros) = cell(&rows, 0).and_then(|v| v.parse::<i64>().ok()) else {
                return Ok(None);
            };
            let back = Instant::now();
            let read_at = sent + (back - sent) / 2;
            Ok(Some(if micros >= 0 {
                read_at + Duration::from_micros(micros as u64)
            } else {
                read_at
                    .checked_sub(Duration::from_micros(micros.unsigned_abs()))
                    .unwrap_or(read_at)
            }))
        })
    }

    /// Shards that have not checked in for `step`, as "2, 3".
    fn missing(&mut self, step: u32) -> Option<String> {
        let sql = format!("SELECT shard FROM {} WHERE step = {step} AND shard > 0", self.table);
        let rows = self.wire.simple_query(&sql).ok()?;
        let have: Vec<u32> = rows.iter().filter_map(|r| r.first()?.as_ref()?.parse().ok()).collect();
        let missing: Vec<String> = (1..=self.run.shard.count)
            .filter(|k| !have.contains(k))
            .map(|k| k.to_string())
            .collect();
        Some(missing.join(", "))
    }

    /// Every shard after its window: checks out. The leader waits for all
    /// (its next copy replaces the one they measure).
    pub fn done(&mut self, step: u32) -> Result<(), BackendError> {
        let me = self.run.shard;
        let sql = format!(
            "UPDATE {} SET state = 'done' WHERE step = {step} AND shard = {}",
            self.table, me.index
        );
        self.wire.batch(&sql).map_err(err("checking out of a window"))?;
        if me.leads() {
            self.wait_for_all(step, "done", "every shard to finish the window")?;
        }
        Ok(())
    }

    /// Leader: waits until every shard's row for `step` is in `state`.
    fn wait_for_all(&mut self, step: u32, state: &str, what: &str) -> Result<(), BackendError> {
        let count = format!(
            "SELECT count(*) FROM {} WHERE step = {step} AND shard > 0 AND state = {}",
            self.table,
            quote_literal(state)
        );
        let n = self.run.shard.count.to_string();
        self.poll(CHECK_IN_TIMEOUT, what, |w| {
            Ok((cell(&w.simple_query(&count)?, 0) == Some(n.as_str())).then_some(()))
        })
    }
}

impl Drop for Barrier {
    fn drop(&mut self) {
        if self.owner {
            // The followers read the end marker within a poll or two; give
            // them that before the table goes.
            std::thread::sleep(Duration::from_millis(500));
            if let Err(e) = self.wire.batch(&format!("DROP TABLE IF EXISTS {}", self.table)) {
                eprintln!("warning: could not drop the shards' barrier table {}: {e}", self.table);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_deal_every_client_to_exactly_one() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "1/2000"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        for client in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.owns(client)).count(), 1);
        }
    }

    #[test]
    fn barrier_tables_are_safe_names_that_differ_by_key() {
        let a = table_name("nightly'; DROP TABLE x; --");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{a}");
        assert_ne!(a, table_name("nightly"));
        assert_eq!(table_name("k"), table_name("k"));
    }
}
