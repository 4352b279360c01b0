//! `cordon learn`: the smallest readable policy that lets a traced command run.
//!
//! Every path the command consumed (read, executed, listed, stat'ed or probed successfully)
//! is grouped into a prefix: a directory of the base system (`/usr/lib`, `/usr/include`,
//! `/bin`), one entry of `/etc`, a package's own prefix under `/usr/local`, `/opt` or a home.
//! Pseudo file systems become `proc` and `dev` rules, temporary directories `tmpfs`, the
//! working directory `rw ${CWD}`. Breaches the analyzer names (user configuration, caches,
//! credentials, ...) are left out and listed as comments, so that a build that needs one
//! fails verification and says which. Never a blanket `/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::analysis::{Analyzer, Classification};
use crate::trace::{Op, Record};

/// A learned policy, before it is written.
#[derive(Debug, Clone, Default)]
pub struct Learned {
    /// Read-only prefixes, each with its owner packages (most files first) and file count.
    pub ro: BTreeMap<String, (Vec<String>, usize)>,
    pub tmpfs: BTreeSet<String>,
    pub dev: bool,
    pub proc: bool,
    /// Breaches left out: path, category, tool.
    pub left_out: BTreeMap<String, (String, String)>,
    /// Writes outside the working directory and the temporary areas (the build would fail
    /// there read-only): listed, not granted.
    pub writes_outside: BTreeSet<String>,
    /// Variables the command started with that steer the build.
    pub environment: Vec<(String, String)>,
}

/// What the kernel opens by itself to run `path`, which no traced system call shows: a
/// script's `#!` interpreter and an ELF program's interpreter (PT_INTERP, the dynamic loader
/// such as /lib64/ld-linux-x86-64.so.2), followed through a `#!` to its ELF.
pub fn interpreters(path: &Path) -> Vec<String> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut current = path.to_path_buf();
    for _ in 0..4 {
        let mut head = [0u8; 256];
        let n = std::fs::File::open(&current)
            .and_then(|mut f| f.read(&mut head))
            .unwrap_or(0);
        let head = &head[..n];
        if let Some(rest) = head.strip_prefix(b"#!") {
            let line = rest.split(|&b| b == b'\n').next().unwrap_or(&[]);
            let line = String::from_utf8_lossy(line);
            let Some(interp) = line.split_whitespace().next() else {
                break;
            };
            out.push(interp.to_string());
            current = interp.into();
            continue;
        }
        if let Some(interp) = elf_interpreter(&current) {
            out.push(interp);
        }
        break;
    }
    out
}

