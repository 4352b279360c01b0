//! Importer for fs_usage logs (macOS): `sudo fs_usage -w -f filesys [cmd ...] > log`.
//!
//! # The format
//! One line a completed call, in columns (`-w`, the wide form):
//!
//! ```text
//! 14:02:11.102900  open              F=3        (R_____)  /Users/u/.gitconfig      0.000014   git.1523049
//! 14:02:11.103000  stat64                 [  2]           /etc/gitconfig           0.000007   git.1523049
//! 14:02:11.103100  fstatat64                              [-2]//Library/Developer  0.000007   clang.1523091
//! ```
//!
//! - the wall-clock time, `HH:MM:SS.micro`;
//! - the call, padded to 17 columns (`open` also stands for `open_nocancel`; disk I/O shows as
//!   `RdData[A]`, `WrData[A]` and the like, which are not calls and are skipped);
//! - fields that depend on the call: `F=fd` (the descriptor a call used or an open returned),
//!   `[ errno]` when the call failed (errno in decimal, macOS numbering), the open mode in
//!   parentheses (`(R_____)`: read, write, create, append, truncate, exclusive) or the access
//!   mode (`(R___)`), `B=`, `O=`, `D=`, `A=` numbers, a `<mode>` for chmod;
//! - the path (the first one the call looked up), as the program passed it: usually absolute,
//!   sometimes relative; the `*at` calls print their directory descriptor in front
//!   (`[-2]/` is `AT_FDCWD`, so `[-2]//etc/x` is `/etc/x` and `[3]/x` is `x` under fd 3);
//! - the elapsed time in seconds, ` W` when the thread waited, and the process as
//!   `command.threadid`.
//!
//! The narrow form (without `-w`) has no descriptors, modes or errors; it is read with a
//! warning that every call is then taken as succeeded.
//!
//! # Processes
//! fs_usage prints neither process ids nor parents nor argv. A process is keyed by its command
//! name and thread id, and its synthetic pid is that thread id (or a number counted from 2^30
//! when the id does not fit, or is not printed); its argv is its command name alone. Two
//! inferences link the table up: after a successful `execve` of `/p/prog`, the next new
//! `prog.tid` is the same process (macOS runs the new image on a new thread); after a
//! successful `posix_spawn` of `/p/prog`, the next new `prog.tid` is a child of the spawner.
//! Everything else (children of fork, threads) starts with parent 0 (unknown).
//!
//! # Gaps
//! No working directory is printed: relative paths stay relative unless a `chdir` of that
//! process was seen. `rename` shows only its source. fs_usage cuts long paths at the front to
//! fit its column. Errors are macOS errnos, translated to cordon's numbering.

use std::collections::{HashMap, HashSet, VecDeque};

use super::dtruss::{basename, errno_from_darwin, excerpt};
use super::{op_of_flags_text, Builder, ImportError};
use crate::trace::Op;

/// macOS's `AT_FDCWD`, as the `[fd]/` prefix of the `*at` calls shows it.
const DARWIN_AT_FDCWD: i64 = -2;

/// How long (of log time) a successful exec or spawn waits for its program to show up.
const PENDING_NS: u64 = 5_000_000_000;

/// One line of fs_usage output, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    /// Microseconds since midnight.
    t_us: u64,
    call: String,
    fd: Option<i64>,
    /// macOS errno; 0 when the line shows none.
    errno: i32,
    /// The parenthesised mode (`R_____`), without the parentheses.
    mode: Option<String>,
    /// The directory descriptor of an `*at` call's `[fd]/` prefix.
    dirfd: Option<i64>,
    path: String,
    command: String,
    /// The thread id, absent in the narrow form.
    tid: Option<u64>,
}

/// What a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Fixed(Op),
    Exec,
    Spawn,
    Chdir,
    Fchdir,
    Close,
}

