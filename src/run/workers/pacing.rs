//! Open-loop pacing: each client's arrival schedule, uniform or Poisson,
//! seeded so every variant gets the same schedule.

use crate::scenario::Arrivals;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

/// Waits until `t`: sleeps while far, spins for the last stretch so
/// arrivals keep sub-millisecond precision.
#[inline]
pub fn wait_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        let left = t - now;
        if left > Duration::from_micros(250) {
            std::thread::sleep(left - Duration::from_micros(150));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// One client's open-loop arrival schedule.
pub struct Pacer {
    pub(super) next: Instant,
    mean_gap_s: f64,
    arrivals: Arrivals,
    rng: ChaCha8Rng,
    clients: u32,
}

impl Pacer {
    /// Client `client` of `clients` sharing `rate` arrivals per second from
    /// `begin`; uniform schedules are staggered across clients.
    pub fn new(begin: Instant, rate: f64, clients: u32, client: u32, arrivals: Arrivals, seed: u64) -> Self {
        let mean_gap_s = clients as f64 / rate;
        let mut pacer = Pacer {
            next: begin,
            mean_gap_s,
            arrivals,
            rng: ChaCha8Rng::seed_from_u64(seed),
            clients,
        };
        pacer.next = match arrivals {
            Arrivals::Uniform => begin + Duration::from_secs_f64(mean_gap_s * client as f64 / clients as f64),
            Arrivals::Poisson => begin + pacer.gap(),
        };
        pacer
    }

    fn gap(&mut self) -> Duration {
        match self.arrivals {
            Arrivals::Uniform => Duration::from_secs_f64(self.mean_gap_s),
            // Exponential gaps by inversion: -ln(U) * mean.
            Arrivals::Poisson => {
                let u: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
                Duration::from_secs_f64(-u.ln() * self.mean_gap_s)
            }
        }
    }

    /// Changes the rate (arrivals per second over all clients) from the next gap on.
    pub fn set_rate(&mut self, rate: f64) {
        self.mean_gap_s = self.clients as f64 / rate;
    }

    /// The next intended start; advances the schedule.
    pub fn next_start(&mut self) -> Instant {
        let t = self.next;
        let gap = self.gap();
        self.next += gap;
        t
    }
}
