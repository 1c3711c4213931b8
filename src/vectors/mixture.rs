//! A Gaussian mixture: `clusters` centres in `dim` dimensions, each point a
//! centre plus Gaussian noise. Real embeddings are clustered; uniformly random
//! vectors are not, and make every index look bad (all distances alike).

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::sync::Arc;

/// Seed of the centres: fixed, so a column and the queries drawn for it
/// (`vector(...)` with the same arguments) share one distribution whatever
/// the run's seed. The seed changes the points, not the clusters.
const CENTRES_SEED: u64 = 0x5eed_cafe_f00d_0001;

#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    pub dim: usize,
    pub clusters: usize,
    /// Noise around a centre, relative to the typical distance between
    /// centres: 0.1 gives tight, well separated clusters; 1 one blob.
    pub spread: f32,
    /// Scale every point to length 1 (cosine and inner-product questions).
    pub normalize: bool,
    centres: Arc<Vec<f32>>,
}

impl Mixture {
    pub fn new(dim: usize, clusters: usize, spread: f32, normalize: bool) -> Mixture {
        let mut rng = ChaCha8Rng::seed_from_u64(CENTRES_SEED ^ ((dim as u64) << 32) ^ clusters as u64);
        let centres = (0..dim * clusters).map(|_| StandardNormal.sample(&mut rng)).collect();
        Mixture {
            dim,
            clusters,
            spread,
            normalize,
            centres: Arc::new(centres),
        }
    }

    /// One point: a centre chosen uniformly, plus noise.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f32> {
        let c = rng.random_range(0..self.clusters);
        let centre = &self.centres[c * self.dim..(c + 1) * self.dim];
        let mut v: Vec<f32> = centre
            .iter()
            .map(|x| {
                let noise: f32 = StandardNormal.sample(rng);
                x + self.spread * noise
            })
            .collect();
        if self.normalize {
            let norm = super::distance::dot(&v, &v).sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
        v
    }
}
