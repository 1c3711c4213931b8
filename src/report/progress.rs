//! Progress display for interactive runs: indicatif bars on a terminal, one
//! line per step otherwise (CI logs), nothing with `--quiet`.

use crate::backend::BackendKind;
use crate::run::Observer;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

pub struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    tty: bool,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            bar: Mutex::new(None),
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn replace(&self, bar: Option<ProgressBar>) {
        let mut slot = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        *slot = bar;
    }

    fn start(&self, len: u64, template: &str, message: String) {
        if !self.tty {
            eprintln!("{message}");
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(message);
        self.replace(Some(bar));
    }

    fn set(&self, pos: u64) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            bar.set_position(pos);
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Observer for Progress {
    fn provisioned(&self, backend: BackendKind, description: &str) {
        eprintln!("{backend}: {description}");
    }

    fn loading(&self, backend: BackendKind, total_rows: u64) {
        self.start(
            total_rows,
            "{msg:32} [{bar:30}] {human_pos}/{human_len} rows {per_sec} {eta}",
            format!("{backend}: loading {total_rows} rows"),
        );
    }

    fn loaded_rows(&self, rows: u64) {
        self.set(rows);
    }

    fn preparing(&self, backend: BackendKind, variant: &str) {
        self.replace(None);
        if !self.tty {
            eprintln!("{backend}: preparing variant {variant}");
        }
    }

    fn checking_answers(&self, backend: BackendKind) {
        if !self.tty {
            eprintln!("{backend}: checking answers");
        }
    }

    fn measuring(&self, round: u32, rounds: u32, backend: BackendKind, variant: &str, total: Duration) {
        self.start(
            total.as_millis() as u64,
            "{msg:32} [{bar:30}] {elapsed}",
            format!("{backend}: round {round}/{rounds} {variant}"),
        );
    }

    fn searching_slo(&self, backend: BackendKind, variant: &str) {
        self.replace(None);
        eprintln!("{backend}: searching the maximum throughput at the SLO for {variant}");
    }

    fn equal_load(&self, backend: BackendKind, rate_per_s: u32) {
        self.replace(None);
        eprintln!("{backend}: judging guards at equal load: every variant open-loop at {rate_per_s} operations/s");
    }

    fn measure_tick(&self, elapsed: Duration) {
        self.set(elapsed.as_millis() as u64);
    }

    fn finished(&self) {
        self.replace(None);
    }
}
