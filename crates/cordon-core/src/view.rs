//! The filesystem view for backends that run the command on the host's own mounts (landlock,
//! seccomp, ptrace, preload): the policy compiled into a list of path entries, and the
//! resolution of a path the way the kernel walks it, with the policy applied at every step.
//!
//! Without a mount namespace nothing can be mounted, so what a namespace sandbox shows with a
//! tmpfs or a bind is shown differently, depending on what the backend can do:
//! - a backend that **rewrites paths** (ptrace, preload) shows a private directory at a
//!   `tmpfs` path and at a fresh HOME, and another host path at a `redirect` or `empty` one;
//! - a backend that **cannot** (landlock, seccomp) keeps the host's directory at a `tmpfs`
//!   path (writable, not private) and points HOME (and TMPDIR for /tmp) at private
//!   directories, with the real home hidden; it refuses `redirect` and `empty`. Each such
//!   change is listed in [`View::degraded`], so that the run says what did not hold.
//!
//! A path no entry covers is absent, as in the namespace sandbox.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::plan::{canonical, canonical_parent};
use crate::policy::{Home, Policy, RuleKind};

/// What an entry lets the command do at and below its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Ro,
    Rw,
    /// Absent: ENOENT.
    Hide,
    /// Present but unreadable: EACCES.
    Deny,
    /// A symlink on the way to a visible path (`/lib` -> `usr/lib` on merged-/usr systems):
    /// the link itself is shown, and where it leads is decided there.
    Link,
}

/// One path of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path as the command names it (symlinks in its parents resolved).
    pub path: PathBuf,
    pub access: Access,
    /// Where it really is: `path` itself, or a private directory, or a redirect's target.
    pub host: PathBuf,
    /// The rule it comes from (`file:line`), for messages.
    pub origin: String,
}

/// Whether the backend can show one host path at another path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every path of every call can be rewritten (ptrace, preload).
    Rewrite,
    /// Opens, stats and access checks can be answered from another file (the seccomp
    /// supervisor opens it and hands over the descriptor), but a build cannot create files
    /// through them: `redirect` and `empty` work, `tmpfs` and a fresh HOME are as in `Fixed`.
    Inject,
    /// Nothing can be shown from elsewhere (landlock).
    Fixed,
}

/// Why a policy cannot be shown by a backend.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {keyword} {path}: {problem}")]
pub struct ViewError {
    pub origin: String,
    pub keyword: &'static str,
    pub path: String,
    pub problem: String,
}

/// The compiled view.
#[derive(Debug, Clone)]
pub struct View {
    /// Sorted by path, so that an entry's descendants follow it.
    pub entries: Vec<Entry>,
    /// The run's private directory (fresh home, tmpfs, empty files), itself visible rw.
    pub private: PathBuf,
    /// Variables the backend sets for the command (HOME, TMPDIR).
    pub env: Vec<(String, PathBuf)>,
    /// What the namespace sandbox would do that this view does not, one line each.
    pub degraded: Vec<String>,
    /// Directories and files to create under `private` before the run.
    pub make_dirs: Vec<PathBuf>,
    /// What readlink said of host paths under read-only entries, which the build cannot
    /// change: most lookups (headers, libraries, tools) walk the same system directories.
    links: std::cell::RefCell<std::collections::HashMap<PathBuf, Option<PathBuf>>>,
    /// Resolutions that went only through read-only entries (or directories the view does
    /// not show), by path, one map for `follow_last` false and one for true: they cannot
    /// change during the run. Looked up by the borrowed path, so a hit allocates nothing.
    resolved: [std::cell::RefCell<std::collections::HashMap<PathBuf, Resolved>>; 2],
    pub make_files: Vec<PathBuf>,
}

/// What a resolved path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Reachable at `host`; `writable` when its entry is rw; `moved` when the walk went
    /// through an entry shown from elsewhere (so the command's own path would not lead there).
    Allowed {
        host: PathBuf,
        writable: bool,
        moved: bool,
    },
    Hidden,
    Denied,
    /// Too many symlinks (ELOOP).
    Loop,
}

