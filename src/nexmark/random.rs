//! Bit-exact ports of `java.util.Random` and `java.util.SplittableRandom` (NEXMARK.md §3.1,
//! §3.2). Every Nexmark field is a sequence of these draws, so their arithmetic (two's
//! complement with wrap-around, truncating `%` and `/`) is part of the contract.

/// The draws the Nexmark generator makes, shared by both Java RNGs.
pub trait JavaRng {
    /// Java's `nextInt()`: 32 uniform bits.
    fn next_int(&mut self) -> i32;

    /// Java's `nextInt(bound)`: uniform on `0..bound`. A `bound` of 0 or less (Java throws)
    /// yields 0 without a draw, so no input can panic.
    fn next_int_below(&mut self, bound: i32) -> i32;

    /// Java's `nextLong()`.
    fn next_long(&mut self) -> i64;

    /// Java's `nextDouble()`: uniform on `[0, 1)` with 53 bits.
    fn next_double(&mut self) -> f64;
}

/// 2^-53, the scale of Java's `nextDouble`.
const DOUBLE_UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// `java.util.Random`: a 48-bit linear congruential generator.
#[derive(Clone, Debug)]
pub struct JavaRandom {
    /// The 48-bit state (always in `0..2^48`).
    seed: i64,
}

const MULTIPLIER: i64 = 0x5_DEEC_E66D;
const ADDEND: i64 = 0xB;
const MASK: i64 = (1 << 48) - 1;

impl JavaRandom {
    /// `new Random(seed)`.
    pub fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed ^ MULTIPLIER) & MASK,
        }
    }

    /// Java's `next(bits)`: the top `bits` bits of the advanced state (1 ≤ bits ≤ 32).
    fn next(&mut self, bits: u32) -> i32 {
        self.seed = self.seed.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND) & MASK;
        (self.seed >> (48 - bits)) as i32
    }
}

impl JavaRng for JavaRandom {
    fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    fn next_int_below(&mut self, bound: i32) -> i32 {
        if bound <= 0 {
            return 0;
        }
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        r = u % bound;
        while u.wrapping_sub(r).wrapping_add(m) < 0 {
            u = self.next(31);
            r = u % bound;
        }
        r
    }

    fn next_long(&mut self) -> i64 {
        let hi = i64::from(self.next(32));
        let lo = i64::from(self.next(32));
        (hi << 32).wrapping_add(lo)
    }

    fn next_double(&mut self) -> f64 {
        let hi = i64::from(self.next(26));
        let lo = i64::from(self.next(27));
        ((hi << 27) + lo) as f64 * DOUBLE_UNIT
    }
}

/// `java.util.SplittableRandom` with an explicit seed (the default gamma).
#[derive(Clone, Debug)]
pub struct SplittableRandom {
    seed: u64,
    gamma: u64,
}

/// The golden gamma of a seeded `SplittableRandom`.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn mix32(mut z: u64) -> i32 {
    z = (z ^ (z >> 33)).wrapping_mul(0x62a9_d9ed_7997_05f5);
    ((z ^ (z >> 28)).wrapping_mul(0xcb24_d0a5_c88c_35b3) >> 32) as u32 as i32
}

impl SplittableRandom {
    /// `new SplittableRandom(seed)`.
    pub fn new(seed: i64) -> Self {
        SplittableRandom {
            seed: seed as u64,
            gamma: GOLDEN_GAMMA,
        }
    }

    fn next_seed(&mut self) -> u64 {
        self.seed = self.seed.wrapping_add(self.gamma);
        self.seed
    }
}

impl JavaRng for SplittableRandom {
    fn next_int(&mut self) -> i32 {
        mix32(self.next_seed())
    }

    fn next_int_below(&mut self, bound: i32) -> i32 {
        if bound <= 0 {
            return 0;
        }
        let r = self.next_int();
        let m = bound - 1;
        if bound & m == 0 {
            return r & m;
        }
        let mut u = ((r as u32) >> 1) as i32;
        loop {
            let r = u % bound;
            if u.wrapping_add(m).wrapping_sub(r) >= 0 {
                return r;
            }
            u = ((self.next_int() as u32) >> 1) as i32;
        }
    }

    fn next_long(&mut self) -> i64 {
        mix64(self.next_seed()) as i64
    }

    fn next_double(&mut self) -> f64 {
        (mix64(self.next_seed()) >> 11) as f64 * DOUBLE_UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test vectors of NEXMARK.md §3.1 / §3.2 (checked there against JDK 17).

    #[test]
    fn java_random_matches_the_jdk() {
        let mut r = JavaRandom::new(0);
        assert_eq!(r.next_int(), -1_155_484_576);
        assert_eq!(r.next_int_below(11), 6);
        assert_eq!(r.next_double(), 0.240_536_415_671_485_87);
        assert_eq!(r.next_long(), -6_688_467_811_848_818_630);
        assert_eq!(r.next_int_below(10000), 4491);
        assert_eq!(r.next_int_below(16), 1);
        let mut r = JavaRandom::new(42);
        let draws: Vec<i32> = (0..5).map(|_| r.next_int_below(13)).collect();
        assert_eq!(draws, [0, 7, 9, 12, 0]);
    }

    #[test]
    fn splittable_random_matches_the_jdk() {
        let mut r = SplittableRandom::new(0);
        assert_eq!(r.next_int(), 821_115_357);
        assert_eq!(r.next_int_below(11), 5);
        assert_eq!(r.next_double(), 0.026_433_771_592_597_743);
        assert_eq!(r.next_long(), -537_132_696_929_009_172);
        assert_eq!(r.next_int_below(10000), 7789);
        assert_eq!(r.next_int_below(16), 5);
    }

    #[test]
    fn bounds_of_zero_or_less_do_not_panic() {
        let mut r = JavaRandom::new(1);
        assert_eq!(r.next_int_below(0), 0);
        assert_eq!(r.next_int_below(-5), 0);
        let mut s = SplittableRandom::new(1);
        assert_eq!(s.next_int_below(i32::MIN), 0);
    }
}
