//! Importer for dtruss logs (macOS, DTrace): `sudo dtruss -f cmd 2> log`.
//!
//! # The format
//! One line a completed call: with `-f` (or `-p`), the process id and the thread id in hex;
//! with `-d`, `-e`, `-o` numeric columns (times, which are skipped); then the call, its
//! arguments, the result and the errno:
//!
//! ```text
//!  4103/0x2f1c5:  open("/Users/u/.gitconfig\0", 0x1000000, 0x0)     = 3 0
//!  4103/0x2f1c5:  open("/etc/gitconfig\0", 0x1000000, 0x0)          = -1 Err#2
//!  4102/0x2f1b2:  fork()                                             = 4103 0
//! ```
//!
//! (dtruss puts two tabs before the `=`.) Strings are DTrace's `%S`: quoted, with C escapes,
//! and with the terminating `\0` shown. Numbers are hex (`0x1B6`) or decimal. A failure is
//! `= -1 Err#N`, N a macOS errno
//! (translated to cordon's numbering). Only some calls print their path as a string (open,
//! stat64, lstat64, access, readlink, execve, chdir, unlink, mkdir, rename, getattrlist...;
//! newer dtruss also openat, fstatat, faccessat, readlinkat, mkdirat, unlinkat, renameat); a
//! call whose path argument is a bare pointer is skipped. Header lines (`PID/THRD ...`),
//! `dtrace:` messages, `UNEXPECTED RETURN` lines, `-s` stack frames and the `-c` counts are
//! skipped; a `dtrace: error ...` line (a lost event) becomes a warning.
//!
//! # Processes
//! With `-f`, a child's first line is `fork() = 0 0` and the parent's `fork()` or `vfork()`
//! returns the child's pid: that is its parent. `posix_spawn` prints no child pid: a child not
//! claimed by a fork is taken as the child of the oldest successful `posix_spawn` not yet
//! matched (and given back if a fork claims it later). The first pid seen is the traced
//! command. Without `-f`/`-p` no pids are printed and everything is pid 1. argv is not
//! printed: an exec'd process's argv is its program's file name.
//!
//! # Gaps
//! No working directory and no times are printed (`-d` is on-CPU time): relative paths stay
//! relative unless a `chdir` was seen, and events carry time 0, in log order. DTrace drops
//! events under load and cuts strings at its `strsize`.

use std::collections::{HashMap, HashSet, VecDeque};

use super::{op_of_flags_text, Builder, ImportError};
use crate::trace::Op;

/// The pid used when dtruss printed none (run without -f or -p).
const NO_PID: i32 = 1;

/// macOS's `AT_FDCWD`.
const DARWIN_AT_FDCWD: i64 = -2;

/// An argument as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    /// A `"..."` string, unescaped, up to its `\0`.
    Str(String),
    /// Anything else, trimmed.
    Raw(String),
}

/// One call line, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    pid: Option<i32>,
    name: String,
    args: Vec<Arg>,
    ret: i64,
    /// macOS errno, 0 on success.
    errno: i32,
}

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parsed {
    /// Blank, a header, a dtrace notice, a stack frame: nothing to import.
    Skip,
    /// A `dtrace:` error: events were lost.
    Lost(String),
    /// The `CALL COUNT` header of the `-c` summary.
    Counts,
    Call(Call),
}

/// What a call does, and where its paths are: (dirfd argument, path argument).
#[derive(Debug, Clone, Copy)]
struct Spec {
    paths: &'static [(Option<usize>, usize)],
    how: How,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Open flags in this argument.
    Open(usize),
    Fixed(Op),
    /// First path the source (deleted), second the target (created).
    Rename,
    Exec,
    Spawn,
    Chdir,
    Fchdir,
    Close,
    Fork,
}