impl View {
    /// Compile `policy` for a run whose fresh HOME (if any) is `home`, with private files
    /// under `private` (which must be absolute; it is created by the caller).
    pub fn compile(
        policy: &Policy,
        home: Option<&Path>,
        private: &Path,
        mode: Mode,
    ) -> Result<View, ViewError> {
        let mut view = View {
            entries: Vec::new(),
            private: private.to_path_buf(),
            env: Vec::new(),
            degraded: Vec::new(),
            make_dirs: Vec::new(),
            make_files: Vec::new(),
            links: Default::default(),
            resolved: Default::default(),
        };
        let mut entries: Vec<Entry> = Vec::new();
        let mut add = |path: PathBuf, access: Access, host: PathBuf, origin: &str| {
            entries.push(Entry {
                path,
                access,
                host,
                origin: origin.to_string(),
            });
        };
        let mut n_private = 0;
        let mut private_dir = |view: &mut View, name: &str| {
            n_private += 1;
            let dir = private.join(format!("{n_private}-{name}"));
            view.make_dirs.push(dir.clone());
            dir
        };

        if let Some(h) = home {
            let h = canonical(h);
            match (&policy.home, mode) {
                (Home::Path(p), _) => add(canonical(p), Access::Rw, canonical(p), "home"),
                (_, Mode::Rewrite) => {
                    let dir = private_dir(&mut view, "home");
                    add(h, Access::Rw, dir, "home = fresh");
                }
                (_, Mode::Fixed | Mode::Inject) => {
                    let dir = private_dir(&mut view, "home");
                    view.degraded.push(format!(
                        "home = fresh: HOME is the private directory {}; the real home {} \
                         is hidden",
                        dir.display(),
                        h.display()
                    ));
                    view.env.push(("HOME".into(), dir));
                    add(h.clone(), Access::Hide, h, "home = fresh");
                }
            }
        }
        for rule in &policy.rules {
            let origin = rule.origin.to_string();
            let keyword = rule.kind.keyword();
            let refuse = |problem: &str| ViewError {
                origin: origin.clone(),
                keyword,
                path: rule.path.display().to_string(),
                problem: problem.to_string(),
            };
            match &rule.kind {
                RuleKind::Ro | RuleKind::Rw => {
                    let access = if rule.kind == RuleKind::Ro {
                        Access::Ro
                    } else {
                        Access::Rw
                    };
                    let real = canonical(&rule.path);
                    add(real.clone(), access, real, &origin);
                    // The symlinks on the rule's own path stay walkable by that path: the
                    // loader opens /lib64/ld-linux-x86-64.so.2 by that name.
                    for anc in rule.path.ancestors() {
                        let is_link = std::fs::symlink_metadata(anc)
                            .map(|m| m.file_type().is_symlink())
                            .unwrap_or(false);
                        if is_link {
                            let at = canonical_parent(anc);
                            add(at.clone(), Access::Link, at, &origin);
                        }
                    }
                }
                RuleKind::Hide => {
                    let at = canonical_parent(&rule.path);
                    add(at.clone(), Access::Hide, at, &origin);
                }
                RuleKind::Deny => {
                    let at = canonical(&rule.path);
                    add(at.clone(), Access::Deny, at, &origin);
                }
                // The host's /dev, cut down to what the namespace backend's minimal /dev
                // holds. A device node's mode does not protect it from a run as root: uid 0
                // owns most of them, and opening one takes no capability (the kernel log in
                // /dev/kmsg, a loop or zram device).
                RuleKind::Dev => {
                    let at = canonical(&rule.path);
                    add(at.clone(), Access::Ro, at.clone(), &origin);
                    let entries = std::fs::read_dir(&at).into_iter().flatten().flatten();
                    for e in entries {
                        let p = e.path();
                        let name = e.file_name();
                        let access = match e.file_type() {
                            _ if !crate::plan::dev_entries().any(|n| name == n) => Access::Hide,
                            Ok(t) if t.is_symlink() => Access::Link,
                            _ => Access::Rw,
                        };
                        add(p.clone(), access, p, &origin);
                    }
                    view.degraded.push(format!(
                        "dev {}: the host's /dev, with only {} visible",
                        rule.path.display(),
                        crate::plan::dev_entries().collect::<Vec<_>>().join(", ")
                    ));
                }
                // The host's /proc, read-only: most sysctls under /proc/sys are global and
                // checked by file mode only, which uid 0 passes without a capability.
                RuleKind::Proc => {
                    let at = canonical(&rule.path);
                    add(at.clone(), Access::Ro, at, &origin);
                    view.degraded.push(format!(
                        "proc {}: the host's /proc, read-only (no pid namespace: other \
                         processes are visible)",
                        rule.path.display()
                    ));
                }
                RuleKind::Tmpfs => {
                    let at = canonical(&rule.path);
                    match mode {
                        Mode::Rewrite => {
                            let dir = private_dir(&mut view, "tmpfs");
                            add(at, Access::Rw, dir, &origin);
                        }
                        Mode::Fixed | Mode::Inject => {
                            if at == Path::new("/tmp") {
                                let dir = private_dir(&mut view, "tmp");
                                view.env.push(("TMPDIR".into(), dir));
                            }
                            view.degraded.push(format!(
                                "tmpfs {}: the host's directory, writable and not private{}",
                                rule.path.display(),
                                if at == Path::new("/tmp") {
                                    "; TMPDIR points to a private directory"
                                } else {
                                    ""
                                }
                            ));
                            add(at.clone(), Access::Rw, at, &origin);
                        }
                    }
                }
                RuleKind::Empty | RuleKind::Redirect { .. } if mode == Mode::Fixed => {
                    return Err(refuse(
                        "this backend cannot show other content at a path; use the \
                         namespace, seccomp, ptrace or preload backend, alone or paired with \
                         landlock (see `cordon doctor`)",
                    ));
                }
                RuleKind::Empty => {
                    let at = canonical(&rule.path);
                    let is_dir = std::fs::metadata(&at).map(|m| m.is_dir()).unwrap_or(false);
                    let dir = private_dir(&mut view, "empty");
                    let host = if is_dir {
                        dir
                    } else {
                        let f = dir.join("file");
                        view.make_files.push(f.clone());
                        f
                    };
                    add(at, Access::Ro, host, &origin);
                }
                RuleKind::Redirect { to } => {
                    if std::fs::symlink_metadata(to).is_err() {
                        return Err(refuse(&format!(
                            "redirect target {} does not exist",
                            to.display()
                        )));
                    }
                    add(canonical(&rule.path), Access::Ro, canonical(to), &origin);
                }
            }
        }
        // The private directory is itself visible, so that a path the kernel reports (getcwd
        // in a private tmpfs) leads back to the same place.
        let private = canonical(private);
        add(private.clone(), Access::Rw, private, "cordon");
        // Sort by path; for the same path the later rule wins (a stable sort keeps the order,
        // and dedup keeps the last).
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
        for e in entries {
            match out.last_mut() {
                // A link noted on the way to a rule yields to any rule for that very path.
                Some(last) if last.path == e.path && e.access == Access::Link => {}
                Some(last) if last.path == e.path => *last = e,
                _ => out.push(e),
            }
        }
        view.entries = out;
        view.settle_private_areas();
        Ok(view)
    }

