//! `cordon trace`: the ptrace tracer's observer. It turns stopped system calls into
//! [`Event`]s (paths made absolute against the caller's cwd or dirfd) and [`Process`] records,
//! and writes each record as one JSON line as soon as it is complete, so that a killed run
//! leaves a readable trace of everything up to then.
//!
//! # Observes
//! Every file system call of the whole process tree, static binaries and the dynamic loader
//! included, with its result. io_uring_setup is refused with ENOSYS while tracing, so programs
//! fall back to plain system calls that the tracer sees.
//!
//! # Gaps
//! `fstat`-style calls on a descriptor (`AT_EMPTY_PATH`) are not stopped at: they name no path.
//! Accesses through descriptors inherited or passed over sockets are seen at open time only.
//! Paths are made absolute lexically (`..` is folded without resolving symlinks).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use crate::trace::{Event, Op, Process, Record, Verdict};

/// How a system call names its path(s) and what it does.
#[derive(Debug, Clone, Copy)]
struct Syscall {
    nr: i64,
    name: &'static str,
    /// (dirfd argument, path argument); dirfd None means relative to the cwd.
    paths: &'static [(Option<usize>, usize)],
    op: OpFrom,
}

#[derive(Debug, Clone, Copy)]
enum OpFrom {
    Fixed(Op),
    /// open-style flags in this argument.
    OpenFlags(usize),
    /// openat2: flags are the first field of the struct at this argument.
    OpenHow(usize),
}

use OpFrom::Fixed;