/// The PT_INTERP of a 64-bit little-endian ELF file.
fn elf_interpreter(path: &Path) -> Option<String> {
    let data = std::fs::read(path).ok()?;
    let u16_at = |o: usize| Some(u16::from_le_bytes(data.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(data.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(data.get(o..o + 8)?.try_into().ok()?));
    // \x7fELF, 64-bit, little-endian.
    if data.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let (phoff, phentsize, phnum) = (
        u64_at(0x20)? as usize,
        u16_at(0x36)? as usize,
        u16_at(0x38)?,
    );
    for i in 0..phnum as usize {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(ph)? == 3 {
            let (off, size) = (u64_at(ph + 8)? as usize, u64_at(ph + 32)? as usize);
            let raw = data.get(off..off.checked_add(size)?)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            return Some(String::from_utf8_lossy(&raw[..end]).into_owned());
        }
    }
    None
}

/// The prefix a consumed path is grouped under.
fn prefix_of(path: &str) -> String {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let depth = match comps.as_slice() {
        // /usr/local/X, /usr/lib/gcc? no: /usr/X is the base system's layout.
        ["usr", "local", ..] => 3,
        ["usr", ..] => 2,
        ["opt", ..] | ["nix", "store", ..] | ["home", ..] | ["Users", ..] => 3,
        _ => 2,
    };
    let n = depth.min(comps.len());
    // A file directly in a top directory (/etc/ld.so.cache) is its own prefix.
    format!("/{}", comps[..n].join("/"))
}

/// Learn from a trace of a run in `cwd` (the work tree the command ran in).
pub fn learn(records: &[Record], analyzer: &Analyzer, cwd: &Path) -> Learned {
    let mut l = Learned {
        environment: crate::env::steering_of(records),
        ..Learned::default()
    };
    let mut owners: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    // What the kernel opens to run each program, which no traced call shows.
    let mut extra: Vec<crate::trace::Event> = Vec::new();
    for r in records {
        if let Record::Event(e) = r {
            if e.op == Op::Exec && e.errno == 0 {
                for interp in interpreters(Path::new(&e.path)) {
                    extra.push(crate::trace::Event {
                        op: Op::Read,
                        path: interp,
                        ..e.clone()
                    });
                }
            }
        }
    }
    let extra_records: Vec<Record> = extra.into_iter().map(Record::Event).collect();
    for r in records.iter().chain(extra_records.iter()) {
        let Record::Event(e) = r else { continue };
        if e.errno != 0 || !e.path.starts_with('/') {
            continue;
        }
        let path = Path::new(&e.path);
        // The work tree is `rw ${CWD}`; its ancestors exist in the view as the directories
        // that lead to it.
        if path.starts_with(cwd) || cwd.starts_with(path) {
            continue;
        }
        let write = matches!(e.op, Op::Write | Op::Create | Op::Delete | Op::Rename);
        let top = e.path.split('/').nth(1).unwrap_or("");
        match top {
            "proc" => {
                l.proc = true;
                continue;
            }
            "dev" => {
                l.dev = true;
                continue;
            }
            _ => {}
        }
        if let Classification::Breach(b) = analyzer.classify(e) {
            // System headers and libraries are what the build compiles against: keep them
            // visible; other breaches (user configuration, caches, credentials, writes
            // outside) stay out.
            let cat = b.category.as_str();
            if !matches!(
                cat,
                "system-header" | "system-library" | "undeclared-read" | "write-outside"
            ) {
                l.left_out
                    .insert(e.path.clone(), (cat.to_string(), b.tool.clone()));
                continue;
            }
        }
        if top == "tmp" {
            l.tmpfs.insert("/tmp".into());
            continue;
        }
        if e.path.starts_with("/var/tmp/") || e.path == "/var/tmp" {
            l.tmpfs.insert("/var/tmp".into());
            continue;
        }
        if write {
            l.writes_outside.insert(e.path.clone());
            continue;
        }
        let p = prefix_of(&e.path);
        *counts.entry(p.clone()).or_default() += 1;
        // Directories are listed by many packages: owners are counted for files.
        let is_dir = std::fs::metadata(&e.path)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        if let Some(o) = analyzer.owner(&e.path).filter(|_| !is_dir) {
            *owners.entry(p).or_default().entry(o.package).or_default() += 1;
        }
    }
    for (p, n) in counts {
        let mut pkgs: Vec<(String, usize)> = owners
            .remove(&p)
            .map(|m| m.into_iter().collect())
            .unwrap_or_default();
        pkgs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        l.ro.insert(p, (pkgs.into_iter().map(|(k, _)| k).collect(), n));
    }
    l
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The policy as TOML, with a comment per group and the breaches listed.
pub fn render(l: &Learned, command: &[String], verified: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Learned by cordon learn from: {}", command.join(" "));
    if let Some(v) = verified {
        let _ = writeln!(s, "# Verification: {v}");
    }
    s.push_str("# Each group names the packages its files belong to and why it is here.\n");
    s.push_str("description = \"learned policy\"\nhome = \"fresh\"\n\nrules = [\n");
    for (p, (pkgs, n)) in &l.ro {
        let who = if pkgs.is_empty() {
            "no package owns these".to_string()
        } else {
            let shown: Vec<&str> = pkgs.iter().take(4).map(String::as_str).collect();
            let more = pkgs.len().saturating_sub(4);
            if more > 0 {
                format!("{} and {more} more", shown.join(", "))
            } else {
                shown.join(", ")
            }
        };
        let _ = writeln!(s, "  # {who}: {n} accesses");
        let _ = writeln!(s, "  {{ ro = {}, class = \"system\" }},", toml_str(p));
    }
    for t in &l.tmpfs {
        let _ = writeln!(s, "  {{ tmpfs = {}, class = \"scratch\" }},", toml_str(t));
    }
    if l.dev {
        s.push_str("  { dev = \"/dev\" },\n");
    }
    if l.proc {
        s.push_str("  { proc = \"/proc\" },\n");
    }
    s.push_str("  # the work tree\n  { rw = \"${CWD}\", class = \"declared\" },\n]\n");
    if !l.left_out.is_empty() {
        s.push_str("\n# Left out: breaches the build reached for (add a rule only if it must):\n");
        for (p, (cat, tool)) in &l.left_out {
            let _ = writeln!(s, "#   {p}  ({cat}, {tool})");
        }
    }
    if !l.environment.is_empty() {
        s.push_str(
            "\n# The build started with these steering variables; the policy passes the\n\
             # environment as it is, so declare them where the build is run (or add them to an\n\
             # [env] set table) to make the build reproducible:\n",
        );
        for (k, v) in &l.environment {
            let _ = writeln!(s, "#   {k}={v}");
        }
    }
    if !l.writes_outside.is_empty() {
        s.push_str("\n# Writes outside the work tree, not granted:\n");
        for p in l.writes_outside.iter().take(20) {
            let _ = writeln!(s, "#   {p}");
        }
    }
    s
}

/// The number of rules `render` writes.
pub fn rule_count(l: &Learned) -> usize {
    l.ro.len() + l.tmpfs.len() + usize::from(l.dev) + usize::from(l.proc) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreters_of_scripts_and_programs() {
        // An ELF program names its dynamic loader; a script its #! line, then that one's.
        let sh = Path::new("/bin/sh");
        if let Some(loader) = interpreters(sh).first() {
            assert!(
                loader.contains("ld-linux") || loader.contains("ld-musl"),
                "{loader}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        std::fs::write(&script, "#!/bin/sh -e\necho hi\n").unwrap();
        let found = interpreters(&script);
        assert_eq!(
            found.first().map(String::as_str),
            Some("/bin/sh"),
            "{found:?}"
        );
        // Not an executable format: nothing.
        let text = dir.path().join("t");
        std::fs::write(&text, "plain text").unwrap();
        assert!(interpreters(&text).is_empty());
        assert!(interpreters(Path::new("/no/such/file")).is_empty());
    }
}