fn kind_of(call: &str) -> Option<Kind> {
    use Kind::*;
    Some(match call {
        "open" | "open_nocancel" | "open_nocanel" | "open_extended" | "open_dprotected"
        | "open_dprotected_np" | "guarded_open_np" | "guarded_open_dpro" | "openat"
        | "openat_nocancel" => Open,
        "stat" | "stat64" | "lstat" | "lstat64" | "stat_extended" | "stat_extended64"
        | "lstat_extended" | "lstat_extended64" | "fstatat" | "fstatat64" | "getattrlist"
        | "getattrlistat" | "statfs" | "statfs64" | "pathconf" | "getxattr" | "listxattr" => {
            Fixed(Op::Stat)
        }
        "access" | "access_extended" | "faccessat" | "checkuseraccess" => Fixed(Op::Probe),
        "readlink" | "readlinkat" => Fixed(Op::Readlink),
        "execve" => Exec,
        "posix_spawn" => Spawn,
        "chdir" | "pthread_chdir" => Chdir,
        "fchdir" | "pthread_fchdir" => Fchdir,
        "close" | "close_nocancel" | "guarded_close_np" => Close,
        "unlink" | "unlinkat" | "rmdir" | "delete-Carbon" => Fixed(Op::Delete),
        // Only the source is printed.
        "rename" | "renameat" | "renameatx_np" => Fixed(Op::Delete),
        "mkdir" | "mkdirat" | "mkdir_extended" | "mkfifo" | "mkfifo_extended" | "mknod"
        | "symlink" | "symlinkat" | "link" | "linkat" => Fixed(Op::Create),
        "chmod" | "chmod_extended" | "chmodat" | "fchmodat" | "chown" | "lchown" | "chownat"
        | "fchownat" | "utimes" | "truncate" | "chflags" | "setattrlist" | "setxattr"
        | "removexattr" | "exchangedata" => Fixed(Op::Write),
        _ => return None,
    })
}

/// Parse fs_usage output into `b`.
pub fn parse(inputs: &[(String, String)], b: &mut Builder) -> Result<(), ImportError> {
    let mut st = State::default();
    for (file, text) in inputs {
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            match parse_line(raw) {
                Ok(None) => {}
                Ok(Some(line)) => {
                    st.recognised += 1;
                    if line.tid.is_none() && !st.warned_narrow {
                        st.warned_narrow = true;
                        b.warn(
                            file,
                            line_no,
                            "narrow fs_usage output (run it with -w): no errors are shown, \
                             every call is taken as succeeded",
                        );
                    }
                    st.apply(b, file, line_no, line);
                }
                Err(why) => b.warn(file, line_no, format!("{why}: {}", excerpt(raw))),
            }
        }
    }
    if st.recognised == 0 {
        return Err(ImportError {
            file: inputs.first().map(|(n, _)| n.clone()).unwrap_or_default(),
            message: "no fs_usage lines found (expected `fs_usage -w -f filesys` output: \
                      `HH:MM:SS.micro  call ...  path  elapsed  command.thread`)"
                .into(),
        });
    }
    Ok(())
}

/// A successful exec or spawn whose program has not shown up yet.
#[derive(Debug)]
struct Pending {
    spawn: bool,
    by: i32,
    exe: String,
    t_ns: u64,
}

#[derive(Debug, Default)]
struct State {
    recognised: usize,
    warned_narrow: bool,
    /// The first time seen, and the day count (fs_usage prints the time of day).
    first_us: Option<u64>,
    last_us: u64,
    days: u64,
    procs: HashMap<(String, Option<u64>), i32>,
    used: HashSet<i32>,
    next_synthetic: i32,
    pending: VecDeque<Pending>,
}

impl State {
    /// Nanoseconds since the first line, across midnight.
    fn t_ns(&mut self, t_us: u64) -> u64 {
        const DAY: u64 = 86_400_000_000;
        let first = *self.first_us.get_or_insert(t_us);
        if t_us + DAY / 2 < self.last_us {
            self.days = self.days.saturating_add(1);
        }
        self.last_us = t_us;
        self.days
            .saturating_mul(DAY)
            .saturating_add(t_us)
            .saturating_sub(first)
            .saturating_mul(1000)
    }

    fn synthetic(&mut self, tid: Option<u64>) -> i32 {
        if let Some(pid) = tid.and_then(|t| i32::try_from(t).ok()).filter(|p| *p > 0) {
            if self.used.insert(pid) {
                return pid;
            }
        }
        if self.next_synthetic < 1 << 30 {
            self.next_synthetic = 1 << 30;
        }
        while self.used.contains(&self.next_synthetic) {
            self.next_synthetic = self.next_synthetic.saturating_add(1);
            if self.next_synthetic == i32::MAX {
                break;
            }
        }
        let pid = self.next_synthetic;
        self.used.insert(pid);
        pid
    }

