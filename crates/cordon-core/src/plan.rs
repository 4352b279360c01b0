//! Compiling a [`Policy`] into the namespace backend's mount plan.
//!
//! The sandbox's root starts as an empty tmpfs: what no rule makes visible does not exist.
//! Rules become mounts, parents before children, so a longer rule is mounted on top of a
//! shorter one (longest prefix wins). A `hide` inside a visible host directory cannot be a
//! mount (anything mounted exists), so that directory is *mirrored*: replaced by a tmpfs holding
//! a bind of each entry except the hidden ones. Mirrors also give a place to paths that a rule
//! names but the host lacks, so nothing is ever created on the host.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{CString, OsStr, OsString};
use std::ops::Bound;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use cordon_sys::sandbox::{IdMap, MountOp, Spec, NEWROOT, OLDROOT};

use crate::policy::{Policy, RuleKind};

/// Why a policy cannot be turned into a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{origin}: {keyword} {path}: {problem}")]
    Rule {
        origin: String,
        keyword: &'static str,
        path: String,
        problem: String,
    },
    #[error("path contains a NUL byte: {0}")]
    Nul(String),
    #[error("no command given")]
    NoCommand,
}

/// What a run needs besides the policy.
#[derive(Debug, Clone)]
pub struct Context {
    /// The command's working directory (host path, absolute).
    pub cwd: PathBuf,
    /// HOME inside the sandbox, when the policy sets one up (`fresh` or a path).
    pub home: Option<PathBuf>,
    pub argv: Vec<OsString>,
    pub envp: Vec<(OsString, OsString)>,
    /// Whether the caller is root (map every id) or not (map only its own).
    pub root: bool,
    /// How read-only directories with hidden or added entries are built.
    pub mirrors: Mirrors,
}

/// How a read-only directory with hidden or added entries is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mirrors {
    /// One overlayfs mount (Linux 5.11+ in a user namespace).
    Overlay,
    /// A tmpfs with one bind per entry: any kernel with user namespaces. Used when the
    /// overlay is refused, and forced by `CORDON_MIRROR=binds`.
    Binds,
}

/// The namespace backend's plan, and notes for `--verbose` about what was adjusted.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: Spec,
    pub notes: Vec<String>,
    /// Paths the sandbox makes absent that the host has (a hide of a missing path changes
    /// nothing, so an ENOENT there is not the sandbox's doing). See also
    /// [`Plan::hidden_paths`].
    pub hidden: Vec<PathBuf>,
    /// Hidden paths inside a fresh home, which its empty tmpfs makes absent anyway: whether
    /// the host has them was not asked while planning (some twenty lookups in the profiles).
    pub home_hides: Vec<PathBuf>,
    /// Paths the sandbox makes unreadable (deny, and hides inside writable directories).
    pub denied: Vec<PathBuf>,
    /// Paths whose content comes from elsewhere.
    pub redirected: Vec<PathBuf>,
    /// Where a minimal /dev is made (its ops are the tmpfs and binds under it).
    pub dev: Vec<PathBuf>,
}

impl Plan {
    /// [`Plan::hidden`] and the [`Plan::home_hides`] that the host has: the hidden paths
    /// where an ENOENT is the sandbox's doing.
    pub fn hidden_paths(&self) -> Vec<PathBuf> {
        let in_home = self
            .home_hides
            .iter()
            .filter(|p| std::fs::symlink_metadata(p).is_ok());
        self.hidden.iter().chain(in_home).cloned().collect()
    }
}

/// The plan's nodes by path. Keys are the bytes of a lexically normal absolute path ([`key`]),
/// compared as bytes: a path's descendants follow it (it is their prefix), and a comparison
/// is a memcmp rather than a walk over components.
type Nodes = BTreeMap<OsString, Node>;

/// The key of `p` in [`Nodes`]: its bytes, made lexically normal when they are not.
fn key(p: &Path) -> OsString {
    if crate::policy::is_normal_absolute(p.as_os_str().as_bytes()) {
        p.as_os_str().to_os_string()
    } else {
        p.components().collect::<PathBuf>().into_os_string()
    }
}

/// Whether `p` is `dir` or inside it, for lexically normal absolute paths (as `Path::starts_with`).
fn within(p: &[u8], dir: &[u8]) -> bool {
    p.starts_with(dir) && (p.len() == dir.len() || dir == b"/" || p[dir.len()] == b'/')
}

/// Where a node's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A host path bound at the node (ro, rw, redirect); `src` is the host path.
    Bind {
        src: PathBuf,
        writable: bool,
    },
    Tmpfs,
    Dev,
    Proc,
    Empty,
    Deny,
    Hide,
    /// A symlink recreated at the node (a rule named a symlink).
    Link(PathBuf),
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    /// Mirror this directory: tmpfs + one bind per entry, without `hidden`, plus `added`
    /// (name -> is a directory) as empty mount points.
    mirror: Option<Mirror>,
    origin: String,
    keyword: &'static str,
}

#[derive(Debug, Clone, Default)]
struct Mirror {
    hidden: BTreeSet<OsString>,
    /// Paths relative to the mirrored directory, whole (`missing/dir`), so that an overlay's
    /// layer can hold every level.
    added: BTreeMap<PathBuf, bool>,
}

impl Kind {
    fn is_host(&self) -> bool {
        matches!(self, Kind::Bind { .. })
    }
}

/// Compile `policy` for a run in `ctx`.
pub fn compile(policy: &Policy, ctx: &Context) -> Result<Plan, PlanError> {
    compile_with_mount_table(policy, ctx, None)
}

