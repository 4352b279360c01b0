//! The trace model: processes and file accesses, as recorded by a tracer and stored as JSON
//! Lines (one record a line, written as the build runs, so that a killed run leaves a readable
//! prefix).

use serde::{Deserialize, Serialize};

/// The version of the record format; readers refuse other major versions.
pub const SCHEMA_VERSION: u32 = 1;

/// What an access did, from the build's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Opened for reading (or a directory listed).
    Read,
    /// Opened for writing, truncated, or its metadata changed.
    Write,
    /// Executed (execve/execveat).
    Exec,
    /// Metadata read: stat, statx, lstat.
    Stat,
    /// Existence or permission checked: access, faccessat.
    Probe,
    Readlink,
    /// Created: mkdir, mknod, symlink or link target, O_CREAT of a new file.
    Create,
    /// Removed: unlink, rmdir.
    Delete,
    Rename,
    Chdir,
}

impl Op {
    /// The name used in traces and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write => "write",
            Op::Exec => "exec",
            Op::Stat => "stat",
            Op::Probe => "probe",
            Op::Readlink => "readlink",
            Op::Create => "create",
            Op::Delete => "delete",
            Op::Rename => "rename",
            Op::Chdir => "chdir",
        }
    }

    /// How much an access consumed or changed, to name a path's accesses by the strongest.
    pub fn strength(self) -> u8 {
        match self {
            Op::Probe | Op::Stat | Op::Readlink | Op::Chdir => 0,
            Op::Read => 1,
            Op::Exec => 2,
            Op::Write | Op::Create | Op::Delete | Op::Rename => 3,
        }
    }
}

/// What the sandbox did to the access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allowed,
    Hidden,
    Denied,
    Redirected,
}

/// One file access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    /// Nanoseconds since the trace started.
    pub t_ns: u64,
    pub pid: i32,
    pub op: Op,
    /// Absolute, resolved against the caller's cwd or dirfd (not through symlinks).
    pub path: String,
    /// 0 when the call succeeded, else the errno it returned.
    pub errno: i32,
    pub verdict: Verdict,
    /// The system call, for the curious (`openat`, `statx`, ...).
    pub syscall: String,
}

/// One process of the traced tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: i32,
    /// 0 for the traced command itself.
    pub ppid: i32,
    pub exe: String,
    pub argv: Vec<String>,
    pub cwd: String,
    pub start_ns: u64,
    /// The environment the program started with (`NAME=VALUE`), recorded at each exec; the
    /// values of variables whose names suggest secrets are redacted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
}

/// Whether a variable's value should stay out of a trace (tokens, passwords, keys).
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
        "_KEY",
        "APIKEY",
        "COOKIE",
    ]
    .iter()
    .any(|s| upper.contains(s))
}

/// `NAME=VALUE` with the value redacted when the name suggests a secret.
pub fn redact(entry: &str) -> String {
    match entry.split_once('=') {
        Some((name, _)) if is_secret_name(name) => format!("{name}=<redacted>"),
        _ => entry.to_string(),
    }
}

/// A line of a trace file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record {
    /// First line: what was traced and how.
    Header {
        schema_version: u32,
        /// The tracer: `ptrace` (seccomp-filtered ptrace, sees static binaries and raw
        /// syscalls).
        tracer: String,
        command: Vec<String>,
        cwd: String,
        /// Seconds since the Unix epoch.
        started: u64,
        /// What the tracer cannot see, in words.
        gaps: Vec<String>,
        /// The caller's home directory, for the knowledge base's `${HOME}` patterns.
        #[serde(default)]
        home: String,
        /// The run's home setting: `fresh`, `keep` or a path (`keep` for `cordon trace`,
        /// which runs in the real environment).
        #[serde(default = "keep")]
        home_setting: String,
        /// The XDG base directories of the run (empty: their defaults under home).
        #[serde(default)]
        xdg_config_home: String,
        #[serde(default)]
        xdg_cache_home: String,
        #[serde(default)]
        xdg_data_home: String,
        /// The policy the accesses are classified against, in order of precedence.
        #[serde(default)]
        rules: Vec<RuleRecord>,
        /// Where that policy came from (profiles, files).
        #[serde(default)]
        policy_sources: Vec<String>,
    },
    /// A process started or executed a new program (a pid may appear more than once).
    Process(Process),
    Event(Event),
    /// A process ended: exit status, or 128 + signal.
    Exit {
        pid: i32,
        t_ns: u64,
        status: i32,
    },
    /// After the run: each regular file the command read or executed, as it is now (its
    /// digest and owner), so that traces from two machines can be compared by content.
    Inputs {
        files: Vec<InputFile>,
    },
    /// Last line of a trace whose tracer finished: the command's status.
    End {
        t_ns: u64,
        status: i32,
        events: u64,
    },
}

/// A file the command consumed, as it was after the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: String,
    pub size: u64,
    /// FNV-1a 64 of the content, in hex: enough to tell two versions apart, not a security
    /// digest.
    pub digest: String,
    /// The package that owns it, as `package (manager)`, when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// FNV-1a 64 of a file's content, in hex; None when it cannot be read.
pub fn digest_file(path: &std::path::Path) -> Option<(u64, String)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        size += n as u64;
        for &b in &buf[..n] {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Some((size, format!("{hash:016x}")))
}

fn keep() -> String {
    "keep".into()
}

/// A policy rule as stored in a trace, so that a report classifies against the policy the
/// trace was taken with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRecord {
    pub path: String,
    /// `ro`, `rw`, `hide`, `deny`, `empty`, `redirect`, `tmpfs`, `dev`, `proc`.
    pub kind: String,
    pub class: crate::policy::Class,
    /// A redirect's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl RuleRecord {
    /// The rules of `policy`, for a trace header.
    pub fn from_policy(policy: &crate::policy::Policy) -> Vec<RuleRecord> {
        policy
            .rules
            .iter()
            .map(|r| RuleRecord {
                path: r.path.to_string_lossy().into_owned(),
                kind: r.kind.keyword().to_string(),
                class: r.class,
                to: match &r.kind {
                    crate::policy::RuleKind::Redirect { to } => {
                        Some(to.to_string_lossy().into_owned())
                    }
                    _ => None,
                },
            })
            .collect()
    }

    /// Rebuild a policy (its path rules and home setting) from a trace header.
    pub fn to_policy(
        rules: &[RuleRecord],
        home_setting: &str,
    ) -> Result<crate::policy::Policy, String> {
        use crate::policy::{Home, Origin, Policy, RuleKind};
        let home = match home_setting {
            "fresh" => Home::Fresh,
            "keep" | "" => Home::Keep,
            path => Home::Path(path.into()),
        };
        let mut policy = Policy {
            home,
            ..Policy::default()
        };
        for r in rules {
            let kind = RuleKind::from_keyword(&r.kind, r.to.clone().map(Into::into))
                .ok_or_else(|| format!("unknown rule `{}` in the trace header", r.kind))?;
            policy.push_rule(
                &r.path,
                kind,
                Some(r.class),
                None,
                Origin {
                    source: "trace header".into(),
                    line: None,
                },
            )?;
        }
        Ok(policy)
    }
}
