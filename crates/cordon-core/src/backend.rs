//! Backends: one interface, an implementation per mechanism.
//!
//! Each backend says what it needs and what it guarantees. `--backend auto` picks the strongest
//! one this machine allows; asking for one that cannot run here, or that this version does not
//! implement, is an error that says so — never a silent fallback.
//!
//! # namespace
//! - **Enforces**: the whole filesystem view (what no rule shows does not exist), read-only
//!   binds, `hide` as ENOENT (a mirrored directory without the entry), `deny` as EACCES, a
//!   private /tmp, HOME, /dev and /proc; no capabilities and `no_new_privs` for the command.
//! - **Observes**: nothing yet (tracing is a separate concern).
//! - **Requires**: unprivileged user namespaces (or root); mount_setattr (5.12) is used when
//!   present, with a per-mount fallback.
//! - **Gaps**: files created directly in a writable mirrored directory live in memory only.
//!
//! The other backends run the command on the host's own mounts; their docs are in
//! [`crate::direct`]: [`crate::direct::landlock`] and [`crate::direct::ptrace`].

use std::fmt;

use serde::Serialize;

use crate::doctor::HostFacts;

/// The mechanisms cordon knows of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Namespace,
    Landlock,
    Seccomp,
    Ptrace,
    Preload,
}

impl BackendKind {
    pub const ALL: [BackendKind; 5] = [
        BackendKind::Namespace,
        BackendKind::Landlock,
        BackendKind::Seccomp,
        BackendKind::Ptrace,
        BackendKind::Preload,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Namespace => "namespace",
            BackendKind::Landlock => "landlock",
            BackendKind::Seccomp => "seccomp",
            BackendKind::Ptrace => "ptrace",
            BackendKind::Preload => "preload",
        }
    }

    pub fn implemented(self) -> bool {
        matches!(
            self,
            BackendKind::Namespace
                | BackendKind::Landlock
                | BackendKind::Ptrace
                | BackendKind::Seccomp
                | BackendKind::Preload
        )
    }

    /// What the backend guarantees when it runs alone, as printed by doctor and `--verbose`.
    pub fn guarantees(self) -> &'static str {
        match self {
            BackendKind::Namespace => {
                "enforces the whole view; hide = ENOENT, deny = EACCES; safe against a hostile build"
            }
            BackendKind::Landlock => {
                "enforces read/write/exec rights, safe against a hostile build; hide degrades to \
                 EACCES and existence stays visible to stat; no redirect or empty"
            }
            BackendKind::Seccomp => {
                "hide = ENOENT, deny = EACCES, read-only paths, redirect and empty for opens \
                 and stats, on every path a system call names; no private /tmp; advisory \
                 against a hostile multi-threaded build (TOCTOU)"
            }
            BackendKind::Ptrace => {
                "the whole view on every path a system call names, hide = ENOENT, redirects; \
                 advisory against a hostile multi-threaded build (TOCTOU)"
            }
            BackendKind::Preload => "path rewriting for dynamic binaries only; advisory",
        }
    }

    /// Whether the kernel holds the line against a hostile build.
    pub fn enforces(self) -> bool {
        matches!(self, BackendKind::Namespace | BackendKind::Landlock)
    }

    /// Whether `hide` makes a path absent (ENOENT) rather than unreadable.
    pub fn hides(self) -> bool {
        !matches!(self, BackendKind::Landlock)
    }
}

/// The backends of one run: one alone, or Landlock (which enforces) paired with a path
/// checker (which hides and redirects), written `landlock+ptrace`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection(pub Vec<BackendKind>);

impl Selection {
    /// Parse `NAME` or `landlock+NAME`.
    pub fn parse(s: &str) -> Result<Selection, String> {
        let kinds = s
            .split('+')
            .map(|n| n.parse::<BackendKind>())
            .collect::<Result<Vec<_>, _>>()?;
        let sel = Selection(kinds);
        match sel.0.as_slice() {
            [_] => Ok(sel),
            [BackendKind::Landlock, b]
                if !matches!(b, BackendKind::Landlock | BackendKind::Namespace) =>
            {
                Ok(sel)
            }
            _ => Err(format!(
                "`{s}`: only landlock pairs with another backend (landlock+seccomp, \
                 landlock+ptrace, landlock+preload)"
            )),
        }
    }

    pub fn contains(&self, b: BackendKind) -> bool {
        self.0.contains(&b)
    }

    /// Whether the kernel enforces the view against a hostile build.
    pub fn enforces(&self) -> bool {
        self.0.iter().any(|b| b.enforces())
    }

    /// Whether `hide` answers ENOENT.
    pub fn hides(&self) -> bool {
        self.0.iter().any(|b| b.hides())
    }

    /// Whether the view can show other content at a path (private tmp at /tmp, redirects).
    pub fn rewrites(&self) -> bool {
        self.0.iter().any(|b| {
            matches!(
                b,
                BackendKind::Namespace | BackendKind::Ptrace | BackendKind::Preload
            )
        })
    }