/// [`compile`], with the host's mount table (the text of `/proc/self/mountinfo`) given rather
/// than read. A namespace sandbox's init reads it before it starts mounting beside the plan:
/// read during those mounts, which hold the kernel's mount lock, the table took three times as
/// long, and delayed them too.
pub fn compile_with_mount_table(
    policy: &Policy,
    ctx: &Context,
    mount_table: Option<&[u8]>,
) -> Result<Plan, PlanError> {
    let mut notes = Vec::new();
    let host = Host::default();
    let (mut nodes, home_hides) = nodes_from_rules(policy, ctx, &host, &mut notes)?;
    add_mirrors(&mut nodes, &host, &mut notes)?;
    let mountinfo = mount_table.map_or_else(Mountinfo::read, Mountinfo::parse);
    let ops = emit(&nodes, ctx.mirrors, &host, &mountinfo, &mut notes)?;
    let with_kind = |f: &dyn Fn(&Node) -> bool| -> Vec<PathBuf> {
        nodes
            .iter()
            .filter(|(_, n)| f(n))
            .map(|(p, _)| PathBuf::from(p))
            .collect()
    };
    let hidden = with_kind(&|n| n.kind == Kind::Hide);
    let denied = with_kind(&|n| n.kind == Kind::Deny);
    let redirected = with_kind(&|n| n.keyword == "redirect");
    let dev = with_kind(&|n| n.kind == Kind::Dev);

    let CCommand {
        mut exec_candidates,
        argv,
        envp,
    } = c_command(&ctx.argv, &ctx.envp)?;
    // PATH entries the view does not have (`~/.cargo/bin` in a fresh home) need no exec.
    exec_candidates.retain(|c| {
        let dir = Path::new(OsStr::from_bytes(c.to_bytes()))
            .parent()
            .unwrap_or(Path::new("/"));
        !absent_in_view(&nodes, dir)
    });
    Ok(Plan {
        home_hides,
        spec: Spec {
            unshare_net: !policy.network,
            id_map: id_map(ctx.root),
            ops,
            cwd: c(&ctx.cwd)?,
            exec_candidates,
            argv,
            envp,
        },
        notes,
        hidden,
        denied,
        redirected,
        dev,
    })
}

/// A command as the C strings exec takes.
#[derive(Debug, Clone)]
pub struct CCommand {
    /// The paths to try, in order (the `PATH` search of `envp`, done in advance).
    pub exec_candidates: Vec<CString>,
    pub argv: Vec<CString>,
    /// `NAME=VALUE` strings.
    pub envp: Vec<CString>,
}

/// `argv` and `envp` as C strings, with the exec candidates of `argv[0]`.
pub fn c_command(argv: &[OsString], envp: &[(OsString, OsString)]) -> Result<CCommand, PlanError> {
    let argv0 = argv.first().ok_or(PlanError::NoCommand)?;
    let path_var = envp.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v);
    Ok(CCommand {
        exec_candidates: exec_candidates(argv0, path_var.map(|v| v.as_os_str()))
            .iter()
            .map(c)
            .collect::<Result<_, _>>()?,
        argv: argv.iter().map(c).collect::<Result<_, _>>()?,
        envp: envp
            .iter()
            .map(|(k, v)| {
                let (k, v) = (k.as_bytes(), v.as_bytes());
                let mut kv = Vec::with_capacity(k.len() + v.len() + 2);
                kv.extend_from_slice(k);
                kv.push(b'=');
                kv.extend_from_slice(v);
                c_bytes(kv)
            })
            .collect::<Result<_, _>>()?,
    })
}

/// The paths execvp(3) would try, in order.
pub fn exec_candidates(argv0: &OsStr, path: Option<&OsStr>) -> Vec<PathBuf> {
    if argv0.as_bytes().contains(&b'/') {
        return vec![PathBuf::from(argv0)];
    }
    let path = path.unwrap_or(OsStr::new("/usr/local/bin:/usr/bin:/bin"));
    path.as_bytes()
        .split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { b"." as &[u8] } else { dir };
            Path::new(OsStr::from_bytes(dir)).join(argv0)
        })
        .collect()
}

/// Resolve symlinks in the existing part of `path`, keeping the rest as written.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(&existing) {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// `canonical` for the parent only: the last component names the entry itself (a symlink
/// named by `hide` is hidden, not its target).
pub(crate) fn canonical_parent(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => canonical(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// `p.parent()`, by the last slash when `p` is absolute and lexically normal (as rules and
/// canonical paths are): `Path::parent` parses components, and the plan asks often.
fn parent_of(p: &Path) -> Option<&Path> {
    let b = p.as_os_str().as_bytes();
    if b.len() > 1 && b[0] == b'/' && !b.ends_with(b"/") {
        let i = b.iter().rposition(|&c| c == b'/').unwrap_or(0);
        let (head, name) = (&b[..i], &b[i + 1..]);
        // `.`, `..` and `a//b` are what Path::parent reads otherwise.
        if name != b"." && name != b".." && !head.ends_with(b"/") {
            let head: &[u8] = if head.is_empty() { b"/" } else { head };
            return Some(Path::new(OsStr::from_bytes(head)));
        }
    }
    p.parent()
}

/// What the plan asks of the host's file system, each question asked once per compile: the
/// profiles name many paths under the same few directories, and most do not exist.
/// Keyed by the bytes of the path: hashing a `Path` walks its components.
struct Host {
    lstat: RefCell<HashMap<OsString, Option<Meta>>>,
    stat: RefCell<HashMap<OsString, Option<Meta>>>,
    canonical: RefCell<HashMap<OsString, PathBuf>>,
    listing: RefCell<HashMap<OsString, Listing>>,
}

/// A directory's entries: names and types (readdir's d_type, no stat per entry), sorted.
type Listing = Vec<(OsString, std::fs::FileType)>;

/// What the plan reads of a stat answer (a `Metadata` is ten times the size, and the memo
/// holds one per path asked).
#[derive(Clone, Copy)]
struct Meta {
    mode: u32,
    nlink: u64,
}

impl Meta {
    fn of(m: &std::fs::Metadata) -> Self {
        Meta {
            mode: m.mode(),
            nlink: m.nlink(),
        }
    }

    fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }

    fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }

    /// The permission bits, set-id and sticky bits included.
    fn perm(&self) -> u32 {
        self.mode & 0o7777
    }

    fn nlink(&self) -> u64 {
        self.nlink
    }
}

