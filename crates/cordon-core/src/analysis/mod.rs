//! Analysis: classify each file access of a traced build against the policy, the knowledge
//! base ([`kb`]) and the owners of files ([`owners`]).
//!
//! # Classes and breaches
//! [`Analyzer::classify`] answers, for one [`Event`], one of:
//! - [`Classification::Declared`], [`Classification::System`], [`Classification::Scratch`]:
//!   the class of the policy rule that decides the path ([`Policy::rule_for`]);
//! - [`Classification::Ignored`]: nothing to report ([`Ignore`] says why);
//! - [`Classification::Breach`]: a [`Breach`] with a [`Category`], the tool, an explanation and
//!   a fix (a policy statement that removes it without patching the package).
//!
//! # Order of the decisions
//! 1. A path that is not absolute is [`Ignore::Unresolved`]; one under `/proc`, `/sys` or
//!    `/dev` is [`Ignore::PseudoFilesystem`].
//! 2. An access the sandbox hid or denied (its verdict), or one the policy hides or denies
//!    (`hide`/`deny` rule), is [`Ignore::Blocked`]: the policy already keeps it out.
//! 3. Failed accesses. A lookup (any op but a write) that failed with `ENOENT` or `ENOTDIR` is
//!    [`Ignore::Absent`]: the path does not exist here, which is what most probes find (loader
//!    and include search paths, `PATH` lookups, config files the user does not have). Nothing
//!    absent can flow into the build; a host that has the file shows it as a read. Any other
//!    failed lookup (`EACCES`, `ELOOP`...) is [`Ignore::Failed`]. A write is judged whatever its
//!    errno (a write refused with `EROFS` still shows the build reaching outside), except
//!    `EEXIST` ([`Ignore::Failed`]: `mkdir -p` walking existing parents).
//! 4. A write (`write`, `create`, `delete`, `rename`) outside every writable area (a `rw`,
//!    `tmpfs`, `dev` or `proc` rule, or any rule of class `scratch`) is `write-outside`.
//! 5. A knowledge-base match (the best entry, see [`kb`]) is a breach of the entry's category,
//!    even inside a visible `system` area (`/etc/gitconfig` under `ro /`), unless the rule that
//!    decides the path makes it harmless or deliberate: a `tmpfs` (empty at the start, so
//!    whatever is read there the build wrote itself), a rule at or below the matched area (a
//!    rule written for that very file or directory, such as `ro ${HOME}/.gitconfig`), or, for
//!    a floating pattern (`/**/.cargo/config.toml`), any `declared` or `scratch` rule (the
//!    project's own file).
//! 6. A write inside a writable area gets the area's class.
//! 7. A successful access that no rule covers is `undeclared-read`, except for a directory
//!    that is a parent of a rule's path ([`Ignore::Ancestor`]: it exists in the sandbox as the
//!    way to that rule).
//! 8. Class `declared` and `scratch` are returned as such. Class `system` is returned as such
//!    except for reads of headers and libraries through a *blanket* rule (below).
//!
//! # System headers and libraries
//! A rule is blanket for a standard directory when its path is a strict parent of that
//! directory: `ro /` (the usual case), `ro /usr` or `ro /usr/local`. Such a rule makes the
//! whole base system visible without naming any library, so a read through it of
//! - a header under `/usr/include` or `/usr/local/include` is `system-header`,
//! - a library (`lib*.so`, `lib*.so.*`, `lib*.a`) under `/lib`, `/lib64`, `/lib32`,
//!   `/libx32`, `/usr/lib*` or `/usr/local/lib*` (any depth) is `system-library`,
//!
//! unless it belongs to the C library or the compiler in use: its path is a compiler path of
//! `knowledge/toolchain.toml` (`/usr/lib/gcc/**`, `/usr/include/c++/**`...), or its owner
//! package is a toolchain package there (libc6-dev, linux-libc-dev, libgcc-*-dev, gcc-*,
//! libstdc++*, glibc-devel...), or, when no package manager owns it, its name is in the
//! built-in lists of C library headers and C library/compiler runtime libraries. A rule that
//! names the include or library directory itself, or something inside it (`ro /usr/include`,
//! `ro /usr/lib/x86_64-linux-gnu/libz.so.1`), is deliberate and keeps the class. Only `read`s
//! count (stat and probes of candidates do not use the file). Versioned names (`libz.so.1`)
//! are what the dynamic loader opens to run a program, the tools' own runtime, and stay
//! `system`; unversioned names and archives (`libz.so`, `libz.a`, tool `ld`) are what a build
//! links against, and are reported.
//!
//! # Home
//! The policy's `home` setting is a rule like any other, as the sandbox plan makes it: `fresh`
//! is a `tmpfs` (class `scratch`) at [`Context::home`], a path is `rw` (class `declared`) there,
//! `keep` adds nothing.

