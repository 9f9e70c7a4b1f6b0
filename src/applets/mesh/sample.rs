//! Which peers a round probes. Each epoch of `ceil(n/K)` rounds, an agent orders its peers by a
//! rendezvous hash of (self, peer, epoch) and probes the next K of that order each round, so
//! every pair is probed at least once an epoch (within n/K rounds) while each agent sends only K
//! probes a round and receives K on average (the orders of different agents are independent). A
//! peer joining or leaving moves only its own place in the order.

use std::net::IpAddr;

/// The peers to probe in `round` (all of them when there are at most `k`), without `me`.
pub fn pick(me: IpAddr, peers: &[IpAddr], round: u64, k: usize) -> Vec<IpAddr> {
    let mut others: Vec<IpAddr> = peers.iter().copied().filter(|p| *p != me).collect();
    others.sort();
    others.dedup();
    let n = others.len();
    if n <= k || k == 0 {
        return others;
    }
    let span = rounds_to_cover(n, k);
    let epoch = round / span;
    let slot = (round % span) as usize;
    others.sort_by_key(|p| score(me, *p, epoch));
    (0..k).map(|i| others[(slot * k + i) % n]).collect()
}

/// Rounds in which every one of `n` peers is probed at least once, `k` a round.
pub fn rounds_to_cover(n: usize, k: usize) -> u64 {
    if k == 0 || n == 0 {
        return 1;
    }
    n.div_ceil(k) as u64
}

/// The rendezvous weight of `peer` for `me` in `epoch`: FNV-1a over the three, then
/// splitmix64's finaliser so that near addresses land far apart.
fn score(me: IpAddr, peer: IpAddr, epoch: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for ip in [me, peer] {
        match ip {
            IpAddr::V4(a) => eat(&a.octets()),
            IpAddr::V6(a) => eat(&a.octets()),
        }
    }
    eat(&epoch.to_le_bytes());
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn nodes(n: u32) -> Vec<IpAddr> {
        (0..n)
            .map(|i| IpAddr::from([10, 1, (i / 250) as u8, (i % 250) as u8 + 1]))
            .collect()
    }

    #[test]
    fn every_pair_is_probed_within_n_over_k_rounds_from_any_start() {
        for (n, k) in [(3, 10), (20, 5), (50, 10), (101, 7), (500, 10)] {
            let all = nodes(n);
            let span = rounds_to_cover(n as usize - 1, k);
            for &me in all.iter().take(5) {
                for start in [0, 3, span - 1, 5 * span + 2] {
                    let mut seen = BTreeSet::new();
                    // From any round on, the epoch that starts within span rounds covers all.
                    for r in start..start + 2 * span {
                        let got = pick(me, &all, r, k);
                        assert_eq!(got.len(), k.min(n as usize - 1));
                        assert!(!got.contains(&me));
                        if r >= start.div_ceil(span) * span {
                            seen.extend(got);
                        }
                        if seen.len() == n as usize - 1 {
                            break;
                        }
                    }
                    assert_eq!(seen.len(), n as usize - 1, "n={n} k={k} start={start}");
                }
                // Within one epoch, the epoch's rounds cover every peer.
                let mut epoch = BTreeSet::new();
                for r in 0..span {
                    epoch.extend(pick(me, &all, r, k));
                }
                assert_eq!(epoch.len(), n as usize - 1);
            }
        }
    }

    #[test]
    fn the_load_on_each_peer_stays_near_k() {
        // 200 agents, K = 10: what each receives per round, over many rounds.
        let all = nodes(200);
        let mut got: BTreeMap<IpAddr, u64> = BTreeMap::new();
        let rounds = 60;
        for r in 0..rounds {
            for &me in &all {
                for p in pick(me, &all, r, 10) {
                    *got.entry(p).or_default() += 1;
                }
            }
        }
        let per_round: Vec<f64> = got.values().map(|c| *c as f64 / rounds as f64).collect();
        let max = per_round.iter().cloned().fold(0.0, f64::max);
        let min = per_round.iter().cloned().fold(f64::MAX, f64::min);
        assert!(max < 13.0 && min > 7.0, "min {min} max {max}");
    }

    #[test]
    fn a_leaving_peer_moves_only_its_own_place() {
        let all = nodes(40);
        let me = all[0];
        let fewer: Vec<IpAddr> = all.iter().copied().filter(|p| *p != all[7]).collect();
        let order = |set: &[IpAddr]| {
            let mut v: Vec<IpAddr> = set.iter().copied().filter(|p| *p != me).collect();
            v.sort_by_key(|p| score(me, *p, 0));
            v
        };
        let before: Vec<IpAddr> = order(&all).into_iter().filter(|p| *p != all[7]).collect();
        assert_eq!(before, order(&fewer));
    }
}