// inode(7): the file type bits of st_mode.
const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

impl Default for Host {
    fn default() -> Self {
        // Room for what the built-in profiles ask, without growing.
        Host {
            lstat: RefCell::new(HashMap::with_capacity(96)),
            stat: RefCell::new(HashMap::with_capacity(16)),
            canonical: RefCell::new(HashMap::with_capacity(16)),
            listing: RefCell::default(),
        }
    }
}

impl Host {
    /// lstat(2). A path whose parent is missing is missing, without asking the kernel: one
    /// answer covers `~/.local/lib/python3.6` to `python3.14t`.
    fn lstat(&self, p: &Path) -> Option<Meta> {
        if let Some(m) = self.lstat.borrow().get(p.as_os_str()) {
            return *m;
        }
        let parent_missing = parent_of(p)
            .filter(|parent| !parent.as_os_str().is_empty())
            .is_some_and(|parent| self.lstat(parent).is_none());
        let m = if parent_missing {
            None
        } else {
            std::fs::symlink_metadata(p).ok().map(|m| Meta::of(&m))
        };
        self.lstat
            .borrow_mut()
            .insert(p.as_os_str().to_os_string(), m);
        m
    }

    fn exists(&self, p: &Path) -> bool {
        self.lstat(p).is_some()
    }

    /// stat(2), following symlinks: the lstat answer unless it is a symlink.
    fn stat(&self, p: &Path) -> Option<Meta> {
        if let Some(m) = self.stat.borrow().get(p.as_os_str()) {
            return *m;
        }
        let m = match self.lstat(p) {
            Some(m) if m.is_symlink() => std::fs::metadata(p).ok().map(|m| Meta::of(&m)),
            m => m,
        };
        self.stat
            .borrow_mut()
            .insert(p.as_os_str().to_os_string(), m);
        m
    }

    /// [`canonical`], remembered, and walked with the lstat answers above: realpath(3) would
    /// ask again about every directory on the way (`/work`, `/work/main`, ...) for each path.
    fn canonical(&self, p: &Path) -> PathBuf {
        if let Some(c) = self.canonical.borrow().get(p.as_os_str()) {
            return c.clone();
        }
        let c = self.walk(p).unwrap_or_else(|| canonical(p));
        self.canonical
            .borrow_mut()
            .insert(p.as_os_str().to_os_string(), c.clone());
        c
    }

    /// Resolve the symlinks of `p`'s existing part, component by component, keeping the rest
    /// as written; None for what realpath(3) should settle (a relative path, a link loop, a
    /// link to a missing path).
    fn walk(&self, p: &Path) -> Option<PathBuf> {
        use std::path::Component;
        if !p.is_absolute() {
            return None;
        }
        let mut todo: Vec<OsString> = Vec::new();
        let push_front = |todo: &mut Vec<OsString>, path: &Path| {
            // `todo` is consumed from its end: push the components in reverse.
            for c in path.components().rev() {
                match c {
                    Component::Normal(n) => todo.push(n.to_os_string()),
                    Component::ParentDir => todo.push(OsString::from("..")),
                    _ => {}
                }
            }
        };
        push_front(&mut todo, p);
        let mut out = PathBuf::from("/");
        let mut links = 0;
        while let Some(c) = todo.pop() {
            if c == ".." {
                out.pop();
                continue;
            }
            let next = out.join(&c);
            match self.lstat(&next) {
                Some(m) if m.is_symlink() => {
                    links += 1;
                    let target = std::fs::read_link(&next).ok()?;
                    if links > 40 {
                        return None;
                    }
                    if target.is_absolute() {
                        out = PathBuf::from("/");
                    }
                    push_front(&mut todo, &target);
                }
                Some(_) => out = next,
                // Under a link, realpath(3) keeps the link's own path, not where it led.
                None if links > 0 => return None,
                None => {
                    // Missing from here on: the rest as written.
                    out.push(c);
                    while let Some(rest) = todo.pop() {
                        out.push(rest);
                    }
                    return Some(out);
                }
            }
        }
        Some(out)
    }

    /// The entries of directory `dir` (none if it cannot be read); None when there are more
    /// than `limit`, of which only `limit + 1` are read. Remembered: whether a mirror is small
    /// and what it holds are the same listing.
    fn list(&self, dir: &Path, limit: usize) -> Option<Listing> {
        if let Some(l) = self.listing.borrow().get(dir.as_os_str()) {
            return (l.len() <= limit).then(|| l.clone());
        }
        let mut entries = Vec::new();
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.filter_map(Result::ok) {
                if entries.len() == limit {
                    return None;
                }
                if let Ok(ft) = e.file_type() {
                    entries.push((e.file_name(), ft));
                }
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.listing
            .borrow_mut()
            .insert(dir.as_os_str().to_os_string(), entries.clone());
        Some(entries)
    }

    /// [`canonical_parent`], remembered.
    fn canonical_parent(&self, path: &Path) -> PathBuf {
        match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => self.canonical(parent).join(name),
            _ => path.to_path_buf(),
        }
    }
}

