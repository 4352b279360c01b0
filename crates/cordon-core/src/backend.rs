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
        self == BackendKind::Namespace
    }

    /// What the backend guarantees when it runs, as printed by doctor and `--verbose`.
    pub fn guarantees(self) -> &'static str {
        match self {
            BackendKind::Namespace => {
                "enforces the whole view; hide = ENOENT, deny = EACCES; safe against a hostile build"
            }
            BackendKind::Landlock => "enforces read/write/exec rights; hide degrades to EACCES",
            BackendKind::Seccomp => "hide = ENOENT and redirects; advisory (TOCTOU)",
            BackendKind::Ptrace => "hide = ENOENT and redirects, on any kernel; slower",
            BackendKind::Preload => "path rewriting for dynamic binaries only; advisory",
        }
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
}

/// The availability of every backend on this host.
pub fn matrix(host: &HostFacts) -> Vec<Availability> {
    BackendKind::ALL
        .into_iter()
        .map(|b| {
            let (usable, reason) = match b {
                BackendKind::Namespace => match &host.user_namespaces.error {
                    None => (true, "user namespaces work for this user".to_string()),
                    Some(e) => (false, format!("user namespaces unavailable: {e}")),
                },
                _ => (
                    false,
                    format!("not implemented in this version of cordon (kernel: {})", {
                        match b {
                            BackendKind::Landlock => match host.landlock_abi {
                                Some(v) => format!("Landlock ABI {v} available"),
                                None => "no Landlock".into(),
                            },
                            BackendKind::Seccomp => {
                                if host.seccomp_user_notif {
                                    "seccomp user notification available".into()
                                } else {
                                    "no seccomp user notification".into()
                                }
                            }
                            BackendKind::Ptrace => match host.ptrace_scope {
                                Some(s) => format!("ptrace scope {s}"),
                                None => "ptrace allowed (no Yama)".into(),
                            },
                            _ => "LD_PRELOAD always possible".into(),
                        }
                    }),
                ),
            };
            Availability {
                backend: b,
                usable,
                reason,
            }
        })
        .collect()
}

/// Choose the backend for a run: `requested` (None = auto).
pub fn choose(requested: Option<BackendKind>, host: &HostFacts) -> Result<BackendKind, String> {
    let m = matrix(host);
    let status = |b: BackendKind| m.iter().find(|a| a.backend == b).cloned();
    match requested {
        Some(b) => {
            let a = status(b).ok_or_else(|| format!("unknown backend `{b}`"))?;
            if a.usable {
                Ok(b)
            } else if !b.implemented() {
                Err(format!(
                    "the {b} backend is not implemented in this version of cordon; \
                     use --backend namespace (see `cordon doctor`)"
                ))
            } else {
                Err(format!("the {b} backend cannot run here: {}", a.reason))
            }
        }
        None => m
            .iter()
            .find(|a| a.usable)
            .map(|a| a.backend)
            .ok_or_else(|| {
                let ns = status(BackendKind::Namespace)
                    .map(|a| a.reason)
                    .unwrap_or_default();
                format!(
                "no backend can enforce a sandbox on this machine: {ns}; the landlock, seccomp, \
                 ptrace and preload backends are not implemented in this version \
                 (see `cordon doctor`)"
            )
            }),
    }
}