    /// The pid of `command.tid`, made known to `b` (with what the log lets us infer).
    fn pid_of(&mut self, b: &mut Builder, command: &str, tid: Option<u64>, t_us: u64) -> i32 {
        let key = (command.to_string(), tid);
        if let Some(pid) = self.procs.get(&key) {
            return *pid;
        }
        let t_ns = self.t_ns(t_us);
        self.pending
            .retain(|p| t_ns >= p.t_ns && t_ns - p.t_ns <= PENDING_NS);
        let matched = self
            .pending
            .iter()
            .position(|p| comm_matches(command, basename(&p.exe)));
        let pid = match matched.and_then(|i| self.pending.remove(i)) {
            // The image an exec started, on its new thread.
            Some(p) if !p.spawn => p.by,
            Some(p) => {
                let pid = self.synthetic(tid);
                b.spawned(pid, p.by, t_ns);
                b.executed(pid, &p.exe, vec![command.to_string()], t_ns);
                pid
            }
            None => {
                let pid = self.synthetic(tid);
                b.process(pid, 0, t_ns);
                // Unknown program and no cwd yet: the exe stays empty, the name is argv[0].
                b.executed(pid, "", vec![command.to_string()], t_ns);
                pid
            }
        };
        self.procs.insert(key, pid);
        pid
    }

    fn apply(&mut self, b: &mut Builder, file: &str, line_no: usize, l: Line) {
        // Other calls (read, fstat64, disk I/O, ...) name no path: their processes are not
        // made known either (disk I/O is often the kernel's).
        let Some(kind) = kind_of(&l.call) else {
            return;
        };
        let pid = self.pid_of(b, &l.command, l.tid, l.t_us);
        let t = self.t_ns(l.t_us);
        let errno = errno_from_darwin(l.errno);
        let call = l.call.as_str();
        match kind {
            Kind::Close => {
                if let (Some(fd), 0) = (l.fd, errno) {
                    b.set_fd(pid, fd, None);
                }
                return;
            }
            Kind::Fchdir => {
                if let (Some(fd), 0) = (l.fd, errno) {
                    let dir = b.absolute(pid, Some(fd), ".");
                    if dir.starts_with('/') {
                        b.event(pid, t, Op::Chdir, None, &dir, 0, call);
                        b.set_cwd(pid, &dir);
                    }
                }
                return;
            }
            _ => {}
        }
        if l.path.is_empty() {
            b.warn(file, line_no, format!("`{call}` without a path"));
            return;
        }
        let path = l.path.as_str();
        match kind {
            Kind::Open => {
                let op = op_of_flags_text(&flags_of_mode(l.mode.as_deref().unwrap_or("")));
                b.event(pid, t, op, l.dirfd, path, errno, call);
                if let (Some(fd), 0) = (l.fd, errno) {
                    let abs = b.absolute(pid, l.dirfd, path);
                    b.set_fd(pid, fd, Some(&abs));
                }
            }
            Kind::Fixed(op) => b.event(pid, t, op, l.dirfd, path, errno, call),
            Kind::Chdir => {
                b.event(pid, t, Op::Chdir, l.dirfd, path, errno, call);
                if errno == 0 {
                    let abs = b.absolute(pid, l.dirfd, path);
                    b.set_cwd(pid, &abs);
                }
            }
            Kind::Exec | Kind::Spawn => {
                b.event(pid, t, Op::Exec, l.dirfd, path, errno, call);
                if errno == 0 {
                    let exe = b.absolute(pid, l.dirfd, path);
                    if kind == Kind::Exec {
                        b.executed(pid, &exe, vec![basename(&exe).to_string()], t);
                    }
                    self.pending.push_back(Pending {
                        spawn: kind == Kind::Spawn,
                        by: pid,
                        exe,
                        t_ns: t,
                    });
                    if self.pending.len() > 64 {
                        self.pending.pop_front();
                    }
                }
            }
            Kind::Close | Kind::Fchdir => {}
        }
    }
}

/// Whether a command name (at most 16 bytes in the kernel) names the program `base`.
fn comm_matches(command: &str, base: &str) -> bool {
    !command.is_empty() && (command == base || (command.len() >= 15 && base.starts_with(command)))
}

