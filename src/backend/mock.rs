//! A deterministic stand-in engine for testing the harness's own logic
//! (scheduling, coordinated-omission correction, the SLO search) — never a
//! stand-in for a database in tests that claim to test one. Operations take a
//! fixed service time, optionally one at a time (a capacity limit), and
//! injected stalls freeze every session for a while.

use super::{
    BackendError, BackendKind, BaseSpec, Engine, LoadProgress, OpError, OpPlan, QueryPlan, Session, Sizes, TableLoad,
    VariantSetup,
};
use crate::datagen::{TablePlan, Value};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How mock operations behave.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// Busy time per operation.
    pub service: Duration,
    /// At most one operation at a time: capacity `1 / service` per second.
    pub serialized: bool,
    /// Stalls as (start after the first operation, length): an operation
    /// arriving during a stall waits for its end.
    pub stalls: Vec<(Duration, Duration)>,
}

pub struct MockEngine {
    config: Arc<MockConfig>,
    epoch: Arc<OnceLock<Instant>>,
    gate: Arc<Mutex<()>>,
}

impl MockEngine {
    pub fn new(config: MockConfig) -> Self {
        MockEngine {
            config: Arc::new(config),
            epoch: Arc::new(OnceLock::new()),
            gate: Arc::new(Mutex::new(())),
        }
    }
}

impl Engine for MockEngine {
    fn kind(&self) -> BackendKind {
        BackendKind::Sqlite
    }
    fn version(&self) -> String {
        "mock".into()
    }
    fn describe(&self) -> String {
        "mock engine".into()
    }
    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn load_named_base(
        &mut self,
        _: &str,
        _: &BaseSpec,
        tables: &[TablePlan],
        _: u64,
        _: LoadProgress<'_>,
    ) -> Result<Vec<TableLoad>, BackendError> {
        Ok(tables
            .iter()
            .map(|t| TableLoad {
                table: t.name.clone(),
                rows: 0,
                checksum: String::new(),
                seconds: 0.0,
                rows_per_sec: 0.0,
            })
            .collect())
    }
    fn create_variant_from(&mut self, _: &str, _: &str, _: &[String]) -> Result<VariantSetup, BackendError> {
        Ok(VariantSetup::new(0.0, Vec::new(), 0.0))
    }
    fn open_session(&self, _: &str, _: &super::SessionOptions<'_>) -> Result<Box<dyn Session>, BackendError> {
        Ok(Box::new(MockSession {
            config: self.config.clone(),
            epoch: self.epoch.clone(),
            gate: self.gate.clone(),
        }))
    }
    fn sizes(&self, _: &str) -> Result<Sizes, BackendError> {
        Ok(Sizes {
            total_bytes: 0,
            objects: Vec::new(),
        })
    }
    fn indexes_of_base(&self, _: &str) -> Result<Vec<String>, BackendError> {
        Ok(Vec::new())
    }
    fn explain(
        &self,
        _: &str,
        _: &OpPlan,
        _: &[Value],
        _: &crate::backend::SessionOptions<'_>,
    ) -> Result<Vec<QueryPlan>, BackendError> {
        Ok(Vec::new())
    }
}

struct MockSession {
    config: Arc<MockConfig>,
    epoch: Arc<OnceLock<Instant>>,
    gate: Arc<Mutex<()>>,
}

impl Session for MockSession {
    fn execute(&mut self, _: &OpPlan, _: &[Value]) -> Result<u64, OpError> {
        let now = Instant::now();
        let epoch = *self.epoch.get_or_init(|| now);
        for &(at, len) in &self.config.stalls {
            let (from, to) = (epoch + at, epoch + at + len);
            if now >= from && now < to {
                std::thread::sleep(to - now);
            }
        }
        let _guard = self
            .config
            .serialized
            .then(|| self.gate.lock().unwrap_or_else(|p| p.into_inner()));
        let start = Instant::now();
        while start.elapsed() < self.config.service {
            std::hint::spin_loop();
        }
        Ok(1)
    }

    fn fetch(&mut self, op: &OpPlan, params: &[Value]) -> Result<Vec<Vec<Value>>, OpError> {
        self.execute(op, params).map(|_| Vec::new())
    }
}
