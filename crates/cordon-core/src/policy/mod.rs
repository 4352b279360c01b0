//! The policy model: ordered path rules (longest prefix wins), environment rules, home, network.

mod load;

use std::fmt;
use std::path::{Component, Path, PathBuf};

pub use load::{parse_home, Loader, PolicyError, Vars};

/// What a path rule makes the build see at its path (and below, unless a longer rule decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    /// The host's path, read-only.
    Ro,
    /// The host's path, read-write.
    Rw,
    /// Absent: ENOENT, even for a single file inside a visible directory.
    Hide,
    /// Present but unreadable: EACCES.
    Deny,
    /// An empty file or directory in its place.
    Empty,
    /// The content of another host path, read-only.
    Redirect { to: PathBuf },
    /// A private, empty, writable directory (memory-backed).
    Tmpfs,
    /// A minimal /dev: null, zero, full, random, urandom, tty, a private pts and shm.
    Dev,
    /// A fresh /proc for the sandbox's pid namespace.
    Proc,
}

impl RuleKind {
    /// The rule's keyword in policy files and flags.
    pub fn keyword(&self) -> &'static str {
        match self {
            RuleKind::Ro => "ro",
            RuleKind::Rw => "rw",
            RuleKind::Hide => "hide",
            RuleKind::Deny => "deny",
            RuleKind::Empty => "empty",
            RuleKind::Redirect { .. } => "redirect",
            RuleKind::Tmpfs => "tmpfs",
            RuleKind::Dev => "dev",
            RuleKind::Proc => "proc",
        }
    }

    /// The kind a keyword names; `to` is a redirect's target. None for an unknown keyword.
    pub fn from_keyword(keyword: &str, to: Option<PathBuf>) -> Option<RuleKind> {
        Some(match keyword {
            "ro" => RuleKind::Ro,
            "rw" => RuleKind::Rw,
            "hide" => RuleKind::Hide,
            "deny" => RuleKind::Deny,
            "empty" => RuleKind::Empty,
            "tmpfs" => RuleKind::Tmpfs,
            "dev" => RuleKind::Dev,
            "proc" => RuleKind::Proc,
            "redirect" => RuleKind::Redirect { to: to? },
            _ => return None,
        })
    }

    /// The class a rule of this kind gets when none is given.
    pub fn default_class(&self) -> Class {
        match self {
            RuleKind::Tmpfs => Class::Scratch,
            RuleKind::Dev | RuleKind::Proc => Class::System,
            _ => Class::Declared,
        }
    }
}

/// Why a path is visible, for analysis: an access outside every class is a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// An input the package manager knows about.
    Declared,
    /// Visible on purpose: the C library, the compiler, the base system.
    System,
    /// Temporary and staging areas.
    Scratch,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Declared => "declared",
            Class::System => "system",
            Class::Scratch => "scratch",
        })
    }
}

/// Where a rule or setting came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `profile build`, a policy file's path, or `command line`.
    pub source: String,
    pub line: Option<usize>,
}

impl Origin {
    pub fn command_line() -> Self {
        Origin {
            source: "command line".into(),
            line: None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.source),
            None => f.write_str(&self.source),
        }
    }
}

/// One path rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Absolute and lexically normal (no `.`, `..` or trailing slash).
    pub path: PathBuf,
    pub kind: RuleKind,
    pub class: Class,
    /// A short reason, shown by `--verbose` and later in reports.
    pub why: Option<String>,
    pub origin: Origin,
}

/// Where HOME points inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Home {
    /// A new empty directory at the user's home path, writable, gone after the run.
    Fresh,
    /// HOME unchanged; what is visible of it is up to the path rules.
    Keep,
    /// HOME set to this host directory, visible read-write.
    Path(PathBuf),
}

/// One environment rule. Patterns are a name or a prefix ending in `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvRule {
    Keep(String),
    Unset { pattern: String, origin: Origin },
    Set { name: String, value: String },
}

/// The environment part of a policy: rules apply in order, the last one that matches wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvPolicy {
    /// Start from an empty environment instead of the caller's.
    pub clear: bool,
    pub rules: Vec<EnvRule>,
}

/// A resolved policy: what `cordon run` enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// In order of precedence for equal paths: a later rule for the same path wins.
    pub rules: Vec<Rule>,
    pub env: EnvPolicy,
    pub home: Home,
    pub network: bool,
    /// The profiles and files it was built from, in load order.
    pub sources: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            rules: Vec::new(),
            env: EnvPolicy::default(),
            home: Home::Fresh,
            network: true,
            sources: Vec::new(),
        }
    }
}

impl Policy {
    /// The rule that decides `path`: the one with the longest matching path prefix; among
    /// rules for the same path, the last. `None` when no rule covers it (it is absent).
    pub fn rule_for(&self, path: &Path) -> Option<&Rule> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| path.starts_with(&r.path))
            .max_by_key(|(i, r)| (r.path.components().count(), *i))
            .map(|(_, r)| r)
    }

    /// Add a rule, checking its path.
    pub fn push_rule(
        &mut self,
        raw_path: &str,
        kind: RuleKind,
        class: Option<Class>,
        why: Option<String>,
        origin: Origin,
    ) -> Result<(), String> {
        let path = normalize_absolute(raw_path)?;
        let kind = match kind {
            RuleKind::Redirect { to } => RuleKind::Redirect {
                to: normalize_absolute(&to.to_string_lossy())
                    .map_err(|e| format!("redirect target: {e}"))?,
            },
            k => k,
        };
        let class = class.unwrap_or_else(|| kind.default_class());
        self.rules.push(Rule {
            path,
            kind,
            class,
            why,
            origin,
        });
        Ok(())
    }
}

/// Check that `raw` is absolute and make it lexically normal. `..` is refused rather than
/// resolved, since what it means depends on symlinks.
pub fn normalize_absolute(raw: &str) -> Result<PathBuf, String> {
    if raw.is_empty() {
        return Err("empty path".into());
    }
    let p = Path::new(raw);
    if !p.is_absolute() {
        return Err(format!(
            "relative path `{raw}`: paths in rules must be absolute (for example `{}`)",
            std::env::current_dir()
                .map(|d| d.join(raw).display().to_string())
                .unwrap_or_else(|_| format!("/{raw}"))
        ));
    }
    if is_normal_absolute(raw.as_bytes()) {
        return Ok(PathBuf::from(raw));
    }
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(s) => out.push(s),
            Component::ParentDir => {
                return Err(format!("path `{raw}` contains `..`: write it without"))
            }
            Component::Prefix(_) => return Err(format!("unsupported path `{raw}`")),
        }
    }
    Ok(out)
}

/// Whether `p` (absolute) is already as [`normalize_absolute`] would write it: no empty, `.`
/// or `..` component and no trailing slash. Most rules are, and skip the rebuild.
pub(crate) fn is_normal_absolute(p: &[u8]) -> bool {
    if p == b"/" {
        return true;
    }
    p.first() == Some(&b'/')
        && p.last() != Some(&b'/')
        && p[1..]
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

/// Whether an environment pattern (`NAME` or `PREFIX*`) matches `name`.
pub fn env_pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests;
