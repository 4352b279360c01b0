//! Loading policies from built-in profiles and TOML files, with `extends` and `${VAR}` expansion.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{Class, EnvRule, Home, Origin, Policy, RuleKind};
use crate::profiles;

/// A policy that cannot be loaded: names the file (or profile), the line, and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct PolicyError {
    pub origin: Origin,
    pub message: String,
}

/// Values for `${HOME}`, `${CWD}` and the XDG base directories in policy paths.
#[derive(Debug, Clone)]
pub struct Vars {
    map: BTreeMap<&'static str, String>,
}

impl Vars {
    /// `home` and `cwd` as the run will use them; XDG directories from the caller's
    /// environment when set to absolute paths, else their defaults under `home`.
    pub fn new(home: &Path, cwd: &Path, env: impl Fn(&str) -> Option<String>) -> Self {
        let home_s = home.display().to_string();
        let xdg = |var: &str, default: &str| {
            env(var)
                .filter(|v| v.starts_with('/'))
                .unwrap_or_else(|| format!("{home_s}/{default}"))
        };
        let mut map = BTreeMap::new();
        map.insert("XDG_CONFIG_HOME", xdg("XDG_CONFIG_HOME", ".config"));
        map.insert("XDG_CACHE_HOME", xdg("XDG_CACHE_HOME", ".cache"));
        map.insert("XDG_DATA_HOME", xdg("XDG_DATA_HOME", ".local/share"));
        map.insert("HOME", home_s);
        map.insert("CWD", cwd.display().to_string());
        Vars { map }
    }