    /// One line on what this selection guarantees.
    pub fn guarantees(&self) -> String {
        match self.0.as_slice() {
            [one] => one.guarantees().to_string(),
            _ => format!(
                "Landlock enforces read/write/exec rights against a hostile build; {} hides \
                 (ENOENT){}",
                self.0[1],
                if self.rewrites() || self.contains(BackendKind::Seccomp) {
                    " and redirects"
                } else {
                    ""
                }
            ),
        }
    }

    /// The order `auto` tries: the strongest first.
    pub fn auto_order() -> Vec<Selection> {
        use BackendKind::*;
        [
            vec![Namespace],
            vec![Landlock, Ptrace],
            vec![Landlock, Seccomp],
            vec![Landlock],
            vec![Ptrace],
            vec![Seccomp],
            vec![Preload],
        ]
        .into_iter()
        .map(Selection)
        .collect()
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|b| b.name()).collect();
        f.write_str(&names.join("+"))
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        BackendKind::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown backend `{s}`"))
    }
}

/// Whether a backend can run here, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    pub backend: BackendKind,
    pub usable: bool,
    /// Why not, or what it relies on.
    pub reason: String,
    /// What it guarantees when it runs.
    pub guarantees: &'static str,
}

/// The availability of every backend on this host.
pub fn matrix(host: &HostFacts) -> Vec<Availability> {
    BackendKind::ALL
        .into_iter()
        .map(|b| {
            let (usable, reason) = availability(b, host);
            Availability {
                backend: b,
                usable,
                reason,
                guarantees: b.guarantees(),
            }
        })
        .collect()
}

fn availability(b: BackendKind, host: &HostFacts) -> (bool, String) {
    let (works, why) = match b {
        BackendKind::Namespace => match &host.user_namespaces.error {
            None => (true, "user namespaces work for this user".to_string()),
            Some(e) => (false, format!("user namespaces unavailable: {e}")),
        },
        BackendKind::Landlock => match (host.landlock_abi, &host.landlock_error) {
            (Some(v), _) => (true, format!("Landlock ABI {v}")),
            (None, Some(e)) => (false, format!("no Landlock: {e}")),
            (None, None) => (false, "no Landlock".to_string()),
        },
        BackendKind::Seccomp => {
            if host.seccomp_user_notif {
                (true, "seccomp user notification available".into())
            } else {
                (
                    false,
                    "no seccomp user notification (needs Linux 5.0)".into(),
                )
            }
        }
        BackendKind::Ptrace => match host.ptrace_scope {
            Some(s) if s >= 3 => (false, format!("Yama ptrace_scope {s} forbids ptrace")),
            Some(2) if host.uid != 0 => (
                false,
                "Yama ptrace_scope 2 allows ptrace to CAP_SYS_PTRACE only".into(),
            ),
            Some(s) => (
                true,
                format!("ptrace of own children (Yama ptrace_scope {s})"),
            ),
            None => (true, "ptrace of own children (no Yama)".into()),
        },
        BackendKind::Preload => (true, "LD_PRELOAD works for dynamic binaries".into()),
    };
    if !b.implemented() {
        return (
            false,
            format!("not implemented in this version of cordon (kernel: {why})"),
        );
    }
    if !cfg!(target_arch = "x86_64") && b == BackendKind::Ptrace {
        return (false, "the tracer is implemented for x86_64 only".into());
    }
    (works, why)
}

/// Whether every backend of `sel` can run here, and why not.
pub fn usable(sel: &Selection, host: &HostFacts) -> Result<(), String> {
    for &b in &sel.0 {
        let (ok, why) = availability(b, host);
        if !ok {
            return Err(if b.implemented() {
                format!("the {b} backend cannot run here: {why}")
            } else {
                format!("the {b} backend is not implemented in this version of cordon")
            });
        }
    }
    Ok(())
}

/// The selections `auto` may use here, strongest first, with the reason for each skipped one.
pub fn auto_candidates(host: &HostFacts) -> (Vec<Selection>, Vec<String>) {
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for sel in Selection::auto_order() {
        match usable(&sel, host) {
            Ok(()) => ok.push(sel),
            Err(why) => skipped.push(format!("{sel}: {why}")),
        }
    }
    (ok, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_parse_and_pair_only_with_landlock() {
        let s = Selection::parse("landlock+ptrace").unwrap();
        assert_eq!(s.to_string(), "landlock+ptrace");
        assert!(s.enforces() && s.hides() && s.rewrites());
        let s = Selection::parse("landlock+seccomp").unwrap();
        assert!(s.enforces() && s.hides() && !s.rewrites());
        let s = Selection::parse("landlock").unwrap();
        assert!(s.enforces() && !s.hides());
        let s = Selection::parse("preload").unwrap();
        assert!(!s.enforces() && s.hides() && s.rewrites());
        for bad in [
            "ptrace+landlock",
            "landlock+namespace",
            "landlock+landlock",
            "bogus",
        ] {
            assert!(Selection::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn auto_tries_the_strongest_first() {
        let order: Vec<String> = Selection::auto_order()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(order[0], "namespace");
        // Each selection that enforces comes before every one that does not.
        let first_advisory = Selection::auto_order()
            .iter()
            .position(|s| !s.enforces())
            .unwrap();
        assert!(Selection::auto_order()[first_advisory..]
            .iter()
            .all(|s| !s.enforces()));
    }
}