/// The nodes of `policy`'s rules, and the hides that a fresh home makes absent anyway (see
/// [`Plan::home_hides`]).
fn nodes_from_rules(
    policy: &Policy,
    ctx: &Context,
    host: &Host,
    notes: &mut Vec<String>,
) -> Result<(Nodes, Vec<PathBuf>), PlanError> {
    let mut nodes = Nodes::new();
    // Hides settled once every rule is in (see below): the node's path, the rule's path, where
    // it was written.
    let mut unsettled = Vec::new();
    // The home directory is a rule like any other. It goes first, so that a rule for the same
    // path decides instead: running from $HOME itself (`rw ${CWD}`) keeps the real directory.
    // Origins are written out only for the rules that become nodes: most hides do not.
    let home = ctx.home.as_deref().map(|home| {
        let kind = match &policy.home {
            crate::policy::Home::Path(_) => RuleKind::Rw,
            _ => RuleKind::Tmpfs,
        };
        (home, kind, None)
    });
    let rules = home.into_iter().chain(
        policy
            .rules
            .iter()
            .map(|r| (r.path.as_path(), r.kind.clone(), Some(&r.origin))),
    );
    // Paths that rules make visible (normal: policy::normalize_absolute made them), sorted as
    // bytes so that those under a path follow it.
    let visible: BTreeSet<&[u8]> = policy
        .rules
        .iter()
        .filter(|r| r.kind != RuleKind::Hide)
        .map(|r| r.path.as_os_str().as_bytes())
        .collect();
    let written = |at: Option<&crate::policy::Origin>| {
        at.map_or_else(|| "home".to_string(), ToString::to_string)
    };
    for (path, kind, rule_origin) in rules {
        let keyword = kind.keyword();
        let origin = || written(rule_origin);
        // A rule reached through a symlinked directory (/lib64 -> usr/lib64 on merged-/usr
        // systems) names a path the view must also reach that way: the ELF interpreter
        // /lib64/ld-linux-x86-64.so.2 is opened by the kernel by that very name. Recreate
        // each symlinked ancestor in the view.
        if kind != RuleKind::Hide {
            for anc in path.ancestors().skip(1) {
                let is_link = host.lstat(anc).is_some_and(|m| m.is_symlink());
                if !is_link {
                    continue;
                }
                let at = host.canonical_parent(anc);
                let at = key(&at);
                if let (false, Ok(target)) = (nodes.contains_key(&at), std::fs::read_link(anc)) {
                    nodes.insert(
                        at,
                        Node {
                            kind: Kind::Link(target),
                            mirror: None,
                            origin: origin(),
                            keyword,
                        },
                    );
                }
            }
        }
        let (path, kind) = match kind {
            RuleKind::Hide => {
                // Most hides in the profiles name files a machine does not have: one lstat
                // settles those, since an absent entry is absent by any spelling, once every
                // rule is in (below). A hide with visible paths inside is kept, to become an
                // empty directory.
                // Paths under `dir` are those that start with `dir/`: one run in byte order.
                let dir = path.as_os_str().as_bytes();
                let mut lo = dir.to_vec();
                if dir != b"/" {
                    lo.push(b'/');
                }
                let has_inside = visible
                    .range::<[u8], _>((Bound::Included(&lo[..]), Bound::Unbounded))
                    .find(|p| **p != dir)
                    .is_some_and(|p| p.starts_with(&lo));
                let at = host.canonical_parent(path);
                if !has_inside {
                    // Over an earlier rule for the same path, as before: one lookup.
                    if !nodes.contains_key(at.as_os_str()) {
                        unsettled.push((at, path, rule_origin));
                        continue;
                    }
                    if !host.exists(path) {
                        continue;
                    }
                }
                (at, Kind::Hide)
            }
            RuleKind::Ro | RuleKind::Rw => {
                let writable = kind == RuleKind::Rw;
                let link = host.lstat(path).is_some_and(|m| m.is_symlink());
                let at = host.canonical_parent(path);
                if link && path != Path::new("/") {
                    // Show the link where it is and its target as the rule says.
                    if let Ok(target) = std::fs::read_link(&at) {
                        nodes.insert(
                            key(&at),
                            Node {
                                kind: Kind::Link(target),
                                mirror: None,
                                origin: origin(),
                                keyword,
                            },
                        );
                    }
                }
                let real = host.canonical(path);
                if !host.exists(&real) {
                    notes.push(format!(
                        "{}: {keyword} {}: does not exist on this machine, skipped",
                        origin(),
                        path.display()
                    ));
                    continue;
                }
                (
                    real.clone(),
                    Kind::Bind {
                        src: real,
                        writable,
                    },
                )
            }
            RuleKind::Redirect { to } => {
                if !host.exists(&to) {
                    return Err(PlanError::Rule {
                        origin: origin(),
                        keyword,
                        path: path.display().to_string(),
                        problem: format!("redirect target {} does not exist", to.display()),
                    });
                }
                (
                    host.canonical(path),
                    Kind::Bind {
                        src: host.canonical(&to),
                        writable: false,
                    },
                )
            }
            RuleKind::Tmpfs => (host.canonical(path), Kind::Tmpfs),
            RuleKind::Dev => (host.canonical(path), Kind::Dev),
            RuleKind::Proc => (host.canonical(path), Kind::Proc),
            RuleKind::Empty => (host.canonical(path), Kind::Empty),
            RuleKind::Deny => (host.canonical(path), Kind::Deny),
        };
        nodes.insert(
            key(&path),
            Node {
                kind,
                mirror: None,
                origin: origin(),
                keyword,
            },
        );
    }
    // A hide inside the fresh home, no other rule between, is absent there whatever the
    // host has: no lookup. Elsewhere one lookup settles the hides of paths that a machine
    // does not have, most of the profiles'.
    let fresh_home = ctx
        .home
        .as_deref()
        .filter(|_| !matches!(policy.home, crate::policy::Home::Path(_)))
        .map(|home| key(&host.canonical(home)));
    let mut home_hides = Vec::new();
    // The last hide of a path first: it is the one written.
    for (at, path, origin) in unsettled.into_iter().rev() {
        if nodes.contains_key(at.as_os_str()) {
            continue; // a later rule for the same path decided
        }
        let in_fresh_home = parent_node(&nodes, &at).is_some_and(|(anc, n)| {
            n.kind == Kind::Tmpfs && Some(anc.as_os_str()) == fresh_home.as_deref()
        });
        if in_fresh_home {
            home_hides.push(at);
        } else if host.exists(path) {
            let hide = Node {
                kind: Kind::Hide,
                mirror: None,
                origin: written(origin),
                keyword: RuleKind::Hide.keyword(),
            };
            nodes.insert(key(&at), hide);
        }
    }
    // A hidden directory that holds visible paths cannot be absent: it becomes empty.
    let paths: Vec<OsString> = nodes.keys().cloned().collect();
    for p in &paths {
        if nodes[p].kind == Kind::Hide
            && paths.iter().any(|q| {
                q != p && within(q.as_bytes(), p.as_bytes()) && nodes[q].kind != Kind::Hide
            })
        {
            notes.push(format!(
                "hide {}: has visible paths inside, shown as an empty directory holding them",
                Path::new(p).display()
            ));
            if let Some(n) = nodes.get_mut(p) {
                n.kind = Kind::Empty;
            }
        }
    }
    Ok((nodes, home_hides))
}