fn spec(name: &str) -> Option<Spec> {
    const P0: &[(Option<usize>, usize)] = &[(None, 0)];
    const P1: &[(Option<usize>, usize)] = &[(None, 1)];
    const AT: &[(Option<usize>, usize)] = &[(Some(0), 1)];
    const P01: &[(Option<usize>, usize)] = &[(None, 0), (None, 1)];
    const AT2: &[(Option<usize>, usize)] = &[(Some(0), 1), (Some(2), 3)];
    const SYMLINKAT: &[(Option<usize>, usize)] = &[(Some(1), 2)];
    const NONE: &[(Option<usize>, usize)] = &[];
    let name = name.strip_suffix("_nocancel").unwrap_or(name);
    let (paths, how) = match name {
        "open" | "open_extended" | "open_dprotected_np" => (P0, How::Open(1)),
        "guarded_open_np" | "guarded_open_dprotected_np" => (P0, How::Open(3)),
        "openat" | "openat_dprotected_np" => (AT, How::Open(2)),
        "stat" | "stat64" | "lstat" | "lstat64" | "stat_extended" | "lstat_extended"
        | "stat64_extended" | "lstat64_extended" | "statfs" | "statfs64" | "pathconf"
        | "getattrlist" | "getxattr" | "listxattr" => (P0, How::Fixed(Op::Stat)),
        "fstatat" | "fstatat64" | "getattrlistat" => (AT, How::Fixed(Op::Stat)),
        "access" => (P0, How::Fixed(Op::Probe)),
        "faccessat" => (AT, How::Fixed(Op::Probe)),
        "readlink" => (P0, How::Fixed(Op::Readlink)),
        "readlinkat" => (AT, How::Fixed(Op::Readlink)),
        "execve" | "__mac_execve" => (P0, How::Exec),
        "posix_spawn" => (P1, How::Spawn),
        "chdir" | "pthread_chdir" => (P0, How::Chdir),
        "fchdir" | "pthread_fchdir" => (NONE, How::Fchdir),
        "close" | "guarded_close_np" => (NONE, How::Close),
        "fork" | "vfork" | "__fork" => (NONE, How::Fork),
        "unlink" | "rmdir" => (P0, How::Fixed(Op::Delete)),
        "unlinkat" => (AT, How::Fixed(Op::Delete)),
        "rename" => (P01, How::Rename),
        "renameat" | "renameatx_np" => (AT2, How::Rename),
        "mkdir" | "mkfifo" | "mknod" => (P0, How::Fixed(Op::Create)),
        "mkdirat" | "mkfifoat" | "mknodat" => (AT, How::Fixed(Op::Create)),
        "symlink" => (P1, How::Fixed(Op::Create)),
        "symlinkat" => (SYMLINKAT, How::Fixed(Op::Create)),
        "link" => (P01, How::Fixed(Op::Create)),
        "linkat" => (AT2, How::Fixed(Op::Create)),
        "chmod" | "chown" | "lchown" | "utimes" | "lutimes" | "truncate" | "chflags"
        | "setxattr" | "removexattr" | "setattrlist" => (P0, How::Fixed(Op::Write)),
        "fchmodat" | "fchownat" | "utimensat" => (AT, How::Fixed(Op::Write)),
        _ => return None,
    };
    Some(Spec { paths, how })
}

/// Parse dtruss output into `b`.
pub fn parse(inputs: &[(String, String)], b: &mut Builder) -> Result<(), ImportError> {
    let mut st = State::default();
    for (file, text) in inputs {
        st.counts = false;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            if st.counts {
                if is_count_line(raw) {
                    continue;
                }
                st.counts = false;
            }
            match parse_line(raw) {
                Ok(Parsed::Skip) => {}
                Ok(Parsed::Lost(msg)) => {
                    b.warn(file, line_no, format!("dtrace lost events: {msg}"))
                }
                Ok(Parsed::Counts) => st.counts = true,
                Ok(Parsed::Call(call)) => {
                    st.recognised += 1;
                    st.apply(b, call);
                }
                Err(why) => b.warn(file, line_no, format!("{why}: {}", excerpt(raw))),
            }
        }
    }
    if st.recognised == 0 {
        return Err(ImportError {
            file: inputs.first().map(|(n, _)| n.clone()).unwrap_or_default(),
            message: "no dtruss lines found (expected `dtruss -f` output: \
                      `PID/0xTID:  call(args) = ret errno`)"
                .into(),
        });
    }
    Ok(())
}

#[derive(Debug, Default)]
struct State {
    recognised: usize,
    /// Inside the `-c` summary.
    counts: bool,
    root: Option<i32>,
    seen: HashSet<i32>,
    /// Processes whose parent is known (or that are the root).
    linked: HashSet<i32>,
    /// New processes no fork has claimed yet, oldest first.
    orphans: VecDeque<i32>,
    /// Successful posix_spawns not matched to a child yet: (spawner, program if printed).
    spawners: VecDeque<(i32, Option<String>)>,
    /// Children matched to a posix_spawn (by inference), with that spawn.
    inferred: HashMap<i32, (i32, Option<String>)>,
}

impl State {
    /// Make `pid` known; a new one that is not the first waits for a parent.
    fn see(&mut self, b: &mut Builder, pid: i32) {
        if !self.seen.insert(pid) {
            return;
        }
        b.process(pid, 0, 0);
        if self.root.is_none() {
            self.root = Some(pid);
            self.linked.insert(pid);
        } else if !self.linked.contains(&pid) {
            self.orphans.push_back(pid);
            if self.orphans.len() > 256 {
                self.orphans.pop_front();
            }
            self.match_spawns(b);
        }
    }

