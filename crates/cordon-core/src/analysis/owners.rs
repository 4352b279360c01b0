//! Which package owns a file: Debian (dpkg lists), RPM, a Spack install tree, a conda
//! environment, the Nix store and the Homebrew Cellar.
//!
//! Lookups are lazy and cached: the dpkg map (path → package, from every
//! `/var/lib/dpkg/info/*.list`) is built once, on the first lookup; `rpm -qf` runs at most once
//! per path; each directory is checked once for being (or lying under) a Spack or conda prefix,
//! and a conda environment's `conda-meta/*.json` are read once. An [`Owners`] is `Sync`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::{Deserialize, Serialize};

/// The package a file belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Owner {
    /// `dpkg`, `rpm`, `spack`, `conda`, `nix` or `homebrew`.
    pub manager: String,
    /// The package name: a Debian package without its `:arch`, an RPM `%{NAME}`, a Spack
    /// `name@version`, a conda package name, a Nix store name (`zlib-1.3.1-dev`), a formula.
    pub package: String,
}

impl Owner {
    fn new(manager: &str, package: impl Into<String>) -> Owner {
        Owner {
            manager: manager.into(),
            package: package.into(),
        }
    }

    /// The package name without a Spack `@version`.
    pub fn name(&self) -> &str {
        match self.manager.as_str() {
            "spack" => self.package.split('@').next().unwrap_or(&self.package),
            _ => &self.package,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.package, self.manager)
    }
}

/// Where the package databases are; `None` turns a database off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roots {
    /// dpkg's info directory, holding `<package>[:<arch>].list` files.
    pub dpkg_info: Option<PathBuf>,
    /// The RPM database; when set, `rpm -qf` is asked (with `--dbpath` unless it is the
    /// default `/var/lib/rpm`).
    pub rpm_db: Option<PathBuf>,
}

impl Roots {
    pub const DPKG_INFO: &'static str = "/var/lib/dpkg/info";
    pub const RPM_DB: &'static str = "/var/lib/rpm";

    /// The databases this host has.
    pub fn host() -> Roots {
        let dpkg = Path::new(Roots::DPKG_INFO);
        let rpm = Path::new(Roots::RPM_DB);
        Roots {
            dpkg_info: dpkg.is_dir().then(|| dpkg.to_path_buf()),
            rpm_db: rpm.exists().then(|| rpm.to_path_buf()),
        }
    }
}

/// A Spack or conda prefix found above a file.
#[derive(Debug, Clone)]
enum Prefix {
    Spack(Arc<str>),
    Conda {
        root: Arc<Path>,
        /// Path relative to the prefix → package name.
        files: Arc<HashMap<String, String>>,
    },
}

/// dpkg's file lists as one map.
#[derive(Debug, Default)]
struct DpkgDb {
    packages: Vec<String>,
    files: HashMap<String, u32>,
}

/// The owner lookup. Build it with [`Owners::detect`] (the host's databases) or
/// [`Owners::with_roots`].
#[derive(Debug)]
pub struct Owners {
    roots: Roots,
    dpkg: OnceLock<DpkgDb>,
    /// Set when running `rpm` failed: not asked again.
    rpm_unusable: AtomicBool,
    rpm_cache: Mutex<HashMap<String, Option<String>>>,
    /// Directory → the Spack or conda prefix it is in (or is), if any.
    prefixes: Mutex<HashMap<PathBuf, Option<Prefix>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Owners {
    /// The host's package databases (dpkg if `/var/lib/dpkg/info` exists, RPM if
    /// `/var/lib/rpm` does) and the path-based managers (Spack, conda, Nix, Homebrew).
    pub fn detect() -> Owners {
        Owners::with_roots(Roots::host())
    }

    /// Explicit database locations (tests, or analysing a trace from another root).
    pub fn with_roots(roots: Roots) -> Owners {
        Owners {
            roots,
            dpkg: OnceLock::new(),
            rpm_unusable: AtomicBool::new(false),
            rpm_cache: Mutex::new(HashMap::new()),
            prefixes: Mutex::new(HashMap::new()),
        }
    }

    /// No package database, only the path-based managers.
    pub fn none() -> Owners {
        Owners::with_roots(Roots::default())
    }

    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    /// The package that owns `path` (absolute, as accessed), if any manager knows.
    pub fn owner(&self, path: &Path) -> Option<Owner> {
        let s = path.to_str()?;
        if let Some(o) = nix_owner(s).or_else(|| homebrew_owner(s)) {
            return Some(o);
        }
        if let Some(pkg) = self.dpkg_owner(s) {
            return Some(Owner::new("dpkg", pkg));
        }
        match self.prefix_of(path) {
            Some(Prefix::Spack(pkg)) => return Some(Owner::new("spack", &*pkg)),
            Some(Prefix::Conda { root, files }) => {
                let rel = path.strip_prefix(&*root).ok()?.to_str()?;
                return files.get(rel).map(|p| Owner::new("conda", p.as_str()));
            }
            None => {}
        }
        self.rpm_owner(s).map(|p| Owner::new("rpm", p))
    }

    fn dpkg_owner(&self, path: &str) -> Option<&str> {
        let info = self.roots.dpkg_info.as_deref()?;
        let db = self.dpkg.get_or_init(|| load_dpkg(info));
        let idx = db
            .files
            .get(path)
            .or_else(|| usrmerge_alternative(path).and_then(|alt| db.files.get(&alt)))?;
        db.packages.get(*idx as usize).map(String::as_str)
    }

    fn rpm_owner(&self, path: &str) -> Option<String> {
        let db = self.roots.rpm_db.as_deref()?;
        if self.rpm_unusable.load(Ordering::Relaxed) {
            return None;
        }
        if let Some(hit) = lock(&self.rpm_cache).get(path) {
            return hit.clone();
        }
        let mut cmd = Command::new("rpm");
        if db != Path::new(Roots::RPM_DB) {
            cmd.arg("--dbpath").arg(db);
        }
        cmd.args(["-qf", "--qf", "%{NAME}\\n", "--"])
            .arg(path)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        let answer = match cmd.output() {
            Err(_) => {
                // No rpm program (or it cannot run): skip RPM from now on.
                self.rpm_unusable.store(true, Ordering::Relaxed);
                return None;
            }
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.contains(' '))
                .map(String::from),
            Ok(_) => None,
        };
        lock(&self.rpm_cache).insert(path.into(), answer.clone());
        answer
    }