pub mod kb;
pub mod owners;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::policy::{normalize_absolute, Class, Home, Origin, Policy, Rule, RuleKind, Vars};
use crate::trace::{Event, Op, Verdict};

use kb::{glob_match, has_path_prefix, parse_relative, Pattern, Var};
pub use kb::{Category, Entry, KbError, KnowledgeBase, Toolchain};
pub use owners::{Owner, Owners, Roots};

const ENOENT: i32 = 2;
const EEXIST: i32 = 17;
const ENOTDIR: i32 = 20;

/// The directories the knowledge base's variables stand for, as the traced build saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// `${HOME}`: HOME inside the sandbox.
    pub home: PathBuf,
    /// `${XDG_CONFIG_HOME}`.
    pub xdg_config: PathBuf,
    /// `${XDG_CACHE_HOME}`.
    pub xdg_cache: PathBuf,
    /// `${XDG_DATA_HOME}`.
    pub xdg_data: PathBuf,
}

impl Context {
    /// `home` with the XDG directories at their defaults below it.
    pub fn new(home: impl Into<PathBuf>) -> Context {
        let home = home.into();
        Context {
            xdg_config: home.join(".config"),
            xdg_cache: home.join(".cache"),
            xdg_data: home.join(".local/share"),
            home,
        }
    }

    /// The values a policy's variables have (see [`Vars::new`]).
    pub fn from_vars(vars: &Vars) -> Context {
        let get =
            |name: &str| PathBuf::from(vars.expand(&format!("${{{name}}}")).unwrap_or_default());
        Context {
            home: get("HOME"),
            xdg_config: get("XDG_CONFIG_HOME"),
            xdg_cache: get("XDG_CACHE_HOME"),
            xdg_data: get("XDG_DATA_HOME"),
        }
    }
}

/// How an access is classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "lowercase")]
pub enum Classification {
    /// Inside a rule of class `declared`.
    Declared,
    /// Inside a rule of class `system`.
    System,
    /// Inside a rule of class `scratch`.
    Scratch,
    /// Nothing to report.
    Ignored {
        reason: Ignore,
    },
    Breach(Breach),
}