    /// Replace every `${NAME}`; an unknown name is an error naming it.
    pub fn expand(&self, s: &str) -> Result<String, String> {
        // Byte searches: a two-byte pattern would set up a substring searcher each time.
        let var_at = |s: &str| {
            let b = s.as_bytes();
            let mut from = 0;
            while let Some(i) = b[from..].iter().position(|&c| c == b'$') {
                if b.get(from + i + 1) == Some(&b'{') {
                    return Some(from + i);
                }
                from += i + 1;
            }
            None
        };
        let mut out = String::with_capacity(s.len() + 32);
        let mut rest = s;
        while let Some(start) = var_at(rest) {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unterminated `${{` in `{s}`"))?;
            let name = &after[..end];
            let value = self.map.get(name).ok_or_else(|| {
                let known: Vec<_> = self.map.keys().map(|k| format!("${{{k}}}")).collect();
                format!(
                    "unknown variable `${{{name}}}` (known: {})",
                    known.join(", ")
                )
            })?;
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

// The raw TOML shapes, shared with build.rs, which parses the built-in profiles at build time.
include!("raw.rs");
include!(concat!(env!("OUT_DIR"), "/raw_profiles.rs"));

/// Loads profiles and files into one [`Policy`], in order; detects `extends` cycles.
pub struct Loader {
    vars: Vars,
    /// What is being loaded right now, outermost first, to report cycles.
    stack: Vec<String>,
}

impl Loader {
    pub fn new(vars: Vars) -> Self {
        Loader {
            vars,
            stack: Vec::new(),
        }
    }

    pub fn vars(&self) -> &Vars {
        &self.vars
    }

    /// Load a built-in profile by name.
    pub fn load_profile(&mut self, name: &str, into: &mut Policy) -> Result<(), PolicyError> {
        let (raw, newlines) = raw_profile(name).ok_or_else(|| PolicyError {
            origin: Origin::command_line(),
            message: format!(
                "unknown profile `{name}` (built-in profiles: {})",
                profiles::names().join(", ")
            ),
        })?;
        self.load_raw(raw, newlines, &format!("profile {name}"), None, into)
    }

    /// Load a policy file.
    pub fn load_file(&mut self, path: &Path, into: &mut Policy) -> Result<(), PolicyError> {
        // Canonical, so that `extends` cycles are found however the path is spelled.
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let path = path.as_path();
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            origin: Origin {
                source: source.clone(),
                line: None,
            },
            message: format!("cannot read policy file: {e}"),
        })?;
        self.load_text(&text, &source, path.parent(), into)
    }

    /// Load policy text; `dir` resolves relative `extends` paths.
    pub fn load_text(
        &mut self,
        text: &str,
        source: &str,
        dir: Option<&Path>,
        into: &mut Policy,
    ) -> Result<(), PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError {
            origin: Origin {
                source: source.to_string(),
                line: e.span().map(|s| line_of(&newlines_of(text), s.start)),
            },
            message: e.message().trim_end().to_string(),
        })?;
        self.load_raw(raw, &newlines_of(text), source, dir, into)
    }

    /// Load a parsed policy; `text` gives the lines of its spans.
    fn load_raw(
        &mut self,
        raw: RawPolicy,
        newlines: &[usize],
        source: &str,
        dir: Option<&Path>,
        into: &mut Policy,
    ) -> Result<(), PolicyError> {
        if self.stack.iter().any(|s| s == source) {
            let mut chain = self.stack.clone();
            chain.push(source.to_string());
            return Err(PolicyError {
                origin: Origin {
                    source: source.to_string(),
                    line: None,
                },
                message: format!("`extends` forms a cycle: {}", chain.join(" -> ")),
            });
        }
        // Every rule and variable carries its line, from the newlines found once per text.
        let at = |span: Option<std::ops::Range<usize>>| Origin {
            source: source.to_string(),
            line: span.map(|s| line_of(newlines, s.start)),
        };

        self.stack.push(source.to_string());
        for ext in raw.extends.iter().flatten() {
            let name = ext.get_ref();
            let result = if name.ends_with(".toml") || name.contains('/') {
                let p = Path::new(name);
                let p: PathBuf = match dir {
                    Some(d) if p.is_relative() => d.join(p),
                    _ => p.to_path_buf(),
                };
                self.load_file(&p, into)
            } else {
                self.load_profile(name, into)
            };
            if let Err(mut e) = result {
                if e.origin.source == "command line" {
                    e.origin = at(Some(ext.span()));
                }
                self.stack.pop();
                return Err(e);
            }
        }
        self.stack.pop();
        into.sources.push(source.to_string());

        if let Some(home) = &raw.home {
            into.home = parse_home(home.get_ref(), &self.vars).map_err(|message| PolicyError {
                origin: at(Some(home.span())),
                message,
            })?;
        }
        if let Some(network) = raw.network {
            into.network = network;
        }
        for rule in raw.rules.iter().flatten() {
            let origin = at(Some(rule.span()));
            self.add_raw_rule(rule.get_ref(), origin.clone(), into)
                .map_err(|message| PolicyError { origin, message })?;
        }
        if let Some(env) = raw.env {
            if let Some(clear) = env.clear {
                into.env.clear = clear;
            }
            // Within one file: unset, then keep (an exception to an unset), then set.
            for pat in env.unset.iter().flatten() {
                let origin = at(Some(pat.span()));
                check_env_pattern(pat.get_ref()).map_err(|message| PolicyError {
                    origin: origin.clone(),
                    message,
                })?;
                into.env.rules.push(EnvRule::Unset {
                    pattern: pat.get_ref().clone(),
                    origin,
                });
            }
            for pat in env.keep.iter().flatten() {
                check_env_pattern(pat.get_ref()).map_err(|message| PolicyError {
                    origin: at(Some(pat.span())),
                    message,
                })?;
                into.env.rules.push(EnvRule::Keep(pat.get_ref().clone()));
            }
            for (name, value) in env.set.unwrap_or_default() {
                check_env_name(&name).map_err(|message| PolicyError {
                    origin: at(None),
                    message: format!("[env] set: {message}"),
                })?;
                into.env.rules.push(EnvRule::Set { name, value });
            }
        }
        Ok(())
    }

    fn add_raw_rule(&self, r: &RawRule, origin: Origin, into: &mut Policy) -> Result<(), String> {
        let mut kinds = [
            ("ro", &r.ro),
            ("rw", &r.rw),
            ("hide", &r.hide),
            ("deny", &r.deny),
            ("empty", &r.empty),
            ("redirect", &r.redirect),
            ("tmpfs", &r.tmpfs),
            ("dev", &r.dev),
            ("proc", &r.proc),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)));
        let (keyword, raw_path) = match (kinds.next(), kinds.next()) {
            (Some(one), None) => one,
            (None, _) => {
                return Err(
                    "a rule needs one of ro, rw, hide, deny, empty, redirect, tmpfs, \
                            dev, proc"
                        .into(),
                )
            }
            (Some(first), Some(second)) => {
                let names: Vec<_> = [first, second]
                    .into_iter()
                    .chain(kinds)
                    .map(|(k, _)| k)
                    .collect();
                return Err(format!(
                    "a rule has exactly one kind, this one has {}",
                    names.join(" and ")
                ));
            }
        };
        let to = match (keyword, &r.to) {
            ("redirect", Some(to)) => Some(PathBuf::from(self.vars.expand(to)?)),
            ("redirect", None) => return Err("a redirect rule needs `to = \"/other/path\"`".into()),
            _ => None,
        };
        let kind = RuleKind::from_keyword(keyword, to)
            .ok_or_else(|| format!("unknown rule kind `{keyword}`"))?;
        if r.to.is_some() && keyword != "redirect" {
            return Err(format!(
                "`to` belongs to redirect rules, not to `{keyword}`"
            ));
        }
        let path = self.vars.expand(raw_path)?;
        into.push_rule(&path, kind, r.class, r.why.clone(), origin)
    }
}

/// `fresh`, `keep` or an absolute path.
pub fn parse_home(s: &str, vars: &Vars) -> Result<Home, String> {
    match s {
        "fresh" => Ok(Home::Fresh),
        "keep" => Ok(Home::Keep),
        other => {
            let expanded = vars.expand(other)?;
            if !expanded.starts_with('/') {
                return Err(format!(
                    "home must be `fresh`, `keep` or an absolute path, not `{other}`"
                ));
            }
            Ok(Home::Path(super::normalize_absolute(&expanded)?))
        }
    }
}

fn check_env_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(format!("invalid variable name `{name}`"));
    }
    Ok(())
}

fn check_env_pattern(pattern: &str) -> Result<(), String> {
    let name = pattern.strip_suffix('*').unwrap_or(pattern);
    if name.contains('*') {
        return Err(format!(
            "`{pattern}`: `*` is allowed only at the end of a pattern"
        ));
    }
    if pattern == "*" {
        return Ok(());
    }
    check_env_name(name)
}

/// 1-based line of a byte offset, given the offsets of the text's newlines.
fn line_of(newlines: &[usize], offset: usize) -> usize {
    newlines.partition_point(|&n| n < offset) + 1
}

impl fmt::Debug for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loader")
            .field("stack", &self.stack)
            .finish()
    }
}