    /// A fork or vfork of `parent` returned `child`.
    fn forked(&mut self, b: &mut Builder, child: i32, parent: i32) {
        if child == parent || Some(child) == self.root {
            return;
        }
        if self.linked.contains(&child) && !self.inferred.contains_key(&child) {
            // Already claimed (vfork prints its return twice).
            return;
        }
        if let Some(spawn) = self.inferred.remove(&child) {
            // The guess was wrong: the spawn still waits for its child.
            self.spawners.push_front(spawn);
        }
        self.orphans.retain(|o| *o != child);
        let existed = !self.seen.insert(child);
        self.linked.insert(child);
        b.spawned(child, parent, 0);
        if existed {
            inherit_cwd(b, child, parent);
        }
        self.match_spawns(b);
    }

    fn match_spawns(&mut self, b: &mut Builder) {
        while let Some((spawner, _)) = self.spawners.front() {
            let spawner = *spawner;
            let Some(i) = self.orphans.iter().position(|o| *o != spawner) else {
                break;
            };
            let (Some(child), Some(spawn)) = (self.orphans.remove(i), self.spawners.pop_front())
            else {
                break;
            };
            b.spawned(child, spawner, 0);
            inherit_cwd(b, child, spawner);
            if let Some(exe) = &spawn.1 {
                b.executed(child, exe, vec![basename(exe).to_string()], 0);
            }
            self.linked.insert(child);
            self.inferred.insert(child, spawn);
        }
    }

    fn apply(&mut self, b: &mut Builder, c: Call) {
        let pid = c.pid.unwrap_or(NO_PID);
        self.see(b, pid);
        let Some(spec) = spec(&c.name) else {
            return;
        };
        let errno = errno_from_darwin(c.errno);
        let name = c.name.as_str();
        match spec.how {
            How::Fork => {
                if let (Ok(child), 0) = (i32::try_from(c.ret), errno) {
                    if child > 0 {
                        self.forked(b, child, pid);
                    }
                }
                return;
            }
            How::Close => {
                if let (Some(fd), 0) = (c.args.first().and_then(int_of), errno) {
                    b.set_fd(pid, fd, None);
                }
                return;
            }
            How::Fchdir => {
                if let (Some(fd), 0) = (c.args.first().and_then(int_of), errno) {
                    let dir = b.absolute(pid, Some(fd), ".");
                    if dir.starts_with('/') {
                        b.event(pid, 0, Op::Chdir, None, &dir, 0, name);
                        b.set_cwd(pid, &dir);
                    }
                }
                return;
            }
            _ => {}
        }
        // The paths the line shows (older dtruss prints some as bare pointers).
        let paths: Vec<(Option<i64>, String)> = spec
            .paths
            .iter()
            .filter_map(|&(dirfd, arg)| {
                let Some(Arg::Str(path)) = c.args.get(arg) else {
                    return None;
                };
                let dirfd = dirfd
                    .and_then(|i| c.args.get(i))
                    .and_then(int_of)
                    .filter(|fd| *fd != DARWIN_AT_FDCWD);
                (!path.is_empty()).then(|| (dirfd, path.clone()))
            })
            .collect();
        if spec.how == How::Spawn && errno == 0 && c.ret == 0 {
            let exe = paths.first().map(|(d, p)| b.absolute(pid, *d, p));
            self.spawners.push_back((pid, exe));
            if self.spawners.len() > 256 {
                self.spawners.pop_front();
            }
            self.match_spawns(b);
        }
        for (i, (dirfd, path)) in paths.iter().enumerate() {
            let op = match spec.how {
                How::Open(flags) => {
                    let flags = c.args.get(flags).and_then(int_of).unwrap_or(0);
                    op_of_flags_text(&flag_names(flags))
                }
                How::Fixed(op) => op,
                How::Rename if i == 0 => Op::Delete,
                How::Rename => Op::Create,
                How::Exec | How::Spawn => Op::Exec,
                How::Chdir => Op::Chdir,
                How::Fchdir | How::Close | How::Fork => continue,
            };
            b.event(pid, 0, op, *dirfd, path, errno, name);
            if errno != 0 {
                continue;
            }
            match spec.how {
                How::Open(_) if c.ret >= 0 => {
                    let abs = b.absolute(pid, *dirfd, path);
                    b.set_fd(pid, c.ret, Some(&abs));
                }
                How::Exec => {
                    let exe = b.absolute(pid, *dirfd, path);
                    b.executed(pid, &exe, vec![basename(&exe).to_string()], 0);
                }
                How::Chdir => {
                    let dir = b.absolute(pid, *dirfd, path);
                    b.set_cwd(pid, &dir);
                }
                _ => {}
            }
        }
    }
}