/// Whether the view certainly lacks `dir`: it lies under a hidden path, or inside a private
/// directory of ours (tmpfs, a fresh home, an emptied directory) that no rule adds it to.
fn absent_in_view(nodes: &Nodes, dir: &Path) -> bool {
    if dir.is_relative() {
        return false;
    }
    let dir = key(dir);
    let dir = Path::new(&dir);
    let nearest = std::iter::successors(Some(dir), |d| parent_of(d))
        .find_map(|a| nodes.get_key_value(a.as_os_str()));
    match nearest {
        Some((_, n)) if n.kind == Kind::Hide => true,
        Some((at, n)) => {
            matches!(n.kind, Kind::Tmpfs | Kind::Empty | Kind::Deny) && at.as_os_str() != dir
        }
        None => false,
    }
}

/// The nearest node strictly above `path`, if any.
fn parent_node<'a>(nodes: &'a Nodes, path: &Path) -> Option<(&'a Path, &'a Node)> {
    let mut p = parent_of(path);
    while let Some(dir) = p {
        if let Some((k, n)) = nodes.get_key_value(dir.as_os_str()) {
            return Some((Path::new(k), n));
        }
        p = parent_of(dir);
    }
    None
}

/// The host path shown at `path` through the host-backed node at `node_path`.
fn host_source(node_path: &Path, node: &Node, path: &Path) -> Option<PathBuf> {
    match &node.kind {
        Kind::Bind { src, .. } => {
            let rel = path.strip_prefix(node_path).ok()?;
            Some(if rel.as_os_str().is_empty() {
                src.clone()
            } else {
                src.join(rel)
            })
        }
        _ => None,
    }
}

/// Decide which host directories are mirrored, and what each mirror hides or adds.
fn add_mirrors(nodes: &mut Nodes, host: &Host, notes: &mut Vec<String>) -> Result<(), PlanError> {
    let paths: Vec<PathBuf> = nodes.keys().map(PathBuf::from).collect();
    for path in paths {
        if path == Path::new("/") || matches!(nodes[path.as_os_str()].kind, Kind::Link(_)) {
            continue;
        }
        let Some((anc_path, anc)) = parent_node(nodes, &path) else {
            continue; // under the root tmpfs: ours, mount points can be made
        };
        if !anc.kind.is_host() {
            continue; // inside a tmpfs of ours
        }
        let anc_path = anc_path.to_path_buf();
        let anc = anc.clone();
        let Some(src) = host_source(&anc_path, &anc, &path) else {
            continue;
        };
        let node = &nodes[path.as_os_str()];
        if node.kind == Kind::Hide {
            if host.exists(&src) && matches!(anc.kind, Kind::Bind { writable: true, .. }) {
                // Mirroring a writable directory would keep files created directly in it in
                // memory only (a build's outputs!); the entry is made unreadable instead.
                notes.push(format!(
                    "{}: hide {}: inside the writable {}, shown as unreadable (EACCES) rather \
                     than absent, so that files created there persist",
                    node.origin,
                    path.display(),
                    anc_path.display()
                ));
                if let Some(n) = nodes.get_mut(path.as_os_str()) {
                    n.kind = Kind::Deny;
                }
                continue;
            }
            if host.exists(&src) {
                let parent = path.parent().unwrap_or(Path::new("/")).to_path_buf();
                let name = path.file_name().unwrap_or_default().to_os_string();
                mirror_at(nodes, &parent, &anc_path, &anc)
                    .hidden
                    .insert(name);
            }
            continue;
        }
        if host.exists(&src) {
            continue; // the mount point is there
        }
        if matches!(node.kind, Kind::Deny) {
            notes.push(format!(
                "{}: deny {}: does not exist on this machine, nothing to deny",
                node.origin,
                path.display()
            ));
            nodes.remove(path.as_os_str());
            continue;
        }
        // Find the deepest existing ancestor inside the host-backed area and add the
        // missing part of the path there.
        let mut existing = path.parent().map(Path::to_path_buf);
        while let Some(dir) = existing.clone() {
            let dir_src = host_source(&anc_path, &anc, &dir);
            if dir.starts_with(&anc_path)
                && dir_src.as_deref().map(|p| host.exists(p)).unwrap_or(false)
            {
                break;
            }
            existing = dir.parent().map(Path::to_path_buf);
        }
        let Some(dir) = existing else { continue };
        let is_dir = wants_dir(&node.kind, host);
        let rel = path.strip_prefix(&dir).unwrap_or(&path).to_path_buf();
        mirror_at(nodes, &dir, &anc_path, &anc)
            .added
            .insert(rel, is_dir);
    }
    Ok(())
}

fn wants_dir(kind: &Kind, host: &Host) -> bool {
    match kind {
        Kind::Bind { src, .. } => host.stat(src).map_or(true, |m| m.is_dir()),
        _ => true,
    }
}

