//! Importer for `kdump(1)` output: the text form of a BSD `ktrace(1)` log (OpenBSD and FreeBSD;
//! NetBSD prints nearly the same and is read as well).
//!
//! # Taking the log
//! `ktrace -di -f ktrace.out COMMAND` traces the command and its descendants (`-i`); print the
//! log with `kdump -f ktrace.out > log`. `-T`, `-E` or `-R` timestamps, `-H` thread ids, `-A`
//! (FreeBSD ABI tags), `-S` (FreeBSD syscall numbers), `-d` and `-n` are all understood. On
//! OpenBSD the default trace points include `x` (the argument vectors of execve); keep them.
//!
//! # The format as read
//! A record is a header and its data. The header, from `kdump.c`'s `dumpheader`: the pid
//! (`%6ld`; OpenBSD `-H` appends `/tid`, FreeBSD and NetBSD `-H` print a tid column), the
//! command name (`%-8s`, may hold spaces), optional timestamps (`secs.usecs`, FreeBSD may print up
//! to three), and the record type followed by two spaces:
//!
//! ```text
//!  12345 git      CALL  open(0x7f7ffffd1234,0x10000<O_RDONLY|O_CLOEXEC>)
//!  12345 git      NAMI  "/home/u/.gitconfig"
//!  12345 git      RET   open 3
//!  12345 git      RET   open -1 errno 2 No such file or directory
//!  12345 git      1700000000.000740 RET   execve JUSTRETURN
//!  12345/100123 git      CALL  ...                                     (OpenBSD -H)
//!    100 100100 sh       CALL  openat(AT_FDCWD,0x8020a1720,0x100000<O_RDONLY|O_CLOEXEC>)
//!    100 100100 sh       RET   vfork 101/0x65                          (FreeBSD -H)
//!  12345 sh       ARGS                                                 (OpenBSD, then lines
//!         [0] = "cc"                                                    starting with a tab)
//!         [1] = "-c"
//! ```
//!
//! Pairing: a `CALL` opens a pending call for its (pid, tid); the `NAMI` records that follow
//! (for that pid and tid) are its paths; `ARGS` gives an execve's argv; the `RET` with the same
//! system call name closes it. Calls of different processes interleave freely. The path of a
//! call is its first `NAMI` (an execve's later ones are the ELF interpreter or a script's
//! interpreter, a symlink being followed may add some too); rename and link take the first and
//! the last. The op comes from the call name as in the native tracer (open/openat by their flags
//! text in `<...>`, or by the number under `kdump -n`; stat/lstat/fstatat -> stat;
//! access/faccessat -> probe; readlink -> readlink; execve -> exec; chdir -> chdir;
//! unlink/rmdir -> delete; rename -> delete of the source and create of the target;
//! mkdir/mkfifo/mknod/symlink/link -> create; chmod/chown/utimes/truncate/chflags -> write).
//! Names are normalised first: `__stat50` (NetBSD), `freebsd11_stat` (FreeBSD compat) read as
//! `stat`.
//!
//! The result is the `RET`: a number (`3`, `101/0x65`, `0x3`), `JUSTRETURN` (a successful
//! execve), `-1 errno N text` (a failure), or `RESTART` (the call will be made again and is
//! dropped). BSD errno numbers are turned into the trace model's (Linux) numbers where they
//! differ (EAGAIN, ELOOP, ENAMETOOLONG, ENOTEMPTY, ENOSYS, ...).
//!
//! Processes: `RET fork|vfork|rfork N` in the parent makes N its child (the child's own
//! `RET fork 0` may come first: the log is scanned for these before it is read, so that a child
//! always starts with its parent's working directory); a successful execve sets the program to
//! the first `NAMI` and argv to the `ARGS` record (`[command name]` when there is none, as on
//! FreeBSD); `CALL exit(N)` ends a process with N; a `PSIG SIGxxx SIG_DFL` of a signal whose
//! default action kills, when it is the last record of that process (a core dump's `NAMI` may
//! still follow), ends it with 128 + the signal's Linux number.
//!
//! Multi-line data (`GIO` buffers, FreeBSD hex dumps and struct arrays, `ENV`) is skipped: such
//! lines start with a tab or with spaces and no pid. A `NAMI` or `ARGS` string longer than the
//! screen is wrapped by OpenBSD's kdump (`\` at the end of the line, a tab at the start of the
//! next) and is joined again; OpenBSD's `vis(3)` escapes (`\"`, `\\`, `\n`, octal, `\M-x`) are
//! undone.
//!
//! # What it cannot carry
//! - The initial working directory: kdump does not print it. Relative paths stay relative (and
//!   are reported as unresolved) until the log shows a successful `chdir`; children inherit what
//!   is known. `fchdir` is not followed.
//! - Descriptors come only from opens seen in the log: `*at` calls relative to a descriptor
//!   opened before the trace, or made by `dup`/`fcntl`, stay relative.
//! - A call with no `NAMI` (a log taken without `-t n`) has no path and gives no event; a call
//!   cut off without its `RET` gives none either (both are warned about).
//! - Without `-H`, calls of two threads of one process are told apart only by their names; a
//!   `NAMI` goes to the latest pending call.
//! - FreeBSD prints `NAMI` paths raw: a path holding a backslash escape (`\n`, `\\`) is read as
//!   if `vis(3)` had written it.
//! - Timestamps: absolute ones (`-T`) are counted from the first record; smaller ones are taken
//!   as elapsed time (`-E`), so relative stamps (`-R`) give meaningless times (the events keep
//!   their order).
//! - Exit by a signal is a best guess, and signals with no Linux number (SIGEMT, SIGINFO) keep
//!   their BSD number. Errno numbers not in the table above are kept as BSD printed them.
//! - Only the execve's program is an access: the ELF interpreter and `#!` interpreter lookups
//!   the kernel makes for it are not events (as with the native tracer).
//! - A pid used twice in one log (pid reuse) is taken for one process.

use std::collections::{HashMap, HashSet};

use super::{errno_of_name, op_of_flags_text, Builder, ImportError};
use crate::trace::Op;

/// Parse kdump output into `b`. Each input is a separate log; an input with no kdump record is a
/// warning, and all inputs without one an error.
pub fn parse(inputs: &[(String, String)], b: &mut Builder) -> Result<(), ImportError> {
    let mut records = 0;
    for (name, text) in inputs {
        let n = FileReader::new(name, b).read(text);
        if n == 0 && inputs.len() > 1 {
            b.warn(name, 0, "no kdump records in this file");
        }
        records += n;
    }
    if records == 0 {
        return Err(ImportError {
            file: inputs.first().map(|(n, _)| n.clone()).unwrap_or_default(),
            message: "no kdump records found (expected lines like `  123 cmd      CALL  \
                      open(0x...,0<O_RDONLY>)` from `kdump -f ktrace.out`)"
                .into(),
        });
    }
    Ok(())
}

/// The record types kdump prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Call,
    Ret,
    Nami,
    Args,
    Psig,
    /// Records whose data (possibly on several lines) is of no use here.
    Data,
}

fn kind_of(tok: &str) -> Option<Kind> {
    Some(match tok {
        "CALL" => Kind::Call,
        "RET" => Kind::Ret,
        "NAMI" => Kind::Nami,
        "ARGS" => Kind::Args,
        "PSIG" => Kind::Psig,
        "GIO" | "STRU" | "USER" | "ENV" | "CSW" | "SCTL" | "CAP" | "PFLT" | "PRET" | "PLDG"
        | "STRT" | "EMUL" | "MISC" | "MIB" => Kind::Data,
        t if t.starts_with("UNKNOWN(") => Kind::Data,
        _ => return None,
    })
}

/// A record header and its data.
#[derive(Debug, Clone)]
struct Head<'a> {
    pid: i32,
    /// 0 when the log has no thread ids.
    tid: i64,
    comm: String,
    /// Nanoseconds, as printed.
    t: Option<u64>,
    kind: Kind,
    data: &'a str,
}