/// A child first seen before its parent was known starts in the parent's directory (a child
/// made known after the link inherits it in the builder).
fn inherit_cwd(b: &mut Builder, child: i32, parent: i32) {
    let parent_cwd = b.process(parent, 0, 0);
    if b.process(child, 0, 0).is_empty() && !parent_cwd.is_empty() {
        b.set_cwd(child, &parent_cwd);
    }
}

/// macOS open flags as `O_` names, for [`op_of_flags_text`].
fn flag_names(flags: i64) -> String {
    const O_WRONLY: i64 = 0x1;
    const O_RDWR: i64 = 0x2;
    const O_APPEND: i64 = 0x8;
    const O_CREAT: i64 = 0x200;
    const O_TRUNC: i64 = 0x400;
    const O_EXCL: i64 = 0x800;
    /// For event notifications only: no data is read (as Linux's O_PATH).
    const O_EVTONLY: i64 = 0x8000;
    let mut names = vec![if flags & O_RDWR != 0 {
        "O_RDWR"
    } else if flags & O_WRONLY != 0 {
        "O_WRONLY"
    } else {
        "O_RDONLY"
    }];
    for (bit, name) in [
        (O_APPEND, "O_APPEND"),
        (O_CREAT, "O_CREAT"),
        (O_TRUNC, "O_TRUNC"),
        (O_EXCL, "O_EXCL"),
        (O_EVTONLY, "O_PATH"),
    ] {
        if flags & bit != 0 {
            names.push(name);
        }
    }
    names.join("|")
}

/// A numeric argument (`0x1B6`, `0xFFFFFFFE`, `3`, `-2`); a 32-bit hex value is sign-extended
/// (dtruss prints an `int` fd of -2 as `0xFFFFFFFE`).
fn int_of(arg: &Arg) -> Option<i64> {
    let Arg::Raw(s) = arg else {
        return None;
    };
    parse_int(s)
}

fn parse_int(s: &str) -> Option<i64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        let v = u64::from_str_radix(hex, 16).ok()?;
        Some(match u32::try_from(v) {
            Ok(v32) => i64::from(v32 as i32),
            Err(_) => v as i64,
        })
    } else {
        s.parse::<i64>().ok()
    }
}

/// A `-c` summary line: `open   12` (or `syscall  open  12`).
fn is_count_line(raw: &str) -> bool {
    let toks: Vec<&str> = raw.split_whitespace().collect();
    match toks.split_last() {
        Some((last, names)) => {
            !names.is_empty()
                && names.len() <= 2
                && last.bytes().all(|c| c.is_ascii_digit())
                && names
                    .iter()
                    .all(|n| n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
        }
        None => true,
    }
}

/// One line: a call, or something to skip, or `Err` for what dtruss does not print.
fn parse_line(raw: &str) -> Result<Parsed, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(Parsed::Skip);
    }
    if s.starts_with("PID/") || s.contains("SYSCALL(args)") {
        return Ok(Parsed::Skip);
    }
    if let Some(msg) = s.strip_prefix("dtrace:") {
        let msg = msg.trim();
        return Ok(if msg.starts_with("error") || msg.contains("drops") {
            Parsed::Lost(msg.chars().take(120).collect())
        } else {
            Parsed::Skip
        });
    }
    if s.starts_with("UNEXPECTED RETURN:") {
        return Ok(Parsed::Skip);
    }
    if s.starts_with("CALL") && s.contains("COUNT") {
        return Ok(Parsed::Counts);
    }
    // A `-s` stack frame: `libsystem_kernel.dylib`__open+0xa`, or a bare address.
    if (s.contains('`') && !s.contains('(')) || (s.starts_with("0x") && !s.contains(' ')) {
        return Ok(Parsed::Skip);
    }
    let (pid, rest) = match prefix(s)? {
        Some((pid, rest)) => (Some(pid), rest),
        None => (None, s),
    };
    // `-d`, `-e`, `-o` columns.
    let mut rest = rest.trim_start();
    loop {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let tok = rest.get(..end).unwrap_or("");
        if !tok.is_empty() && tok.bytes().all(|c| c.is_ascii_digit()) && end < rest.len() {
            rest = rest.get(end..).unwrap_or("").trim_start();
        } else {
            break;
        }
    }
    let name_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let name = rest.get(..name_end).unwrap_or("");
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("not a dtruss line".into());
    }
    let after_name = rest.get(name_end..).unwrap_or("");
    let Some(args_text) = after_name.strip_prefix('(') else {
        return Err("not a dtruss line (no argument list)".into());
    };
    let (args, after) = parse_args(args_text)?;
    let after = after
        .trim_start()
        .strip_prefix('=')
        .ok_or("no result (`= ret errno`): cut short?")?;
    let mut res = after.split_whitespace();
    let ret_tok = res.next().ok_or("no return value")?;
    let ret = parse_int(ret_tok).ok_or_else(|| format!("bad return value `{ret_tok}`"))?;
    let err_tok = res.next().ok_or("no errno after the return value")?;
    let errno = match err_tok.strip_prefix("Err#") {
        Some(n) => n.parse::<i32>().ok(),
        None => err_tok.parse::<i32>().ok(),
    }
    .ok_or_else(|| format!("bad errno `{err_tok}`"))?;
    if res.next().is_some() {
        return Err("unexpected text after the errno".into());
    }
    Ok(Parsed::Call(Call {
        pid,
        name: name.to_string(),
        args,
        ret,
        errno,
    }))
}

