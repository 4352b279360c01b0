//! The knowledge base: path patterns of files that tools find by themselves (user and site
//! configuration, user package registries, caches, credentials...), each with a category, the
//! tool, an explanation and a fix. It is data, kept in the repository's `knowledge/` directory
//! and embedded at build time; `knowledge/toolchain.toml` lists what belongs to the C library
//! and the compilers.
//!
//! # Patterns
//! A pattern is an absolute path that may start with one of `${HOME}`, `${XDG_CONFIG_HOME}`,
//! `${XDG_CACHE_HOME}` or `${XDG_DATA_HOME}` (a whole leading component, expanded by the
//! analyzer). In a component, `*` matches any run of characters (never `/`); a component that
//! is `**` matches any number of components, zero included (`${HOME}/.ssh/**` matches `~/.ssh`
//! itself). A pattern that starts with `/**` is *floating*: it names a file by its place
//! relative to wherever it is (cargo's `.cargo/config.toml` in every parent directory).
//!
//! # Which entry wins
//! The highest `priority` (default 0; the catch-alls use -1), then the most specific pattern:
//! each literal component counts 3, a component with `*` and literal text 2, a bare `*` 1 and
//! `**` 0; then the number of literal characters; then file order.
//!
//! # Fixes
//! `fix` is one or more policy statements separated by `; `: `hide|deny|empty|tmpfs|ro|rw
//! PATH` (the rule keywords of policy files and the `--hide`... flags), `env unset NAME`,
//! `env set NAME=VALUE`, or `home fresh`. `${MATCHED}` stands for the part of the accessed path
//! that the pattern matched, up to its last component that is not `**`.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The embedded knowledge files, in load order (order breaks ties between equal patterns).
const FILES: &[(&str, &str)] = &[
    ("git.toml", include_str!("../../../../knowledge/git.toml")),
    ("gpg.toml", include_str!("../../../../knowledge/gpg.toml")),
    ("ssh.toml", include_str!("../../../../knowledge/ssh.toml")),
    (
        "cmake.toml",
        include_str!("../../../../knowledge/cmake.toml"),
    ),
    (
        "python.toml",
        include_str!("../../../../knowledge/python.toml"),
    ),
    ("pip.toml", include_str!("../../../../knowledge/pip.toml")),
    ("npm.toml", include_str!("../../../../knowledge/npm.toml")),
    (
        "cargo.toml",
        include_str!("../../../../knowledge/cargo.toml"),
    ),
    ("r.toml", include_str!("../../../../knowledge/r.toml")),
    (
        "spack.toml",
        include_str!("../../../../knowledge/spack.toml"),
    ),
    (
        "pkg-config.toml",
        include_str!("../../../../knowledge/pkg-config.toml"),
    ),
    (
        "credentials.toml",
        include_str!("../../../../knowledge/credentials.toml"),
    ),
    (
        "shell.toml",
        include_str!("../../../../knowledge/shell.toml"),
    ),
    (
        "tools.toml",
        include_str!("../../../../knowledge/tools.toml"),
    ),
    (
        "caches.toml",
        include_str!("../../../../knowledge/caches.toml"),
    ),
    (
        "generic.toml",
        include_str!("../../../../knowledge/generic.toml"),
    ),
];

const TOOLCHAIN: &str = include_str!("../../../../knowledge/toolchain.toml");

/// The names of the embedded knowledge files and their text (for `cordon` to show or dump).
pub fn builtin_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES
        .iter()
        .copied()
        .chain(std::iter::once(("toolchain.toml", TOOLCHAIN)))
}

