//! Variation codes from seeds: the same seed gives the same code (and so the same face) on every
//! machine and in every run, so a seed can be written down, shown and typed back in.

use std::fmt;
use std::str::FromStr;

/// A variation seed. Seed 0 is the model's default face (the zero code).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seed(pub u64);

impl Seed {
    /// The default face.
    pub const DEFAULT: Seed = Seed(0);

    /// The code for this seed, `dim` numbers long.
    pub fn code(self, dim: usize) -> Vec<f32> {
        z_from_seed(self.0, dim)
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Seed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse()
            .map(Seed)
            .map_err(|_| format!("`{s}` is not a seed (expected a whole number from 0 to {})", u64::MAX))
    }
}

/// `dim` standard normal numbers from `seed` (SplitMix64 and the Box-Muller transform, both
/// simple enough to need no dependency and to give the same numbers everywhere); all zeros for
/// seed 0.
pub fn z_from_seed(seed: u64, dim: usize) -> Vec<f32> {
    if seed == 0 {
        return vec![0.0; dim];
    }
    let mut state = seed;
    let mut next_unit = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = state;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        // 53 random bits in (0, 1]: never 0, so the logarithm below is finite.
        ((x >> 11) + 1) as f64 / (1u64 << 53) as f64
    };
    let mut code = Vec::with_capacity(dim);
    while code.len() < dim {
        let (u1, u2) = (next_unit(), next_unit());
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        code.push((radius * angle.cos()) as f32);
        if code.len() < dim {
            code.push((radius * angle.sin()) as f32);
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_zero_is_the_zero_code() {
        assert_eq!(z_from_seed(0, 8), vec![0.0; 8]);
    }

    #[test]
    fn the_same_seed_gives_the_same_code_and_others_differ() {
        assert_eq!(z_from_seed(42, 8), z_from_seed(42, 8));
        assert_ne!(z_from_seed(42, 8), z_from_seed(43, 8));
        assert_eq!(z_from_seed(42, 3), z_from_seed(42, 8)[..3]);
    }

    #[test]
    fn codes_are_standard_normal() {
        let values: Vec<f64> = (1..=2000u64)
            .flat_map(|seed| z_from_seed(seed, 8))
            .map(f64::from)
            .collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
        assert!(values.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn seeds_parse_and_refuse_with_a_message() {
        assert_eq!("17".parse::<Seed>(), Ok(Seed(17)));
        assert!("-1".parse::<Seed>().unwrap_err().contains("not a seed"));
    }
}
