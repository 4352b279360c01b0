//! What the importers' unit tests share: record accessors, a tiny deterministic PRNG, and
//! the robustness test every parser runs over its fixtures.

use std::collections::HashMap;

use super::Imported;
use crate::trace::{Event, Process, Record};

/// The undeclared reads of the poisoned build that the strace and kdump fixtures record
/// (the same build on Linux, OpenBSD and FreeBSD), with the pid that made each.
pub(crate) const POISONED_READS: [(&str, i32); 6] = [
    ("/home/u/.gitconfig", 101),
    ("/home/u/.leakrc", 102),
    ("/home/u/.cmake/packages/Poison/0123abcd", 103),
    ("/home/u/.local/lib/python3.11/site-packages/leak.pth", 104),
    ("/usr/include/zlib.h", 108),
    ("/usr/include/stdio.h", 108),
];

/// The events of an import, in order.
pub(crate) fn events(imp: &Imported) -> Vec<&Event> {
    imp.records
        .iter()
        .filter_map(|r| match r {
            Record::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// The last record of each process.
pub(crate) fn procs(imp: &Imported) -> HashMap<i32, &Process> {
    let mut m = HashMap::new();
    for r in &imp.records {
        if let Record::Process(p) = r {
            m.insert(p.pid, p);
        }
    }
    m
}

/// xorshift64: deterministic, so a failing mutation can be replayed.
pub(crate) struct XorShift(pub u64);

impl XorShift {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Feed `run` many prefixes of each fixture, then 2000 mutations of them (bytes replaced,
/// inserted from `alphabet`, removed, the text cut): whatever happens, no panic.
pub(crate) fn prefixes_and_mutations(
    fixtures: &[(&str, &str)],
    alphabet: &[u8],
    seed: u64,
    run: impl Fn(&str, &str),
) {
    for (name, text) in fixtures {
        let step = (text.len() / 1500).max(1);
        for cut in (0..=text.len()).step_by(step) {
            if let Some(prefix) = text.get(..cut) {
                run(name, prefix);
            }
        }
    }
    let mut rng = XorShift(seed);
    for i in 0..2000 {
        let base = fixtures[i % fixtures.len()].1;
        let mut bytes = base.as_bytes().to_vec();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => {
                    if let Some(b) = bytes.get_mut(at) {
                        *b = rng.next() as u8;
                    }
                }
                1 => bytes.insert(at, alphabet[rng.below(alphabet.len())]),
                2 => {
                    if at < bytes.len() {
                        bytes.remove(at);
                    }
                }
                _ => bytes.truncate(at),
            }
        }
        run("mutated", &String::from_utf8_lossy(&bytes));
    }
}
