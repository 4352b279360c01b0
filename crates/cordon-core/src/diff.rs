//! `cordon diff`: the inputs that differ between two traces of the same build, the ones that
//! matter first. An input is a path a process read, executed or listed successfully (a failed
//! probe consumed nothing). Paths only one side consumed are ranked by what the analyzer of
//! that side makes of them: a breach (a header in /usr/local/include, a user config) before
//! an ordinary system file, before a scratch or declared one.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analysis::{Analyzer, Classification};
use crate::trace::{Op, Record};

/// One path consumed by one side only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnlyOn {
    pub path: String,
    /// `a` or `b`.
    pub side: &'static str,
    /// The breach category on that side, or the path's class (`system`, `declared`,
    /// `scratch`, `undeclared`).
    pub kind: String,
    /// The first process that consumed it (its program).
    pub by: String,
    /// Why it ranks where it does.
    pub rank: u8,
}

/// The differences, most telling first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub only: Vec<OnlyOn>,
    /// Accesses consumed on both sides.
    pub common: usize,
}

fn consumed(records: &[Record]) -> BTreeMap<String, (Op, i32)> {
    let mut out = BTreeMap::new();
    for r in records {
        if let Record::Event(e) = r {
            let reads = matches!(e.op, Op::Read | Op::Exec | Op::Readlink);
            if reads && e.errno == 0 {
                out.entry(e.path.clone()).or_insert((e.op, e.pid));
            }
        }
    }
    out
}

fn program(records: &[Record], pid: i32) -> String {
    records
        .iter()
        .rev()
        .find_map(|r| match r {
            Record::Process(p) if p.pid == pid && !p.exe.is_empty() => Some(p.exe.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Compare trace `a` (analyzed by `an_a`) with trace `b` (by `an_b`).
pub fn diff(a: &[Record], an_a: &Analyzer, b: &[Record], an_b: &Analyzer) -> Diff {
    let (ca, cb) = (consumed(a), consumed(b));
    let keys_a: BTreeSet<&String> = ca.keys().collect();
    let keys_b: BTreeSet<&String> = cb.keys().collect();
    let mut only = Vec::new();
    for (side, keys, other, records, an, map) in [
        ("a", &keys_a, &keys_b, a, an_a, &ca),
        ("b", &keys_b, &keys_a, b, an_b, &cb),
    ] {
        for path in keys.difference(other) {
            let (op, pid) = map[*path];
            let (kind, rank) = match an.classify_access(op, path, 0, crate::trace::Verdict::Allowed)
            {
                Classification::Breach(br) => (br.category.as_str().to_string(), 0),
                Classification::System => ("system".into(), 1),
                Classification::Declared => ("declared".into(), 2),
                Classification::Scratch => ("scratch".into(), 3),
                Classification::Ignored { .. } => ("ignored".into(), 4),
            };
            only.push(OnlyOn {
                path: (*path).clone(),
                side,
                kind,
                by: program(records, pid),
                rank,
            });
        }
    }
    only.sort_by(|x, y| (x.rank, &x.path).cmp(&(y.rank, &y.path)));
    Diff {
        only,
        common: keys_a.intersection(&keys_b).count(),
    }
}

/// Plain text, the most telling first.
pub fn render_text(d: &Diff) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} inputs differ ({} in common); the ones that matter first:",
        d.only.len(),
        d.common
    );
    for o in &d.only {
        let by = o.by.rsplit('/').next().unwrap_or(&o.by);
        let _ = writeln!(s, "only {}  {:<22} {}  (by {by})", o.side, o.kind, o.path);
    }
    s
}