/// The mirror of the directory `dir`, creating a node for it (a copy of the host-backed
/// ancestor's kind) when there is none.
fn mirror_at<'a>(nodes: &'a mut Nodes, dir: &Path, anc_path: &Path, anc: &Node) -> &'a mut Mirror {
    let node = nodes.entry(key(dir)).or_insert_with(|| {
        let kind = match &anc.kind {
            Kind::Bind { writable, .. } => Kind::Bind {
                src: host_source(anc_path, anc, dir).unwrap_or_else(|| dir.to_path_buf()),
                writable: *writable,
            },
            k => k.clone(),
        };
        Node {
            kind,
            mirror: None,
            origin: anc.origin.clone(),
            keyword: anc.keyword,
        }
    });
    node.mirror.get_or_insert_with(Mirror::default)
}

fn c(p: impl AsRef<OsStr>) -> Result<CString, PlanError> {
    c_bytes(p.as_ref().as_bytes().to_vec())
}

/// `bytes` as a C string; an interior NUL is an error that shows them.
fn c_bytes(bytes: Vec<u8>) -> Result<CString, PlanError> {
    CString::new(bytes).map_err(|e| PlanError::Nul(String::from_utf8_lossy(&e.into_vec()).into()))
}

fn under(root: &str, path: &Path) -> Result<CString, PlanError> {
    let path = path.as_os_str().as_bytes();
    let mut s = Vec::with_capacity(root.len() + path.len() + 1);
    s.extend_from_slice(root.as_bytes());
    if path != b"/" {
        s.extend_from_slice(path);
    }
    c_bytes(s)
}

/// Directories with at most this many entries are mirrored with binds rather than an overlay.
const SMALL_DIR: usize = 8;

/// Files in the staging root that `empty` and `deny` bind over files, made only by plans that
/// use them (the staging root's `/.cordon` is there already).
const EMPTY_FILE: &str = "/.cordon/empty";
const DENY_FILE: &str = "/.cordon/deny";

fn emit(
    nodes: &Nodes,
    mirrors: Mirrors,
    host: &Host,
    mountinfo: &Mountinfo,
    notes: &mut Vec<String>,
) -> Result<Vec<MountOp>, PlanError> {
    let mut ops = Vec::new();
    let (mut uses_empty, mut uses_deny) = (false, false);
    let mut readonly_last = Vec::new();
    if !nodes.contains_key(OsStr::new("/")) {
        readonly_last.push(under(NEWROOT, Path::new("/"))?);
    }
    let mut layers = 0usize;

    for (path, node) in nodes {
        let path = Path::new(path);
        let dst = under(NEWROOT, path)?;
        // Make the mount point when it lies on a tmpfs of ours; inside a host-backed area it
        // exists (add_mirrors made sure, or made a mirror add it).
        let ours = match parent_node(nodes, path) {
            None => true,
            Some((_, p)) => !p.kind.is_host() || p.mirror.is_some(),
        };
        let anc_src = parent_node(nodes, path).and_then(|(ap, a)| host_source(ap, a, path));
        let needs_point = path != Path::new("/")
            && (ours || !anc_src.as_deref().map(|p| host.exists(p)).unwrap_or(false));
        let point = |is_dir: bool| -> Result<MountOp, PlanError> {
            Ok(if is_dir {
                MountOp::Mkdir { path: dst.clone() }
            } else {
                MountOp::Touch {
                    path: dst.clone(),
                    mode: 0o644,
                }
            })
        };
        let host_is_file = |p: &Path| host.stat(p).is_some_and(|m| !m.is_dir());
        // What the host has at this path, seen through the enclosing bind (a redirect shows
        // another path); outside any bind, the path itself.
        let host_path = anc_src.clone().unwrap_or_else(|| path.to_path_buf());

        match &node.kind {
            Kind::Hide => {}
            Kind::Link(target) => {
                if ours {
                    if let Some(parent) = path.parent() {
                        ops.push(MountOp::Mkdir {
                            path: under(NEWROOT, parent)?,
                        });
                    }
                    ops.push(MountOp::Symlink {
                        target: c(target)?,
                        path: dst,
                    });
                }
            }
            Kind::Bind { src, writable } => {
                let file = host_is_file(src);
                if needs_point && node.mirror.is_none() {
                    ops.push(point(!file)?);
                }
                if let Some(mirror) = &node.mirror {
                    if needs_point {
                        ops.push(point(true)?);
                    }
                    // An overlay mount costs about as much as a dozen binds: small
                    // directories are mirrored with binds either way.
                    // A directory has a link for each subdirectory (on most file systems):
                    // many links settle it without listing, which costs more on large ones.
                    let many_subdirs = host
                        .stat(src)
                        .is_some_and(|m| m.nlink() > SMALL_DIR as u64 + 2);
                    let small = !many_subdirs && host.list(src, SMALL_DIR).is_some();
                    if *writable || small || mirrors == Mirrors::Binds {
                        emit_mirror(&mut ops, path, src, *writable, mirror, mountinfo, host)?;
                        if !*writable {
                            readonly_last.push(dst.clone());
                        }
                    } else {
                        layers += 1;
                        emit_overlay(&mut ops, path, src, mirror, mountinfo, layers, host)?;
                    }
                    if *writable {
                        notes.push(format!(
                            "{}: mirrored to hide or add entries; files created directly in it \
                             are kept in memory only",
                            path.display()
                        ));
                    }
                } else {
                    ops.push(MountOp::Bind {
                        src: under(OLDROOT, src)?,
                        dst: dst.clone(),
                        recursive: !file,
                        readonly: !writable,
                        submounts: if *writable || file {
                            Vec::new()
                        } else {
                            mountinfo.submounts(src, path)?
                        },
                    });
                }
            }
            Kind::Tmpfs => {
                if needs_point {
                    ops.push(point(true)?);
                }
                // Keep the host's mode (1777 for /tmp), so other users can use it as usual.
                let mode = host
                    .stat(&host_path)
                    .filter(|m| m.is_dir())
                    .map(|m| m.perm())
                    .unwrap_or(0o755);
                ops.push(MountOp::Tmpfs { dst, mode });
            }
            Kind::Proc => {
                if needs_point {
                    ops.push(point(true)?);
                }
                ops.push(MountOp::Proc { dst });
            }
            Kind::Dev => {
                if needs_point {
                    ops.push(point(true)?);
                }
                ops.push(MountOp::Dev { dst: dst.clone() });
                readonly_last.push(dst);
            }
            Kind::Empty | Kind::Deny => {
                let deny = node.kind == Kind::Deny;
                if host_is_file(&host_path) {
                    if needs_point {
                        ops.push(point(false)?);
                    }
                    uses_deny |= deny;
                    uses_empty |= !deny;
                    ops.push(MountOp::Bind {
                        src: c(if deny { DENY_FILE } else { EMPTY_FILE })?,
                        dst,
                        recursive: false,
                        readonly: true,
                        submounts: Vec::new(),
                    });
                } else {
                    if needs_point {
                        ops.push(point(true)?);
                    }
                    ops.push(MountOp::Tmpfs {
                        dst: dst.clone(),
                        mode: if deny { 0o000 } else { 0o755 },
                    });
                    readonly_last.push(dst);
                }
            }
        }
    }
    // Deepest first, so that a parent is made read-only after its children's mount points.
    readonly_last.sort_by_key(|p| std::cmp::Reverse(p.as_bytes().len()));
    ops.extend(
        readonly_last
            .into_iter()
            .map(|dst| MountOp::RemountReadonly { dst }),
    );
    let mut files = Vec::new();
    if uses_empty {
        files.push(MountOp::Touch {
            path: c(EMPTY_FILE)?,
            mode: 0o444,
        });
    }
    if uses_deny {
        files.push(MountOp::Touch {
            path: c(DENY_FILE)?,
            mode: 0o000,
        });
    }
    ops.splice(0..0, files);
    Ok(ops)
}

