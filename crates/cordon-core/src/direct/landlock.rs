//! The landlock backend: the view as Landlock rules, applied to the command before exec.
//!
//! # Enforces
//! Read, write and execute rights from the policy's rules, at the best Landlock ABI the kernel
//! offers (1: read/write/exec/make/remove, 2: linking and renaming across directories, 3:
//! truncate, 5: device ioctls). A path no rule shows is unreadable. The kernel enforces it
//! against a hostile build: it holds for every process the command starts, static or not, and
//! across user namespaces.
//!
//! # Observes
//! Nothing (pair it with `--trace`, or use `cordon trace`).
//!
//! # Requires
//! Linux 5.13 or later with Landlock enabled (`lsm=...,landlock`); no privilege.
//!
//! # Gaps
//! - `hide` and an unlisted path answer EACCES, not ENOENT: Landlock can refuse an access but
//!   cannot make a file absent. Existence stays visible through stat, access and directory
//!   listings (Landlock does not mediate them), so a tool that probes with stat still sees a
//!   hidden `~/.gitconfig` exist, and fails to read it.
//! - No mounts: `tmpfs` keeps the host's directory (writable, shared) with TMPDIR pointed at a
//!   private one for /tmp; a fresh HOME is a private directory named by $HOME, the real home
//!   is unreadable; `redirect` and `empty` are refused.
//! - A hidden entry inside a visible directory is carved out by granting the directory's other
//!   entries one by one: entries created there after the start are unreachable, and a
//!   directory with a hidden directory somewhere beneath cannot be listed (Landlock's right to
//!   list holds for a whole tree, so it would list the hidden one too).

use std::path::{Path, PathBuf};

use ::landlock::{
    Access as _, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, ABI,
};

use crate::view::{Access, View};

/// The newest ABI whose file-system rights this version knows.
const ABI_USED: ABI = ABI::V5;

/// One Landlock rule: rights beneath a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandlockRule {
    pub path: PathBuf,
    pub write: bool,
    /// Only list the directory (a carved-out parent of a hidden entry).
    pub list_only: bool,
}

/// The rules that show `view`: a visible entry with a less visible entry inside is replaced by
/// its children, recursively, and keeps the right to list its own entries. An entry shown from
/// elsewhere (a private directory, a redirect) grants its host path and hides its own, so that
/// a path-rewriting backend paired with Landlock cannot be walked around.
///
/// With `listings_filtered` (paired with a backend that drops hidden names from listings),
/// a directory with a hidden directory beneath may still be listed: Landlock then guarantees
/// the hidden content, and the pair hides the names.
pub fn rules(view: &View, listings_filtered: bool) -> Vec<LandlockRule> {
    let mut host: Vec<(PathBuf, Access)> = Vec::new();
    for e in &view.entries {
        // Landlock does not check the symlinks a walk follows, only where it lands.
        if e.access == Access::Link {
            continue;
        }
        if e.host != e.path {
            host.push((e.path.clone(), Access::Hide));
        }
        host.push((e.host.clone(), e.access));
    }
    host.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for (path, access) in &host {
        let write = match access {
            Access::Ro => false,
            Access::Rw => true,
            Access::Hide | Access::Deny | Access::Link => continue,
        };
        carve(&host, path, write, listings_filtered, &mut out);
    }
    out
}

/// Whether an entry strictly under `path` has fewer rights than `write` gives.
fn weaker_inside(host: &[(PathBuf, Access)], path: &Path, write: bool) -> bool {
    let start = host.partition_point(|e| e.0.as_path() <= path);
    host[start..]
        .iter()
        .take_while(|e| e.0.starts_with(path))
        .any(|e| match e.1 {
            Access::Hide | Access::Deny => true,
            Access::Ro => write,
            Access::Rw | Access::Link => false,
        })
}

/// Whether a hidden or denied directory lies strictly under `path`.
fn hidden_dir_inside(host: &[(PathBuf, Access)], path: &Path) -> bool {
    let start = host.partition_point(|e| e.0.as_path() <= path);
    host[start..]
        .iter()
        .take_while(|e| e.0.starts_with(path))
        .any(|e| matches!(e.1, Access::Hide | Access::Deny) && !is_file(&e.0))
}

fn is_file(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .map(|m| !m.is_dir())
        .unwrap_or(false)
}

fn carve(
    host: &[(PathBuf, Access)],
    path: &Path,
    write: bool,
    listings_filtered: bool,
    out: &mut Vec<LandlockRule>,
) {
    if !weaker_inside(host, path, write) {
        out.push(LandlockRule {
            path: path.to_path_buf(),
            write,
            list_only: false,
        });
        return;
    }
    // Listing is granted to everything beneath a rule: keep it only when no hidden or
    // denied directory is beneath, whose names would then be listed.
    if listings_filtered || !hidden_dir_inside(host, path) {
        out.push(LandlockRule {
            path: path.to_path_buf(),
            write: false,
            list_only: true,
        });
    }
    let Ok(dir) = std::fs::read_dir(path) else {
        return;
    };
    for child in dir.flatten() {
        // Landlock never checks a symlink itself, only where a walk lands; a rule would be
        // made on the target (a descriptor's, for /dev/stdout) instead.
        if child.file_type().is_ok_and(|t| t.is_symlink()) {
            continue;
        }
        let p = child.path();
        // An entry at this very path decides for itself.
        if host.binary_search_by(|e| e.0.as_path().cmp(&p)).is_ok() {
            continue;
        }
        carve(host, &p, write, listings_filtered, out);
    }
}