/// What kind of breach an access is. The names (`as_str`, serde) are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Per-user configuration a tool reads by itself (`~/.gitconfig`, `~/.npmrc`).
    UserConfig,
    /// Machine-wide configuration a tool reads by itself (`/etc/gitconfig`, `/etc/pip.conf`).
    SiteConfig,
    /// A per-user registry through which a tool finds packages (`~/.cmake/packages`, `~/.m2`).
    UserPackageRegistry,
    /// Packages or programs installed for the user or by hand, found by default (the Python
    /// user site, `~/R`, `~/.local/bin`).
    UserSitePackages,
    /// Results of earlier runs that a tool reuses (`~/.cache`, `~/.ccache`).
    Cache,
    /// Secrets: keys, tokens, passwords, agent sockets (`~/.ssh`, `~/.netrc`).
    Credentials,
    /// A header in the default include path that is not part of the C library or compiler.
    SystemHeader,
    /// A library in a default library directory that is not part of the C library or
    /// compiler runtimes.
    SystemLibrary,
    /// A successful read of a path no rule of the policy covers.
    UndeclaredRead,
    /// A write outside every rw, tmpfs and scratch area.
    WriteOutside,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::UserConfig,
        Category::SiteConfig,
        Category::UserPackageRegistry,
        Category::UserSitePackages,
        Category::Cache,
        Category::Credentials,
        Category::SystemHeader,
        Category::SystemLibrary,
        Category::UndeclaredRead,
        Category::WriteOutside,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::UserConfig => "user-config",
            Category::SiteConfig => "site-config",
            Category::UserPackageRegistry => "user-package-registry",
            Category::UserSitePackages => "user-site-packages",
            Category::Cache => "cache",
            Category::Credentials => "credentials",
            Category::SystemHeader => "system-header",
            Category::SystemLibrary => "system-library",
            Category::UndeclaredRead => "undeclared-read",
            Category::WriteOutside => "write-outside",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Category::ALL.iter().map(|c| c.as_str()).collect();
                format!("unknown category `{s}` (known: {})", names.join(", "))
            })
    }
}

/// One knowledge-base entry, as written in a `knowledge/*.toml` file (`[[entry]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub pattern: String,
    pub category: Category,
    pub tool: String,
    pub explanation: String,
    pub fix: String,
    /// Higher wins before specificity; the catch-alls use -1.
    #[serde(default)]
    pub priority: i32,
    /// The file the entry came from, for messages.
    #[serde(skip)]
    pub source: String,
}

/// What belongs to the C library and the compilers (`knowledge/toolchain.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toolchain {
    /// Owner package names (`*` globs); Spack specs compare by name, before `@`.
    pub packages: Vec<String>,
    /// Absolute path patterns that belong to a compiler whoever owns them.
    pub paths: Vec<String>,
    /// C library and kernel headers, relative to an include directory (used without an owner).
    pub headers: Vec<String>,
    /// C library and compiler runtime library stems (used without an owner).
    pub libraries: Vec<String>,
}

/// A knowledge file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: entry {index} (`{pattern}`): {problem}")]
    Entry {
        file: String,
        index: usize,
        pattern: String,
        problem: String,
    },
}

/// The knowledge base: entries and the toolchain description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeBase {
    entries: Vec<Entry>,
    toolchain: Toolchain,
}

impl KnowledgeBase {
    /// The embedded knowledge base (parsed once; its validity is checked by the tests).
    pub fn builtin() -> &'static KnowledgeBase {
        static KB: OnceLock<KnowledgeBase> = OnceLock::new();
        KB.get_or_init(|| {
            let mut kb = KnowledgeBase::from_toolchain_toml("toolchain.toml", TOOLCHAIN)
                .unwrap_or_else(|e| panic!("embedded knowledge base: {e}"));
            for (name, text) in FILES {
                kb.add_toml(name, text)
                    .unwrap_or_else(|e| panic!("embedded knowledge base: {e}"));
            }
            kb
        })
    }

    /// An empty knowledge base with the toolchain description from `text`.
    pub fn from_toolchain_toml(file: &str, text: &str) -> Result<KnowledgeBase, KbError> {
        let toolchain: Toolchain = toml::from_str(text).map_err(|e| KbError::Parse {
            file: file.into(),
            message: e.to_string(),
        })?;
        for p in &toolchain.paths {
            parse_pattern(p).map_err(|problem| KbError::Entry {
                file: file.into(),
                index: 0,
                pattern: p.clone(),
                problem,
            })?;
        }
        for h in &toolchain.headers {
            parse_relative(h).map_err(|problem| KbError::Entry {
                file: file.into(),
                index: 0,
                pattern: h.clone(),
                problem,
            })?;
        }
        Ok(KnowledgeBase {
            entries: Vec::new(),
            toolchain,
        })
    }

    /// Add the `[[entry]]`s of a knowledge file, checking each.
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<(), KbError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct KbFile {
            #[serde(default)]
            entry: Vec<Entry>,
        }
        let parsed: KbFile = toml::from_str(text).map_err(|e| KbError::Parse {
            file: file.into(),
            message: e.to_string(),
        })?;
        for (i, mut e) in parsed.entry.into_iter().enumerate() {
            check_entry(&e).map_err(|problem| KbError::Entry {
                file: file.into(),
                index: i + 1,
                pattern: e.pattern.clone(),
                problem,
            })?;
            e.source = file.into();
            self.entries.push(e);
        }
        Ok(())
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn toolchain(&self) -> &Toolchain {
        &self.toolchain
    }
}

