//! Window assignment: which `[start, end)` windows a timestamp falls in.

use smallvec::SmallVec;

/// Most windows one record may fall in (`size / slide` of a sliding window).
pub const MAX_WINDOWS_PER_RECORD: i64 = 10_000;

/// The kind of an event-time window; all lengths in milliseconds, greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    /// Windows of `size`, aligned to the epoch, one per record.
    Tumbling {
        /// Window length.
        size: i64,
    },
    /// Windows of `size` starting every `slide` (aligned to the epoch): `size / slide` per
    /// record (rounded up).
    Sliding {
        /// Window length.
        size: i64,
        /// Distance between window starts.
        slide: i64,
    },
    /// Per key, a window from the first record to the last record + `gap`; a record that
    /// falls inside a session (`ts < end`) extends it, and one that overlaps two merges them.
    Session {
        /// Inactivity that closes a session.
        gap: i64,
    },
}

/// A window kind that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WindowKindError {
    /// A length is zero or negative.
    #[error("window {0} must be greater than zero")]
    NotPositive(&'static str),
    /// `slide` is longer than `size` (records would fall in no window).
    #[error("slide must not be longer than size")]
    SlideLongerThanSize,
    /// `size / slide` is too large.
    #[error("size / slide must be at most {MAX_WINDOWS_PER_RECORD} windows per record")]
    TooManyWindows,
}

impl WindowKind {
    /// Checks the lengths.
    ///
    /// # Errors
    /// [`WindowKindError`] naming the problem.
    pub fn validate(&self) -> Result<(), WindowKindError> {
        let positive = |v: i64, what| {
            if v > 0 {
                Ok(())
            } else {
                Err(WindowKindError::NotPositive(what))
            }
        };
        match *self {
            WindowKind::Tumbling { size } => positive(size, "size"),
            WindowKind::Session { gap } => positive(gap, "gap"),
            WindowKind::Sliding { size, slide } => {
                positive(size, "size")?;
                positive(slide, "slide")?;
                if slide > size {
                    return Err(WindowKindError::SlideLongerThanSize);
                }
                if (size + slide - 1) / slide > MAX_WINDOWS_PER_RECORD {
                    return Err(WindowKindError::TooManyWindows);
                }
                Ok(())
            }
        }
    }

    /// The windows `[start, end)` containing `ts`, latest start first (a session's own
    /// window `[ts, ts + gap)` before merging). Ends saturate at `i64::MAX`; starts at
    /// `i64::MIN`. Lengths must be valid ([`WindowKind::validate`]); invalid ones give none.
    pub fn assign(&self, ts: i64) -> SmallVec<[(i64, i64); 4]> {
        let mut out = SmallVec::new();
        self.for_each_window(ts, |s, e| out.push((s, e)));
        out
    }

    /// Calls `f(start, end)` for each window of [`WindowKind::assign`], without collecting
    /// them (the per-record path).
    #[inline]
    pub fn for_each_window(&self, ts: i64, mut f: impl FnMut(i64, i64)) {
        match *self {
            WindowKind::Tumbling { size } if size > 0 => {
                let start = ts.saturating_sub(ts.rem_euclid(size));
                f(start, start.saturating_add(size));
            }
            WindowKind::Sliding { size, slide } if size > 0 && slide > 0 => {
                let mut start = ts.saturating_sub(ts.rem_euclid(slide));
                let mut n = 0;
                while start.saturating_add(size) > ts && n <= size / slide {
                    f(start, start.saturating_add(size));
                    n += 1;
                    match start.checked_sub(slide) {
                        Some(s) => start = s,
                        None => break,
                    }
                }
            }
            WindowKind::Session { gap } if gap > 0 => f(ts, ts.saturating_add(gap)),
            _ => {}
        }
    }

    /// Whether windows of this kind merge (sessions).
    pub fn is_merging(&self) -> bool {
        matches!(self, WindowKind::Session { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tumbling_aligns_to_the_epoch_before_1970_too() {
        let k = WindowKind::Tumbling { size: 1_000 };
        assert_eq!(k.assign(1_999).as_slice(), &[(1_000, 2_000)]);
        assert_eq!(k.assign(2_000).as_slice(), &[(2_000, 3_000)]);
        assert_eq!(k.assign(-1).as_slice(), &[(-1_000, 0)]);
        assert_eq!(k.assign(i64::MAX).len(), 1, "no overflow");
        assert_eq!(k.assign(i64::MIN).len(), 1, "no overflow");
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(WindowKind::Sliding { size: 10, slide: 3 }
            .validate()
            .is_ok());
        assert_eq!(
            WindowKind::Sliding {
                size: 10,
                slide: 11
            }
            .validate(),
            Err(WindowKindError::SlideLongerThanSize)
        );
        assert_eq!(
            WindowKind::Session { gap: 0 }.validate(),
            Err(WindowKindError::NotPositive("gap"))
        );
        assert_eq!(
            WindowKind::Sliding {
                size: 1_000_000,
                slide: 1
            }
            .validate(),
            Err(WindowKindError::TooManyWindows)
        );
    }

    proptest! {
        /// Against the naive definition: every aligned window start `k * slide` whose
        /// `[start, start + size)` holds ts.
        #[test]
        fn sliding_matches_naive(ts in -5_000i64..5_000, size in 1i64..60, slide in 1i64..60) {
            prop_assume!(slide <= size);
            let kind = WindowKind::Sliding { size, slide };
            let mut got: Vec<_> = kind.assign(ts).into_vec();
            got.sort();
            let naive: Vec<_> = (-10_000i64 / slide - 2..10_000 / slide + 2)
                .map(|k| (k * slide, k * slide + size))
                .filter(|&(s, e)| s <= ts && ts < e)
                .collect();
            prop_assert_eq!(got, naive);
        }
    }
}