    /// The nearest Spack or conda prefix at or above the directory of `path`.
    fn prefix_of(&self, path: &Path) -> Option<Prefix> {
        let mut visited = Vec::new();
        let mut cur = path.parent();
        let found = loop {
            let Some(dir) = cur else { break None };
            if let Some(cached) = lock(&self.prefixes).get(dir) {
                break cached.clone();
            }
            if let Some(p) = detect_prefix(dir) {
                lock(&self.prefixes).insert(dir.to_path_buf(), Some(p.clone()));
                break Some(p);
            }
            visited.push(dir.to_path_buf());
            cur = dir.parent();
        };
        let mut map = lock(&self.prefixes);
        for d in visited {
            map.insert(d, found.clone());
        }
        found
    }
}

/// `/usr/lib/x` ↔ `/lib/x` (and bin, sbin, lib32, lib64, libx32): on a merged-/usr system
/// dpkg may list a file under the other spelling.
fn usrmerge_alternative(path: &str) -> Option<String> {
    const MERGED: [&str; 6] = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];
    let first = |p: &str| p.split('/').next().map(|c| MERGED.contains(&c)) == Some(true);
    match path.strip_prefix("/usr/") {
        Some(rest) if first(rest) => Some(format!("/{rest}")),
        Some(_) => None,
        None if first(path.strip_prefix('/')?) => Some(format!("/usr{path}")),
        None => None,
    }
}

/// Read every `*.list` of dpkg's info directory.
fn load_dpkg(info: &Path) -> DpkgDb {
    let mut db = DpkgDb::default();
    let Ok(dir) = std::fs::read_dir(info) else {
        return db;
    };
    let mut lists: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "list"))
        .collect();
    // Sorted, so that a path listed by several packages (directories) has a stable owner.
    lists.sort();
    for list in lists {
        let Some(stem) = list.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let package = dpkg_package_name(stem).to_string();
        let Ok(text) = std::fs::read_to_string(&list) else {
            continue;
        };
        let idx = db.packages.len() as u32;
        db.packages.push(package);
        for line in text.lines() {
            if line.starts_with('/') && line != "/." {
                db.files.entry(line.to_string()).or_insert(idx);
            }
        }
    }
    db
}

/// `zlib1g-dev:amd64` → `zlib1g-dev`.
pub(crate) fn dpkg_package_name(list_stem: &str) -> &str {
    list_stem.split(':').next().unwrap_or(list_stem)
}

fn detect_prefix(dir: &Path) -> Option<Prefix> {
    let spec = dir.join(".spack").join("spec.json");
    if spec.is_file() {
        let package = std::fs::read_to_string(&spec)
            .ok()
            .and_then(|t| spack_package(&t))
            .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "unknown".into());
        return Some(Prefix::Spack(package.into()));
    }
    let meta = dir.join("conda-meta");
    if meta.is_dir() {
        return Some(Prefix::Conda {
            root: Arc::from(dir),
            files: Arc::new(load_conda(&meta)),
        });
    }
    None
}

/// `name@version` of a Spack `spec.json` (`spec.nodes[0]`).
pub(crate) fn spack_package(spec_json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(spec_json).ok()?;
    let node = v.get("spec")?.get("nodes")?.get(0)?;
    let name = node.get("name")?.as_str()?;
    Some(match node.get("version").and_then(|v| v.as_str()) {
        Some(version) => format!("{name}@{version}"),
        None => name.to_string(),
    })
}

/// Relative path → package, from the `files` lists of `conda-meta/*.json`.
fn load_conda(meta: &Path) -> HashMap<String, String> {
    let mut files = HashMap::new();
    let Ok(dir) = std::fs::read_dir(meta) else {
        return files;
    };
    for entry in dir.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().map_or(true, |x| x != "json") {
            continue;
        }
        let Some(v) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        else {
            continue;
        };
        let Some(name) = v.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        let listed = v.get("files").and_then(|f| f.as_array());
        for f in listed.into_iter().flatten().filter_map(|f| f.as_str()) {
            files.insert(f.to_string(), name.to_string());
        }
    }
    files
}

/// `/nix/store/<32-char hash>-<name>/...` → `<name>`.
pub(crate) fn nix_owner(path: &str) -> Option<Owner> {
    let entry = path.strip_prefix("/nix/store/")?.split('/').next()?;
    let (hash, name) = (entry.get(..32)?, entry.get(32..)?);
    let name = name.strip_prefix('-').filter(|n| !n.is_empty())?;
    hash.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        .then(|| Owner::new("nix", name))
}

/// `.../Cellar/<name>/<version>/...` → `<name>`.
pub(crate) fn homebrew_owner(path: &str) -> Option<Owner> {
    let comps: Vec<&str> = path.split('/').collect();
    let i = comps.iter().position(|c| *c == "Cellar")?;
    match (comps.get(i + 1), comps.get(i + 2)) {
        (Some(name), Some(version)) if !name.is_empty() && !version.is_empty() => {
            Some(Owner::new("homebrew", *name))
        }
        _ => None,
    }
}
