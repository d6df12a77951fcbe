//! The one table of numeric limits: each setting's allowed range, shared by the pipeline-file
//! validator and the command-line flags, so that a value refused in one is refused in the other
//! (and no flag reaches the runtime unchecked: a huge ring or batch would abort on allocation).

use std::ops::RangeInclusive;
use std::time::Duration;

/// The allowed range of one numeric setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Its path in the pipeline file (`runtime.workers`); empty when it has none.
    pub key: &'static str,
    /// Its command-line flag (`--workers`); empty when it has none.
    pub flag: &'static str,
    /// Smallest allowed value.
    pub min: u64,
    /// Largest allowed value.
    pub max: u64,
}

/// Worker threads.
pub const WORKERS: Limit = Limit {
    key: "runtime.workers",
    flag: "--workers",
    min: 1,
    max: 4096,
};
/// Records per ring batch.
pub const BATCH_SIZE: Limit = Limit {
    key: "runtime.batch_size",
    flag: "--batch-size",
    min: 1,
    max: 1 << 20,
};
/// Batches per ring (each of the N×N rings holds this many batch slots).
pub const RING_CAPACITY: Limit = Limit {
    key: "",
    flag: "--ring-capacity",
    min: 1,
    max: 1 << 16,
};
/// Key groups (also a power of two).
pub const MAX_PARALLELISM: Limit = Limit {
    key: "runtime.max_parallelism",
    flag: "",
    min: 1,
    max: 32768,
};
/// Complete checkpoints kept.
pub const CHECKPOINT_RETAIN: Limit = Limit {
    key: "checkpoint.retain",
    flag: "--checkpoint-retain",
    min: 1,
    max: 1_000_000,
};
/// Time between checkpoints, in milliseconds (1 ms to 365 days).
pub const CHECKPOINT_INTERVAL_MS: Limit = Limit {
    key: "checkpoint.interval",
    flag: "--checkpoint-interval",
    min: 1,
    max: 365 * 24 * 3600 * 1000,
};

/// Every limit, for documentation and tests.
pub const ALL: [Limit; 6] = [
    WORKERS,
    BATCH_SIZE,
    RING_CAPACITY,
    MAX_PARALLELISM,
    CHECKPOINT_RETAIN,
    CHECKPOINT_INTERVAL_MS,
];

impl Limit {
    /// The range as the pipeline validator's integers.
    pub fn range(&self) -> RangeInclusive<i64> {
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        to_i64(self.min)..=to_i64(self.max)
    }

    /// Whether `value` is allowed.
    pub fn allows(&self, value: u64) -> bool {
        (self.min..=self.max).contains(&value)
    }

    /// Checks a flag's value: `Err("--batch-size: 100000000000 is out of range 1..=1048576")`.
    ///
    /// # Errors
    /// The message naming the flag, the value and the range.
    pub fn check_flag(&self, value: u64) -> Result<(), String> {
        if self.allows(value) {
            Ok(())
        } else {
            Err(format!(
                "{}: {value} is out of range {}..={}",
                self.flag, self.min, self.max
            ))
        }
    }

    /// Checks a duration against a millisecond limit (sub-millisecond parts are compared too:
    /// `500us` is below a 1 ms minimum).
    ///
    /// # Errors
    /// The message naming the setting (`what`: a flag or a field path) and the range.
    pub fn check_duration(&self, what: &str, d: Duration) -> Result<(), String> {
        let min = Duration::from_millis(self.min);
        let max = Duration::from_millis(self.max);
        if d >= min && d <= max {
            Ok(())
        } else {
            Err(format!(
                "{what}: {d:?} is out of range {}..={}",
                short_ms(self.min),
                short_ms(self.max)
            ))
        }
    }
}

/// Milliseconds as the shortest humantime text (`1ms`, `30s`, `365d`).
fn short_ms(ms: u64) -> String {
    match ms {
        ms if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_named() {
        assert!(BATCH_SIZE.allows(1) && BATCH_SIZE.allows(1 << 20));
        assert!(!BATCH_SIZE.allows(0) && !BATCH_SIZE.allows((1 << 20) + 1));
        assert_eq!(
            BATCH_SIZE.check_flag(100_000_000_000).unwrap_err(),
            "--batch-size: 100000000000 is out of range 1..=1048576"
        );
        assert_eq!(RING_CAPACITY.range(), 1..=65536);
        let huge = Duration::from_secs(400 * 24 * 3600);
        let err = CHECKPOINT_INTERVAL_MS
            .check_duration("--checkpoint-interval", huge)
            .unwrap_err();
        assert_eq!(
            err,
            "--checkpoint-interval: 34560000s is out of range 1ms..=365d"
        );
        assert!(CHECKPOINT_INTERVAL_MS
            .check_duration("x", Duration::from_micros(500))
            .is_err());
        for l in ALL {
            assert!(l.min <= l.max && l.min >= 1, "{l:?}");
            assert!(!l.key.is_empty() || !l.flag.is_empty(), "{l:?}");
        }
    }
}