/// Set to `binds` to build every mirror from binds, as on kernels that refuse overlayfs in a
/// user namespace (before 5.11): how the tests cover that path on newer kernels.
pub const MIRROR_ENV: &str = "CORDON_MIRROR";

/// A read-only mirror as one overlayfs mount.
fn emit_overlay(
    ops: &mut Vec<MountOp>,
    path: &Path,
    src: &Path,
    mirror: &Mirror,
    mountinfo: &Mountinfo,
    n: usize,
    host: &Host,
) -> Result<(), PlanError> {
    let layer = PathBuf::from(format!("/.cordon/layers/{n}"));
    let lower = Path::new(OLDROOT).join(src.strip_prefix("/").unwrap_or(src));
    // overlayfs splits its options on ',' and its layers on ':'; such paths get the mirror.
    let unsafe_chars = |p: &Path| p.as_os_str().as_bytes().iter().any(|b| b",:\\".contains(b));
    if unsafe_chars(&lower) {
        return emit_mirror(ops, path, src, false, mirror, mountinfo, host);
    }
    let entry = |name: &Path| c(layer.join(name));
    let whiteouts = mirror
        .hidden
        .iter()
        .map(|n| entry(Path::new(n)))
        .collect::<Result<_, _>>()?;
    // Directories for added directories and for the parents of added files.
    let dirs = mirror
        .added
        .iter()
        .filter_map(|(rel, is_dir)| {
            if *is_dir {
                Some(rel.as_path())
            } else {
                rel.parent().filter(|p| !p.as_os_str().is_empty())
            }
        })
        .map(entry)
        .collect::<Result<_, _>>()?;
    let files = mirror
        .added
        .iter()
        .filter(|(_, is_dir)| !**is_dir)
        .map(|(n, _)| entry(n))
        .collect::<Result<_, _>>()?;
    let mut options = OsString::from("lowerdir=");
    options.push(layer.as_os_str());
    options.push(":");
    options.push(lower.as_os_str());
    // overlayfs shows the host directory's own filesystem only: bind its submounts (outside
    // the hidden entries) on top, as the recursive bind would have shown them.
    let mut then = Vec::new();
    let mut bound: Vec<&Path> = Vec::new();
    for mp in &mountinfo.points {
        let Ok(rel) = mp.strip_prefix(src) else {
            continue;
        };
        let Some(first) = rel.components().next() else {
            continue;
        };
        if mirror.hidden.contains(first.as_os_str()) || bound.iter().any(|b| mp.starts_with(b)) {
            continue;
        }
        bound.push(mp);
        then.push(MountOp::Bind {
            src: under(OLDROOT, mp)?,
            dst: under(NEWROOT, &path.join(rel))?,
            recursive: true,
            readonly: true,
            submounts: mountinfo.submounts(mp, &path.join(rel))?,
        });
    }
    ops.push(MountOp::Overlay {
        dst: under(NEWROOT, path)?,
        layer: c(&layer)?,
        whiteouts,
        dirs,
        files,
        options: c(options)?,
        then,
    });
    Ok(())
}