    /// A private area (a tmpfs, a fresh home) starts empty, as the namespace sandbox's tmpfs
    /// does: a hide or deny inside it has nothing of the host's to act on and would only stop
    /// the build from creating that path, so it goes; and each directory on the way to a
    /// visible path inside it is made there, as the namespace sandbox makes mount points.
    fn settle_private_areas(&mut self) {
        let private = self.private.clone();
        let is_private = |e: &Entry| e.host != e.path && e.host.starts_with(&private);
        let nearest_above = |entries: &[Entry], path: &Path| -> Option<usize> {
            let mut p = path.parent();
            while let Some(q) = p {
                if let Ok(i) = entries.binary_search_by(|e| e.path.as_path().cmp(q)) {
                    return Some(i);
                }
                p = q.parent();
            }
            None
        };
        let entries = self.entries.clone();
        self.entries = entries
            .iter()
            .filter(|e| {
                !matches!(e.access, Access::Hide | Access::Deny)
                    || !nearest_above(&entries, &e.path).is_some_and(|i| is_private(&entries[i]))
            })
            .cloned()
            .collect();
        for e in &self.entries {
            if !matches!(e.access, Access::Ro | Access::Rw | Access::Link) {
                continue;
            }
            let Some(i) = nearest_above(&self.entries, &e.path) else {
                continue;
            };
            let area = &self.entries[i];
            if !is_private(area) {
                continue;
            }
            for anc in e.path.ancestors().skip(1) {
                if anc == area.path {
                    break;
                }
                self.make_dirs.push(Self::host_of(area, anc));
            }
        }
    }

