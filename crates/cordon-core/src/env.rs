//! Resolving the command's environment from the caller's and the policy's rules.

use std::ffi::OsString;

use crate::policy::{env_pattern_matches, EnvPolicy, EnvRule, Origin};

/// The command's environment, and what was removed from the caller's (for `--verbose`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedEnv {
    /// In the caller's order, then variables that only `set` rules created.
    pub vars: Vec<(OsString, OsString)>,
    /// Variables of the caller that an `unset` rule removed, with that rule's origin.
    pub removed: Vec<(String, Origin)>,
    /// How many variables `clear` removed that no rule kept.
    pub cleared: usize,
}

impl ResolvedEnv {
    pub fn get(&self, name: &str) -> Option<&OsString> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// Apply `policy` to the caller's environment `host`; `overrides` (such as HOME for a fresh
/// home) are applied first, so that explicit rules can still change them.
pub fn resolve(
    policy: &EnvPolicy,
    host: impl IntoIterator<Item = (OsString, OsString)>,
    overrides: &[(&str, OsString)],
) -> ResolvedEnv {
    let mut out = ResolvedEnv::default();
    let mut vars: Vec<(OsString, OsString)> = host.into_iter().collect();
    for (name, value) in overrides {
        match vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => vars.push((name.into(), value.clone())),
        }
    }
    for (name, value) in vars {
        let name_s = name.to_string_lossy();
        let is_override = overrides.iter().any(|(n, _)| *n == name_s);
        let mut present = !policy.clear || is_override;
        let mut value = Some(value);
        let mut removed_by: Option<&Origin> = None;
        for rule in &policy.rules {
            match rule {
                EnvRule::Keep(p) if env_pattern_matches(p, &name_s) => {
                    present = true;
                    removed_by = None;
                }
                EnvRule::Unset { pattern, origin } if env_pattern_matches(pattern, &name_s) => {
                    present = false;
                    removed_by = Some(origin);
                }
                EnvRule::Set { name: n, value: v } if *n == name_s => {
                    present = true;
                    removed_by = None;
                    value = Some(v.into());
                }
                _ => {}
            }
        }
        match (present, value) {
            (true, Some(v)) => out.vars.push((name, v)),
            _ => match removed_by {
                Some(origin) => out.removed.push((name_s.into_owned(), origin.clone())),
                None => out.cleared += 1,
            },
        }
    }
    // `set` rules for variables the caller does not have; the last `set` or `unset` wins.
    for (i, rule) in policy.rules.iter().enumerate() {
        let EnvRule::Set { name, value } = rule else {
            continue;
        };
        if out.vars.iter().any(|(n, _)| n == name.as_str()) {
            continue;
        }
        let later_unset = policy.rules[i + 1..].iter().any(|r| match r {
            EnvRule::Unset { pattern, .. } => env_pattern_matches(pattern, name),
            EnvRule::Set { name: n, .. } => n == name,
            EnvRule::Keep(_) => false,
        });
        if !later_unset {
            out.vars.push((name.into(), value.into()));
        }
    }
    out
}

/// Variables that steer where a build looks for its inputs or how it builds them (names, or
/// prefixes and suffixes with `*`): search paths, compiler flags, tool configuration.
const STEERING: &[&str] = &[
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "LIBRARY_PATH",
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "PKG_CONFIG_PATH",
    "PKG_CONFIG_LIBDIR",
    "CMAKE_PREFIX_PATH",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PERL5LIB",
    "CC",
    "CXX",
    "CFLAGS",
    "CXXFLAGS",
    "CPPFLAGS",
    "LDFLAGS",
    "MAKEFLAGS",
    "GIT_*",
    "PIP_*",
    "NPM_CONFIG_*",
    "CARGO_*",
    "RUSTFLAGS",
    "GOPATH",
    "GOFLAGS",
    "JAVA_HOME",
    "CLASSPATH",
    "*_ROOT",
    "*_DIR",
];

/// Whether a variable steers where a build looks for its inputs or how it builds them: search
/// paths, compiler flags, tool configuration (a list of names, prefixes and suffixes).
pub fn steers_build(name: &str) -> bool {
    STEERING
        .iter()
        .any(|p| match (p.strip_prefix('*'), p.strip_suffix('*')) {
            (Some(suffix), _) => name.ends_with(suffix),
            (_, Some(prefix)) => name.starts_with(prefix),
            _ => name == *p,
        })
}

/// The steering variables of the traced command's starting environment (`NAME=VALUE`).
pub fn steering_of(records: &[crate::trace::Record]) -> Vec<(String, String)> {
    records
        .iter()
        .find_map(|r| match r {
            crate::trace::Record::Process(p) if p.ppid == 0 && !p.env.is_empty() => Some(&p.env),
            _ => None,
        })
        .map(|env| {
            env.iter()
                .filter_map(|e| e.split_once('='))
                .filter(|(k, _)| steers_build(k))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}