/// The policy statements a fix may use.
const FIX_VERBS: &[&str] = &["hide", "deny", "empty", "tmpfs", "ro", "rw"];

fn check_entry(e: &Entry) -> Result<(), String> {
    parse_pattern(&e.pattern)?;
    for (name, value) in [
        ("tool", &e.tool),
        ("explanation", &e.explanation),
        ("fix", &e.fix),
    ] {
        if value.trim().is_empty() {
            return Err(format!("empty `{name}`"));
        }
    }
    if e.explanation.contains('\n') {
        return Err("`explanation` must be one sentence on one line".into());
    }
    check_fix(&e.fix)
}

/// Check the `; `-separated statements of a fix.
pub(crate) fn check_fix(fix: &str) -> Result<(), String> {
    for stmt in fix.split("; ") {
        let words: Vec<&str> = stmt.split(' ').collect();
        let ok = match words.as_slice() {
            [verb, path] if FIX_VERBS.contains(verb) => {
                path.starts_with('/') || path.starts_with("${")
            }
            ["env", "unset", name] => !name.is_empty() && !name.contains('='),
            ["env", "set", assignment] => assignment
                .split_once('=')
                .is_some_and(|(n, _)| !n.is_empty()),
            ["home", "fresh"] => true,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "fix statement `{stmt}`: expected `hide|deny|empty|tmpfs|ro|rw PATH`, \
                 `env unset NAME`, `env set NAME=VALUE` or `home fresh`"
            ));
        }
    }
    Ok(())
}

/// A variable a pattern may start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Var {
    Home,
    XdgConfig,
    XdgCache,
    XdgData,
}

impl Var {
    const ALL: [(Var, &'static str); 4] = [
        (Var::Home, "HOME"),
        (Var::XdgConfig, "XDG_CONFIG_HOME"),
        (Var::XdgCache, "XDG_CACHE_HOME"),
        (Var::XdgData, "XDG_DATA_HOME"),
    ];
}

/// One component of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Lit(String),
    /// Contains `*`.
    Glob(String),
    /// `**`: any number of components.
    Deep,
}

impl Seg {
    fn parse(c: &str) -> Result<Seg, String> {
        if c.is_empty() {
            return Err("empty component (`//` or a trailing `/`)".into());
        }
        if c == "." || c == ".." {
            return Err(format!("`{c}` component"));
        }
        if c.contains("${") {
            return Err("variables may only start a pattern, as a whole component".into());
        }
        if c == "**" {
            Ok(Seg::Deep)
        } else if c.contains("**") {
            Err(format!("`**` must be a whole component, not `{c}`"))
        } else if c.contains('*') {
            Ok(Seg::Glob(c.into()))
        } else {
            Ok(Seg::Lit(c.into()))
        }
    }

    fn score(&self) -> u32 {
        match self {
            Seg::Lit(_) => 3,
            Seg::Glob(g) if g == "*" => 1,
            Seg::Glob(_) => 2,
            Seg::Deep => 0,
        }
    }

    fn literal_chars(&self) -> usize {
        match self {
            Seg::Lit(s) => s.len(),
            Seg::Glob(g) => g.chars().filter(|&c| c != '*').count(),
            Seg::Deep => 0,
        }
    }

    fn matches(&self, c: &str) -> bool {
        match self {
            Seg::Lit(s) => s == c,
            Seg::Glob(g) => glob_match(g, c),
            Seg::Deep => true,
        }
    }
}

/// Split an absolute pattern into its leading variable and its components.
pub(crate) fn parse_pattern(raw: &str) -> Result<(Option<Var>, Vec<Seg>), String> {
    let (var, rest) = if let Some(after) = raw.strip_prefix("${") {
        let end = after
            .find('}')
            .ok_or_else(|| "unterminated `${`".to_string())?;
        let name = &after[..end];
        let var = Var::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(v, _)| *v)
            .ok_or_else(|| {
                format!(
                    "unknown variable `${{{name}}}` (known: ${{HOME}}, ${{XDG_CONFIG_HOME}}, \
                     ${{XDG_CACHE_HOME}}, ${{XDG_DATA_HOME}})"
                )
            })?;
        let rest = &after[end + 1..];
        if !rest.is_empty() && !rest.starts_with('/') {
            return Err(format!("`${{{name}}}` must be followed by `/`"));
        }
        (Some(var), rest)
    } else if raw.starts_with('/') {
        (None, raw)
    } else {
        return Err("a pattern must be absolute or start with a variable".into());
    };
    let segs = match rest {
        "" => Vec::new(),
        "/" if var.is_none() => Vec::new(),
        _ => rest[1..]
            .split('/')
            .map(Seg::parse)
            .collect::<Result<_, _>>()?,
    };
    Ok((var, segs))
}