/// x86_64 system call numbers (asm/unistd_64.h).
const SYSCALLS: &[Syscall] = &[
    Syscall {
        nr: 2,
        name: "open",
        paths: &[(None, 0)],
        op: OpFrom::OpenFlags(1),
    },
    Syscall {
        nr: 4,
        name: "stat",
        paths: &[(None, 0)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 6,
        name: "lstat",
        paths: &[(None, 0)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 21,
        name: "access",
        paths: &[(None, 0)],
        op: Fixed(Op::Probe),
    },
    Syscall {
        nr: 59,
        name: "execve",
        paths: &[(None, 0)],
        op: Fixed(Op::Exec),
    },
    Syscall {
        nr: 76,
        name: "truncate",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 80,
        name: "chdir",
        paths: &[(None, 0)],
        op: Fixed(Op::Chdir),
    },
    Syscall {
        nr: 82,
        name: "rename",
        paths: &[(None, 0), (None, 1)],
        op: Fixed(Op::Rename),
    },
    Syscall {
        nr: 83,
        name: "mkdir",
        paths: &[(None, 0)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 84,
        name: "rmdir",
        paths: &[(None, 0)],
        op: Fixed(Op::Delete),
    },
    Syscall {
        nr: 85,
        name: "creat",
        paths: &[(None, 0)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 86,
        name: "link",
        paths: &[(None, 0), (None, 1)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 87,
        name: "unlink",
        paths: &[(None, 0)],
        op: Fixed(Op::Delete),
    },
    Syscall {
        nr: 88,
        name: "symlink",
        paths: &[(None, 1)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 89,
        name: "readlink",
        paths: &[(None, 0)],
        op: Fixed(Op::Readlink),
    },
    Syscall {
        nr: 90,
        name: "chmod",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 92,
        name: "chown",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 94,
        name: "lchown",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 132,
        name: "utime",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 133,
        name: "mknod",
        paths: &[(None, 0)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 137,
        name: "statfs",
        paths: &[(None, 0)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 235,
        name: "utimes",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 257,
        name: "openat",
        paths: &[(Some(0), 1)],
        op: OpFrom::OpenFlags(2),
    },
    Syscall {
        nr: 258,
        name: "mkdirat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 259,
        name: "mknodat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 260,
        name: "fchownat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 262,
        name: "newfstatat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 263,
        name: "unlinkat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Delete),
    },
    Syscall {
        nr: 264,
        name: "renameat",
        paths: &[(Some(0), 1), (Some(2), 3)],
        op: Fixed(Op::Rename),
    },
    Syscall {
        nr: 265,
        name: "linkat",
        paths: &[(Some(0), 1), (Some(2), 3)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 266,
        name: "symlinkat",
        paths: &[(Some(1), 2)],
        op: Fixed(Op::Create),
    },
    Syscall {
        nr: 267,
        name: "readlinkat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Readlink),
    },
    Syscall {
        nr: 268,
        name: "fchmodat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 269,
        name: "faccessat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Probe),
    },
    Syscall {
        nr: 280,
        name: "utimensat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 316,
        name: "renameat2",
        paths: &[(Some(0), 1), (Some(2), 3)],
        op: Fixed(Op::Rename),
    },
    Syscall {
        nr: 322,
        name: "execveat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Exec),
    },
    Syscall {
        nr: 332,
        name: "statx",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 437,
        name: "openat2",
        paths: &[(Some(0), 1)],
        op: OpFrom::OpenHow(2),
    },
    Syscall {
        nr: 439,
        name: "faccessat2",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Probe),
    },
    Syscall {
        nr: 452,
        name: "fchmodat2",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 188,
        name: "setxattr",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 189,
        name: "lsetxattr",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 191,
        name: "getxattr",
        paths: &[(None, 0)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 192,
        name: "lgetxattr",
        paths: &[(None, 0)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 194,
        name: "listxattr",
        paths: &[(None, 0)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 195,
        name: "llistxattr",
        paths: &[(None, 0)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 197,
        name: "removexattr",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 198,
        name: "lremovexattr",
        paths: &[(None, 0)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 254,
        name: "inotify_add_watch",
        paths: &[(None, 1)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 261,
        name: "futimesat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 303,
        name: "name_to_handle_at",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 463,
        name: "setxattrat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Write),
    },
    Syscall {
        nr: 464,
        name: "getxattrat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 465,
        name: "listxattrat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Stat),
    },
    Syscall {
        nr: 466,
        name: "removexattrat",
        paths: &[(Some(0), 1)],
        op: Fixed(Op::Write),
    },
];

/// The system calls refused while tracing, with the errno they fail with: io_uring_setup
/// (425) with ENOSYS (38), since a ring would carry file operations past the tracer and
/// programs fall back to plain system calls when it is missing.
pub fn refused_syscalls() -> Vec<(i64, u32)> {
    vec![(425, 38)]
}

/// The system call numbers the tracer stops at.
pub fn traced_syscalls() -> Vec<i64> {
    SYSCALLS.iter().map(|s| s.nr).collect()
}

const AT_FDCWD: i32 = -100;

/// Fold `.`, `..` and repeated slashes without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// The memory of a process stopped in a system call (a tracee, or a seccomp notification's
/// caller), for [`decode_call`].
pub trait CallMemory {
    fn pid(&self) -> i32;
    /// The NUL-terminated string at `addr`.
    fn read_cstring(&self, addr: u64) -> Option<Vec<u8>>;
    fn read_u64(&self, addr: u64) -> Option<u64>;
}

impl CallMemory for cordon_sys::ptrace::Tracee {
    fn pid(&self) -> i32 {
        cordon_sys::ptrace::Tracee::pid(self)
    }
    fn read_cstring(&self, addr: u64) -> Option<Vec<u8>> {
        cordon_sys::ptrace::Tracee::read_cstring(self, addr)
    }
    fn read_u64(&self, addr: u64) -> Option<u64> {
        cordon_sys::ptrace::Tracee::read_u64(self, addr)
    }
}

/// A path argument of a stopped system call, for a backend that checks or rewrites it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathArg {
    /// The argument that holds it.
    pub arg: usize,
    /// Absolute (against the cwd or the dirfd); `..` is kept, to be walked after symlinks.
    pub abs: PathBuf,
    /// Whether the call follows a symlink in the last component.
    pub follow: bool,
}

/// A stopped file system call, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub name: &'static str,
    pub op: Op,
    pub paths: Vec<PathArg>,
}

/// Decode system call `nr` of the stopped `tracee`: its op and its path arguments. Paths
/// that cannot be read or made absolute (a bad pointer, a closed dirfd) are left out: the
/// kernel fails the call by itself.
pub fn decode_call(tracee: &dyn CallMemory, nr: i64, args: [u64; 6]) -> Option<Call> {
    use std::os::unix::ffi::OsStrExt;
    let sc = SYSCALLS.iter().find(|s| s.nr == nr)?;
    let pid = tracee.pid();
    let open_flags = match sc.op {
        OpFrom::OpenFlags(i) => Some(args[i]),
        OpFrom::OpenHow(i) => Some(tracee.read_u64(args[i]).unwrap_or(0)),
        OpFrom::Fixed(_) => None,
    };
    let op = match (sc.op, open_flags) {
        (OpFrom::Fixed(op), _) => op,
        (_, f) => op_of_open_flags(f.unwrap_or(0)),
    };
    const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
    const AT_SYMLINK_FOLLOW: u64 = 0x400;
    const O_NOFOLLOW: u64 = 0o400000;
    const O_CREAT_EXCL: u64 = 0o300;
    const IN_DONT_FOLLOW: u64 = 0x0200_0000;
    let at_flag = |i: usize| args[i] & AT_SYMLINK_NOFOLLOW == 0;
    let paths = sc
        .paths
        .iter()
        .enumerate()
        .filter_map(|(n, &(dirfd, arg))| {
            let follow = match sc.name {
                "open" | "creat" | "openat" | "openat2" => {
                    let f = open_flags.unwrap_or(0);
                    f & O_NOFOLLOW == 0 && f & O_CREAT_EXCL != O_CREAT_EXCL
                }
                "lstat" | "readlink" | "readlinkat" | "unlink" | "unlinkat" | "rmdir" | "mkdir"
                | "mkdirat" | "mknod" | "mknodat" | "symlink" | "symlinkat" | "rename"
                | "renameat" | "renameat2" | "link" | "lchown" | "lsetxattr" | "lgetxattr"
                | "llistxattr" | "lremovexattr" => false,
                "linkat" => n == 0 && args[4] & AT_SYMLINK_FOLLOW != 0,
                "name_to_handle_at" => args[4] & AT_SYMLINK_FOLLOW != 0,
                "newfstatat" | "utimensat" | "faccessat2" | "fchmodat2" => at_flag(3),
                "fchownat" | "execveat" => at_flag(4),
                "statx" => at_flag(2),
                "inotify_add_watch" => args[2] & IN_DONT_FOLLOW == 0,
                "setxattrat" | "getxattrat" | "listxattrat" | "removexattrat" => at_flag(2),
                _ => true,
            };
            let raw = tracee.read_cstring(args[arg])?;
            if raw.is_empty() {
                // AT_EMPTY_PATH: the descriptor itself, opened (and checked) before.
                return None;
            }
            let p = Path::new(std::ffi::OsStr::from_bytes(&raw));
            let abs = if p.is_absolute() {
                p.to_path_buf()
            } else {
                let base = match dirfd {
                    Some(d) if args[d] as i32 != AT_FDCWD => {
                        format!("/proc/{pid}/fd/{}", args[d] as i32)
                    }
                    _ => format!("/proc/{pid}/cwd"),
                };
                std::fs::read_link(base).ok()?.join(p)
            };
            Some(PathArg { arg, abs, follow })
        })
        .collect();
    Some(Call {
        name: sc.name,
        op,
        paths,
    })
}

/// The op of an open with Linux `flags` (numeric).
pub fn op_of_open_flags(flags: u64) -> Op {
    const O_WRONLY: u64 = 0o1;
    const O_RDWR: u64 = 0o2;
    const O_CREAT: u64 = 0o100;
    const O_EXCL: u64 = 0o200;
    const O_TRUNC: u64 = 0o1000;
    const O_PATH: u64 = 0o10000000;
    if flags & O_PATH != 0 {
        Op::Stat
    } else if flags & (O_CREAT | O_EXCL) == (O_CREAT | O_EXCL) {
        Op::Create
    } else if flags & (O_WRONLY | O_RDWR | O_TRUNC | O_CREAT) != 0 {
        Op::Write
    } else {
        Op::Read
    }
}

struct Pending {
    syscall: &'static Syscall,
    op: Op,
    paths: Vec<String>,
    t_ns: u64,
}

/// Writes the trace of one run as JSON Lines.
pub struct TraceWriter<W: Write> {
    out: W,
    start: Instant,
    seq: u64,
    pending: HashMap<i32, Pending>,
    /// Last known program of each live process, for the children it forks.
    procs: HashMap<i32, Process>,
    by_nr: HashMap<i64, &'static Syscall>,
    /// The first write error; the trace stops being written, the command goes on.
    pub error: Option<std::io::Error>,
    /// Whether the end record is written.
    ended: bool,
    /// Flush after this many records (1: every record reaches the file as it is written).
    flush_every: u64,
    /// The traced command's pid, and whether it has executed the command yet.
    root: Option<i32>,
    /// Paths read or executed successfully, for the inputs record.
    consumed: std::collections::BTreeSet<String>,
    /// Leave the end record to [`TraceWriter::finish`] (the caller writes more first).
    defer_end: bool,
    root_started: bool,
    unflushed: u64,
    /// What the sandbox did to an access (path, errno), when the trace is of a sandboxed run.
    verdict: Option<VerdictFn>,
}

/// Decides the verdict of an access from its path and errno.
pub type VerdictFn = Box<dyn Fn(&str, i32) -> Verdict>;

/// The verdicts of a sandboxed run under `plan`: an access that failed the way the plan makes
/// it fail at that path (ENOENT where it hides what the host has, EACCES where it denies) was
/// the sandbox's doing; an access under a redirect was redirected.
pub fn plan_verdicts(plan: &crate::plan::Plan) -> VerdictFn {
    const ENOENT: i32 = cordon_sys::error::Errno::ENOENT as i32;
    const EACCES: i32 = cordon_sys::error::Errno::EACCES as i32;
    let (hidden, denied, redirected) = (
        plan.hidden_paths(),
        plan.denied.clone(),
        plan.redirected.clone(),
    );
    let under = |list: &[PathBuf], path: &str| list.iter().any(|p| Path::new(path).starts_with(p));
    Box::new(move |path, errno| {
        if errno == ENOENT && under(&hidden, path) {
            Verdict::Hidden
        } else if errno == EACCES && under(&denied, path) {
            Verdict::Denied
        } else if under(&redirected, path) {
            Verdict::Redirected
        } else {
            Verdict::Allowed
        }
    })
}

impl<W: Write> TraceWriter<W> {
    /// Start a trace: writes the header.
    pub fn new(mut out: W, header: Record) -> std::io::Result<Self> {
        write_record(&mut out, &header)?;
        Ok(TraceWriter {
            out,
            start: Instant::now(),
            seq: 0,
            pending: HashMap::new(),
            procs: HashMap::new(),
            by_nr: SYSCALLS.iter().map(|s| (s.nr, s)).collect(),
            error: None,
            ended: false,
            verdict: None,
            flush_every: 1,
            unflushed: 0,
            root: None,
            root_started: false,
            consumed: std::collections::BTreeSet::new(),
            defer_end: false,
        })
    }

    /// Flush only every `n` records (a compressed trace: each flush ends a compressed block,
    /// so flushing every record would cost most of the compression).
    pub fn flush_every(mut self, n: u64) -> Self {
        self.flush_every = n.max(1);
        self
    }

    /// Write the end record only in [`TraceWriter::finish`], not when the tracer sees the last
    /// process end: for a caller that adds records after the run (the inputs).
    pub fn defer_end(mut self) -> Self {
        self.defer_end = true;
        self
    }

    /// Judge each access with `f`: for the trace of a sandboxed run.
    pub fn with_verdicts(mut self, f: VerdictFn) -> Self {
        self.verdict = Some(f);
        self
    }

    fn end(&mut self, status: i32) {
        if !self.ended {
            self.ended = true;
            let r = Record::End {
                t_ns: self.now(),
                status,
                events: self.seq,
            };
            self.emit(&r);
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn emit(&mut self, r: &Record) {
        if self.error.is_some() {
            return;
        }
        self.unflushed += 1;
        let flush = self.unflushed >= self.flush_every || matches!(r, Record::End { .. });
        let result = write_line(&mut self.out, r).and_then(|()| {
            if flush {
                self.unflushed = 0;
                self.out.flush()
            } else {
                Ok(())
            }
        });
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// The last line: the command's status.
    pub fn finish(mut self, status: i32) -> std::io::Result<W> {
        self.end(status);
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }

    /// Write the inputs record: each regular file consumed, with its digest and, through
    /// `owner`, its package. Call after the run, before [`TraceWriter::finish`].
    pub fn write_inputs(&mut self, owner: impl Fn(&str) -> Option<String>) {
        let files = std::mem::take(&mut self.consumed)
            .into_iter()
            .filter(|p| std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false))
            .filter_map(|p| {
                let (size, digest) = crate::trace::digest_file(Path::new(&p))?;
                let owner = owner(&p);
                Some(crate::trace::InputFile {
                    path: p,
                    size,
                    digest,
                    owner,
                })
            })
            .collect();
        self.emit(&Record::Inputs { files });
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.seq
    }

    fn read_process(&self, pid: i32, ppid: i32) -> Process {
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        let link = |name: &str| {
            std::fs::read_link(proc_dir.join(name))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let argv = std::fs::read(proc_dir.join("cmdline"))
            .map(|b| {
                b.split(|&c| c == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let env = std::fs::read(proc_dir.join("environ"))
            .map(|b| {
                b.split(|&c| c == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| crate::trace::redact(&String::from_utf8_lossy(s)))
                    .collect()
            })
            .unwrap_or_default();
        Process {
            pid,
            ppid,
            exe: link("exe"),
            argv,
            cwd: link("cwd"),
            start_ns: self.now(),
            env,
        }
    }

    fn resolve(&self, pid: i32, dirfd: Option<i32>, raw: &[u8]) -> String {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(raw));
        let full = if p.is_absolute() {
            p.to_path_buf()
        } else {
            let base = match dirfd {
                Some(fd) if fd != AT_FDCWD => format!("/proc/{pid}/fd/{fd}"),
                _ => format!("/proc/{pid}/cwd"),
            };
            match std::fs::read_link(base) {
                Ok(dir) => dir.join(p),
                // No /proc to ask (a sandbox without one): keep it relative, which the
                // analysis reports as unresolved rather than guessing.
                Err(_) => return p.to_string_lossy().into_owned(),
            }
        };
        normalize(&full).to_string_lossy().into_owned()
    }
}

fn write_line<W: Write>(out: &mut W, r: &Record) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(r).map_err(std::io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)
}

fn write_record<W: Write>(out: &mut W, r: &Record) -> std::io::Result<()> {
    write_line(out, r)?;
    out.flush()
}

/// A trace file's sink: plain JSON Lines, or zstd-compressed when the name ends in `.zst`
/// (about a tenth of the size; each flush ends a compressed block, so a killed run still
/// leaves a readable prefix).
pub enum Sink {
    Plain(std::io::BufWriter<std::fs::File>),
    /// The encoder, and whether its frame is finished.
    Zstd(zstd::stream::write::Encoder<'static, std::fs::File>, bool),
}

impl Sink {
    /// Create `path`, compressed when it ends in `.zst`.
    pub fn create(path: &Path) -> std::io::Result<Sink> {
        let file = std::fs::File::create(path)?;
        if path.extension().is_some_and(|e| e == "zst") {
            Ok(Sink::Zstd(
                zstd::stream::write::Encoder::new(file, 3)?,
                false,
            ))
        } else {
            Ok(Sink::Plain(std::io::BufWriter::new(file)))
        }
    }

    pub fn is_compressed(&self) -> bool {
        matches!(self, Sink::Zstd(..))
    }

    /// End the compressed frame (once); a plain sink is only flushed.
    pub fn finish_frame(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Zstd(w, done) if !*done => {
                *done = true;
                w.do_finish()
            }
            Sink::Zstd(..) => Ok(()),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Zstd(w, _) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Zstd(w, _) => w.flush(),
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Finish the zstd frame on a normal end; a killed run leaves flushed blocks.
        let _ = self.finish_frame();
    }
}

/// Read a trace file, plain or zstd-compressed. A compressed trace cut short (a killed run)
/// yields what its complete blocks hold, with a warning.
pub fn read_trace_file(path: &Path) -> Result<(Vec<Record>, Vec<String>), String> {
    use std::io::Read;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the trace: {e}"))?;
    let mut extra = Vec::new();
    let bytes = if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let mut dec = zstd::stream::read::Decoder::new(&bytes[..])
            .map_err(|e| format!("not a readable compressed trace: {e}"))?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match dec.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => {
                    extra
                        .push("the compressed trace ends mid-block (the run was cut short)".into());
                    break;
                }
            }
        }
        out
    } else {
        bytes
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "not a cordon trace (not UTF-8 text at byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let (records, mut warnings) = read_trace(&text)?;
    warnings.extend(extra);
    Ok((records, warnings))
}

#[cfg(target_arch = "x86_64")]
impl TraceWriter<Sink> {
    /// Note the system call `tracee` is about to make, completed by its exit.
    pub fn record_entry(&mut self, tracee: &cordon_sys::ptrace::Tracee, nr: i64, args: [u64; 6]) {
        let Some(sc) = self.by_nr.get(&nr).copied() else {
            return;
        };
        let pid = tracee.pid();
        let op = match sc.op {
            OpFrom::Fixed(op) => op,
            OpFrom::OpenFlags(i) => op_of_open_flags(args[i]),
            OpFrom::OpenHow(i) => op_of_open_flags(tracee.read_u64(args[i]).unwrap_or(0)),
        };
        let paths = sc
            .paths
            .iter()
            .filter_map(|&(dirfd, arg)| {
                let raw = tracee.read_cstring(args[arg])?;
                // An empty path with AT_EMPTY_PATH names the descriptor itself.
                if raw.is_empty() {
                    let fd = dirfd.map(|d| args[d] as i32)?;
                    return std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
                        .ok()
                        .map(|p| p.to_string_lossy().into_owned());
                }
                Some(self.resolve(pid, dirfd.map(|d| args[d] as i32), &raw))
            })
            .collect();
        let t_ns = self.now();
        self.pending.insert(
            pid,
            Pending {
                syscall: sc,
                op,
                paths,
                t_ns,
            },
        );
    }
}

impl cordon_sys::ptrace::Observer for TraceWriter<Sink> {
    fn spawned(&mut self, pid: i32, parent: i32) {
        if parent == 0 {
            // The traced command itself, still cordon's own process until its exec: its
            // record comes with the exec.
            self.root = Some(pid);
            self.procs.insert(pid, self.read_process(pid, 0));
            return;
        }
        // The child's own exec can be seen before its parent's fork event: keep what the
        // exec recorded, and only learn the parent.
        if let Some(known) = self.procs.get_mut(&pid) {
            known.ppid = parent;
            let p = known.clone();
            self.emit(&Record::Process(p));
            return;
        }
        let mut p = match self.procs.get(&parent) {
            // A forked child runs its parent's program with its parent's environment until
            // it executes another: the environment is recorded at the exec.
            Some(parent_proc) => Process {
                pid,
                ppid: parent,
                start_ns: self.now(),
                env: Vec::new(),
                ..parent_proc.clone()
            },
            None => self.read_process(pid, parent),
        };
        p.ppid = parent;
        self.procs.insert(pid, p.clone());
        self.emit(&Record::Process(p));
    }

    fn executed(&mut self, pid: i32) {
        if self.root == Some(pid) {
            self.root_started = true;
        }
        let ppid = self.procs.get(&pid).map(|p| p.ppid).unwrap_or(0);
        let p = self.read_process(pid, ppid);
        self.procs.insert(pid, p.clone());
        self.emit(&Record::Process(p));
    }

    fn entry(
        &mut self,
        tracee: &cordon_sys::ptrace::Tracee,
        nr: i64,
        args: [u64; 6],
    ) -> cordon_sys::ptrace::Action {
        self.record_entry(tracee, nr, args);
        cordon_sys::ptrace::Action::Continue
    }

    fn exit(&mut self, pid: i32, ret: i64) {
        let Some(p) = self.pending.remove(&pid) else {
            return;
        };
        // Before the command's exec, the accesses are cordon's own (its chdir, its search of
        // PATH): not the command's.
        if self.root == Some(pid) && !self.root_started {
            return;
        }
        let errno = if (-4095..0).contains(&ret) {
            -ret as i32
        } else {
            0
        };
        for (i, path) in p.paths.into_iter().enumerate() {
            // rename's first path is the source; its second the destination.
            let op = if p.op == Op::Rename && i == 0 {
                Op::Delete
            } else if p.op == Op::Rename {
                Op::Create
            } else {
                p.op
            };
            self.seq += 1;
            let verdict = match &self.verdict {
                Some(f) => f(&path, errno),
                None => Verdict::Allowed,
            };
            let ev = Event {
                seq: self.seq,
                t_ns: p.t_ns,
                pid,
                op,
                path,
                errno,
                verdict,
                syscall: p.syscall.name.to_string(),
            };
            // Only a caller that writes the inputs record afterwards needs them.
            if self.defer_end && errno == 0 && matches!(op, Op::Read | Op::Exec) {
                self.consumed.insert(ev.path.clone());
            }
            self.emit(&Record::Event(ev));
        }
    }

    fn finished(&mut self, status: i32) {
        if self.defer_end {
            return;
        }
        self.end(status);
        // In a sandbox the tracer is the init, which leaves with _exit: end the frame now.
        if let Err(e) = self.out.finish_frame() {
            self.error.get_or_insert(e);
        }
    }

    fn ended(&mut self, pid: i32, status: i32) {
        // A pending execve that never returned: the process was replaced and ended.
        self.pending.remove(&pid);
        self.procs.remove(&pid);
        let r = Record::Exit {
            pid,
            t_ns: self.now(),
            status,
        };
        self.emit(&r);
    }
}

/// Read a trace file: every complete record, in order. A truncated last line (a killed run)
/// is dropped with a warning; anything else that does not parse is an error naming the line.
pub fn read_trace(text: &str) -> Result<(Vec<Record>, Vec<String>), String> {
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            // The last line without its newline: the tracer was killed mid-write.
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => warnings.push(format!(
                "line {}: incomplete last record dropped (the trace was cut short)",
                i + 1
            )),
            Err(e) => return Err(format!("line {}: not a trace record: {e}", i + 1)),
        }
    }
    match records.first() {
        Some(Record::Header { schema_version, .. })
            if *schema_version == crate::trace::SCHEMA_VERSION => {}
        Some(Record::Header { schema_version, .. }) => {
            return Err(format!(
                "line 1: trace schema version {schema_version}, this cordon reads version {}",
                crate::trace::SCHEMA_VERSION
            ))
        }
        _ => return Err("line 1: not a cordon trace (no header record)".into()),
    }
    if !records.iter().any(|r| matches!(r, Record::End { .. })) {
        warnings.push(
            "the trace has no end record: the traced run was killed or is still running".into(),
        );
    }
    Ok((records, warnings))
}
