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

/// A variable the two traced commands started with differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvDiff {
    pub name: String,
    /// Its value on each side; None where it was not set.
    pub a: Option<String>,
    pub b: Option<String>,
    /// Whether it is one that steers builds (search paths, tool configuration).
    pub steers: bool,
}

/// A path both sides consumed, in two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub path: String,
    /// `content` (digests differ) or `owner` (another package provides it).
    pub what: &'static str,
    pub a: String,
    pub b: String,
    /// The path's class on side a, as for [`OnlyOn::kind`].
    pub kind: String,
    pub rank: u8,
}

/// The differences, most telling first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub only: Vec<OnlyOn>,
    /// Paths consumed on both sides whose content or owner differs (from the traces' inputs
    /// records, which `cordon trace` writes after the run).
    pub changed: Vec<Changed>,
    /// Accesses consumed on both sides.
    pub common: usize,
    /// The traced commands' environments, where they differ; steering variables first.
    pub env: Vec<EnvDiff>,
}

/// Steering variables, and the basics whose difference changes any build.
fn steers(name: &str) -> bool {
    crate::env::steers_build(name)
        || ["PATH", "HOME", "TMPDIR", "LANG"].contains(&name)
        || name.starts_with("LC_")
        || name.starts_with("XDG_")
}

/// The environment of the traced command: its first recorded one.
fn root_env(records: &[Record]) -> BTreeMap<String, String> {
    records
        .iter()
        .find_map(|r| match r {
            Record::Process(p) if p.ppid == 0 && !p.env.is_empty() => Some(&p.env),
            _ => None,
        })
        .map(|env| {
            env.iter()
                .filter_map(|e| e.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn env_diff(a: &[Record], b: &[Record]) -> Vec<EnvDiff> {
    let (ea, eb) = (root_env(a), root_env(b));
    let names: BTreeSet<&String> = ea.keys().chain(eb.keys()).collect();
    let mut out: Vec<EnvDiff> = names
        .into_iter()
        .filter(|n| ea.get(*n) != eb.get(*n))
        .map(|n| EnvDiff {
            name: n.clone(),
            a: ea.get(n).cloned(),
            b: eb.get(n).cloned(),
            steers: steers(n),
        })
        .collect();
    out.sort_by(|x, y| (!x.steers, &x.name).cmp(&(!y.steers, &y.name)));
    out
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

fn inputs(records: &[Record]) -> BTreeMap<String, crate::trace::InputFile> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Inputs { files } => Some(files),
            _ => None,
        })
        .flatten()
        .map(|f| (f.path.clone(), f.clone()))
        .collect()
}

fn class_of(an: &Analyzer, path: &str) -> (String, u8) {
    match an.classify_access(Op::Read, path, 0, crate::trace::Verdict::Allowed) {
        Classification::Breach(br) => (br.category.as_str().to_string(), 0),
        Classification::System => ("system".into(), 1),
        Classification::Declared => ("declared".into(), 2),
        Classification::Scratch => ("scratch".into(), 3),
        Classification::Ignored { .. } => ("ignored".into(), 4),
    }
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
    let (ia, ib) = (inputs(a), inputs(b));
    let mut changed = Vec::new();
    for (path, fa) in &ia {
        let Some(fb) = ib.get(path) else { continue };
        let (kind, rank) = class_of(an_a, path);
        if fa.digest != fb.digest {
            changed.push(Changed {
                path: path.clone(),
                what: "content",
                a: format!("{} bytes, {}", fa.size, fa.digest),
                b: format!("{} bytes, {}", fb.size, fb.digest),
                kind: kind.clone(),
                rank,
            });
        }
        if fa.owner != fb.owner {
            changed.push(Changed {
                path: path.clone(),
                what: "owner",
                a: fa.owner.clone().unwrap_or_else(|| "no package".into()),
                b: fb.owner.clone().unwrap_or_else(|| "no package".into()),
                kind,
                rank,
            });
        }
    }
    changed.sort_by(|x, y| (x.rank, &x.path).cmp(&(y.rank, &y.path)));
    Diff {
        only,
        changed,
        common: keys_a.intersection(&keys_b).count(),
        env: env_diff(a, b),
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
    for c in &d.changed {
        let _ = writeln!(
            s,
            "{} differs  {:<16} {}  (a: {}; b: {})",
            c.what, c.kind, c.path, c.a, c.b
        );
    }
    if !d.env.is_empty() {
        let _ = writeln!(s, "{} variables differ:", d.env.len());
        for e in &d.env {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".into());
            let _ = writeln!(s, "  {}: a={} b={}", e.name, show(&e.a), show(&e.b));
        }
    }
    s
}