impl Classification {
    pub fn breach(&self) -> Option<&Breach> {
        match self {
            Classification::Breach(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_breach(&self) -> bool {
        self.breach().is_some()
    }
}

/// Why an access is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ignore {
    /// Under `/proc`, `/sys` or `/dev`.
    PseudoFilesystem,
    /// A lookup of a path that does not exist (`ENOENT`, `ENOTDIR`).
    Absent,
    /// Another failed lookup, or a write that failed with `EEXIST`.
    Failed,
    /// Hidden or denied by the sandbox, or by a `hide`/`deny` rule of the policy.
    Blocked,
    /// A directory that is a parent of a rule's path.
    Ancestor,
    /// The path is not absolute (the tracer could not resolve it).
    Unresolved,
}

/// A reportable access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub category: Category,
    /// The program responsible, as far as the path tells (`git`, `cc`, `ld`, `build` when
    /// unknown; the process ancestry is the report's business).
    pub tool: String,
    /// One sentence: what the tool does with it and why that breaks reproducibility.
    pub explanation: String,
    /// Policy statements that remove the breach (see [`kb`] for the syntax); paths under the
    /// home and XDG directories are written with their variables.
    pub fix: String,
    /// The package that owns the file, for system headers and libraries and undeclared reads.
    pub owner: Option<Owner>,
    /// The knowledge-base pattern that matched, if one did.
    pub pattern: Option<String>,
}

/// A knowledge-base entry compiled for this context.
#[derive(Debug)]
struct Compiled {
    entry: Entry,
    pattern: Pattern,
}

/// A knowledge-base match.
struct Hit<'s, 'p> {
    entry: &'s Entry,
    floating: bool,
    /// The part of the path the pattern matched, up to its last component that is not `**`.
    anchor: &'p str,
}

/// The classifier. Build once per trace; `classify` takes `&self` and the analyzer is `Sync`.
#[derive(Debug)]
pub struct Analyzer {
    /// The policy's rules, with the home rule first.
    rules: Vec<Rule>,
    /// Rule path → index of the rule that decides it (the last one for that path).
    by_path: HashMap<String, usize>,
    /// Strict parents of the paths of visible rules.
    ancestors: HashSet<String>,
    ctx: Context,
    /// Variable values (normalized) and names, longest value first.
    vars: Vec<(String, &'static str)>,
    /// Entries, best first.
    entries: Vec<Compiled>,
    /// First component of an entry's pattern → its entries' indices, ascending.
    buckets: HashMap<String, Vec<usize>>,
    /// Entries whose pattern does not start with a literal component.
    unbucketed: Vec<usize>,
    toolchain_packages: Vec<String>,
    toolchain_paths: Vec<Pattern>,
    libc_headers: Vec<Pattern>,
    libc_libraries: Vec<String>,
    owners: Owners,
}

/// Directories the compiler searches for headers by default.
const INCLUDE_DIRS: [&str; 2] = ["/usr/include", "/usr/local/include"];

/// Directories the linker and the dynamic loader search by default.
const LIBRARY_DIRS: [&str; 10] = [
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/libx32",
    "/usr/local/lib",
    "/usr/local/lib64",
];

impl Analyzer {
    /// An analyzer for traces run under `policy`, with the knowledge base `kb`, the directories
    /// of `ctx` and the owner lookup `owners`.
    pub fn new(policy: &Policy, kb: &KnowledgeBase, ctx: Context, owners: Owners) -> Analyzer {
        let mut rules = policy.rules.clone();
        if let Some(home) = home_rule(&policy.home, &ctx) {
            rules.insert(0, home);
        }
        let mut by_path = HashMap::new();
        let mut ancestors = HashSet::new();
        for (i, r) in rules.iter().enumerate() {
            by_path.insert(r.path.to_string_lossy().into_owned(), i);
            if !matches!(r.kind, RuleKind::Hide | RuleKind::Deny) {
                for a in r.path.ancestors().skip(1) {
                    ancestors.insert(a.to_string_lossy().into_owned());
                }
            }
        }

        let norm = |p: &Path| normalize(&p.to_string_lossy()).into_owned();
        let mut vars = vec![
            (norm(&ctx.xdg_config), "${XDG_CONFIG_HOME}"),
            (norm(&ctx.xdg_cache), "${XDG_CACHE_HOME}"),
            (norm(&ctx.xdg_data), "${XDG_DATA_HOME}"),
            (norm(&ctx.home), "${HOME}"),
        ];
        vars.retain(|(v, _)| v.starts_with('/') && v != "/");
        vars.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        let expand = |v: Var| {
            match v {
                Var::Home => &ctx.home,
                Var::XdgConfig => &ctx.xdg_config,
                Var::XdgCache => &ctx.xdg_cache,
                Var::XdgData => &ctx.xdg_data,
            }
            .to_string_lossy()
            .into_owned()
        };

        let mut entries: Vec<(usize, Compiled)> = kb
            .entries()
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let pattern = Pattern::compile(&e.pattern, expand).ok()?;
                Some((
                    i,
                    Compiled {
                        entry: e.clone(),
                        pattern,
                    },
                ))
            })
            .collect();
        entries.sort_by_key(|(i, c)| {
            (
                std::cmp::Reverse(c.entry.priority),
                std::cmp::Reverse(c.pattern.specificity()),
                *i,
            )
        });
        let entries: Vec<Compiled> = entries.into_iter().map(|(_, c)| c).collect();
        let mut buckets: HashMap<String, Vec<usize>> = HashMap::new();
        let mut unbucketed = Vec::new();
        for (i, c) in entries.iter().enumerate() {
            match c.pattern.first_literal() {
                Some(first) => buckets.entry(first.to_string()).or_default().push(i),
                None => unbucketed.push(i),
            }
        }