fn emit_mirror(
    ops: &mut Vec<MountOp>,
    path: &Path,
    src: &Path,
    writable: bool,
    mirror: &Mirror,
    mountinfo: &Mountinfo,
    host: &Host,
) -> Result<(), PlanError> {
    let dst = under(NEWROOT, path)?;
    let mode = host.stat(src).map_or(0o755, |m| m.perm());
    ops.push(MountOp::Tmpfs {
        dst: dst.clone(),
        mode,
    });
    let entries = host.list(src, usize::MAX).unwrap_or_default();
    for (name, ft) in entries {
        if mirror.hidden.contains(&name) {
            continue;
        }
        let s = src.join(&name);
        let d = path.join(&name);
        if ft.is_symlink() {
            if let Ok(target) = std::fs::read_link(&s) {
                ops.push(MountOp::Symlink {
                    target: c(target)?,
                    path: under(NEWROOT, &d)?,
                });
            }
            continue;
        }
        ops.push(if ft.is_dir() {
            MountOp::Mkdir {
                path: under(NEWROOT, &d)?,
            }
        } else {
            MountOp::Touch {
                path: under(NEWROOT, &d)?,
                mode: 0o644,
            }
        });
        ops.push(MountOp::Bind {
            src: under(OLDROOT, &s)?,
            dst: under(NEWROOT, &d)?,
            recursive: ft.is_dir(),
            readonly: !writable,
            submounts: if ft.is_dir() && !writable {
                mountinfo.submounts(&s, &d)?
            } else {
                Vec::new()
            },
        });
    }
    for (rel, is_dir) in &mirror.added {
        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            ops.push(MountOp::Mkdir {
                path: under(NEWROOT, &path.join(parent))?,
            });
        }
        let d = under(NEWROOT, &path.join(rel))?;
        ops.push(if *is_dir {
            MountOp::Mkdir { path: d }
        } else {
            MountOp::Touch {
                path: d,
                mode: 0o644,
            }
        });
    }
    Ok(())
}

pub(crate) use cordon_sys::sandbox::{DEV_LINKS, DEV_NODES};

/// How the sandbox's user namespace maps ids: root maps them all to themselves, so that
/// ownership looks the same inside; anyone else may map only their own.
pub fn id_map(root: bool) -> IdMap {
    if root {
        IdMap::Identity
    } else {
        IdMap::Own
    }
}

/// Every entry of a minimal /dev: the nodes, its own `pts` and `shm`, and the links.
pub(crate) fn dev_entries() -> impl Iterator<Item = &'static str> {
    DEV_NODES
        .into_iter()
        .chain(["pts", "shm"])
        .chain(DEV_LINKS.into_iter().map(|(name, _)| name))
}

/// The host's mount points: those under a mirrored directory are bound on top of its
/// overlay, and on kernels without mount_setattr(2) each submount of a read-only bind is
/// remounted read-only by itself.
struct Mountinfo {
    points: Vec<PathBuf>,
    /// mount_setattr(2) makes a tree read-only at once: no submount list is needed.
    setattr: bool,
}

impl Mountinfo {
    fn read() -> Self {
        // One large read: the kernel formats mountinfo again for every read call, and
        // read_to_string would start with small ones.
        let mut text = Vec::with_capacity(64 * 1024);
        if let Ok(mut f) = std::fs::File::open("/proc/self/mountinfo") {
            use std::io::Read;
            let _ = f.read_to_end(&mut text);
        }
        Mountinfo::parse(&text)
    }

    fn parse(text: &[u8]) -> Self {
        let points = text
            .split(|&b| b == b'\n')
            .filter_map(|l| l.split(|&b| b == b' ').nth(4))
            .map(|p| PathBuf::from(OsString::from_vec(unescape_mountinfo(p))))
            .collect();
        Mountinfo {
            points,
            setattr: cordon_sys::probe::mount_setattr_available(),
        }
    }

    /// Destinations (under the new root) of the submounts of host `src` bound at `dst`, for
    /// the remounts of a kernel without mount_setattr(2) (none on a kernel with it).
    fn submounts(&self, src: &Path, dst: &Path) -> Result<Vec<CString>, PlanError> {
        if self.setattr {
            return Ok(Vec::new());
        }
        let src_b = src.as_os_str().as_bytes();
        self.points
            .iter()
            .filter(|p| {
                let p = p.as_os_str().as_bytes();
                p.len() > src_b.len() && within(p, src_b)
            })
            .filter_map(|p| p.strip_prefix(src).ok())
            .map(|rel| under(NEWROOT, &dst.join(rel)))
            .collect()
    }
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_of_is_path_parent() {
        for p in [
            "/", "/a", "/a/b", "/a/b/c", "/a/", "/a//b", "/a/.", "/a/..", "/a/./b", "a", "a/b", "",
            ".", "/.a", "/a/.b", "/a/b.",
        ] {
            let p = Path::new(p);
            assert_eq!(parent_of(p), p.parent(), "{}", p.display());
        }
    }

    #[test]
    fn host_list_keeps_its_limit_when_remembered() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..10 {
            std::fs::write(d.path().join(format!("f{i}")), "").unwrap();
        }
        let host = Host::default();
        assert_eq!(host.list(d.path(), usize::MAX).map(|l| l.len()), Some(10));
        // The whole listing is remembered; a question with a smaller limit still says "more".
        assert!(host.list(d.path(), 8).is_none());
        assert_eq!(host.list(d.path(), 10).map(|l| l.len()), Some(10));
        let fresh = Host::default();
        assert!(fresh.list(d.path(), 8).is_none());
    }

    #[test]
    fn host_walk_resolves_as_realpath_does() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().canonicalize().unwrap();
        std::fs::create_dir_all(t.join("real/sub")).unwrap();
        std::fs::write(t.join("real/sub/file"), "").unwrap();
        let link = |target: &str, at: &str| std::os::unix::fs::symlink(target, t.join(at)).unwrap();
        link("real", "rel");
        link(t.join("real/sub").to_str().unwrap(), "abs");
        link("real/sub/../sub", "dotdot");
        link("rel/sub", "chain");
        link("nowhere", "dangling");
        link("loop2", "loop1");
        link("loop1", "loop2");
        let host = Host::default();
        for p in [
            "real/sub/file",
            "rel/sub/file",
            "abs/file",
            "dotdot/file",
            "chain/file",
            "chain/missing/deeper",
            "dangling",
            "dangling/x",
            "loop1",
            "loop1/x",
            "real/sub/file/not-a-dir",
            "missing/a/b",
        ] {
            let p = t.join(p);
            assert_eq!(host.canonical(&p), canonical(&p), "{}", p.display());
        }
    }
}