/// `4103/0x2f1c5:` (or `4103/12345:`): the pid and the rest of the line; `Ok(None)` when the
/// line has no such prefix.
fn prefix(s: &str) -> Result<Option<(i32, &str)>, String> {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let Some(after) = s.get(digits..).and_then(|a| a.strip_prefix('/')) else {
        return Ok(None);
    };
    if digits == 0 {
        return Ok(None);
    }
    let Some((tid, rest)) = after.split_once(':') else {
        return Ok(None);
    };
    let tid_ok = match tid.strip_prefix("0x") {
        Some(h) => !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()),
        None => !tid.is_empty() && tid.bytes().all(|c| c.is_ascii_digit()),
    };
    if !tid_ok {
        return Ok(None);
    }
    let pid = s
        .get(..digits)
        .and_then(|p| p.parse::<i32>().ok())
        .ok_or("process id out of range")?;
    Ok(Some((pid, rest)))
}

/// The arguments after `(`, up to the matching `)`; returns them and the text after it.
fn parse_args(s: &str) -> Result<(Vec<Arg>, &str), String> {
    let mut args = Vec::new();
    let mut raw = String::new();
    let mut string: Option<Vec<u8>> = None;
    let mut strings = 0usize;
    let mut depth = 0usize;
    let mut chars = s.char_indices().peekable();
    let finish = |raw: &mut String, string: &mut Option<Vec<u8>>, strings: &mut usize| {
        let text = raw.trim().to_string();
        let arg = match (string.take(), *strings, text.is_empty()) {
            (Some(bytes), 1, true) => Some(Arg::Str(String::from_utf8_lossy(&bytes).into_owned())),
            (_, 0, true) => None,
            (_, _, _) => Some(Arg::Raw(text)),
        };
        raw.clear();
        *strings = 0;
        arg
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                strings += 1;
                let mut bytes = Vec::new();
                let mut ended = false;
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            let Some((_, e)) = chars.next() else {
                                break;
                            };
                            let byte = match e {
                                'n' => b'\n',
                                't' => b'\t',
                                'r' => b'\r',
                                'a' => 7,
                                'b' => 8,
                                'f' => 12,
                                'v' => 11,
                                'e' => 27,
                                '0'..='7' => {
                                    let mut v = e.to_digit(8).unwrap_or(0);
                                    for _ in 0..2 {
                                        match chars.peek().and_then(|(_, d)| d.to_digit(8)) {
                                            Some(d) => {
                                                v = v * 8 + d;
                                                chars.next();
                                            }
                                            None => break,
                                        }
                                    }
                                    (v & 0xff) as u8
                                }
                                other => {
                                    if !ended {
                                        let mut buf = [0u8; 4];
                                        bytes.extend_from_slice(
                                            other.encode_utf8(&mut buf).as_bytes(),
                                        );
                                    }
                                    continue;
                                }
                            };
                            // The string ends at its NUL (what follows is not the path).
                            if byte == 0 {
                                ended = true;
                            } else if !ended {
                                bytes.push(byte);
                            }
                        }
                        other => {
                            if !ended {
                                let mut buf = [0u8; 4];
                                bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                            }
                        }
                    }
                }
                if !closed {
                    return Err("unterminated string argument".into());
                }
                if string.is_none() {
                    string = Some(bytes);
                }
            }
            '(' | '[' => {
                depth += 1;
                raw.push(c);
            }
            ')' if depth == 0 => {
                if let Some(arg) = finish(&mut raw, &mut string, &mut strings) {
                    args.push(arg);
                }
                return Ok((args, s.get(i + 1..).unwrap_or("")));
            }
            ')' | ']' => {
                depth = depth.saturating_sub(1);
                raw.push(c);
            }
            ',' if depth == 0 => {
                let arg = finish(&mut raw, &mut string, &mut strings)
                    .unwrap_or_else(|| Arg::Raw(String::new()));
                args.push(arg);
            }
            _ => raw.push(c),
        }
    }
    Err("unterminated argument list: cut short?".into())
}