    /// The entry that decides `path`: the longest one that is a prefix of it.
    pub fn entry_for(&self, path: &Path) -> Option<&Entry> {
        let mut p = Some(path);
        while let Some(q) = p {
            if let Ok(i) = self.entries.binary_search_by(|e| e.path.as_path().cmp(q)) {
                return Some(&self.entries[i]);
            }
            p = q.parent();
        }
        None
    }

    /// Whether some visible entry lies strictly under `path` (a hidden directory that holds
    /// visible paths can be walked through, as the namespace sandbox shows it empty).
    fn has_visible_inside(&self, path: &Path) -> bool {
        let start = self.entries.partition_point(|e| e.path.as_path() <= path);
        self.entries[start..]
            .iter()
            .take_while(|e| e.path.starts_with(path))
            .any(|e| matches!(e.access, Access::Ro | Access::Rw | Access::Link))
    }

    /// Where `path` (absolute, as the command names it) really is, through `entry`.
    fn host_of(entry: &Entry, path: &Path) -> PathBuf {
        match path.strip_prefix(&entry.path) {
            Ok(rel) if rel.as_os_str().is_empty() => entry.host.clone(),
            Ok(rel) => entry.host.join(rel),
            Err(_) => path.to_path_buf(),
        }
    }

    /// Resolve `path` as the kernel would walk it for process `pid`, applying the view at
    /// each component and following symlinks (the last one only when `follow_last`).
    /// `path` must be absolute; `/proc/self` means `pid`'s entry.
    pub fn resolve(&self, path: &Path, follow_last: bool, pid: i32) -> Resolved {
        let cache = &self.resolved[usize::from(follow_last)];
        if let Some(r) = cache.borrow().get(path) {
            return r.clone();
        }
        let (r, fixed) = self.walk(path, follow_last, pid);
        if fixed {
            cache.borrow_mut().insert(path.to_path_buf(), r.clone());
        }
        r
    }

    /// [`View::resolve`], and whether the answer can be kept: every step went through a
    /// read-only entry or a directory the view does not show, and not through /proc.
    fn walk(&self, path: &Path, follow_last: bool, pid: i32) -> (Resolved, bool) {
        let mut fixed = !path.starts_with("/proc");
        let r = self.walk_inner(path, follow_last, pid, &mut fixed);
        (r, fixed)
    }

    fn walk_inner(&self, path: &Path, follow_last: bool, pid: i32, fixed: &mut bool) -> Resolved {
        let mut todo: VecDeque<OsString> = components(path);
        let mut at = PathBuf::from("/");
        let mut links = 0;
        let mut moved = false;
        while let Some(c) = todo.pop_front() {
            if c == ".." {
                at.pop();
                continue;
            }
            at.push(&c);
            if at == Path::new("/proc/self") {
                at = PathBuf::from(format!("/proc/{pid}"));
            } else if at == Path::new("/proc/thread-self") {
                at = PathBuf::from(format!("/proc/{pid}/task/{pid}"));
            }
            let last = todo.is_empty();
            // A directory above a visible entry can be walked through, as the namespace
            // sandbox shows it (a mount point, or an emptied hidden directory).
            let through = !last && self.has_visible_inside(&at);
            let entry = self.entry_for(&at);
            let host = match entry {
                None if !through => return Resolved::Hidden,
                Some(e) if !through && e.access == Access::Hide => return Resolved::Hidden,
                Some(e) if !through && e.access == Access::Deny => return Resolved::Denied,
                Some(e) => {
                    moved |= e.host != e.path;
                    Self::host_of(e, &at)
                }
                None => at.clone(),
            };
            if last && !follow_last {
                break;
            }
            let ro = entry.is_some_and(|e| matches!(e.access, Access::Ro | Access::Link));
            if at.starts_with("/proc") || (entry.is_some() && !ro) {
                *fixed = false;
            }
            let target = if ro {
                let mut links = self.links.borrow_mut();
                links
                    .entry(host)
                    .or_insert_with_key(|h| std::fs::read_link(h).ok())
                    .clone()
            } else {
                std::fs::read_link(&host).ok()
            };
            let Some(target) = target else {
                continue;
            };
            links += 1;
            if links > 40 {
                return Resolved::Loop;
            }
            if !target.is_absolute() && at.starts_with("/proc") && is_magic(&target) {
                // A descriptor's link to a pipe, socket or anonymous inode: not a path. Opening
                // it reopens what the descriptor holds, as its own modes allow, even in a
                // read-only /proc (`echo > /dev/stdout` into a pipe).
                if last {
                    return Resolved::Allowed {
                        host: at,
                        writable: true,
                        moved,
                    };
                }
                break;
            }
            at.pop();
            if target.is_absolute() {
                at = PathBuf::from("/");
            }
            for c in components(&target).into_iter().rev() {
                todo.push_front(c);
            }
        }
        match self.entry_for(&at) {
            None => Resolved::Hidden,
            Some(e) => match e.access {
                Access::Hide => Resolved::Hidden,
                Access::Deny => Resolved::Denied,
                a => Resolved::Allowed {
                    host: Self::host_of(e, &at),
                    writable: a == Access::Rw,
                    moved: moved || e.host != e.path,
                },
            },
        }
    }
}