/// One line of the log.
#[derive(Debug, Clone)]
enum Lexed<'a> {
    Head(Head<'a>),
    /// A line of a record's data (starting with a tab, or with spaces and no pid).
    Cont(&'a str),
    Blank,
    /// FreeBSD's `Events dropped.`
    Dropped,
    Bad(String),
}

/// Byte ranges of the blank-separated tokens of `s`, at most `max` of them.
fn tokens(s: &str, max: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c == ' ' || c == '\t' {
            if let Some(st) = start.take() {
                out.push((st, i));
                if out.len() >= max {
                    return out;
                }
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// `secs.frac`, possibly negative (FreeBSD `-R`).
fn is_timestamp(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    match s.split_once('.') {
        Some((a, b)) => all_digits(a) && all_digits(b),
        None => false,
    }
}

/// Nanoseconds of a timestamp token (negative ones are 0).
fn timestamp_ns(s: &str) -> u64 {
    if s.starts_with('-') {
        return 0;
    }
    let Some((secs, frac)) = s.split_once('.') else {
        return 0;
    };
    let secs: u64 = secs.parse().unwrap_or(u64::MAX / 1_000_000_000);
    let mut ns: u64 = 0;
    for c in frac.bytes().chain(std::iter::repeat(b'0')).take(9) {
        ns = ns * 10 + u64::from(c.saturating_sub(b'0') % 10);
    }
    secs.saturating_mul(1_000_000_000).saturating_add(ns)
}

/// FreeBSD `-A` prints the ABI (`F64`, `L32`, ...) after the record type.
fn is_abi_tag(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some('F' | 'L' | 'C' | 'U')) && matches!(c.as_str(), "64" | "32" | "00")
}

/// The `i`th token of `line`, or "".
fn word_at<'a>(line: &'a str, toks: &[(usize, usize)], i: usize) -> &'a str {
    toks.get(i).and_then(|&(s, e)| line.get(s..e)).unwrap_or("")
}

fn lex(line: &str) -> Lexed<'_> {
    if line.trim().is_empty() {
        return Lexed::Blank;
    }
    if line.starts_with('\t') {
        return Lexed::Cont(line);
    }
    let indented = line.starts_with(' ');
    let toks = tokens(line, 16);
    let word = |i: usize| word_at(line, &toks, i);
    let first = word(0);
    let (pid_s, tid_s) = match first.split_once('/') {
        Some((p, t)) => (p, Some(t)),
        None => (first, None),
    };
    if !all_digits(pid_s) || tid_s.is_some_and(|t| !all_digits(t)) {
        return if indented {
            Lexed::Cont(line)
        } else {
            Lexed::Bad("not a kdump record".into())
        };
    }
    let Ok(pid) = pid_s.parse::<i32>() else {
        return Lexed::Bad(format!("pid {pid_s} is out of range"));
    };
    // The record type: the first keyword after the command name (which takes at least one word).
    let k = (2..toks.len())
        .find(|&i| kind_of(word(i)).is_some())
        .or_else(|| (toks.len() > 1 && kind_of(word(1)).is_some()).then_some(1));
    let Some(k) = k else {
        if line.contains("Events dropped") {
            return Lexed::Dropped;
        }
        return Lexed::Bad("no record type (CALL, RET, NAMI, ...) on this line".into());
    };
    let Some(kind) = kind_of(word(k)) else {
        return Lexed::Bad("no record type on this line".into());
    };
    let mut mid: Vec<&str> = (1..k).map(word).collect();
    let mut t = None;
    let mut stamps = 0;
    while mid.len() > 1 && stamps < 3 {
        match mid.last() {
            Some(w) if is_timestamp(w) => {
                t = Some(timestamp_ns(w));
                mid.pop();
                stamps += 1;
            }
            _ => break,
        }
    }
    let mut tid = tid_s.and_then(|t| t.parse::<i64>().ok()).unwrap_or(0);
    if tid_s.is_none() && mid.len() >= 2 && mid.first().is_some_and(|w| all_digits(w)) {
        tid = mid.first().and_then(|w| w.parse().ok()).unwrap_or(0);
        mid.remove(0);
    }
    let end = toks.get(k).map(|&(_, e)| e).unwrap_or(line.len());
    let mut data = line
        .get(end..)
        .unwrap_or("")
        .trim_start_matches([' ', '\t']);
    if let Some((tag, rest)) = data.split_once([' ', '\t']) {
        if is_abi_tag(tag) {
            data = rest.trim_start_matches([' ', '\t']);
        }
    }
    Lexed::Head(Head {
        pid,
        tid,
        comm: mid.join(" "),
        t,
        kind,
        data,
    })
}

/// A number as kdump prints it: decimal, or `0x` hex (`-n`, FreeBSD arguments). Hex values that
/// fit 32 bits are read as a C `int` (so `0xffffff9c` is AT_FDCWD, -100).
fn parse_num(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let u = u64::from_str_radix(h, 16).ok()?;
        match u32::try_from(u) {
            Ok(small) => i64::from(small as i32),
            Err(_) => u as i64,
        }
    } else if all_digits(body) {
        body.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(if neg { v.checked_neg()? } else { v })
}