/// `R_____`-style open mode as `O_` flag names, for [`op_of_flags_text`].
fn flags_of_mode(mode: &str) -> String {
    let has = |c: char| mode.contains(c);
    let mut f = vec![match (has('R'), has('W')) {
        (true, true) => "O_RDWR",
        (false, true) => "O_WRONLY",
        _ => "O_RDONLY",
    }];
    for (c, name) in [
        ('C', "O_CREAT"),
        ('A', "O_APPEND"),
        ('T', "O_TRUNC"),
        ('E', "O_EXCL"),
    ] {
        if has(c) {
            f.push(name);
        }
    }
    f.join("|")
}

/// `HH:MM:SS` or `HH:MM:SS.frac` as microseconds since midnight.
fn parse_time(tok: &str) -> Option<u64> {
    let (hms, frac) = match tok.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (tok, None),
    };
    let mut parts = hms.split(':');
    let mut field = |max: u64| -> Option<u64> {
        let p = parts.next()?;
        if p.len() != 2 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        p.parse::<u64>().ok().filter(|v| *v <= max)
    };
    let (h, m, s) = (field(23)?, field(59)?, field(60)?);
    if parts.next().is_some() {
        return None;
    }
    let us = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|c| c.is_ascii_digit()) => {
            let v: u64 = f.parse().ok()?;
            match f.len() {
                n @ 0..=6 => v * 10u64.pow(6 - n as u32),
                n => v / 10u64.pow(n as u32 - 6),
            }
        }
        Some(_) => return None,
    };
    Some(((h * 60 + m) * 60 + s) * 1_000_000 + us)
}

/// `0.000014`: the elapsed-time column.
fn is_elapsed(tok: &str) -> bool {
    match tok.split_once('.') {
        Some((s, us)) => {
            !s.is_empty()
                && s.bytes().all(|c| c.is_ascii_digit())
                && us.len() == 6
                && us.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push((st, s.get(st..i).unwrap_or("")));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, s.get(st..).unwrap_or("")));
    }
    out
}

/// `[  2]` at the start of `s`: the number and what follows the bracket.
fn bracket_number(s: &str) -> Option<(i64, &str)> {
    let inner = s.strip_prefix('[')?;
    let (num, rest) = inner.split_once(']')?;
    let n = num.trim().parse::<i64>().ok()?;
    Some((n, rest))
}

/// One line: `Ok(None)` for a blank one, `Err` for one that is not fs_usage output.
fn parse_line(raw: &str) -> Result<Option<Line>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let toks = tokens(s);
    let (Some(&(_, time)), Some(&(call_at, call))) = (toks.first(), toks.get(1)) else {
        return Err("not an fs_usage line".into());
    };
    let t_us = parse_time(time).ok_or("not an fs_usage line (no time of day)")?;
    // From the right: the process, an optional `W`, the elapsed time.
    let elapsed_idx = (2..toks.len().saturating_sub(1))
        .rev()
        .find(|&i| toks.get(i).is_some_and(|(_, t)| is_elapsed(t)))
        .ok_or("cut short or not an fs_usage line (no elapsed time and process)")?;
    let mut proc_idx = elapsed_idx + 1;
    if toks.get(proc_idx).is_some_and(|(_, t)| *t == "W") && proc_idx + 1 < toks.len() {
        proc_idx += 1;
    }
    let proc_at = toks.get(proc_idx).map(|(at, _)| *at).unwrap_or(s.len());
    let process = s.get(proc_at..).unwrap_or("").trim();
    let (command, tid) = match process.rsplit_once('.') {
        Some((name, id)) if !name.is_empty() && !id.is_empty() => {
            if id.bytes().all(|c| c.is_ascii_digit()) {
                let tid = id
                    .parse::<u64>()
                    .map_err(|_| "thread id out of range".to_string())?;
                (name.to_string(), Some(tid))
            } else {
                (process.to_string(), None)
            }
        }
        _ => (process.to_string(), None),
    };
    if command.is_empty() {
        return Err("no process name".into());
    }
    // Between the call and the elapsed time: the fields, then the path.
    let mid_start = call_at + call.len();
    let mid_end = toks
        .get(elapsed_idx)
        .map(|(at, _)| *at)
        .unwrap_or(mid_start);
    let mut rest = s.get(mid_start..mid_end).unwrap_or("");
    let mut line = Line {
        t_us,
        call: call.to_string(),
        fd: None,
        errno: 0,
        mode: None,
        dirfd: None,
        path: String::new(),
        command,
        tid,
    };
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix("F=") {
            let end = after
                .char_indices()
                .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
                .map(|(i, _)| i)
                .unwrap_or(after.len());
            let num = after.get(..end).unwrap_or("");
            line.fd = Some(
                num.parse()
                    .map_err(|_| format!("bad descriptor `F={num}`"))?,
            );
            rest = after.get(end..).unwrap_or("");
        } else if rest.starts_with('[') {
            match bracket_number(rest) {
                // `[-2]/path`: the directory descriptor of an `*at` call.
                Some((fd, after)) if after.starts_with('/') => {
                    line.dirfd = (fd != DARWIN_AT_FDCWD).then_some(fd);
                    rest = after.get(1..).unwrap_or("");
                    line.path = rest.trim_end().to_string();
                    break;
                }
                Some((errno, after)) => {
                    line.errno = i32::try_from(errno).map_err(|_| "error number out of range")?;
                    rest = after;
                }
                None => return Err("bad error field (expected `[ errno]`)".into()),
            }
        } else if let Some(inner) = rest.strip_prefix('(') {
            let (mode, after) = inner
                .split_once(')')
                .ok_or("unclosed parenthesis in the mode field")?;
            if line.mode.is_none() {
                line.mode = Some(mode.to_string());
            }
            rest = after;
        } else if let Some(inner) = rest.strip_prefix('<') {
            let (_, after) = inner.split_once('>').ok_or("unclosed `<`")?;
            rest = after;
        } else if is_value_field(rest) {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = rest.get(end..).unwrap_or("");
        } else {
            line.path = rest.trim_end().to_string();
            break;
        }
    }
    Ok(Some(line))
}