impl View {
    /// What a listing of directory `dir` must not show: the names of hidden entries in it
    /// (`drop`), and, for a directory shown only as the way to visible paths, the names
    /// leading to them (`keep_only`). None when the listing shows everything.
    #[allow(clippy::type_complexity)]
    pub fn listing_filter(&self, dir: &Path) -> Option<(Vec<Vec<u8>>, Option<Vec<Vec<u8>>>)> {
        let shown = matches!(
            self.entry_for(dir),
            Some(Entry {
                access: Access::Ro | Access::Rw | Access::Link,
                ..
            })
        );
        let start = self.entries.partition_point(|e| e.path.as_path() <= dir);
        let inside = self.entries[start..]
            .iter()
            .take_while(|e| e.path.starts_with(dir));
        let first = |e: &Entry| -> Option<Vec<u8>> {
            let rel = e.path.strip_prefix(dir).ok()?;
            let c = rel.components().next()?;
            Some(c.as_os_str().as_bytes().to_vec())
        };
        if shown {
            let drop: Vec<Vec<u8>> = inside
                .filter(|e| e.access == Access::Hide && e.path.parent() == Some(dir))
                .filter_map(first)
                .collect();
            (!drop.is_empty()).then_some((drop, None))
        } else {
            let keep: Vec<Vec<u8>> = inside
                .filter(|e| {
                    matches!(
                        e.access,
                        Access::Ro | Access::Rw | Access::Link | Access::Deny
                    )
                })
                .filter_map(first)
                .collect();
            Some((Vec::new(), Some(keep)))
        }
    }

    /// The verdict of each traced access under this view, for `run --trace`: an access that
    /// failed the way the view makes it fail was hidden or denied; one under an entry shown
    /// from elsewhere was redirected.
    pub fn verdicts(&self) -> crate::tracer::VerdictFn {
        use crate::trace::Verdict;
        const ENOENT: i32 = cordon_sys::error::Errno::ENOENT as i32;
        const EACCES: i32 = cordon_sys::error::Errno::EACCES as i32;
        let view = self.clone();
        Box::new(move |path, errno| match view.entry_for(Path::new(path)) {
            None if errno == ENOENT => Verdict::Hidden,
            Some(e) if e.access == Access::Hide && errno == ENOENT => Verdict::Hidden,
            Some(e) if e.access == Access::Deny && errno == EACCES => Verdict::Denied,
            Some(e) if e.host != e.path => Verdict::Redirected,
            _ => Verdict::Allowed,
        })
    }
}

impl View {
    /// What the view says of a decoded system call, path by path as the kernel would walk
    /// them: the errno it fails with (a hidden path ENOENT, a denied one EACCES unless the
    /// call only looks at it, a write under a read-only path EROFS), or the paths shown from
    /// elsewhere, as (argument, host path), which the backend rewrites or answers for.
    pub fn judge(
        &self,
        call: &crate::tracer::Call,
        pid: i32,
    ) -> Result<Vec<(usize, PathBuf)>, cordon_sys::error::Errno> {
        use crate::trace::Op;
        use cordon_sys::error::Errno;
        let writes = matches!(call.op, Op::Write | Op::Create | Op::Delete | Op::Rename);
        // A denied path is present: only its content is refused.
        let looks = matches!(call.op, Op::Stat | Op::Probe | Op::Readlink);
        let mut moved = Vec::new();
        for p in &call.paths {
            match self.resolve(&p.abs, p.follow, pid) {
                Resolved::Hidden => return Err(Errno::ENOENT),
                Resolved::Denied if looks => {}
                Resolved::Denied => return Err(Errno::EACCES),
                Resolved::Loop => return Err(Errno::ELOOP),
                Resolved::Allowed { writable, .. } if writes && !writable => {
                    return Err(Errno::EROFS)
                }
                Resolved::Allowed {
                    host, moved: true, ..
                } => moved.push((p.arg, host)),
                Resolved::Allowed { .. } => {}
            }
        }
        Ok(moved)
    }
}

