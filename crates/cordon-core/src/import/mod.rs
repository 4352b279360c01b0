//! Importers: other tracers' logs turned into cordon's trace model, so that `cordon report`
//! works on them as on a native trace. strace (Linux), fs_usage and dtruss (macOS), kdump of
//! ktrace (OpenBSD, FreeBSD).
//!
//! Each parser reads lines and feeds a [`Builder`], which numbers events, makes paths absolute
//! against each process's working directory, and keeps the process table. Bad input never
//! panics: a line that cannot be understood becomes a warning naming its file and line, and the
//! parser goes on; only input with nothing recognisable at all is an error.

pub mod dtruss;
pub mod fs_usage;
pub mod kdump;
pub mod strace;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::trace::{Event, Op, Process, Record, Verdict, SCHEMA_VERSION};
use crate::tracer::normalize;

/// The formats cordon imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Strace,
    FsUsage,
    Dtruss,
    Kdump,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Strace => "strace",
            Format::FsUsage => "fs_usage",
            Format::Dtruss => "dtruss",
            Format::Kdump => "kdump",
        }
    }

    /// What this format cannot carry, for the report's coverage section.
    pub fn gaps(self) -> Vec<String> {
        let common = "imported from a log: what the tracer did not print is not known".to_string();
        let mut g = vec![common];
        match self {
            Format::Strace => g.push(
                "without -f only the first process is seen; without -y descriptor paths are \
                 resolved from the log's own opens"
                    .into(),
            ),
            Format::FsUsage => g.push(
                "fs_usage names processes by command name and thread, not by argv or parent".into(),
            ),
            Format::Dtruss => g.push("dtruss prints no parent processes unless run with -f".into()),
            Format::Kdump => {
                g.push("kdump shows namei lookups; results of some calls are not printed".into())
            }
        }
        g
    }
}

/// Why an import failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ImportError {
    pub file: String,
    pub message: String,
}

/// The records made from a log, and the warnings met on the way.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub records: Vec<Record>,
    pub warnings: Vec<String>,
}

/// Builds trace records from parsed log lines.
#[derive(Debug, Default)]
pub struct Builder {
    records: Vec<Record>,
    warnings: Vec<String>,
    seq: u64,
    procs: HashMap<i32, Process>,
    /// The first process seen: the traced command.
    root: Option<i32>,
    /// Descriptor tables, for `*at` calls with a dirfd: (pid, fd) -> path.
    fds: HashMap<(i32, i64), String>,
    /// The exit status of the root, when the log says.
    root_status: Option<i32>,
    /// The working directory of processes whose parent the log does not show (the traced
    /// command's), when the caller knows it.
    initial_cwd: Option<String>,
    last_t_ns: u64,
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A warning for line `line` of `file`.
    pub fn warn(&mut self, file: &str, line: usize, message: impl std::fmt::Display) {
        // Enough to show the problem without drowning a report in them.
        if self.warnings.len() < 200 {
            self.warnings.push(format!("{file}:{line}: {message}"));
        } else if self.warnings.len() == 200 {
            self.warnings.push("more warnings left out".into());
        }
    }

    /// Make sure `pid` is known (as a child of `ppid`, 0 if unknown); returns its cwd.
    pub fn process(&mut self, pid: i32, ppid: i32, t_ns: u64) -> String {
        if self.root.is_none() {
            self.root = Some(pid);
        }
        if let Some(p) = self.procs.get(&pid) {
            return p.cwd.clone();
        }
        let inherited = self.procs.get(&ppid).cloned();
        let p = Process {
            pid,
            ppid,
            exe: inherited
                .as_ref()
                .map(|p| p.exe.clone())
                .unwrap_or_default(),
            argv: inherited
                .as_ref()
                .map(|p| p.argv.clone())
                .unwrap_or_default(),
            cwd: inherited
                .map(|p| p.cwd)
                .or_else(|| self.initial_cwd.clone())
                .unwrap_or_default(),
            start_ns: t_ns,
            env: Vec::new(),
        };
        // A child inherits its parent's descriptors.
        let inherited_fds: Vec<_> = self
            .fds
            .iter()
            .filter(|((p, _), _)| *p == ppid)
            .map(|((_, fd), path)| (*fd, path.clone()))
            .collect();
        for (fd, path) in inherited_fds {
            self.fds.insert((pid, fd), path);
        }
        let cwd = p.cwd.clone();
        self.procs.insert(pid, p.clone());
        self.records.push(Record::Process(p));
        cwd
    }