/// `B=0x1000`, `O=0x00000000`, `D=0x...`, `A=0x...`, `P=0x...`, `N=3`, `S=1`.
fn is_value_field(s: &str) -> bool {
    let mut c = s.chars();
    matches!(
        (c.next(), c.next()),
        (Some('A' | 'B' | 'D' | 'N' | 'O' | 'P' | 'S'), Some('='))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{events, prefixes_and_mutations, procs};
    use crate::import::{import, Format, Imported};
    use crate::trace::{Event, Record};

    const POISONED: &str = include_str!("../../tests/fixtures/import/fs_usage-poisoned.log");
    const GARBAGE: &str = include_str!("../../tests/fixtures/import/fs_usage-garbage.log");

    fn run(name: &str, text: &str) -> Result<Imported, ImportError> {
        import(Format::FsUsage, &[(name.to_string(), text.to_string())])
    }

    fn name_of(imp: &Imported, pid: i32) -> String {
        procs(imp)
            .get(&pid)
            .and_then(|p| p.argv.first().cloned())
            .unwrap_or_default()
    }

    /// The events at `path`.
    fn at<'a>(imp: &'a Imported, path: &str) -> Vec<&'a Event> {
        events(imp).into_iter().filter(|e| e.path == path).collect()
    }

    fn assert_read_by(imp: &Imported, path: &str, name: &str) -> i32 {
        let ev = at(imp, path);
        let read = ev
            .iter()
            .find(|e| e.op == Op::Read && e.errno == 0)
            .unwrap_or_else(|| panic!("no successful read of {path}: {ev:?}"));
        assert_eq!(name_of(imp, read.pid), name, "reader of {path}");
        read.pid
    }

    #[test]
    fn poisoned_fixture_imports_with_the_breaches() {
        let imp = run("fs_usage-poisoned.log", POISONED).expect("imports");
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        assert_read_by(&imp, "/Users/u/.gitconfig", "git");
        let lp = assert_read_by(&imp, "/Users/u/.leakrc", "leakprobe");
        assert_eq!(procs(&imp)[&lp].exe, "/Users/u/src/pkg/tools/leakprobe");
        assert_read_by(&imp, "/Users/u/.cmake/packages/Poison/0123abcd", "cmake");
        assert_read_by(
            &imp,
            "/Users/u/.local/lib/python3.11/site-packages/leak.pth",
            "python3.11",
        );
        assert_read_by(
            &imp,
            "/Users/u/Library/Python/3.11/lib/python/site-packages/leak.pth",
            "python3.11",
        );
        let cc1 = assert_read_by(&imp, "/usr/local/include/zlib.h", "clang");
        let sdk = "/Library/Developer/CommandLineTools/SDKs/MacOSX.sdk/usr/include/stdio.h";
        assert_eq!(assert_read_by(&imp, sdk, "clang"), cc1);
    }

    #[test]
    fn failures_carry_their_errno() {
        let imp = run("fs_usage-poisoned.log", POISONED).expect("imports");
        let etc = at(&imp, "/etc/gitconfig");
        assert_eq!(etc.len(), 1);
        assert_eq!((etc[0].op, etc[0].errno), (Op::Read, 2));
        assert_eq!(name_of(&imp, etc[0].pid), "git");
        let probe = at(&imp, "/Users/u/.config/git/config");
        assert_eq!((probe[0].op, probe[0].errno), (Op::Probe, 2));
        let mk = at(&imp, "/Users/u/src/pkg/build/CMakeFiles");
        assert_eq!((mk[0].op, mk[0].errno), (Op::Create, 17));
        // EINVAL (22) is the same number on both systems.
        let rl = at(&imp, "/Users/u/src/pkg/.git/HEAD");
        assert!(rl.iter().any(|e| e.op == Op::Readlink && e.errno == 22));
        let git = at(&imp, "/usr/local/bin/git");
        assert_eq!((git[0].op, git[0].errno), (Op::Exec, 2));
    }

    #[test]
    fn ops_follow_the_calls() {
        let imp = run("fs_usage-poisoned.log", POISONED).expect("imports");
        let op_at = |p: &str| at(&imp, p).iter().map(|e| e.op).collect::<Vec<_>>();
        assert_eq!(op_at("/Users/u/src/pkg"), vec![Op::Stat; 3]);
        assert_eq!(
            op_at("/Users/u/src/pkg/build/CMakeFiles/cmake.check_cache"),
            vec![Op::Write]
        );
        // `(RWC__E)`: created; then renamed away (the source is all fs_usage shows).
        assert_eq!(
            op_at("/Users/u/src/pkg/main.o-4f2a9c1e"),
            vec![Op::Create, Op::Delete]
        );
        assert_eq!(op_at("/Users/u/src/pkg/main.o"), vec![Op::Write]);
        assert_eq!(op_at("/bin/sh"), vec![Op::Probe, Op::Exec]);
        // An `*at` call with `[-2]/` (AT_FDCWD) and an absolute path.
        let sdk = op_at("/Library/Developer/CommandLineTools/SDKs/MacOSX.sdk");
        assert_eq!(sdk, vec![Op::Stat, Op::Readlink]);
        // Disk I/O lines are not calls.
        assert_eq!(op_at("/Users/u/.leakrc"), vec![Op::Read]);
    }

    #[test]
    fn relative_paths_resolve_only_against_a_known_cwd() {
        let imp = run("fs_usage-poisoned.log", POISONED).expect("imports");
        // make's cwd is never printed: its Makefile stays relative (unresolved).
        let mk = at(&imp, "Makefile");
        assert_eq!(mk.len(), 1);
        assert_eq!(name_of(&imp, mk[0].pid), "make");
        // cmake's shell did `cd build` and exec'd cmake: the cwd carries over the exec.
        let cache = at(&imp, "/Users/u/src/pkg/build/CMakeCache.txt");
        assert_eq!(cache.len(), 2);
        assert_eq!(name_of(&imp, cache[0].pid), "cmake");
        // `openat [-2]/main.c` by the cc1 (cwd unknown) stays relative.
        assert_eq!(at(&imp, "main.c").len(), 1);
    }

    #[test]
    fn processes_are_linked_through_exec_and_spawn() {
        let imp = run("fs_usage-poisoned.log", POISONED).expect("imports");
        let p = procs(&imp);
        // make posix_spawn'd /bin/sh: the next new `sh` is its child.
        assert_eq!(
            (p[&1523044].ppid, p[&1523044].exe.as_str()),
            (1523001, "/bin/sh")
        );
        // sh.1523058 exec'd leakprobe, which ran as leakprobe.1523059: the same process.
        let lp = assert_read_by(&imp, "/Users/u/.leakrc", "leakprobe");
        assert_eq!(lp, 1523058);
        // The driver (sh.1523090 exec'd clang) spawned the cc1 (clang.1523102).
        let cc1 = assert_read_by(&imp, "/usr/local/include/zlib.h", "clang");
        assert_eq!(cc1, 1523102);
        assert_eq!(p[&cc1].ppid, 1523090);
        assert_eq!(
            p[&1523090].exe,
            "/Library/Developer/CommandLineTools/usr/bin/clang"
        );
        // A fork child is not linked: fs_usage does not show forks.
        assert_eq!(p[&1523047].ppid, 0);
        // The header's command is the first process's name.
        match &imp.records[0] {
            Record::Header { command, .. } => assert_eq!(command, &vec!["make".to_string()]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_lines_warn_with_their_line_numbers() {
        let imp = run("fs_usage-garbage.log", GARBAGE).expect("imports");
        let lines: Vec<&str> = GARBAGE.lines().collect();
        let bad: Vec<usize> = [2, 5, 7, 9, 11, 13, 15, 16, 18, 20].to_vec();
        for n in &bad {
            let tag = format!("fs_usage-garbage.log:{n}:");
            assert!(
                imp.warnings.iter().any(|w| w.starts_with(&tag)),
                "no warning for line {n} ({:?}): {:?}",
                lines.get(n - 1),
                imp.warnings
            );
        }
        assert_eq!(imp.warnings.len(), bad.len(), "{:#?}", imp.warnings);
        // The good lines around them still count.
        assert_read_by(&imp, "/Users/u/.gitconfig", "git");
        assert_read_by(&imp, "/Users/u/.leakrc", "leakprobe");
        let etc = at(&imp, "/etc/gitconfig");
        assert_eq!((etc[0].op, etc[0].errno), (Op::Read, 2));
        // A path with spaces, and a command name with a dot and a space.
        assert_read_by(
            &imp,
            "/Users/u/Library/Application Support/x.plist",
            "Code Helper",
        );
    }

    #[test]
    fn nothing_recognisable_is_an_error() {
        assert!(run("empty", "").is_err());
        assert!(run("blank", "\n\n   \n").is_err());
        let junk: String = (0u32..4096)
            .map(|i| char::from_u32((i * 7919) % 256).unwrap_or('?'))
            .collect();
        let err = run("junk", &junk).expect_err("junk is not fs_usage");
        assert_eq!(err.file, "junk");
        let strace = "1234  openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3\n";
        assert!(run("strace.log", strace).is_err());
    }

    #[test]
    fn line_forms() {
        let l = parse_line(
            "14:02:11.103100  fstatat64         [  2]       [3]/sub/x.h   0.000007   cc1.77",
        )
        .expect("parses")
        .expect("a line");
        assert_eq!((l.errno, l.dirfd, l.path.as_str()), (2, Some(3), "sub/x.h"));
        assert_eq!((l.command.as_str(), l.tid), ("cc1", Some(77)));
        // A failing fd call glues the errno to a wide descriptor.
        let l = parse_line("14:02:11.1  close  F=123[  9]   0.000001 W  a.b.5")
            .expect("parses")
            .expect("a line");
        assert_eq!((l.fd, l.errno, l.command.as_str()), (Some(123), 9, "a.b"));
        // The narrow form: no thread, no fields.
        let l = parse_line("14:02:11  open    /etc/hosts    0.000010   curl")
            .expect("parses")
            .expect("a line");
        assert_eq!((l.tid, l.path.as_str()), (None, "/etc/hosts"));
        assert!(parse_line("25:00:00.000000  open  /x  0.000001  a.1").is_err());
        assert!(parse_line("14:02:11.000000  open  /x").is_err());
    }

    #[test]
    fn narrow_output_warns_once() {
        let log = "14:02:11  open    /etc/hosts    0.000010   curl\n\
                   14:02:12  stat64  /etc/resolv.conf   0.000010   curl\n";
        let imp = run("narrow.log", log).expect("imports");
        assert_eq!(imp.warnings.len(), 1, "{:?}", imp.warnings);
        assert!(imp.warnings[0].starts_with("narrow.log:1:"));
        assert_eq!(events(&imp).len(), 2);
    }

    #[test]
    fn time_runs_across_midnight() {
        let log = "23:59:59.999000  stat64   /a   0.000001   x.1\n\
                   00:00:00.001000  stat64   /b   0.000001   x.1\n";
        let imp = run("midnight.log", log).expect("imports");
        let ev = events(&imp);
        assert_eq!((ev[0].t_ns, ev[1].t_ns), (0, 2_000_000));
    }

    #[test]
    fn every_prefix_and_random_mutations_never_panic() {
        prefixes_and_mutations(
            &[("poisoned", POISONED), ("garbage", GARBAGE)],
            b" []()<>=F.:/-0123456789W",
            0x9e37_79b9_7f4a_7c15,
            |name, text| {
                let _ = run(name, text);
            },
        );
    }
}