/// A macOS errno in cordon's (Linux) numbering, where the two differ.
pub(super) fn errno_from_darwin(n: i32) -> i32 {
    match n {
        11 => 35,  // EDEADLK
        35 => 11,  // EAGAIN
        36 => 115, // EINPROGRESS
        37 => 114, // EALREADY
        45 => 95,  // ENOTSUP
        62 => 40,  // ELOOP
        63 => 36,  // ENAMETOOLONG
        66 => 39,  // ENOTEMPTY
        69 => 122, // EDQUOT
        70 => 116, // ESTALE
        78 => 38,  // ENOSYS
        93 => 61,  // ENOATTR, as ENODATA
        102 => 95, // EOPNOTSUPP
        n => n,
    }
}

/// The file name of a path.
pub(super) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The start of a line, quoted, for a warning.
pub(super) fn excerpt(line: &str) -> String {
    let t = line.trim();
    let mut s: String = t.chars().take(60).collect();
    if t.chars().nth(60).is_some() {
        s.push('…');
    }
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{events, prefixes_and_mutations, procs};
    use crate::import::{import, Format, Imported};
    use crate::trace::{Event, Record};

    const POISONED: &str = include_str!("../../tests/fixtures/import/dtruss-poisoned.log");
    const GARBAGE: &str = include_str!("../../tests/fixtures/import/dtruss-garbage.log");

    fn run(name: &str, text: &str) -> Result<Imported, ImportError> {
        import(Format::Dtruss, &[(name.to_string(), text.to_string())])
    }

    fn at<'a>(imp: &'a Imported, path: &str) -> Vec<&'a Event> {
        events(imp).into_iter().filter(|e| e.path == path).collect()
    }

    /// The pid of the successful read of `path`.
    fn reader(imp: &Imported, path: &str) -> i32 {
        let ev = at(imp, path);
        ev.iter()
            .find(|e| e.op == Op::Read && e.errno == 0)
            .unwrap_or_else(|| panic!("no successful read of {path}: {ev:?}"))
            .pid
    }

    fn exe_name(imp: &Imported, pid: i32) -> String {
        procs(imp)
            .get(&pid)
            .map(|p| basename(&p.exe).to_string())
            .unwrap_or_default()
    }

    #[test]
    fn poisoned_fixture_imports_with_pids_and_parents() {
        let imp = run("dtruss-poisoned.log", POISONED).expect("imports");
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        let p = procs(&imp);
        let expect = [
            ("/Users/u/.gitconfig", 4103, "git", 4102),
            ("/Users/u/.leakrc", 4105, "leakprobe", 4102),
            (
                "/Users/u/.cmake/packages/Poison/0123abcd",
                4106,
                "cmake",
                4102,
            ),
            (
                "/Users/u/.local/lib/python3.11/site-packages/leak.pth",
                4107,
                "python3.11",
                4102,
            ),
            (
                "/Users/u/Library/Python/3.11/lib/python/site-packages/leak.pth",
                4107,
                "python3.11",
                4102,
            ),
            // The cc1: posix_spawn prints no program, so only its parent is known.
            ("/usr/local/include/zlib.h", 4109, "", 4108),
            (
                "/Library/Developer/CommandLineTools/SDKs/MacOSX.sdk/usr/include/stdio.h",
                4109,
                "",
                4108,
            ),
        ];
        for (path, pid, name, ppid) in expect {
            assert_eq!(reader(&imp, path), pid, "reader of {path}");
            assert_eq!(exe_name(&imp, pid), name, "program of {pid}");
            assert_eq!(p[&pid].ppid, ppid, "parent of {pid}");
        }
        // make (the root) > sh (vfork) > the children (fork); clang > cc1 (posix_spawn).
        assert_eq!(
            (p[&4101].ppid, p[&4102].ppid, p[&4108].ppid),
            (0, 4101, 4102)
        );
        assert_eq!(exe_name(&imp, 4102), "sh");
        assert_eq!(exe_name(&imp, 4108), "clang");
        match &imp.records[0] {
            Record::Header { gaps, tracer, .. } => {
                assert!(tracer.contains("dtruss"));
                assert!(gaps.iter().any(|g| g.contains("dtruss")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn failures_carry_their_errno() {
        let imp = run("dtruss-poisoned.log", POISONED).expect("imports");
        let etc = at(&imp, "/etc/gitconfig");
        assert_eq!(etc.len(), 1);
        assert_eq!((etc[0].op, etc[0].errno, etc[0].pid), (Op::Read, 2, 4103));
        let git = at(&imp, "/usr/local/bin/git");
        assert_eq!((git[0].op, git[0].errno), (Op::Exec, 2));
        let probe = at(&imp, "/Users/u/.config/git/config");
        assert_eq!((probe[0].op, probe[0].errno), (Op::Probe, 2));
        // ENOTEMPTY is 66 on macOS, 39 in cordon's numbering.
        let rm = at(&imp, "/Users/u/src/pkg/build/tmp");
        assert_eq!((rm[0].op, rm[0].errno), (Op::Delete, 39));
        let stdio = at(&imp, "/usr/local/include/stdio.h");
        assert_eq!((stdio[0].op, stdio[0].errno), (Op::Stat, 2));
    }

    #[test]
    fn ops_paths_and_descriptors() {
        let imp = run("dtruss-poisoned.log", POISONED).expect("imports");
        let op_at = |p: &str| at(&imp, p).iter().map(|e| e.op).collect::<Vec<_>>();
        // make's cwd is never printed: its Makefile stays relative.
        assert_eq!(op_at("Makefile"), vec![Op::Read]);
        // cmake's shell changed directory: the relative cache resolves.
        assert_eq!(
            op_at("/Users/u/src/pkg/build/CMakeCache.txt"),
            vec![Op::Stat, Op::Read]
        );
        // openat with a directory fd from an earlier open.
        assert_eq!(
            op_at("/Users/u/.cmake/packages/Poison/0123abcd"),
            vec![Op::Read]
        );
        // Create (O_CREAT|O_EXCL), then renamed: delete of the source, create of the target.
        assert_eq!(
            op_at("/Users/u/src/pkg/main.o-5a1f3c"),
            vec![Op::Create, Op::Delete]
        );
        assert_eq!(op_at("/Users/u/src/pkg/main.o"), vec![Op::Create]);
        assert_eq!(
            op_at("/Users/u/src/pkg/build/CMakeFiles/x.log"),
            vec![Op::Write]
        );
        assert_eq!(
            op_at("/Library/Developer/CommandLineTools/usr/bin/clang"),
            vec![Op::Exec]
        );
        // A read(2) with a data string is not a path.
        assert!(events(&imp).iter().all(|e| !e.path.contains("all:")));
    }

    #[test]
    fn garbage_lines_warn_with_their_line_numbers() {
        let imp = run("dtruss-garbage.log", GARBAGE).expect("imports");
        let lines: Vec<&str> = GARBAGE.lines().collect();
        let bad = [4, 6, 8, 10, 12, 14, 16, 18, 20];
        for n in bad {
            let tag = format!("dtruss-garbage.log:{n}:");
            assert!(
                imp.warnings.iter().any(|w| w.starts_with(&tag)),
                "no warning for line {n} ({:?}): {:?}",
                lines.get(n - 1),
                imp.warnings
            );
        }
        assert_eq!(imp.warnings.len(), bad.len(), "{:#?}", imp.warnings);
        assert_eq!(reader(&imp, "/Users/u/.gitconfig"), 4103);
        assert_eq!(reader(&imp, "/Users/u/.leakrc"), 4105);
        assert_eq!(reader(&imp, "/usr/local/include/zlib.h"), 4109);
        let p = procs(&imp);
        assert_eq!((p[&4105].ppid, p[&4109].ppid), (4102, 4108));
        // Escapes in a path, and a path cut at its NUL.
        assert_eq!(reader(&imp, "/Users/u/a \"q\"\tb"), 4105);
        assert_eq!(reader(&imp, "/Users/u/.leakrc2"), 4105);
    }

    #[test]
    fn nothing_recognisable_is_an_error() {
        assert!(run("empty", "").is_err());
        assert!(run("header", "\tPID/THRD  SYSCALL(args) \t\t = return\n").is_err());
        let junk: String = (0u32..4096)
            .map(|i| char::from_u32((i * 7919) % 256).unwrap_or('?'))
            .collect();
        let err = run("junk", &junk).expect_err("junk is not dtruss");
        assert_eq!(err.file, "junk");
        let strace = "1234  openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3\n";
        assert!(run("strace.log", strace).is_err());
    }

    #[test]
    fn lines_without_pids_are_one_process() {
        let log = "SYSCALL(args) \t\t = return\n\
                   open(\"/etc/hosts\\0\", 0x0, 0x0)\t\t = 3 0\n\
                   stat64(\"/nope\\0\", 0x7FF7BFEFF0A0, 0x0)\t\t = -1 Err#2\n";
        let imp = run("plain.log", log).expect("imports");
        let ev = events(&imp);
        assert_eq!(ev.len(), 2);
        assert!(ev.iter().all(|e| e.pid == NO_PID));
        assert_eq!((ev[1].op, ev[1].errno), (Op::Stat, 2));
    }

    #[test]
    fn line_forms() {
        let Ok(Parsed::Call(c)) = parse_line(
            " 4109/0x2f2c1:      812      17 openat(0xFFFFFFFFFFFFFFFE, \"x\\0\", 0x1000A01, 0x1B6)\t\t = 5 0",
        ) else {
            panic!("not a call");
        };
        assert_eq!(
            (c.pid, c.name.as_str(), c.ret, c.errno),
            (Some(4109), "openat", 5, 0)
        );
        assert_eq!(int_of(&c.args[0]), Some(-2));
        assert_eq!(c.args[1], Arg::Str("x".into()));
        assert_eq!(
            flag_names(int_of(&c.args[2]).unwrap_or(0)),
            "O_WRONLY|O_CREAT|O_EXCL"
        );
        assert_eq!(op_of_flags_text(&flag_names(0x1000A01)), Op::Create);
        assert_eq!(op_of_flags_text(&flag_names(0x601)), Op::Write);
        assert_eq!(op_of_flags_text(&flag_names(0x8000)), Op::Stat);
        // Octal escapes; sysctl's bracketed list with commas.
        let Ok(Parsed::Call(c)) = parse_line(
            "1/0x1:  sysctl([CTL_KERN, 14, 1, 123, 0, 0] (4), 0x7FF, 0x0, 0x0, 0x0)\t\t = 0 0",
        ) else {
            panic!("not a call");
        };
        assert_eq!(c.args.len(), 5);
        let Ok(Parsed::Call(c)) = parse_line("1/0x1:  unlink(\"a\\101\\012\\0\")\t = 0 0") else {
            panic!("not a call");
        };
        assert_eq!(c.args[0], Arg::Str("aA\n".into()));
        assert!(parse_line("1/0x1:  open(\"/x\\0\", 0x0").is_err());
        assert!(parse_line("1/0x1:  open(\"/x\\0\", 0x0, 0x0)\t\t = 3").is_err());
        assert!(parse_line("99999999999/0x1:  close(0x3) = 0 0").is_err());
        assert_eq!(
            parse_line("              libsystem_kernel.dylib`__open+0xa"),
            Ok(Parsed::Skip)
        );
    }

    #[test]
    fn a_fork_claims_a_child_the_spawn_guess_took() {
        // 20 spawns (no child pid printed); 21 appears; then 10's fork says 21 is its child:
        // the spawn goes on waiting and gets 22.
        let log = "10/0x1:  open(\"/a\\0\", 0x0, 0x0)\t\t = 3 0\n\
                   20/0x2:  posix_spawn(0x7FF, 0x7FE, 0x7FD)\t\t = 0 0\n\
                   21/0x3:  fork()\t\t = 0 0\n\
                   10/0x1:  fork()\t\t = 21 0\n\
                   22/0x4:  fork()\t\t = 0 0\n";
        let imp = run("race.log", log).expect("imports");
        let p = procs(&imp);
        assert_eq!((p[&21].ppid, p[&22].ppid, p[&20].ppid), (10, 20, 0));
    }

    #[test]
    fn a_child_seen_before_its_fork_gets_the_parents_cwd() {
        let log = "10/0x1:  chdir(\"/w\\0\", 0x0, 0x0)\t\t = 0 0\n\
                   21/0x3:  fork()\t\t = 0 0\n\
                   10/0x1:  fork()\t\t = 21 0\n\
                   21/0x3:  open(\"rel\\0\", 0x0, 0x0)\t\t = 3 0\n";
        let imp = run("cwd.log", log).expect("imports");
        assert_eq!(at(&imp, "/w/rel").len(), 1, "{:?}", events(&imp));
        assert_eq!(procs(&imp)[&21].ppid, 10);
    }

    #[test]
    fn every_prefix_and_random_mutations_never_panic() {
        prefixes_and_mutations(
            &[("poisoned", POISONED), ("garbage", GARBAGE)],
            b" \"\\()[],=/:#-0123456789xErr",
            0x2545_f491_4f6c_dd1d,
            |name, text| {
                let _ = run(name, text);
            },
        );
    }
}
