//! Barrier alignment over a stage's input channels.
//!
//! A stage reads `M × N` channels (M input edges, N sending workers each). Barrier `k` on a
//! channel closes that channel until `k` arrived on every channel that has not ended
//! (aligned checkpoints, as Flink's); an ended channel never holds alignment back. (The
//! stage's watermark over the same channels: [`crate::time::WatermarkTracker`].)

/// The state of one input channel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Channel {
    /// Being read.
    Open,
    /// Barrier `k` arrived; not read until every channel delivered `k` (alignment).
    Barrier(u64),
    /// The sender finished; nothing follows.
    Ended,
}

/// Alignment state over a stage's channels.
#[derive(Debug)]
pub struct Aligner {
    channels: Vec<Channel>,
}

impl Aligner {
    /// `n` open channels, no watermark yet.
    pub fn new(n: usize) -> Self {
        Aligner {
            channels: vec![Channel::Open; n],
        }
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// Whether there are no channels.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// Whether channel `i` may be read.
    #[inline]
    pub fn is_open(&self, i: usize) -> bool {
        self.channels[i] == Channel::Open
    }

    /// Barrier `k` arrived on channel `i`.
    pub fn barrier(&mut self, i: usize, k: u64) {
        self.channels[i] = Channel::Barrier(k);
    }

    /// Channel `i` ended.
    pub fn end(&mut self, i: usize) {
        self.channels[i] = Channel::Ended;
    }

    /// The barrier all channels are aligned on, if any: every channel is at barrier `k` or
    /// ended, and at least one is at `k`.
    pub fn aligned(&self) -> Option<u64> {
        let mut k = None;
        for c in &self.channels {
            match c {
                Channel::Open => return None,
                Channel::Ended => {}
                Channel::Barrier(b) => match k {
                    None => k = Some(*b),
                    Some(prev) if prev != *b => return None,
                    Some(_) => {}
                },
            }
        }
        k
    }

    /// Reopens the channels held at a barrier (after the stage snapshotted it).
    pub fn release(&mut self) {
        for c in &mut self.channels {
            if let Channel::Barrier(_) = c {
                *c = Channel::Open;
            }
        }
    }

    /// Whether every channel ended.
    pub fn all_ended(&self) -> bool {
        self.channels.iter().all(|c| *c == Channel::Ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(channels: &[Channel]) -> Aligner {
        let mut a = Aligner::new(channels.len());
        a.channels = channels.to_vec();
        a
    }

    #[test]
    fn alignment_rules() {
        use Channel::*;
        assert_eq!(with(&[Barrier(3), Barrier(3)]).aligned(), Some(3));
        assert_eq!(with(&[Barrier(3), Open]).aligned(), None);
        assert_eq!(with(&[Barrier(3), Ended]).aligned(), Some(3));
        assert_eq!(with(&[Ended, Ended]).aligned(), None);
        assert_eq!(with(&[Barrier(3), Barrier(4)]).aligned(), None);
    }
}