/// `pipe:[123]`, `socket:[4]`, `anon_inode:[eventfd]`: what /proc's fd links show for
/// descriptors that are not files.
fn is_magic(target: &Path) -> bool {
    let b = target.as_os_str().as_bytes();
    b.contains(&b':') && b.ends_with(b"]")
}

/// The normal components of `path`, keeping `..` (resolved during the walk, after symlinks).
fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some(OsStr::new("..").to_os_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Origin;

    fn policy(rules: &[(&str, RuleKind)]) -> Policy {
        let mut p = Policy::default();
        for (path, kind) in rules {
            p.push_rule(path, kind.clone(), None, None, Origin::command_line())
                .unwrap();
        }
        p
    }

    fn allowed(host: &Path, writable: bool) -> Resolved {
        Resolved::Allowed {
            host: host.to_path_buf(),
            writable,
            moved: false,
        }
    }

    #[test]
    fn longest_prefix_decides_and_unmatched_is_hidden() {
        let t = tempfile::tempdir().unwrap();
        let d = canonical(t.path());
        std::fs::create_dir(d.join("src")).unwrap();
        std::fs::write(d.join("src/secret"), "x").unwrap();
        let p = policy(&[
            (d.to_str().unwrap(), RuleKind::Ro),
            (d.join("src").to_str().unwrap(), RuleKind::Rw),
            (d.join("src/secret").to_str().unwrap(), RuleKind::Hide),
        ]);
        let v = View::compile(&p, None, &d.join("private"), Mode::Rewrite).unwrap();
        assert_eq!(
            v.resolve(&d.join("a"), true, 1),
            allowed(&d.join("a"), false)
        );
        assert_eq!(
            v.resolve(&d.join("src/new"), true, 1),
            allowed(&d.join("src/new"), true)
        );
        assert_eq!(v.resolve(&d.join("src/secret"), true, 1), Resolved::Hidden);
        assert_eq!(
            v.resolve(Path::new("/etc/passwd"), true, 1),
            Resolved::Hidden
        );
    }

    #[test]
    fn symlinks_are_followed_through_the_view() {
        let t = tempfile::tempdir().unwrap();
        let d = canonical(t.path());
        std::fs::create_dir(d.join("rw")).unwrap();
        std::fs::write(d.join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(d.join("secret"), d.join("rw/abs")).unwrap();
        std::os::unix::fs::symlink("../secret", d.join("rw/rel")).unwrap();
        std::os::unix::fs::symlink("abs", d.join("rw/chain")).unwrap();
        std::os::unix::fs::symlink("loop", d.join("rw/loop")).unwrap();
        let p = policy(&[
            (d.to_str().unwrap(), RuleKind::Ro),
            (d.join("rw").to_str().unwrap(), RuleKind::Rw),
            (d.join("secret").to_str().unwrap(), RuleKind::Hide),
        ]);
        let v = View::compile(&p, None, &d.join("private"), Mode::Rewrite).unwrap();
        for link in ["abs", "rel", "chain"] {
            assert_eq!(
                v.resolve(&d.join("rw").join(link), true, 1),
                Resolved::Hidden
            );
            // Not following the last link: the link itself, in a writable directory.
            assert_eq!(
                v.resolve(&d.join("rw").join(link), false, 1),
                allowed(&d.join("rw").join(link), true)
            );
        }
        assert_eq!(v.resolve(&d.join("rw/loop"), true, 1), Resolved::Loop);
        // `..` after a symlinked directory goes to the link target's parent.
        std::os::unix::fs::symlink(d.join("rw"), d.join("rw/self")).unwrap();
        assert_eq!(
            v.resolve(&d.join("rw/self/../x"), true, 1),
            allowed(&d.join("x"), false)
        );
    }

    #[test]
    fn rewrite_mode_maps_tmpfs_home_redirect_and_empty() {
        let t = tempfile::tempdir().unwrap();
        let d = canonical(t.path());
        std::fs::create_dir(d.join("home")).unwrap();
        std::fs::write(d.join("pinned"), "x").unwrap();
        let mut p = policy(&[
            ("/", RuleKind::Ro),
            (d.join("scratch").to_str().unwrap(), RuleKind::Tmpfs),
            (
                "/etc/gitconfig",
                RuleKind::Redirect {
                    to: d.join("pinned"),
                },
            ),
            ("/etc/hosts", RuleKind::Empty),
        ]);
        p.home = Home::Fresh;
        let private = d.join("private");
        let v = View::compile(&p, Some(&d.join("home")), &private, Mode::Rewrite).unwrap();
        let Resolved::Allowed { host, writable, .. } = v.resolve(&d.join("home/.x"), true, 1)
        else {
            panic!()
        };
        assert!(host.starts_with(&private) && writable, "{host:?}");
        let Resolved::Allowed { host, .. } = v.resolve(&d.join("scratch/f"), true, 1) else {
            panic!()
        };
        assert!(host.starts_with(&private) && host.ends_with("f"));
        assert_eq!(
            v.resolve(Path::new("/etc/gitconfig"), true, 1),
            Resolved::Allowed {
                host: d.join("pinned"),
                writable: false,
                moved: true
            }
        );
        let Resolved::Allowed { host, .. } = v.resolve(Path::new("/etc/hosts"), true, 1) else {
            panic!()
        };
        assert!(v.make_files.contains(&host));
        assert!(v.degraded.is_empty());
    }

    #[test]
    fn a_rule_reached_through_a_symlink_keeps_the_link_walkable() {
        let t = tempfile::tempdir().unwrap();
        let d = canonical(t.path());
        std::fs::create_dir_all(d.join("usr/lib/triplet")).unwrap();
        std::fs::write(d.join("usr/lib/triplet/libc.so"), "x").unwrap();
        std::fs::write(d.join("usr/lib/other"), "x").unwrap();
        std::os::unix::fs::symlink("usr/lib", d.join("lib")).unwrap();
        // As a learned policy names it: by the symlinked path.
        let p = policy(&[(d.join("lib/triplet").to_str().unwrap(), RuleKind::Ro)]);
        let v = View::compile(&p, None, &d.join("private"), Mode::Fixed).unwrap();
        assert!(matches!(
            v.resolve(&d.join("lib/triplet/libc.so"), true, 1),
            Resolved::Allowed { host, .. } if host == d.join("usr/lib/triplet/libc.so")
        ));
        // The link is shown; what it leads to is still decided where it lands.
        assert!(matches!(
            v.resolve(&d.join("lib"), false, 1),
            Resolved::Allowed { .. }
        ));
        assert_eq!(v.resolve(&d.join("lib/other"), true, 1), Resolved::Hidden);
        assert_eq!(
            v.resolve(&d.join("usr/lib/other"), true, 1),
            Resolved::Hidden
        );
        // Landlock grants the target, not the link's whole directory.
        let rules = crate::direct::landlock::rules(&v, false);
        assert!(
            rules
                .iter()
                .all(|r| r.path != d.join("lib") && r.path != d.join("usr/lib")),
            "{rules:?}"
        );
    }

    #[test]
    fn a_private_area_holds_the_way_to_visible_paths_and_no_hides() {
        let t = tempfile::tempdir().unwrap();
        let d = canonical(t.path());
        let mut p = policy(&[
            ("/", RuleKind::Ro),
            (d.join("home/.gnupg").to_str().unwrap(), RuleKind::Hide),
            (d.join("scratch").to_str().unwrap(), RuleKind::Tmpfs),
            (d.join("scratch/a/b/work").to_str().unwrap(), RuleKind::Rw),
        ]);
        p.home = Home::Fresh;
        let private = d.join("private");
        let v = View::compile(&p, Some(&d.join("home")), &private, Mode::Rewrite).unwrap();
        // The build may make ~/.gnupg in its fresh home.
        let Resolved::Allowed { writable, .. } = v.resolve(&d.join("home/.gnupg"), true, 1) else {
            panic!("{:?}", v.entries)
        };
        assert!(writable);
        // The directories leading to the work directory exist in the private tmpfs.
        let made: Vec<String> = v
            .make_dirs
            .iter()
            .filter_map(|m| m.strip_prefix(&private).ok())
            .map(|m| m.display().to_string())
            .collect();
        assert!(made.iter().any(|m| m.ends_with("tmpfs/a/b")), "{made:?}");
        assert!(made.iter().any(|m| m.ends_with("tmpfs/a")), "{made:?}");
    }

    #[test]
    fn fixed_mode_degrades_and_refuses_what_it_cannot_show() {
        let t = tempfile::tempdir().unwrap();
        let d = canonical(t.path());
        std::fs::create_dir(d.join("home")).unwrap();
        let mut p = policy(&[("/", RuleKind::Ro), ("/tmp", RuleKind::Tmpfs)]);
        p.home = Home::Fresh;
        let v = View::compile(&p, Some(&d.join("home")), &d.join("p"), Mode::Fixed).unwrap();
        assert_eq!(
            v.resolve(&d.join("home/.gitconfig"), true, 1),
            Resolved::Hidden
        );
        let names: Vec<&str> = v.env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["HOME", "TMPDIR"]);
        assert_eq!(v.degraded.len(), 2, "{:?}", v.degraded);
        p.rules.push(p.rules[0].clone());
        p.rules.last_mut().unwrap().kind = RuleKind::Empty;
        let e = View::compile(&p, None, &d.join("p"), Mode::Fixed).unwrap_err();
        assert!(e.to_string().contains("cannot show other content"), "{e}");
    }

    #[test]
    fn a_hidden_directory_with_visible_paths_inside_can_be_walked_through() {
        let p = policy(&[
            ("/", RuleKind::Ro),
            ("/usr", RuleKind::Hide),
            ("/usr/bin", RuleKind::Ro),
        ]);
        let v = View::compile(&p, None, Path::new("/nonexistent-private"), Mode::Fixed).unwrap();
        assert!(matches!(
            v.resolve(Path::new("/usr/bin/env"), false, 1),
            Resolved::Allowed { .. }
        ));
        assert_eq!(v.resolve(Path::new("/usr/lib"), true, 1), Resolved::Hidden);
        assert_eq!(v.resolve(Path::new("/usr"), true, 1), Resolved::Hidden);
    }

    #[test]
    fn dev_shows_only_the_entries_of_a_minimal_dev() {
        let t = tempfile::tempdir().unwrap();
        let d = canonical(t.path());
        for name in ["null", "kmsg", "zram0"] {
            std::fs::write(d.join(name), "").unwrap();
        }
        std::os::unix::fs::symlink("/proc/self/fd/1", d.join("stdout")).unwrap();
        let p = policy(&[("/", RuleKind::Ro), (d.to_str().unwrap(), RuleKind::Dev)]);
        let v = View::compile(&p, None, Path::new("/nonexistent-private"), Mode::Fixed).unwrap();
        assert_eq!(
            v.resolve(&d.join("null"), true, 1),
            allowed(&d.join("null"), true)
        );
        assert_eq!(v.resolve(&d, true, 1), allowed(&d, false));
        for hidden in ["kmsg", "zram0"] {
            assert_eq!(
                v.resolve(&d.join(hidden), true, 1),
                Resolved::Hidden,
                "{hidden}"
            );
        }
        assert!(v
            .entries
            .iter()
            .any(|e| e.path == d.join("stdout") && e.access == Access::Link));
    }

    #[test]
    fn proc_self_is_the_callers_and_fd_links_to_pipes_end_the_walk() {
        let p = policy(&[("/", RuleKind::Ro), ("/proc", RuleKind::Proc)]);
        let v = View::compile(&p, None, Path::new("/nonexistent-private"), Mode::Fixed).unwrap();
        let me = std::process::id() as i32;
        // The host's /proc is read-only: uid 0 owns the global sysctls.
        assert!(matches!(
            v.resolve(Path::new("/proc/self/status"), true, me),
            Resolved::Allowed { host, writable: false, .. }
                if host == Path::new(&format!("/proc/{me}/status"))
        ));
        // Yet a descriptor's link to a pipe reopens the pipe, writable (`echo > /dev/stdout`).
        let (_reader, writer) = std::io::pipe().unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&writer);
        let link = format!("/proc/self/fd/{fd}");
        assert!(matches!(
            v.resolve(Path::new(&link), true, me),
            Resolved::Allowed { writable: true, .. }
        ));
        assert!(is_magic(Path::new("pipe:[1234]")) && is_magic(Path::new("anon_inode:[eventfd]")));
        assert!(!is_magic(Path::new("usr/lib")));
    }
}