/// A ruleset ready to apply in the child (`restrict_self`), and what it enforces.
pub struct Prepared {
    pub ruleset: RulesetCreated,
    pub rules: usize,
}

/// Why the ruleset could not be made.
#[derive(Debug, thiserror::Error)]
#[error("landlock: {0}")]
pub struct LandlockError(String);

/// Build the ruleset for `view` (in the supervisor, before the fork).
pub fn prepare(view: &View, listings_filtered: bool) -> Result<Prepared, LandlockError> {
    let all = AccessFs::from_all(ABI_USED);
    let read = AccessFs::from_read(ABI_USED);
    let err = |e: &dyn std::fmt::Display| LandlockError(e.to_string());
    let mut ruleset = Ruleset::default()
        .handle_access(all)
        .map_err(|e| err(&e))?
        .create()
        .map_err(|e| err(&e))?;
    let rules = rules(view, listings_filtered);
    let mut n = 0;
    for r in &rules {
        let Ok(fd) = PathFd::new(&r.path) else {
            // Gone since it was listed (or a dangling symlink): nothing to grant.
            continue;
        };
        let is_dir = std::fs::metadata(&r.path)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        let mut access = if r.list_only {
            AccessFs::ReadDir.into()
        } else if r.write {
            all
        } else {
            read
        };
        if !is_dir {
            // Directory rights on a file are invalid.
            access &= AccessFs::from_file(ABI_USED);
        }
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| err(&format!("{}: {e}", r.path.display())))?;
        n += 1;
    }
    Ok(Prepared { ruleset, rules: n })
}

/// In the child, before exec: apply the ruleset (once). Fails when the kernel enforced
/// nothing, so that a run never goes on unconfined while claiming Landlock.
pub fn restrict(
    ruleset: &mut Option<RulesetCreated>,
) -> Result<(), (&'static str, cordon_sys::error::Errno)> {
    use cordon_sys::error::Errno;
    if let Some(r) = ruleset.take() {
        let status = r
            .restrict_self()
            .map_err(|_| ("landlock_restrict_self", Errno::EPERM))?;
        if status.ruleset == ::landlock::RulesetStatus::NotEnforced {
            return Err(("landlock_restrict_self", Errno::ENOSYS));
        }
    }
    Ok(())
}

/// What Landlock ABI `abi` enforces, for `--verbose`, doctor and trace headers.
pub fn describe(abi: u32) -> String {
    let mut rights = vec!["read", "write", "execute", "make", "remove"];
    if abi >= 2 {
        rights.push("refer");
    }
    if abi >= 3 {
        rights.push("truncate");
    }
    if abi >= 5 {
        rights.push("device ioctl");
    }
    format!("Landlock ABI {abi}: {}", rights.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Origin, Policy, RuleKind};
    use crate::view::Mode;

    #[test]
    fn a_hide_inside_a_visible_tree_is_carved_out_by_its_siblings() {
        let t = tempfile::tempdir().unwrap();
        let d = crate::plan::canonical(t.path());
        for sub in ["a", "a/keep", "a/secretdir", "b"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        std::fs::write(d.join("a/file"), "x").unwrap();
        std::fs::write(d.join("a/secret"), "x").unwrap();
        let rules_for = |hidden: &str| {
            let mut p = Policy::default();
            for (path, kind) in [
                (d.clone(), RuleKind::Ro),
                (d.join(hidden), RuleKind::Hide),
                (d.join("b"), RuleKind::Rw),
            ] {
                p.push_rule(
                    path.to_str().unwrap(),
                    kind,
                    None,
                    None,
                    Origin::command_line(),
                )
                .unwrap();
            }
            let v = View::compile(&p, None, &d.join("b/private"), Mode::Fixed).unwrap();
            let mut got: Vec<(String, bool, bool)> = rules(&v, false)
                .into_iter()
                .map(|r| {
                    let rel = r.path.strip_prefix(&d).unwrap().display().to_string();
                    (rel, r.write, r.list_only)
                })
                .collect();
            got.sort();
            got
        };
        let want = |list: &[(&str, bool, bool)]| -> Vec<(String, bool, bool)> {
            list.iter()
                .map(|(p, w, l)| (p.to_string(), *w, *l))
                .collect()
        };
        // A hidden file: its parents may still be listed (its name is no secret to stat).
        assert_eq!(
            rules_for("a/secret"),
            want(&[
                ("", false, true),
                ("a", false, true),
                ("a/file", false, false),
                ("a/keep", false, false),
                ("a/secretdir", false, false),
                ("b", true, false),
                ("b/private", true, false),
            ])
        );
        // A hidden directory: listing its parents would list it too.
        assert_eq!(
            rules_for("a/secretdir"),
            want(&[
                ("a/file", false, false),
                ("a/keep", false, false),
                ("a/secret", false, false),
                ("b", true, false),
                ("b/private", true, false),
            ])
        );
    }
}