        let tc = kb.toolchain();
        Analyzer {
            rules,
            by_path,
            ancestors,
            vars,
            entries,
            buckets,
            unbucketed,
            toolchain_packages: tc.packages.clone(),
            toolchain_paths: tc
                .paths
                .iter()
                .filter_map(|p| Pattern::compile(p, expand).ok())
                .collect(),
            libc_headers: tc
                .headers
                .iter()
                .filter_map(|h| parse_relative(h).ok().map(Pattern::from_segs))
                .collect(),
            libc_libraries: tc.libraries.clone(),
            ctx,
            owners,
        }
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    pub fn owners(&self) -> &Owners {
        &self.owners
    }

    /// The owner of a file (see [`Owners::owner`]).
    pub fn owner(&self, path: &str) -> Option<Owner> {
        self.owners.owner(Path::new(path))
    }

    /// The rules the analyzer decides with: the policy's, with the home rule first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule that decides `path` (absolute, normalized): what [`Policy::rule_for`] answers
    /// for [`Analyzer::rules`], found by walking up `path` in a map of rule paths.
    pub fn rule_for(&self, path: &str) -> Option<&Rule> {
        let mut p = path;
        loop {
            if let Some(&i) = self.by_path.get(p) {
                return Some(&self.rules[i]);
            }
            match p.rfind('/') {
                _ if p == "/" => return None,
                Some(0) => p = "/",
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// The knowledge-base entry that describes `path` (absolute), if any.
    pub fn lookup(&self, path: &str) -> Option<&Entry> {
        let path = normalize(path);
        let comps = components(&path);
        self.kb_match(&path, &comps).map(|h| h.entry)
    }

    /// Classify one access.
    pub fn classify(&self, ev: &Event) -> Classification {
        self.classify_access(ev.op, &ev.path, ev.errno, ev.verdict)
    }

    /// Classify an access given by its parts (see [`Analyzer::classify`]).
    pub fn classify_access(
        &self,
        op: Op,
        path: &str,
        errno: i32,
        verdict: Verdict,
    ) -> Classification {
        let ignored = |reason| Classification::Ignored { reason };
        if !path.starts_with('/') {
            return ignored(Ignore::Unresolved);
        }
        let path = normalize(path);
        let path: &str = &path;
        if ["/proc", "/sys", "/dev"]
            .iter()
            .any(|p| has_path_prefix(path, p))
        {
            return ignored(Ignore::PseudoFilesystem);
        }
        let rule = self.rule_for(path);
        let keeps_out = rule.filter(|r| matches!(r.kind, RuleKind::Hide | RuleKind::Deny));
        let blocked = matches!(verdict, Verdict::Hidden | Verdict::Denied);
        if blocked || keeps_out.is_some() {
            // Something the policy keeps out: a sandboxed run blocked the attempt (its errno
            // is the sandbox's answer), a trace of the real environment saw it consumed
            // unless it was absent. Either way the build reached for it: judge it as if the
            // hiding rule were not there, and it is a breach at the least.
            if !blocked && errno != 0 && !is_write(op) {
                return ignored(Ignore::Absent);
            }
            let comps = components(path);
            if let Some(hit) = self.kb_match(path, &comps) {
                return Classification::Breach(self.kb_breach(&hit));
            }
            let visible = self.rule_for_visible(path);
            return match self.classify_reached(op, path, 0, visible) {
                c @ Classification::Breach(_) => c,
                _ => Classification::Breach(self.kept_out(path, keeps_out)),
            };
        }
        self.classify_reached(op, path, errno, rule)
    }

    /// The rule deciding `path` among those that show it (not hide or deny).
    fn rule_for_visible(&self, path: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| !matches!(r.kind, RuleKind::Hide | RuleKind::Deny))
            .filter(|(_, r)| has_path_prefix(path, &r.path.to_string_lossy()))
            .max_by_key(|(i, r)| (r.path.components().count(), *i))
            .map(|(_, r)| r)
    }

    /// The breach a knowledge-base entry describes.
    fn kb_breach(&self, hit: &Hit<'_, '_>) -> Breach {
        Breach {
            category: hit.entry.category,
            tool: hit.entry.tool.clone(),
            explanation: hit.entry.explanation.clone(),
            fix: hit
                .entry
                .fix
                .replace("${MATCHED}", &self.abstract_path(hit.anchor)),
            owner: None,
            pattern: Some(hit.entry.pattern.clone()),
        }
    }

    /// A breach of a path the policy keeps out and the knowledge base does not know.
    fn kept_out(&self, path: &str, rule: Option<&Rule>) -> Breach {
        let mut b = self.undeclared_read(path);
        b.explanation = format!(
            "{path} was reached for although the policy keeps it out{}, so the build's result \
             depends on whether it exists.",
            rule.map(|r| format!(" ({} {})", r.kind.keyword(), r.path.display()))
                .unwrap_or_default()
        );
        let keyword = rule.map(|r| r.kind.keyword()).unwrap_or("hide");
        b.fix = format!("{keyword} {}", self.abstract_path(path));
        b
    }

    /// Classify an access that reached `path` (or failed with `errno`) under `rule`.
    fn classify_reached(
        &self,
        op: Op,
        path: &str,
        errno: i32,
        rule: Option<&Rule>,
    ) -> Classification {
        let ignored = |reason| Classification::Ignored { reason };
        let write = is_write(op);
        if write {
            if errno == EEXIST {
                return ignored(Ignore::Failed);
            }
        } else if errno == ENOENT || errno == ENOTDIR {
            return ignored(Ignore::Absent);
        } else if errno != 0 {
            return ignored(Ignore::Failed);
        }

        let comps = components(path);
        let hit = self.kb_match(path, &comps);
        if write && !rule.is_some_and(writable) {
            return Classification::Breach(self.write_outside(path, hit.as_ref()));
        }
        if let Some(hit) = &hit {
            if !suppressed(rule, hit, &self.ctx.home) {
                return Classification::Breach(self.kb_breach(hit));
            }
        }
        let Some(rule) = rule else {
            if self.ancestors.contains(path) {
                return ignored(Ignore::Ancestor);
            }
            return Classification::Breach(self.undeclared_read(path));
        };
        match rule.class {
            Class::Declared => Classification::Declared,
            Class::Scratch => Classification::Scratch,
            Class::System if op == Op::Read => self.system_read(path, &comps, rule),
            Class::System => Classification::System,
        }
    }

    /// The best knowledge-base entry matching `path`.
    fn kb_match<'s, 'p>(&'s self, path: &'p str, comps: &[&str]) -> Option<Hit<'s, 'p>> {
        let bucket = comps
            .first()
            .and_then(|c| self.buckets.get(*c))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut best: Option<(usize, usize)> = None;
        for list in [bucket, self.unbucketed.as_slice()] {
            for &i in list {
                if best.is_some_and(|(b, _)| b < i) {
                    break;
                }
                if let Some(n) = self.entries[i].pattern.matches(path, comps) {
                    best = Some((i, n));
                    break;
                }
            }
        }
        best.map(|(i, n)| Hit {
            entry: &self.entries[i].entry,
            floating: self.entries[i].pattern.floating(),
            anchor: leading(path, n),
        })
    }

    /// A read through a `system` rule: headers and libraries outside the toolchain are
    /// breaches when the rule is blanket.
    fn system_read(&self, path: &str, comps: &[&str], rule: &Rule) -> Classification {
        if let Some((dir, rest)) = split_under(path, &INCLUDE_DIRS) {
            if !is_blanket(rule, dir) || self.toolchain_path(path, comps) {
                return Classification::System;
            }
            let owner = self.owners.owner(Path::new(path));
            let toolchain = match &owner {
                Some(o) => self.toolchain_package(o),
                None => self.libc_header(rest),
            };
            if toolchain {
                return Classification::System;
            }
            return Classification::Breach(self.system_header(path, dir, rest, owner));
        }
        if let Some((dir, _)) = split_under(path, &LIBRARY_DIRS) {
            let name = comps.last().copied().unwrap_or_default();
            // A versioned name (libgmp.so.10) is what the dynamic loader opens to run a
            // program: the compiler's and the tools' own runtime, not an input of the build.
            // The linker reads the unversioned name or the archive: that is what a build
            // links against, and where a system library slips in.
            let loader_load = name.contains(".so.");
            if loader_load
                || !is_library_name(name)
                || !is_blanket(rule, dir)
                || self.toolchain_path(path, comps)
            {
                return Classification::System;
            }
            let owner = self.owners.owner(Path::new(path));
            let toolchain = match &owner {
                Some(o) => self.toolchain_package(o),
                None => {
                    let stem = library_stem(name);
                    self.libc_libraries.iter().any(|l| glob_match(l, stem))
                }
            };
            if toolchain {
                return Classification::System;
            }
            return Classification::Breach(self.system_library(path, name, owner));
        }
        Classification::System
    }

    fn toolchain_path(&self, path: &str, comps: &[&str]) -> bool {
        self.toolchain_paths
            .iter()
            .any(|p| p.matches(path, comps).is_some())
    }

    fn toolchain_package(&self, owner: &Owner) -> bool {
        let name = owner.name();
        self.toolchain_packages.iter().any(|p| glob_match(p, name))
    }

    /// Whether `rest` (relative to an include directory) is a C library or kernel header.
    fn libc_header(&self, rest: &str) -> bool {
        let (_, rel) = split_triplet(rest);
        let comps: Vec<&str> = rel.split('/').collect();
        self.libc_headers.iter().any(|h| h.matches_comps(&comps))
    }

    fn system_header(&self, path: &str, dir: &str, rest: &str, owner: Option<Owner>) -> Breach {
        let (triplet, rel) = split_triplet(rest);
        let top = rel.split('/').next().unwrap_or(rel);
        let top = match triplet {
            Some(t) => format!("{dir}/{t}/{top}"),
            None => format!("{dir}/{top}"),
        };
        let explanation = match &owner {
            Some(o) => format!(
                "the compiler found {path} in the default include path; it belongs to {o}, a \
                 system package the build does not declare, so the result depends on whether \
                 and in which version this machine has it."
            ),
            None => format!(
                "the compiler found {path} in the default include path; it is not part of the C \
                 library or the compiler and no package manager owns it, so the build uses a \
                 header installed by hand on this machine."
            ),
        };
        Breach {
            category: Category::SystemHeader,
            tool: "cc".into(),
            explanation,
            fix: format!("hide {top}"),
            owner,
            pattern: None,
        }
    }

    fn system_library(&self, path: &str, name: &str, owner: Option<Owner>) -> Breach {
        let link_time = name.ends_with(".so") || name.ends_with(".a");
        let whose = match &owner {
            Some(o) => format!("it belongs to {o}, a system package the build does not declare"),
            None => "no package manager owns it, so it was installed by hand on this machine"
                .to_string(),
        };
        let explanation = if link_time {
            format!(
                "the linker found {path} in a default library directory; {whose}, so what gets \
                 linked depends on this machine."
            )
        } else {
            format!(
                "{path} was loaded from a default library directory; {whose}, so a program the \
                 build runs or produces depends on this machine's copy."
            )
        };
        Breach {
            category: Category::SystemLibrary,
            tool: if link_time { "ld" } else { "ld.so" }.into(),
            explanation,
            fix: format!("hide {path}"),
            owner,
            pattern: None,
        }
    }

    fn undeclared_read(&self, path: &str) -> Breach {
        let owner = self.owners.owner(Path::new(path));
        let whose = match &owner {
            Some(o) => format!(" (it belongs to {o})"),
            None => String::new(),
        };
        Breach {
            category: Category::UndeclaredRead,
            tool: "build".into(),
            explanation: format!(
                "{path} was read although no rule of the policy covers it{whose}, so the build \
                 depends on a file it does not declare and that would not exist in the sandbox."
            ),
            fix: format!("ro {}", self.abstract_path(path)),
            owner,
            pattern: None,
        }
    }

    fn write_outside(&self, path: &str, hit: Option<&Hit<'_, '_>>) -> Breach {
        let base = format!(
            "the build wrote {path}, outside every rw, tmpfs and scratch area, which changes the \
             host (under the sandbox the write fails)"
        );
        let area = match hit {
            Some(h) if h.anchor != path => h.anchor,
            _ => match path.rfind('/') {
                Some(0) | None => path,
                Some(i) => &path[..i],
            },
        };
        Breach {
            category: Category::WriteOutside,
            tool: hit.map_or("build", |h| h.entry.tool.as_str()).into(),
            explanation: match hit {
                Some(h) => format!("{base}; {}", h.entry.explanation),
                None => format!("{base}."),
            },
            fix: format!("tmpfs {}", self.abstract_path(area)),
            owner: None,
            pattern: hit.map(|h| h.entry.pattern.clone()),
        }
    }

    /// `path` with a leading home or XDG directory written as its variable.
    fn abstract_path(&self, path: &str) -> String {
        for (value, name) in &self.vars {
            if has_path_prefix(path, value) {
                return format!("{name}{}", &path[value.len()..]);
            }
        }
        path.to_string()
    }
}

/// The rule the `home` setting amounts to (as the namespace plan mounts it).
fn home_rule(home: &Home, ctx: &Context) -> Option<Rule> {
    let (path, kind, class, why) = match home {
        Home::Fresh => (
            &ctx.home,
            RuleKind::Tmpfs,
            Class::Scratch,
            "fresh home: a new empty directory",
        ),
        Home::Path(p) => (p, RuleKind::Rw, Class::Declared, "home set to a directory"),
        Home::Keep => return None,
    };
    let path = normalize_absolute(&path.to_string_lossy()).ok()?;
    (path != Path::new("/")).then(|| Rule {
        path,
        kind,
        class,
        why: Some(why.into()),
        origin: Origin {
            source: "home".into(),
            line: None,
        },
    })
}

fn is_write(op: Op) -> bool {
    matches!(op, Op::Write | Op::Create | Op::Delete | Op::Rename)
}

fn writable(rule: &Rule) -> bool {
    matches!(
        rule.kind,
        RuleKind::Rw | RuleKind::Tmpfs | RuleKind::Dev | RuleKind::Proc
    ) || rule.class == Class::Scratch
}

/// Whether the deciding rule makes a knowledge-base match harmless or deliberate.
fn suppressed(rule: Option<&Rule>, hit: &Hit<'_, '_>, home: &Path) -> bool {
    let Some(rule) = rule else { return false };
    // A tmpfs holds what the build wrote itself, unless it merely lies above the home
    // directory (a home under /tmp): the user's own files there are still the user's.
    let home_pattern = ["${HOME}", "${XDG_"]
        .iter()
        .any(|p| hit.entry.pattern.starts_with(p));
    let above_home = home.starts_with(&rule.path) && rule.path != home;
    (rule.kind == RuleKind::Tmpfs && !(home_pattern && above_home))
        || (hit.floating && rule.class != Class::System)
        || rule.path.starts_with(hit.anchor)
}

/// Whether `rule` is a strict parent of the standard directory `dir`.
fn is_blanket(rule: &Rule, dir: &str) -> bool {
    let dir = Path::new(dir);
    dir.starts_with(&rule.path) && rule.path != dir
}

/// `(dir, rest)` when `path` is strictly below one of `dirs`.
fn split_under<'p>(path: &'p str, dirs: &[&'static str]) -> Option<(&'static str, &'p str)> {
    dirs.iter().find_map(|d| {
        let rest = path.strip_prefix(d)?.strip_prefix('/')?;
        (!rest.is_empty()).then_some((*d, rest))
    })
}

/// A leading multiarch directory (`x86_64-linux-gnu/`) of a path relative to an include dir.
fn split_triplet(rest: &str) -> (Option<&str>, &str) {
    match rest.split_once('/') {
        Some((first, tail)) if first.contains("-linux-") || first.ends_with("-linux") => {
            (Some(first), tail)
        }
        _ => (None, rest),
    }
}

fn is_library_name(name: &str) -> bool {
    name.starts_with("lib")
        && (name.ends_with(".so") || name.ends_with(".a") || name.contains(".so."))
}

/// `libz.so.1.3` → `libz`, `libm-2.36.a` → `libm-2.36`.
fn library_stem(name: &str) -> &str {
    if let Some(s) = name.strip_suffix(".a") {
        return s;
    }
    match name.find(".so.") {
        Some(i) => &name[..i],
        None => name.strip_suffix(".so").unwrap_or(name),
    }
}

/// Make an absolute path lexically normal (no `.`, `..`, `//` or trailing `/`); `..` pops a
/// component, as the tracer's paths are not resolved through symlinks anyway.
fn normalize(path: &str) -> Cow<'_, str> {
    let clean = !path.contains("//")
        && !path.contains("/./")
        && !path.contains("/../")
        && !path.ends_with("/.")
        && !path.ends_with("/..")
        && (path.len() == 1 || !path.ends_with('/'));
    if clean {
        return Cow::Borrowed(path);
    }
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    Cow::Owned(format!("/{}", out.join("/")))
}

fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

/// The first `n` components of a normalized absolute path, as a path.
fn leading(path: &str, n: usize) -> &str {
    if n == 0 {
        return "/";
    }
    let mut seen = 0;
    for (i, b) in path.bytes().enumerate().skip(1) {
        if b == b'/' {
            seen += 1;
            if seen == n {
                return &path[..i];
            }
        }
    }
    path
}
