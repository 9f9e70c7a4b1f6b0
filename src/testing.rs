//! Property-test helpers for the parsers of bytes from the network and from files: a
//! deterministic random stream, and inputs made from valid samples by mutation (bit flips,
//! cuts, insertions, repeated and swapped pieces) alongside plain random bytes. Each parser's
//! test feeds thousands of these and asserts only that nothing panics or loops.

/// xorshift64: deterministic, so a failure reproduces.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// `sample` changed in one to four random ways.
    pub fn mutate(&mut self, sample: &[u8]) -> Vec<u8> {
        let mut v = sample.to_vec();
        for _ in 0..1 + self.below(4) {
            match self.below(7) {
                0 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] ^= 1 << self.below(8);
                }
                1 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] = self.next() as u8;
                }
                2 => {
                    let cut = self.below(v.len() + 1);
                    v.truncate(cut);
                }
                3 => {
                    let i = self.below(v.len() + 1);
                    let extra = self.bytes(16);
                    v.splice(i..i, extra);
                }
                4 if !v.is_empty() => {
                    // Repeat a piece (lengths and counts that lie about what follows).
                    let a = self.below(v.len());
                    let b = (a + 1 + self.below(16)).min(v.len());
                    let piece = v[a..b].to_vec();
                    let at = self.below(v.len() + 1);
                    v.splice(at..at, piece);
                }
                5 if v.len() > 1 => {
                    let i = self.below(v.len() - 1);
                    v.swap(i, i + 1);
                }
                _ => {
                    // Interesting values where parsers keep lengths and counts.
                    if !v.is_empty() {
                        let i = self.below(v.len());
                        v[i] = [0u8, 1, 0x7f, 0x80, 0xff, b'\r', b'\n', b':'][self.below(8)];
                    }
                }
            }
        }
        v
    }
}

/// Call `f` on `rounds` inputs: mutations of the samples and random bytes.
pub fn check(samples: &[&[u8]], rounds: usize, mut f: impl FnMut(&[u8])) {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    for s in samples {
        f(s);
    }
    for round in 0..rounds {
        let input = if samples.is_empty() || round % 4 == 0 {
            rng.bytes(512)
        } else {
            let s = samples[round % samples.len()];
            rng.mutate(s)
        };
        f(&input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_stay_near_the_sample_and_reproduce() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let s = b"GET / HTTP/1.1\r\n\r\n";
        for _ in 0..100 {
            assert_eq!(a.mutate(s), b.mutate(s));
        }
        let mut n = 0;
        check(&[s], 50, |_| n += 1);
        assert_eq!(n, 51);
    }
}