/// Undo OpenBSD's `vis(3)` encoding (`VIS_CSTYLE`): `\\`, `\"`, C escapes, octal, `\M-x`,
/// `\^x`. Unknown escapes are kept as written.
fn unvis(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let ctrl = |c: u8| if c == b'?' { 0x7f } else { c & 0x1f };
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(c) = at(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        match at(i + 1) {
            None => {
                out.push(b'\\');
                i += 1;
            }
            Some(e @ (b'\\' | b'"')) => {
                out.push(e);
                i += 2;
            }
            Some(e @ (b'n' | b't' | b'r' | b'a' | b'b' | b'f' | b'v' | b's')) => {
                out.push(match e {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'a' => 7,
                    b'b' => 8,
                    b'f' => 12,
                    b'v' => 11,
                    _ => b' ',
                });
                i += 2;
            }
            Some(b'0'..=b'7') => {
                let mut v: u32 = 0;
                let mut j = i + 1;
                while j < i + 4 {
                    match at(j) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            j += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
                i = j;
            }
            Some(b'M') => match (at(i + 2), at(i + 3)) {
                (Some(b'-'), Some(x)) => {
                    out.push(x | 0x80);
                    i += 4;
                }
                (Some(b'^'), Some(x)) => {
                    out.push(ctrl(x) | 0x80);
                    i += 4;
                }
                _ => {
                    out.push(b'\\');
                    i += 1;
                }
            },
            Some(b'^') => match at(i + 2) {
                Some(x) => {
                    out.push(ctrl(x));
                    i += 3;
                }
                None => {
                    out.push(b'\\');
                    i += 1;
                }
            },
            Some(_) => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A quoted string's text after its opening quote, on one line.
enum Piece<'a> {
    /// Closed: the text between the quotes, still vis-encoded.
    Done(&'a str),
    /// Wrapped by kdump: the text so far (the wrapping backslash removed).
    Wrapped(&'a str),
    Cut,
}

fn piece(s: &str) -> Piece<'_> {
    if let Some(body) = s.strip_suffix('"') {
        Piece::Done(body)
    } else if let Some(body) = s.strip_suffix('\\') {
        Piece::Wrapped(body)
    } else {
        Piece::Cut
    }
}

/// The arguments of a call, split at top-level commas.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth: i32 = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '<' | '(' | '{' | '[' => depth = depth.saturating_add(1),
            '>' | ')' | '}' | ']' => depth = depth.saturating_sub(1),
            ',' if depth <= 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `open[5]` (FreeBSD `-S`) is `open`.
fn strip_sysno(name: &str) -> &str {
    match name.find('[') {
        Some(i) if i > 0 && name.ends_with(']') => name.get(..i).unwrap_or(name),
        _ => name,
    }
}

/// How a system call touches paths.
#[derive(Debug, Clone, Copy)]
enum Spec {
    /// open-like: the op from the flags argument; the dirfd argument, if any.
    Open {
        flags: usize,
        dirfd: Option<usize>,
    },
    One(Op, Option<usize>),
    /// Two paths: first NAMI and last NAMI.
    Two(Op, Option<usize>, Op, Option<usize>),
    Exec,
    Chdir,
}

fn spec(norm: &str) -> Option<Spec> {
    use Op::*;
    use Spec::{One, Two};
    Some(match norm {
        "open" => Spec::Open {
            flags: 1,
            dirfd: None,
        },
        "openat" => Spec::Open {
            flags: 2,
            dirfd: Some(0),
        },
        "creat" => One(Create, None),
        "stat" | "lstat" | "statfs" | "statvfs" | "pathconf" | "lpathconf" | "realpath" => {
            One(Stat, None)
        }
        "fstatat" => One(Stat, Some(0)),
        "access" | "eaccess" => One(Probe, None),
        "faccessat" => One(Probe, Some(0)),
        "readlink" => One(Readlink, None),
        "readlinkat" => One(Readlink, Some(0)),
        "execve" => Spec::Exec,
        "chdir" => Spec::Chdir,
        "unlink" | "rmdir" => One(Delete, None),
        "unlinkat" => One(Delete, Some(0)),
        "rename" => Two(Delete, None, Create, None),
        "renameat" => Two(Delete, Some(0), Create, Some(2)),
        "mkdir" | "mkfifo" | "mknod" | "symlink" => One(Create, None),
        "mkdirat" | "mkfifoat" | "mknodat" => One(Create, Some(0)),
        "symlinkat" => One(Create, Some(1)),
        "link" => Two(Create, None, Create, None),
        "linkat" => Two(Create, Some(0), Create, Some(2)),
        "chmod" | "lchmod" | "chown" | "lchown" | "utimes" | "lutimes" | "utime" | "truncate"
        | "chflags" | "lchflags" => One(Write, None),
        "fchmodat" | "fchownat" | "utimensat" | "futimesat" | "chflagsat" => One(Write, Some(0)),
        _ => return None,
    })
}

fn is_fork(norm: &str) -> bool {
    matches!(norm, "fork" | "vfork" | "rfork")
}

fn known(norm: &str) -> bool {
    spec(norm).is_some() || is_fork(norm) || matches!(norm, "exit" | "close")
}

/// A system call's name without compatibility decorations: `__stat50`, `freebsd11_stat`,
/// `compat_50___lstat30` are `stat` and `lstat`.
fn normalize_name(name: &str) -> String {
    let mut s = name.trim_start_matches('_');
    loop {
        let rest = s
            .strip_prefix("freebsd")
            .or_else(|| s.strip_prefix("compat_"));
        let Some(rest) = rest else { break };
        let after = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        match after.strip_prefix('_') {
            Some(a) if after.len() < rest.len() => s = a.trim_start_matches('_'),
            _ => break,
        }
    }
    if !known(s) {
        let bare = s.trim_end_matches(|c: char| c.is_ascii_digit());
        if bare.len() < s.len() && known(bare) {
            return bare.to_string();
        }
    }
    s.to_string()
}

/// open flags as a number (`kdump -n`, NetBSD): the access mode and O_CREAT, O_TRUNC, O_EXCL,
/// whose values all the BSDs share.
fn flags_text_of_number(v: i64) -> String {
    let mut names = vec![match v & 3 {
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_RDONLY",
    }];
    for (bit, name) in [(0x200, "O_CREAT"), (0x400, "O_TRUNC"), (0x800, "O_EXCL")] {
        if v & bit != 0 {
            names.push(name);
        }
    }
    names.join("|")
}

/// The op of an open from its flags argument (`0x601<O_WRONLY|O_CREAT|O_TRUNC>` or `0x601`).
fn open_op(arg: Option<&String>) -> Op {
    let Some(arg) = arg else { return Op::Read };
    if let Some((_, rest)) = arg.split_once('<') {
        let inner = rest.split('>').next().unwrap_or("");
        return op_of_flags_text(inner);
    }
    match parse_num(arg) {
        Some(v) => op_of_flags_text(&flags_text_of_number(v)),
        None => Op::Read,
    }
}

/// A dirfd argument: `AT_FDCWD` (None) or a descriptor.
fn dirfd_of(arg: Option<&String>) -> Option<i64> {
    let a = arg?;
    if a.contains("AT_FDCWD") {
        return None;
    }
    parse_num(a).filter(|&fd| fd != -100)
}

/// BSD errno numbers that differ from Linux's (those up to 34 agree but for 11): (BSD number,
/// name, Linux number).
const BSD_ERRNO: &[(i32, &str, i32)] = &[
    (11, "EDEADLK", 35),
    (35, "EAGAIN", 11),
    (36, "EINPROGRESS", 115),
    (37, "EALREADY", 114),
    (38, "ENOTSOCK", 88),
    (45, "EOPNOTSUPP", 95),
    (47, "EAFNOSUPPORT", 97),
    (48, "EADDRINUSE", 98),
    (49, "EADDRNOTAVAIL", 99),
    (54, "ECONNRESET", 104),
    (60, "ETIMEDOUT", 110),
    (61, "ECONNREFUSED", 111),
    (62, "ELOOP", 40),
    (63, "ENAMETOOLONG", 36),
    (64, "EHOSTDOWN", 112),
    (65, "EHOSTUNREACH", 113),
    (66, "ENOTEMPTY", 39),
    (69, "EDQUOT", 122),
    (70, "ESTALE", 116),
    (78, "ENOSYS", 38),
];

/// The trace model's errno for a BSD errno number.
fn linux_errno(bsd: i32) -> i32 {
    match BSD_ERRNO.iter().find(|(n, _, _)| *n == bsd) {
        Some((_, name, linux)) => errno_of_name(name).unwrap_or(*linux),
        None => bsd,
    }
}

/// Signals: (name, BSD number, Linux number, whether the default action ends the process).
const SIGNALS: &[(&str, i32, i32, bool)] = &[
    ("HUP", 1, 1, true),
    ("INT", 2, 2, true),
    ("QUIT", 3, 3, true),
    ("ILL", 4, 4, true),
    ("TRAP", 5, 5, true),
    ("ABRT", 6, 6, true),
    ("IOT", 6, 6, true),
    ("EMT", 7, 7, true),
    ("FPE", 8, 8, true),
    ("KILL", 9, 9, true),
    ("BUS", 10, 7, true),
    ("SEGV", 11, 11, true),
    ("SYS", 12, 31, true),
    ("PIPE", 13, 13, true),
    ("ALRM", 14, 14, true),
    ("TERM", 15, 15, true),
    ("URG", 16, 23, false),
    ("STOP", 17, 19, false),
    ("TSTP", 18, 20, false),
    ("CONT", 19, 18, false),
    ("CHLD", 20, 17, false),
    ("TTIN", 21, 21, false),
    ("TTOU", 22, 22, false),
    ("IO", 23, 29, false),
    ("XCPU", 24, 24, true),
    ("XFSZ", 25, 25, true),
    ("VTALRM", 26, 26, true),
    ("PROF", 27, 27, true),
    ("WINCH", 28, 28, false),
    ("INFO", 29, 29, false),
    ("USR1", 30, 10, true),
    ("USR2", 31, 12, true),
    ("THR", 32, 32, false),
    ("LWP", 32, 32, false),
];

/// The status of a process killed by `SIG_DFL` delivery of the signal in a PSIG record's data,
/// or None if the signal does not kill (or the data cannot be read).
fn fatal_status(data: &str) -> Option<i32> {
    let mut words = data.split_whitespace();
    let first = words.next()?;
    let name = first.strip_prefix("SIG")?;
    let (linux, fatal) = if name.is_empty() {
        // `SIG 33`: a number kdump has no name for.
        let n: i32 = words.next()?.parse().ok()?;
        match SIGNALS.iter().find(|s| s.1 == n) {
            Some(s) => (s.2, s.3),
            None => (n, true),
        }
    } else {
        let s = SIGNALS.iter().find(|s| s.0 == name)?;
        (s.2, s.3)
    };
    if words.next() == Some("SIG_DFL") && fatal {
        linux.checked_add(128)
    } else {
        None
    }
}

/// The result of a call, from a RET record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok(i64),
    Err(i32),
    Restart,
}

fn outcome(rest: &str) -> Option<Outcome> {
    let mut w = rest.split_whitespace();
    let first = w.next()?;
    match first {
        "JUSTRETURN" => Some(Outcome::Ok(0)),
        "RESTART" => Some(Outcome::Restart),
        "-1" => match (w.next(), w.next()) {
            (Some("errno"), Some(n)) => {
                let n = i32::try_from(parse_num(n)?).ok()?;
                Some(if n == 0 {
                    Outcome::Ok(-1)
                } else {
                    Outcome::Err(linux_errno(n))
                })
            }
            _ => Some(Outcome::Ok(-1)),
        },
        v => parse_num(v.split('/').next().unwrap_or(v)).map(Outcome::Ok),
    }
}

/// A call waiting for its RET.
#[derive(Debug, Clone)]
struct Call {
    name: String,
    norm: String,
    args: Vec<String>,
    namis: Vec<String>,
    argv: Option<Vec<String>>,
    t: u64,
    line: usize,
}

type Key = (i32, i64);

/// What the continuation lines (tab or indented, no pid) that follow belong to.
#[derive(Debug, Default)]
enum Cont {
    /// Nothing: such a line is out of place.
    #[default]
    None,
    /// Data of no use (GIO, STRU, ENV, ...).
    Ignore,
    /// A wrapped NAMI.
    Nami { key: Key, buf: String, line: usize },
    /// An ARGS record's `[n] = "..."` lines; `partial` is a wrapped argument.
    Args {
        key: Key,
        items: Vec<String>,
        partial: Option<String>,
        line: usize,
    },
}

/// The most calls kept pending for one thread (more means lost RETs).
const MAX_PENDING: usize = 16;

/// The reading of one log.
struct FileReader<'a> {
    file: &'a str,
    b: &'a mut Builder,
    pending: HashMap<Key, Vec<Call>>,
    cont: Cont,
    /// Child -> parent, from the RET of each fork, gathered before reading.
    parent_of: HashMap<i32, i32>,
    seen: HashSet<i32>,
    seen_keys: HashSet<Key>,
    spawned: HashSet<i32>,
    /// A process whose last record so far is a fatal PSIG: (status, time).
    fatal: HashMap<i32, (i32, u64)>,
    base_t: Option<u64>,
    last_t: u64,
    /// Path calls without a NAMI: how many, and the first one's line.
    no_nami: (usize, usize),
}

impl<'a> FileReader<'a> {
    fn new(file: &'a str, b: &'a mut Builder) -> Self {
        Self {
            file,
            b,
            pending: HashMap::new(),
            cont: Cont::None,
            parent_of: HashMap::new(),
            seen: HashSet::new(),
            seen_keys: HashSet::new(),
            spawned: HashSet::new(),
            fatal: HashMap::new(),
            base_t: None,
            last_t: 0,
            no_nami: (0, 0),
        }
    }

    fn warn(&mut self, line: usize, msg: impl std::fmt::Display) {
        self.b.warn(self.file, line, msg);
    }

    /// Read `text`; returns how many records it held.
    fn read(mut self, text: &str) -> usize {
        let lexed: Vec<(usize, Lexed)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, lex(l)))
            .collect();
        // Forks first: a child's records may come before its parent's RET.
        for (_, l) in &lexed {
            if let Lexed::Head(h) = l {
                if h.kind != Kind::Ret {
                    continue;
                }
                let mut w = h.data.split_whitespace();
                let name = normalize_name(strip_sysno(w.next().unwrap_or("")));
                if !is_fork(&name) {
                    continue;
                }
                if let Some(Outcome::Ok(child)) = outcome(w.next().unwrap_or("")) {
                    if let Ok(child) = i32::try_from(child) {
                        if child > 0 && child != h.pid {
                            self.parent_of.entry(child).or_insert(h.pid);
                        }
                    }
                }
            }
        }
        let mut records = 0;
        for (line, l) in lexed {
            match l {
                Lexed::Head(h) => {
                    records += 1;
                    self.finish_cont();
                    self.record(line, h);
                }
                Lexed::Cont(c) => self.continuation(line, c),
                Lexed::Blank => {}
                Lexed::Dropped => {
                    self.finish_cont();
                    self.warn(line, "kdump reports dropped events: the log is incomplete");
                }
                Lexed::Bad(why) => {
                    self.finish_cont();
                    self.warn(line, why);
                }
            }
        }
        self.finish_cont();
        self.finish();
        records
    }

    /// Nanoseconds since the start of the log.
    fn time(&mut self, raw: Option<u64>) -> u64 {
        if let Some(raw) = raw {
            // Absolute stamps (-T) are seconds since the epoch: count from the first one.
            self.last_t = if raw >= 100_000_000 * 1_000_000_000 {
                raw.saturating_sub(*self.base_t.get_or_insert(raw))
            } else {
                raw
            };
        }
        self.last_t
    }

    fn record(&mut self, line: usize, h: Head) {
        let t = self.time(h.t);
        let key = (h.pid, h.tid);
        // A child's first record: make it its parent's child now, unless the parent's RET of
        // the fork came first and did.
        if self.seen.insert(h.pid) && !self.spawned.contains(&h.pid) {
            match self.parent_of.get(&h.pid).copied() {
                Some(parent) => {
                    self.b.spawned(h.pid, parent, t);
                    self.spawned.insert(h.pid);
                }
                None => {
                    self.b.process(h.pid, 0, t);
                }
            }
        }
        let first_of_key = self.seen_keys.insert(key);
        // A core dump's lookup may follow a fatal signal; anything else means the process lived.
        if h.kind != Kind::Nami {
            self.fatal.remove(&h.pid);
        }
        match h.kind {
            Kind::Call => self.call(line, key, t, h.data),
            Kind::Ret => self.ret(line, key, t, &h.comm, h.data, first_of_key),
            Kind::Nami => self.nami(line, key, h.data),
            Kind::Args => {
                self.cont = Cont::Args {
                    key,
                    items: Vec::new(),
                    partial: None,
                    line,
                };
            }
            Kind::Psig => {
                if let Some(status) = fatal_status(h.data) {
                    self.fatal.insert(h.pid, (status, t));
                }
            }
            Kind::Data => self.cont = Cont::Ignore,
        }
    }

    fn call(&mut self, line: usize, key: Key, t: u64, data: &str) {
        let d = data
            .strip_prefix("(via syscall) ")
            .unwrap_or(data)
            .trim_end();
        let (name, args) = match d.find('(') {
            Some(i) => (d.get(..i).unwrap_or(""), d.get(i + 1..)),
            None => (d.split_whitespace().next().unwrap_or(""), None),
        };
        let name = strip_sysno(name.trim());
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '[' | ']');
        if name.is_empty() || !name.chars().all(valid) {
            self.warn(line, "cannot read the system call of this CALL");
            return;
        }
        let args = match args {
            Some(a) => match a.strip_suffix(')') {
                Some(inner) => inner,
                None => {
                    self.warn(
                        line,
                        format!("CALL {name} is cut off (no closing parenthesis)"),
                    );
                    a
                }
            },
            None => "",
        };
        let norm = normalize_name(name);
        let args = split_args(args);
        if norm == "exit" {
            match args.first().and_then(|a| parse_num(a)) {
                Some(status) => {
                    self.pending.retain(|k, _| k.0 != key.0);
                    self.b.ended(key.0, (status & 0xff) as i32, t);
                }
                None => self.warn(line, "cannot read the status of exit"),
            }
            return;
        }
        let stack = self.pending.entry(key).or_default();
        stack.push(Call {
            name: name.to_string(),
            norm,
            args,
            namis: Vec::new(),
            argv: None,
            t,
            line,
        });
        if stack.len() > MAX_PENDING {
            let old = stack.remove(0);
            self.no_ret(&old);
        }
    }

    /// A call that never got its RET.
    fn no_ret(&mut self, c: &Call) {
        if spec(&c.norm).is_some() {
            self.warn(
                c.line,
                format!("{} has no RET record: its access is left out", c.name),
            );
        }
    }

    fn nami(&mut self, line: usize, key: Key, data: &str) {
        let Some(rest) = data.strip_prefix('"') else {
            self.warn(line, "NAMI is not a quoted path");
            return;
        };
        match piece(rest) {
            Piece::Done(body) => self.nami_done(line, key, unvis(body)),
            Piece::Wrapped(body) => {
                self.cont = Cont::Nami {
                    key,
                    buf: body.to_string(),
                    line,
                }
            }
            Piece::Cut => self.warn(line, "NAMI path is cut off (no closing quote)"),
        }
    }

    fn nami_done(&mut self, line: usize, key: Key, path: String) {
        if let Some(call) = self.pending.get_mut(&key).and_then(|s| s.last_mut()) {
            call.namis.push(path);
        } else if !self.fatal.contains_key(&key.0) {
            self.warn(line, format!("NAMI \"{path}\" belongs to no CALL"));
        }
    }

    fn continuation(&mut self, line: usize, text: &str) {
        let body = text.strip_prefix('\t').unwrap_or(text);
        match std::mem::take(&mut self.cont) {
            Cont::None => self.warn(line, "a continuation line that belongs to no record"),
            Cont::Ignore => self.cont = Cont::Ignore,
            Cont::Nami {
                key,
                mut buf,
                line: first,
            } => {
                buf.push_str(body);
                match piece(&buf) {
                    Piece::Done(b) => self.nami_done(first, key, unvis(b)),
                    Piece::Wrapped(b) => {
                        self.cont = Cont::Nami {
                            key,
                            buf: b.to_string(),
                            line: first,
                        }
                    }
                    Piece::Cut => self.warn(line, "NAMI path is cut off (no closing quote)"),
                }
            }
            Cont::Args {
                key,
                mut items,
                partial,
                line: first,
            } => {
                let rest = match partial {
                    Some(mut p) => {
                        p.push_str(body);
                        Some(p)
                    }
                    None => {
                        let b = body.trim_start();
                        if b.starts_with("unterminated argument") {
                            None
                        } else {
                            let quoted = b
                                .strip_prefix('[')
                                .and_then(|r| r.split_once(']'))
                                .filter(|(n, _)| all_digits(n))
                                .and_then(|(_, r)| r.trim_start().strip_prefix('='))
                                .and_then(|r| r.trim_start().strip_prefix('"'));
                            match quoted {
                                Some(q) => Some(q.to_string()),
                                None => {
                                    self.warn(line, "cannot read this ARGS line");
                                    None
                                }
                            }
                        }
                    }
                };
                let mut partial = None;
                if let Some(rest) = rest {
                    match piece(&rest) {
                        Piece::Done(b) => items.push(unvis(b)),
                        Piece::Wrapped(b) => partial = Some(b.to_string()),
                        Piece::Cut => self.warn(line, "argument is cut off (no closing quote)"),
                    }
                }
                self.cont = Cont::Args {
                    key,
                    items,
                    partial,
                    line: first,
                };
            }
        }
    }

    /// The end of a multi-line record.
    fn finish_cont(&mut self) {
        match std::mem::take(&mut self.cont) {
            Cont::Nami { line, .. } => self.warn(line, "NAMI path is cut off"),
            Cont::Args {
                key,
                items,
                partial,
                line,
            } => {
                if partial.is_some() {
                    self.warn(line, "the last argument of ARGS is cut off");
                }
                let call = self
                    .pending
                    .get_mut(&key)
                    .and_then(|s| s.iter_mut().rev().find(|c| c.norm == "execve"));
                match call {
                    Some(c) => c.argv = Some(items),
                    None => self.warn(line, "ARGS belongs to no execve"),
                }
            }
            Cont::None | Cont::Ignore => {}
        }
    }

    fn ret(&mut self, line: usize, key: Key, t: u64, comm: &str, data: &str, first: bool) {
        let (name, rest) = match data.split_once([' ', '\t']) {
            Some((n, r)) => (n, r),
            None => (data, ""),
        };
        let name = strip_sysno(name.trim());
        let norm = normalize_name(name);
        let result = outcome(rest);
        let call = self.pending.get_mut(&key).and_then(|stack| {
            let i = stack.iter().rposition(|c| c.norm == norm)?;
            Some(stack.remove(i))
        });
        if is_fork(&norm) {
            if let Some(Outcome::Ok(child)) = result {
                if let Ok(child) = i32::try_from(child) {
                    if child > 0 && child != key.0 && self.spawned.insert(child) {
                        self.b.spawned(child, key.0, t);
                    }
                }
            }
            return;
        }
        let Some(call) = call else {
            // The log may start in the middle of a call (ktrace's own `RET ktrace 0`).
            if !first && norm != "ktrace" && known(&norm) {
                self.warn(line, format!("RET {name} has no matching CALL"));
            }
            return;
        };
        let Some(result) = result else {
            self.warn(line, format!("cannot read the result of {name}"));
            return;
        };
        let (errno, value) = match result {
            Outcome::Ok(v) => (0, v),
            Outcome::Err(e) => (e, -1),
            Outcome::Restart => return,
        };
        self.emit(line, key, t, comm, &call, errno, value);
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(&mut self, line: usize, key: Key, t: u64, comm: &str, c: &Call, errno: i32, ret: i64) {
        let pid = key.0;
        if c.norm == "close" {
            if errno == 0 {
                if let Some(fd) = c.args.first().and_then(|a| parse_num(a)) {
                    self.b.set_fd(pid, fd, None);
                }
            }
            return;
        }
        let Some(spec) = spec(&c.norm) else { return };
        let Some(path) = c.namis.first().map(String::as_str) else {
            self.no_nami.0 += 1;
            if self.no_nami.0 == 1 {
                self.no_nami.1 = line;
                self.warn(
                    line,
                    format!(
                        "{} has no NAMI record, so no path (was the log taken without \
                         `ktrace -t n`?)",
                        c.name
                    ),
                );
            }
            return;
        };
        match spec {
            Spec::Open { flags, dirfd } => {
                let op = open_op(c.args.get(flags));
                let dirfd = dirfd.and_then(|i| dirfd_of(c.args.get(i)));
                self.b.event(pid, c.t, op, dirfd, path, errno, &c.name);
                if errno == 0 && ret >= 0 {
                    let abs = self.b.absolute(pid, dirfd, path);
                    self.b.set_fd(pid, ret, Some(&abs));
                }
            }
            Spec::One(op, dirfd) => {
                let dirfd = dirfd.and_then(|i| dirfd_of(c.args.get(i)));
                self.b.event(pid, c.t, op, dirfd, path, errno, &c.name);
            }
            Spec::Two(op1, fd1, op2, fd2) => {
                let fd1 = fd1.and_then(|i| dirfd_of(c.args.get(i)));
                self.b.event(pid, c.t, op1, fd1, path, errno, &c.name);
                if let Some(second) = c.namis.get(1..).and_then(|r| r.last()) {
                    let fd2 = fd2.and_then(|i| dirfd_of(c.args.get(i)));
                    self.b.event(pid, c.t, op2, fd2, second, errno, &c.name);
                }
            }
            Spec::Chdir => {
                self.b
                    .event(pid, c.t, Op::Chdir, None, path, errno, &c.name);
                if errno == 0 {
                    self.b.set_cwd(pid, path);
                }
            }
            Spec::Exec => {
                if errno == 0 {
                    let argv = match &c.argv {
                        Some(a) if !a.is_empty() => a.clone(),
                        _ if !comm.is_empty() => vec![comm.to_string()],
                        _ => vec![path.rsplit('/').next().unwrap_or(path).to_string()],
                    };
                    self.b.executed(pid, path, argv, t);
                    // The other threads are gone.
                    self.pending.retain(|k, _| k.0 != pid || *k == key);
                }
                self.b.event(pid, c.t, Op::Exec, None, path, errno, &c.name);
            }
        }
    }

    fn finish(&mut self) {
        let mut left: Vec<Call> = self.pending.drain().flat_map(|(_, s)| s).collect();
        left.sort_by_key(|c| c.line);
        for c in &left {
            self.no_ret(c);
        }
        if self.no_nami.0 > 1 {
            let (n, line) = self.no_nami;
            self.warn(line, format!("{n} calls in all had no NAMI record"));
        }
        let mut fatal: Vec<(i32, (i32, u64))> = self.fatal.drain().collect();
        fatal.sort_unstable();
        for (pid, (status, t)) in fatal {
            self.b.ended(pid, status, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{events, XorShift, POISONED_READS};
    use crate::import::{import, Format, Imported};
    use crate::trace::{Event, Process, Record};

    const OPENBSD: &str = include_str!("../../tests/fixtures/import/kdump-openbsd.log");
    const FREEBSD: &str = include_str!("../../tests/fixtures/import/kdump-freebsd.log");
    const GARBAGE: &str = include_str!("../../tests/fixtures/import/kdump-garbage.log");

    fn run(name: &str, text: &str) -> Result<Imported, ImportError> {
        import(Format::Kdump, &[(name.to_string(), text.to_string())])
    }

    /// The last process record of `pid`.
    fn process(imp: &Imported, pid: i32) -> Process {
        imp.records
            .iter()
            .rev()
            .find_map(|r| match r {
                Record::Process(p) if p.pid == pid => Some(p.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no process {pid}"))
    }

    fn exit_of(imp: &Imported, pid: i32) -> Option<i32> {
        imp.records.iter().find_map(|r| match r {
            Record::Exit { pid: p, status, .. } if *p == pid => Some(*status),
            _ => None,
        })
    }

    fn find<'a>(imp: &'a Imported, path: &str, op: Op) -> Vec<&'a Event> {
        events(imp)
            .into_iter()
            .filter(|e| e.path == path && e.op == op)
            .collect()
    }

    fn one<'a>(imp: &'a Imported, path: &str, op: Op) -> &'a Event {
        let found = find(imp, path, op);
        assert_eq!(found.len(), 1, "{op:?} {path}: {found:?}");
        found[0]
    }

    /// The chain of parents of `pid`, itself first.
    fn chain(imp: &Imported, pid: i32) -> Vec<i32> {
        let mut out = vec![pid];
        let mut p = pid;
        while out.len() < 20 {
            p = process(imp, p).ppid;
            if p == 0 {
                break;
            }
            out.push(p);
        }
        out
    }

    /// What both fixtures show: the same build, on OpenBSD and on FreeBSD.
    fn check_scenario(imp: &Imported) {
        assert!(imp.warnings.is_empty(), "{:#?}", imp.warnings);
        for (path, pid) in POISONED_READS {
            let e = one(imp, path, Op::Read);
            assert_eq!((e.pid, e.errno), (pid, 0), "{path}");
        }
        assert_eq!(chain(imp, 108), vec![108, 107, 106, 105, 100]);
        // One record when a process appears, one when it executes a program: whichever of the
        // parent's and the child's RET of the fork comes first.
        for pid in [101, 105, 108] {
            let n = imp
                .records
                .iter()
                .filter(|r| matches!(r, Record::Process(p) if p.pid == pid))
                .count();
            assert_eq!(n, 2, "process records of {pid}");
        }
        for pid in 101..=104 {
            assert_eq!(chain(imp, pid), vec![pid, 100]);
        }
        assert_eq!(process(imp, 101).exe, "/usr/local/bin/git");
        assert_eq!(process(imp, 105).exe, "/usr/bin/make");
        assert_eq!(process(imp, 107).exe, "/usr/bin/cc");
        assert_eq!(process(imp, 107).cwd, "/home/u/src/pkg");
        // Failures carry their errno.
        let e = one(imp, "/etc/gitconfig", Op::Read);
        assert_eq!((e.pid, e.errno), (101, 2));
        let e = one(imp, "/home/u/bin/git", Op::Exec);
        assert_eq!((e.pid, e.errno), (101, 2));
        let e = one(imp, "/usr/local/include/zlib.h", Op::Read);
        assert_eq!((e.pid, e.errno), (108, 2));
        let e = one(imp, "/home/u/.config/git/config", Op::Probe);
        assert_eq!(e.errno, 2);
        assert_eq!(one(imp, "/usr/bin/cc", Op::Exec).errno, 0);
        assert_eq!(find(imp, "/usr/local/bin/cc", Op::Exec)[0].errno, 2);
        // Relative paths: before the shell's cd, unresolved; after it, against it.
        assert_eq!(one(imp, ".git", Op::Stat).pid, 101);
        assert_eq!(one(imp, "/home/u/src/pkg", Op::Chdir).pid, 100);
        assert_eq!(one(imp, "/home/u/src/pkg/Makefile", Op::Read).pid, 105);
        assert_eq!(one(imp, "/home/u/src/pkg/main.c", Op::Read).pid, 108);
        assert_eq!(one(imp, "/tmp/ccAb12Cd.s", Op::Write).pid, 108);
        assert_eq!(one(imp, "/tmp/ccAb12Cd.o", Op::Delete).pid, 107);
        assert_eq!(one(imp, "/home/u/src/pkg/main.o", Op::Create).pid, 107);
        assert_eq!(one(imp, "/tmp/ccAb12Cd.s", Op::Delete).errno, 0);
        // Noise is there too, as such.
        assert!(
            !find(imp, "/lib/libc.so.7", Op::Read).is_empty()
                || !find(imp, "/usr/lib/libc.so.97.1", Op::Read).is_empty()
        );
        // Exits.
        for pid in [100, 101, 103, 104, 105, 106, 107, 108] {
            assert_eq!(exit_of(imp, pid), Some(0), "exit of {pid}");
        }
        assert!(matches!(
            imp.records.last(),
            Some(Record::End { status: 0, .. })
        ));
        match imp.records.first() {
            Some(Record::Header { tracer, gaps, .. }) => {
                assert!(tracer.contains("kdump"));
                assert!(gaps.len() >= 2);
            }
            other => panic!("no header: {other:?}"),
        }
        // Events are numbered in order.
        let seqs: Vec<u64> = events(imp).iter().map(|e| e.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn openbsd_fixture_imports() {
        let imp = run("kdump-openbsd.log", OPENBSD).unwrap();
        check_scenario(&imp);
        // ARGS give argv, wrapped arguments joined again.
        assert_eq!(
            process(&imp, 101).argv,
            vec!["git", "config", "--get", "user.name"]
        );
        assert_eq!(
            process(&imp, 106).argv,
            vec!["sh", "-ec", "cc -O2 -c main.c"]
        );
        let root = process(&imp, 100);
        assert_eq!(root.exe, "/bin/sh");
        assert_eq!(
            root.argv.get(2).map(String::as_str),
            Some(
                "git config --get user.name; leakprobe; cmake --find-package -DNAME=Poison \
                 -DCOMPILER_ID=GNU -DLANGUAGE=C -DMODE=EXIST & python3.11 -c pass; wait; cd \
                 /home/u/src/pkg && make"
            )
        );
        // A wrapped NAMI for an exec.
        let cc1 = process(&imp, 108);
        assert_eq!(
            cc1.exe,
            "/usr/local/libexec/gcc/x86_64-unknown-openbsd7.5/11.2.0/cc1"
        );
        assert_eq!(cc1.argv.first().map(String::as_str), Some("cc1"));
        let e = one(
            &imp,
            "/home/u/.local/lib/python3.11/site-packages/distutils-precedence.pth",
            Op::Stat,
        );
        assert_eq!((e.pid, e.errno), (104, 2));
        // Failure with EACCES, then death by SIGSEGV (the core dump's NAMI is no event).
        let e = one(&imp, "/home/u/.ssh/id_ed25519", Op::Read);
        assert_eq!((e.pid, e.errno), (102, 13));
        assert_eq!(exit_of(&imp, 102), Some(128 + 11));
        assert!(events(&imp).iter().all(|e| !e.path.contains("core")));
        // Timestamps count from the first record.
        let e = one(&imp, "/home/u/.gitconfig", Op::Read);
        assert!(e.t_ns > 0 && e.t_ns < 1_000_000_000, "{}", e.t_ns);
        let later = one(&imp, "/usr/include/stdio.h", Op::Read);
        assert!(later.t_ns > e.t_ns);
    }

    #[test]
    fn freebsd_fixture_imports() {
        let imp = run("kdump-freebsd.log", FREEBSD).unwrap();
        check_scenario(&imp);
        // No ARGS on FreeBSD: argv is the command name.
        assert_eq!(process(&imp, 101).argv, vec!["git"]);
        assert_eq!(
            process(&imp, 108).exe,
            "/usr/local/libexec/gcc13/gcc/x86_64-portbld-freebsd14.0/13.2.0/cc1"
        );
        // The ELF interpreter's NAMI of an execve is not the program.
        assert!(find(&imp, "/libexec/ld-elf.so.1", Op::Exec).is_empty());
        // Two threads of python3.11, interleaved, paired by thread id; a raw path with spaces.
        let e = one(
            &imp,
            "/home/u/.cache/pip/Pip Cache/selfcheck.json",
            Op::Read,
        );
        assert_eq!((e.pid, e.errno), (104, 2));
        let e = one(&imp, "/usr/local/lib/python311.zip", Op::Stat);
        assert_eq!((e.pid, e.errno), (104, 2));
        assert_eq!(exit_of(&imp, 102), Some(1));
        // O_VERIFY and O_DIRECTORY opens are reads; an O_CREAT open with a mode is a write.
        assert_eq!(
            one(&imp, "/home/u/.cmake/packages/Poison", Op::Read).pid,
            103
        );
    }

    #[test]
    fn garbage_gives_warnings_with_line_numbers() {
        let imp = run("kdump-garbage.log", GARBAGE).unwrap();
        let lines: Vec<usize> = imp
            .warnings
            .iter()
            .filter_map(|w| {
                let rest = w.strip_prefix("kdump-garbage.log:")?;
                rest.split(':').next()?.parse().ok()
            })
            .collect();
        assert_eq!(lines.len(), imp.warnings.len(), "{:#?}", imp.warnings);
        for want in [4, 5, 8, 11, 12, 13, 14, 15, 16, 17, 20, 21, 28] {
            assert!(
                lines.contains(&want),
                "no warning for line {want}: {:#?}",
                imp.warnings
            );
        }
        for unwanted in [1, 2, 3, 6, 7, 9, 10, 18, 22, 23, 24, 25, 29, 30] {
            assert!(
                !lines.contains(&unwanted),
                "line {unwanted}: {:#?}",
                imp.warnings
            );
        }
        assert_eq!(one(&imp, "/home/u/.profile", Op::Read).errno, 0);
        assert_eq!(one(&imp, "/home/u/.bashrc", Op::Read).errno, 2);
        let e = one(&imp, "/home/u/.local/share/x", Op::Read);
        assert_eq!((e.pid, e.errno), (201, 13));
        assert!(find(&imp, "/etc/motd", Op::Stat).is_empty());
        assert!(events(&imp).iter().all(|e| e.path != "/etc/passwd"));
        assert_eq!(exit_of(&imp, 201), Some(3));
        assert_eq!(exit_of(&imp, 200), Some(128 + 9));
    }

    #[test]
    fn nothing_recognisable_is_an_error() {
        assert!(run("empty.log", "").is_err());
        assert!(run("blank.log", "\n\n   \n\t\n").is_err());
        assert!(import(Format::Kdump, &[]).is_err());
        let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        let err = run("junk.bin", &String::from_utf8_lossy(&junk)).unwrap_err();
        assert_eq!(err.file, "junk.bin");
        assert!(run("text.txt", "hello\nworld\n12 monkeys\n").is_err());
    }

    #[test]
    fn a_file_without_records_among_others_is_a_warning() {
        let inputs = [
            ("a.log".to_string(), GARBAGE.to_string()),
            ("b.log".to_string(), "nothing here\n".to_string()),
        ];
        let imp = import(Format::Kdump, &inputs).unwrap();
        assert!(imp.warnings.iter().any(|w| w.starts_with("b.log:0:")));
    }

    #[test]
    fn headers_of_every_flavour() {
        let Lexed::Head(h) = lex("  4242/100077  git      CALL  open(0x1,0<O_RDONLY>)") else {
            panic!("OpenBSD -H")
        };
        assert_eq!((h.pid, h.tid, h.comm.as_str()), (4242, 100077, "git"));
        assert_eq!(h.data, "open(0x1,0<O_RDONLY>)");
        let l = "   100 100100 Web Content 1700000000.250000 0.000100 RET   F64  openat 3";
        let Lexed::Head(h) = lex(l) else {
            panic!("FreeBSD -H -T -E -A")
        };
        assert_eq!(
            (h.pid, h.tid, h.comm.as_str()),
            (100, 100100, "Web Content")
        );
        assert_eq!(h.t, Some(1_700_000_000_250_000_000));
        assert_eq!((h.kind, h.data), (Kind::Ret, "openat 3"));
        let Lexed::Head(h) = lex("1234567 RET      RET   fork 0") else {
            panic!("a command called RET")
        };
        assert_eq!((h.pid, h.comm.as_str(), h.data), (1234567, "RET", "fork 0"));
        assert!(matches!(lex("\t[0] = \"cc\""), Lexed::Cont(_)));
        assert!(matches!(lex("       0x0000 4568  |Eh|"), Lexed::Cont(_)));
        assert!(matches!(lex("       \"data"), Lexed::Cont(_)));
        assert!(matches!(lex("   0000:  68 65"), Lexed::Cont(_)));
        assert!(matches!(lex("x 12 sh CALL"), Lexed::Bad(_)));
        assert!(matches!(lex("  12 sh  FROB x"), Lexed::Bad(_)));
        assert!(matches!(
            lex("  12 sh      Events dropped."),
            Lexed::Dropped
        ));
        assert!(matches!(lex("3000000000 sh CALL  exit(0)"), Lexed::Bad(_)));
        assert!(matches!(lex(""), Lexed::Blank));
    }

    #[test]
    fn small_parsers() {
        assert_eq!(parse_num("3"), Some(3));
        assert_eq!(parse_num("0x65"), Some(101));
        assert_eq!(parse_num("0xffffff9c"), Some(-100));
        assert_eq!(parse_num("0xffffffffffffff9c"), Some(-100));
        assert_eq!(parse_num("-1"), Some(-1));
        assert_eq!(parse_num("banana"), None);
        assert_eq!(parse_num("0x"), None);
        assert_eq!(parse_num("-"), None);
        assert_eq!(outcome("101/0x65"), Some(Outcome::Ok(101)));
        assert_eq!(outcome("JUSTRETURN"), Some(Outcome::Ok(0)));
        assert_eq!(outcome("RESTART"), Some(Outcome::Restart));
        assert_eq!(outcome("-1 errno 2 No such file"), Some(Outcome::Err(2)));
        assert_eq!(
            outcome("-1 errno 63 File name too long"),
            Some(Outcome::Err(36))
        );
        assert_eq!(outcome("-1 errno 62"), Some(Outcome::Err(40)));
        assert_eq!(outcome(""), None);
        assert_eq!(unvis(r#"a\"b\\c\n\t\040\M-C\M-)\^A"#), "a\"b\\c\n\t é\u{1}");
        assert_eq!(unvis("plain path"), "plain path");
        assert_eq!(unvis("trailing\\"), "trailing\\");
        assert_eq!(normalize_name("__stat50"), "stat");
        assert_eq!(normalize_name("freebsd11_lstat"), "lstat");
        assert_eq!(normalize_name("compat_50___lstat30"), "lstat");
        assert_eq!(normalize_name("__vfork14"), "vfork");
        assert_eq!(normalize_name("openat"), "openat");
        assert_eq!(normalize_name("__tfork"), "tfork");
        assert_eq!(strip_sysno("open[5]"), "open");
        assert_eq!(strip_sysno("[333]"), "[333]");
        assert_eq!(
            split_args("AT_FDCWD,0x1,0x1002<PRIVATE,ANONYMOUS>,0644"),
            vec!["AT_FDCWD", "0x1", "0x1002<PRIVATE,ANONYMOUS>", "0644"]
        );
        assert_eq!(open_op(Some(&"0x601".to_string())), Op::Write);
        assert_eq!(open_op(Some(&"0xa02".to_string())), Op::Create);
        assert_eq!(open_op(Some(&"0".to_string())), Op::Read);
        assert_eq!(open_op(Some(&"0x400000<O_PATH>".to_string())), Op::Stat);
        assert_eq!(dirfd_of(Some(&"AT_FDCWD".to_string())), None);
        assert_eq!(dirfd_of(Some(&"0xffffff9c".to_string())), None);
        assert_eq!(dirfd_of(Some(&"0x4".to_string())), Some(4));
        assert_eq!(fatal_status("SIGSEGV SIG_DFL code=SEGV_MAPERR"), Some(139));
        assert_eq!(fatal_status("SIGBUS SIG_DFL"), Some(128 + 7));
        assert_eq!(fatal_status("SIGCHLD SIG_DFL"), None);
        assert_eq!(fatal_status("SIGTERM caught handler=0x1 mask=0x0"), None);
        assert_eq!(fatal_status("SIG 70 SIG_DFL"), Some(198));
        assert_eq!(fatal_status("SIG 2147483647 SIG_DFL"), None);
        assert_eq!(timestamp_ns("12.5"), 12_500_000_000);
        assert_eq!(timestamp_ns("-0.000010"), 0);
    }

    #[test]
    fn errno_table_agrees_with_the_names() {
        for (bsd, name, linux) in BSD_ERRNO {
            if let Some(n) = errno_of_name(name) {
                assert_eq!(n, *linux, "{name}");
            }
            assert_eq!(linux_errno(*bsd), *linux);
        }
        assert_eq!(linux_errno(2), 2);
        assert_eq!(linux_errno(13), 13);
    }

    #[test]
    fn numeric_flags_dirfds_and_restarts() {
        let log = "\
   10 tool     CALL  openat(0xffffff9c,0x1000,0x20000)
   10 tool     NAMI  \"/out\"
   10 tool     RET   openat 0x3
   10 tool     CALL  openat(3,0x1000,0x601,0644)
   10 tool     NAMI  \"a\"
   10 tool     RET   openat 4
   10 tool     CALL  close(3)
   10 tool     RET   close 0
   10 tool     CALL  open(0x1000,0x0)
   10 tool     NAMI  \"/slow\"
   10 tool     RET   open RESTART
   10 tool     CALL  open(0x1000,0x0)
   10 tool     NAMI  \"/slow\"
   10 tool     RET   open 5
   10 tool     CALL  chdir(0x1000)
   10 tool     NAMI  \"/work\"
   10 tool     RET   chdir 0
   10 tool     CALL  mkdir(0x1000,0755)
   10 tool     NAMI  \"new\"
   10 tool     RET   mkdir -1 errno 17 File exists
   10 tool     CALL  symlinkat(0x1000,AT_FDCWD,0x2000)
   10 tool     NAMI  \"link\"
   10 tool     RET   symlinkat 0
   10 tool     CALL  __lstat50(0x1000,0x2000)
   10 tool     NAMI  \"link\"
   10 tool     RET   __lstat50 0
   10 tool     CALL  exit(0x2)
";
        let imp = run("n.log", log).unwrap();
        assert!(imp.warnings.is_empty(), "{:#?}", imp.warnings);
        assert_eq!(one(&imp, "/out", Op::Read).errno, 0);
        assert_eq!(one(&imp, "/out/a", Op::Write).errno, 0);
        assert_eq!(one(&imp, "/slow", Op::Read).errno, 0);
        assert_eq!(one(&imp, "/work/new", Op::Create).errno, 17);
        assert_eq!(one(&imp, "/work/link", Op::Create).errno, 0);
        assert_eq!(one(&imp, "/work/link", Op::Stat).syscall, "__lstat50");
        assert_eq!(exit_of(&imp, 10), Some(2));
    }

    #[test]
    fn interleaved_threads_without_tids_pair_by_name() {
        let log = "\
   10 tool     CALL  read(3,0x1,0x10)
   10 tool     CALL  open(0x1000,0<O_RDONLY>)
   10 tool     NAMI  \"/a\"
   10 tool     RET   read 16/0x10
   10 tool     RET   open 4
   10 tool     CALL  link(0x1,0x2)
   10 tool     NAMI  \"/x\"
   10 tool     NAMI  \"/x-target\"
   10 tool     NAMI  \"/y\"
   10 tool     RET   link 0
   10 tool     CALL  open(0x1000,0<O_RDONLY>)
   10 tool     NAMI  \"/never\"
";
        let imp = run("t.log", log).unwrap();
        assert_eq!(one(&imp, "/a", Op::Read).errno, 0);
        assert_eq!(one(&imp, "/x", Op::Create).errno, 0);
        assert_eq!(one(&imp, "/y", Op::Create).errno, 0);
        assert!(find(&imp, "/x-target", Op::Create).is_empty());
        assert!(find(&imp, "/never", Op::Read).is_empty());
        assert!(imp.warnings.iter().any(|w| w.starts_with("t.log:11:")));
    }

    /// Every prefix of each fixture at many cut points: no panic, and whatever is read is a
    /// well-formed result or an error.
    #[test]
    fn prefixes_never_panic() {
        for text in [OPENBSD, FREEBSD, GARBAGE] {
            // Every byte of a small fixture; every line end and every 41st byte of a large one.
            let step = if text.len() < 4096 { 1 } else { 41 };
            let cuts: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .filter(|&i| i % step == 0 || text[..i].ends_with('\n') || i == text.len())
                .collect();
            assert!(cuts.len() > 100);
            for cut in cuts {
                let _ = run("cut.log", &text[..cut]);
            }
        }
    }

    /// 2000 deterministic random byte mutations of the fixtures: no panic.
    #[test]
    fn mutations_never_panic() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let texts = [OPENBSD, FREEBSD, GARBAGE];
        let tokens: &[&[u8]] = &[
            b"SIG 2147483647 SIG_DFL",
            b"0xffffffffffffffff",
            b"-9223372036854775808",
            b"\n",
            b"\t",
            b" ",
            b"\"",
            b"\\",
            b"(",
            b")",
            b"<",
            b">",
            b"/",
            b"RET   ",
            b"CALL  ",
            b"NAMI  ",
            b"ARGS  ",
            b"PSIG  ",
            b"-1 errno ",
            b"0x",
            b"9999999999",
            b"\xff",
        ];
        for round in 0..2000 {
            // A window of the fixture (the whole of it every tenth round), to keep this quick.
            let lines: Vec<&str> = texts[round % texts.len()].split_inclusive('\n').collect();
            let (start, len) = if round % 10 == 0 {
                (0, lines.len())
            } else {
                (rng.below(lines.len()), 20 + (rng.next() % 60) as usize)
            };
            let mut bytes: Vec<u8> = lines
                .iter()
                .skip(start)
                .take(len)
                .flat_map(|l| l.bytes())
                .collect();
            let edits = 1 + (rng.next() % 8) as usize;
            for _ in 0..edits {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.below(bytes.len());
                match rng.next() % 4 {
                    0 => bytes[at] = (rng.next() % 256) as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    2 => {
                        let tok = tokens[rng.below(tokens.len())];
                        for (i, b) in tok.iter().enumerate() {
                            bytes.insert(at + i, *b);
                        }
                    }
                    _ => {
                        let len = (rng.next() % 64) as usize;
                        bytes.drain(at..(at + len).min(bytes.len()));
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = run("mutated.log", &text);
        }
    }
}
