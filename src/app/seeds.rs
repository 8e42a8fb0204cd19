//! The variation seeds the app offers: random-looking, short, never the default face.

use crate::engine::Seed;

/// Random-looking seeds, never 0 (the default face): SplitMix64 from a starting value.
pub struct SeedSource(u64);

impl SeedSource {
    pub fn new(start: u64) -> Self {
        Self(start)
    }

    /// A start that differs between runs.
    pub fn random_start() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    }

    pub fn next_seed(&mut self) -> Seed {
        loop {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = self.0;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            // Short seeds are easier to read and type: 9 digits at most.
            let seed = (x ^ (x >> 31)) % 1_000_000_000;
            if seed != 0 {
                return Seed(seed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_sources_repeat_from_the_same_start_and_never_give_the_default() {
        let mut a = SeedSource::new(7);
        let mut b = SeedSource::new(7);
        let seeds: Vec<Seed> = (0..100).map(|_| a.next_seed()).collect();
        assert_eq!(seeds, (0..100).map(|_| b.next_seed()).collect::<Vec<_>>());
        assert!(seeds.iter().all(|s| s.0 != 0 && s.0 < 1_000_000_000));
        let mut distinct = seeds.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), seeds.len());
    }
}