    /// `pid` was created by `parent` (fork, clone, vfork).
    pub fn spawned(&mut self, pid: i32, parent: i32, t_ns: u64) {
        self.process(parent, 0, t_ns);
        if let Some(p) = self.procs.get_mut(&pid) {
            p.ppid = parent;
            let p = p.clone();
            self.records.push(Record::Process(p));
        } else {
            self.process(pid, parent, t_ns);
        }
    }

    /// `pid` now runs `exe` with `argv` (a successful exec).
    pub fn executed(&mut self, pid: i32, exe: &str, argv: Vec<String>, t_ns: u64) {
        self.process(pid, 0, t_ns);
        let exe = self.absolute(pid, None, exe);
        if let Some(p) = self.procs.get_mut(&pid) {
            p.exe = exe;
            p.argv = argv;
            p.start_ns = t_ns;
            let p = p.clone();
            self.records.push(Record::Process(p));
        }
    }

    /// Set `pid`'s working directory (a successful chdir, or one the log states).
    pub fn set_cwd(&mut self, pid: i32, dir: &str) {
        let dir = self.absolute(pid, None, dir);
        if let Some(p) = self.procs.get_mut(&pid) {
            p.cwd = dir;
        }
    }

    /// The traced command's working directory, when the log does not say (strace does not):
    /// given to processes already seen without one and to those first seen later without a
    /// known parent. Call it before parsing.
    pub fn set_initial_cwd(&mut self, dir: &str) {
        self.initial_cwd = Some(dir.to_string());
        for p in self.procs.values_mut() {
            if p.cwd.is_empty() {
                p.cwd = dir.to_string();
            }
        }
    }

    /// `fd` of `pid` now names `path` (an open that returned it), or nothing (close).
    pub fn set_fd(&mut self, pid: i32, fd: i64, path: Option<&str>) {
        match path {
            Some(p) => {
                let p = self.absolute(pid, None, p);
                self.fds.insert((pid, fd), p);
            }
            None => {
                self.fds.remove(&(pid, fd));
            }
        }
    }

    /// `path` made absolute: against `dirfd` (AT_FDCWD = None or -100) or the cwd of `pid`.
    /// A relative path with no known base stays relative (reports call it unresolved).
    pub fn absolute(&self, pid: i32, dirfd: Option<i64>, path: &str) -> String {
        if path.starts_with('/') {
            return normalize(Path::new(path)).to_string_lossy().into_owned();
        }
        let base = match dirfd {
            Some(fd) if fd != -100 => self.fds.get(&(pid, fd)).cloned(),
            _ => self.procs.get(&pid).map(|p| p.cwd.clone()),
        };
        match base.filter(|b| b.starts_with('/')) {
            Some(b) => normalize(&PathBuf::from(b).join(path))
                .to_string_lossy()
                .into_owned(),
            None => path.to_string(),
        }
    }

    /// One access. `errno` 0 is success.
    #[allow(clippy::too_many_arguments)]
    pub fn event(
        &mut self,
        pid: i32,
        t_ns: u64,
        op: Op,
        dirfd: Option<i64>,
        path: &str,
        errno: i32,
        syscall: &str,
    ) {
        self.process(pid, 0, t_ns);
        let path = self.absolute(pid, dirfd, path);
        self.seq += 1;
        self.last_t_ns = self.last_t_ns.max(t_ns);
        self.records.push(Record::Event(Event {
            seq: self.seq,
            t_ns,
            pid,
            op,
            path,
            errno,
            verdict: Verdict::Allowed,
            syscall: syscall.to_string(),
        }));
    }

    /// `pid` ended with `status` (exit status, or 128 + signal).
    pub fn ended(&mut self, pid: i32, status: i32, t_ns: u64) {
        self.process(pid, 0, t_ns);
        if self.root == Some(pid) {
            self.root_status = Some(status);
        }
        self.records.push(Record::Exit { pid, t_ns, status });
    }