/// Components of a relative pattern (toolchain header names).
pub(crate) fn parse_relative(raw: &str) -> Result<Vec<Seg>, String> {
    if raw.starts_with('/') || raw.is_empty() {
        return Err("must be a relative, non-empty pattern".into());
    }
    raw.split('/').map(Seg::parse).collect()
}

/// A pattern with its variable expanded, ready to match normalized absolute paths.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    segs: Vec<Seg>,
    /// The leading literal components as a path (`/` when the first one is not literal).
    prefix: String,
    /// Starts with `**`.
    floating: bool,
    score: u32,
    literal_chars: usize,
}

impl Pattern {
    /// Compile `raw`, expanding its variable with `expand` (an absolute path).
    pub(crate) fn compile(raw: &str, expand: impl Fn(Var) -> String) -> Result<Pattern, String> {
        let (var, rest) = parse_pattern(raw)?;
        let mut segs: Vec<Seg> = match var {
            Some(v) => expand(v)
                .split('/')
                .filter(|c| !c.is_empty())
                .map(|c| Seg::Lit(c.into()))
                .collect(),
            None => Vec::new(),
        };
        segs.extend(rest);
        Ok(Pattern::from_segs(segs))
    }

    pub(crate) fn from_segs(segs: Vec<Seg>) -> Pattern {
        let mut prefix = String::new();
        for s in &segs {
            match s {
                Seg::Lit(l) => {
                    prefix.push('/');
                    prefix.push_str(l);
                }
                _ => break,
            }
        }
        if prefix.is_empty() {
            prefix.push('/');
        }
        Pattern {
            floating: segs.first() == Some(&Seg::Deep),
            score: segs.iter().map(Seg::score).sum(),
            literal_chars: segs.iter().map(Seg::literal_chars).sum(),
            prefix,
            segs,
        }
    }

    /// The first literal component, for bucketing; `None` when the pattern does not start
    /// with one.
    pub(crate) fn first_literal(&self) -> Option<&str> {
        match self.segs.first() {
            Some(Seg::Lit(l)) => Some(l),
            _ => None,
        }
    }

    pub(crate) fn floating(&self) -> bool {
        self.floating
    }

    /// Specificity, larger is more specific.
    pub(crate) fn specificity(&self) -> (u32, usize) {
        (self.score, self.literal_chars)
    }

    /// Match the components of a normalized absolute path. On a match, the number of
    /// components matched up to the pattern's last component that is not `**`.
    pub(crate) fn matches(&self, path: &str, comps: &[&str]) -> Option<usize> {
        if !has_path_prefix(path, &self.prefix) {
            return None;
        }
        match_segs(&self.segs, comps)
    }

    /// Match components without the prefix shortcut (relative patterns).
    pub(crate) fn matches_comps(&self, comps: &[&str]) -> bool {
        match_segs(&self.segs, comps).is_some()
    }
}

/// Whether `path` is `prefix` or below it (both normalized, absolute).
pub(crate) fn has_path_prefix(path: &str, prefix: &str) -> bool {
    if prefix == "/" {
        return path.starts_with('/');
    }
    path.starts_with(prefix)
        && (path.len() == prefix.len() || path.as_bytes()[prefix.len()] == b'/')
}

/// Match pattern components against path components; see [`Pattern::matches`].
fn match_segs(p: &[Seg], s: &[&str]) -> Option<usize> {
    match p.split_first() {
        None => s.is_empty().then_some(0),
        Some((Seg::Deep, rest)) => {
            if rest.iter().all(|r| *r == Seg::Deep) {
                return Some(0);
            }
            (0..=s.len()).find_map(|k| match_segs(rest, &s[k..]).map(|a| a + k))
        }
        Some((seg, rest)) => {
            let (first, tail) = s.split_first()?;
            if !seg.matches(first) {
                return None;
            }
            match_segs(rest, tail).map(|a| a + 1)
        }
    }
}

/// `*`-only wildcard matching within one component.
pub(crate) fn glob_match(pattern: &str, s: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), s.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}