    /// The records, with a header first and an end record when the log showed the command's
    /// end.
    pub fn finish(self, format: Format, files: &[String]) -> Imported {
        let root_cmd = self
            .root
            .and_then(|r| self.procs.get(&r))
            .map(|p| p.argv.clone())
            .unwrap_or_default();
        let cwd = self
            .root
            .and_then(|r| self.procs.get(&r))
            .map(|p| p.cwd.clone())
            .unwrap_or_default();
        let mut records = vec![Record::Header {
            schema_version: SCHEMA_VERSION,
            tracer: format!("imported from {} ({})", format.name(), files.join(", ")),
            command: root_cmd,
            cwd,
            started: 0,
            gaps: format.gaps(),
            home: String::new(),
            home_setting: "keep".into(),
            xdg_config_home: String::new(),
            xdg_cache_home: String::new(),
            xdg_data_home: String::new(),
            rules: Vec::new(),
            policy_sources: Vec::new(),
        }];
        records.extend(self.records);
        if let Some(status) = self.root_status {
            records.push(Record::End {
                t_ns: self.last_t_ns,
                status,
                events: self.seq,
            });
        }
        Imported {
            records,
            warnings: self.warnings,
        }
    }
}

/// Parse `inputs` (file name, text) in `format`.
pub fn import(format: Format, inputs: &[(String, String)]) -> Result<Imported, ImportError> {
    import_with(format, inputs, Builder::new())
}

/// [`import`] into a prepared builder (one that knows the initial working directory).
pub fn import_with(
    format: Format,
    inputs: &[(String, String)],
    mut b: Builder,
) -> Result<Imported, ImportError> {
    match format {
        Format::Strace => strace::parse(inputs, &mut b)?,
        Format::FsUsage => fs_usage::parse(inputs, &mut b)?,
        Format::Dtruss => dtruss::parse(inputs, &mut b)?,
        Format::Kdump => kdump::parse(inputs, &mut b)?,
    }
    let files: Vec<String> = inputs.iter().map(|(n, _)| n.clone()).collect();
    Ok(b.finish(format, &files))
}

/// The op of an open-style call from its flags text (`O_RDONLY|O_CLOEXEC`, `O_WRONLY|O_CREAT`).
pub fn op_of_flags_text(flags: &str) -> Op {
    let has = |f: &str| flags.split(['|', ' ', ',']).any(|x| x.trim() == f);
    if has("O_PATH") {
        Op::Stat
    } else if has("O_CREAT") && has("O_EXCL") {
        Op::Create
    } else if has("O_WRONLY") || has("O_RDWR") || has("O_TRUNC") || has("O_CREAT") {
        Op::Write
    } else {
        Op::Read
    }
}

/// errno number of a symbolic name (`ENOENT`), for logs that print names.
pub fn errno_of_name(name: &str) -> Option<i32> {
    const TABLE: &[(&str, i32)] = &[
        ("EPERM", 1),
        ("ENOENT", 2),
        ("ESRCH", 3),
        ("EINTR", 4),
        ("EIO", 5),
        ("ENXIO", 6),
        ("E2BIG", 7),
        ("ENOEXEC", 8),
        ("EBADF", 9),
        ("ECHILD", 10),
        ("EAGAIN", 11),
        ("ENOMEM", 12),
        ("EACCES", 13),
        ("EFAULT", 14),
        ("EBUSY", 16),
        ("EEXIST", 17),
        ("EXDEV", 18),
        ("ENODEV", 19),
        ("ENOTDIR", 20),
        ("EISDIR", 21),
        ("EINVAL", 22),
        ("ENFILE", 23),
        ("EMFILE", 24),
        ("ENOTTY", 25),
        ("ETXTBSY", 26),
        ("EFBIG", 27),
        ("ENOSPC", 28),
        ("ESPIPE", 29),
        ("EROFS", 30),
        ("EMLINK", 31),
        ("EPIPE", 32),
        ("ERANGE", 34),
        ("ENAMETOOLONG", 36),
        ("ENOSYS", 38),
        ("ENOTEMPTY", 39),
        ("ELOOP", 40),
        ("ENODATA", 61),
        ("EOPNOTSUPP", 95),
        ("ENOTSUP", 95),
    ];
    TABLE.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

#[cfg(test)]
pub(crate) mod test_support;
