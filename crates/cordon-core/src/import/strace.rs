//! Importer for strace logs, in the output format documented in strace(1).
//!
//! # Reads
//! - `strace -f -o log` (every line starts with `PID `), the `[pid N] ` prefix strace prints on
//!   stderr, and logs without `-f` (no pid: the pid of a `-ff` file name, `trace.1234`, or 1);
//! - `-ff` logs, one file a process (`name.PID`), given together: parentage comes from the
//!   results of clone/clone3/fork/vfork in the parent's file, and with timestamps the files are
//!   merged in time order;
//! - timestamps `-t`, `-tt`, `-ttt` (and `--timestamps` with other precisions) and `-r`, made
//!   relative to the first one; `-T` durations and `-i` instruction pointers are skipped;
//! - `-y`/`-yy` descriptor annotations (`3</usr/lib/libc.so.6>`, `AT_FDCWD</home/u>`), used to
//!   resolve dirfds and learn descriptors and the working directory; `-Y` command names;
//! - `-s` truncated strings (`"abc"...`): a truncated path is recorded with `...` appended, and
//!   a warning; truncated argv is kept with `...`;
//! - `<unfinished ...>` / `<... NAME resumed>` pairs, joined per pid;
//! - results `= 0`, `= 3`, `= 3</path>`, `= -1 ENOENT (...)`, `= ?`; `+++ exited with N +++`,
//!   `+++ killed by SIG... +++` (128 + signal); signals and `strace:` messages are skipped.
//!
//! System calls map to operations as in the ptrace tracer ([`crate::tracer`]); descriptors
//! returned by opens (and dup, dup2, dup3, fcntl F_DUPFD) are tracked for `*at` calls, close
//! forgets them; chdir and fchdir move the working directory. A relative path with no known
//! working directory stays relative.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::Path;

use super::{errno_of_name, op_of_flags_text, Builder, ImportError};
use crate::trace::Op;
use crate::tracer::normalize;

const AT_FDCWD: i64 = -100;
const NS: u64 = 1_000_000_000;
const DAY_NS: u64 = 86_400 * NS;

/// Parse strace output into `b`.
pub fn parse(inputs: &[(String, String)], b: &mut Builder) -> Result<(), ImportError> {
    let Some((first_name, _)) = inputs.first() else {
        return Err(ImportError {
            file: String::new(),
            message: "not an strace log: no input".into(),
        });
    };
    let mut srcs: Vec<Src> = inputs
        .iter()
        .map(|(name, text)| Src::new(name, text))
        .collect();
    let mut p = Parser::default();
    prescan(&mut srcs, &mut p.parent_of);
    // Parents' files before their children's, so that a child is created at its parent's fork
    // (inheriting its working directory and descriptors) when the log has no timestamps.
    let depths: Vec<usize> = srcs
        .iter()
        .map(|s| depth(&p.parent_of, s.default_pid))
        .collect();
    let mut order: Vec<usize> = (0..srcs.len()).collect();
    order.sort_by_key(|&i| depths.get(i).copied().unwrap_or(0));
    let mut sorted: Vec<Option<Src>> = srcs.into_iter().map(Some).collect();
    let mut srcs: Vec<Src> = order
        .iter()
        .filter_map(|&i| sorted.get_mut(i).and_then(Option::take))
        .collect();

    p.run(&mut srcs, b);
    if p.understood == 0 {
        let why = match p.first_problem.take() {
            Some(w) => format!("no line looks like strace output (first: {w})"),
            None => "it is empty".into(),
        };
        return Err(ImportError {
            file: first_name.clone(),
            message: format!("not an strace log: {why}"),
        });
    }
    Ok(())
}

/// One input file being read.
struct Src<'a> {
    name: &'a str,
    text: &'a str,
    pos: usize,
    line_no: usize,
    /// The pid of lines without one.
    default_pid: i32,
    /// The file uses `[pid N]` prefixes (strace writing to stderr): lines without a prefix
    /// belong to the only process alive.
    bracket: bool,
    ts: TsState,
    /// In a `-c` summary table: the rest is not a trace.
    summary: bool,
    /// A line cut by strace's `Process N attached` message, to be joined with the next.
    carry: Option<(usize, String)>,
    pushback: Option<(usize, &'a str)>,
    peeked: Option<Item<'a>>,
    last_t_ns: u64,
}

impl<'a> Src<'a> {
    fn new(name: &'a str, text: &'a str) -> Self {
        Src {
            name,
            text,
            pos: 0,
            line_no: 0,
            default_pid: pid_of_file_name(name).unwrap_or(1),
            bracket: false,
            ts: TsState::default(),
            summary: false,
            carry: None,
            pushback: None,
            peeked: None,
            last_t_ns: 0,
        }
    }

    fn raw_line(&mut self) -> Option<(usize, &'a str)> {
        if let Some(l) = self.pushback.take() {
            return Some(l);
        }
        let rest = self.text.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (line, adv) = match rest.find('\n') {
            Some(i) => (rest.get(..i).unwrap_or(""), i + 1),
            None => (rest, rest.len()),
        };
        self.pos += adv;
        self.line_no += 1;
        Some((self.line_no, line.strip_suffix('\r').unwrap_or(line)))
    }

    /// The next non-empty line, with lines cut by an attach message joined again.
    fn next_line(&mut self) -> Option<(usize, Cow<'a, str>)> {
        loop {
            let Some((no, line)) = self.raw_line() else {
                return self.carry.take().map(|(n, c)| (n, Cow::Owned(c)));
            };
            if let Some((cno, c)) = self.carry.take() {
                let continues = !(line.starts_with("[pid")
                    || line.as_bytes().first().is_some_and(u8::is_ascii_digit));
                if continues {
                    return Some((cno, Cow::Owned(c + line)));
                }
                self.pushback = Some((no, line));
                return Some((cno, Cow::Owned(c)));
            }
            if let Some(prefix) = cut_by_attach_message(line) {
                if !prefix.trim().is_empty() {
                    self.carry = Some((no, prefix.to_string()));
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            return Some((no, Cow::Borrowed(line)));
        }
    }

    fn peek(&mut self) -> Option<Item<'a>> {
        let (line_no, text) = self.next_line()?;
        let h = head(&text);
        let t_abs = h.ts.map(|t| self.ts.abs(t));
        let body_off = text.len() - h.body.len();
        Some(Item {
            line_no,
            head_pid: h.pid,
            t_abs,
            body_off,
            text,
        })
    }
}

/// `strace: Process N attached` printed in the middle of another line: the line's start.
fn cut_by_attach_message(line: &str) -> Option<&str> {
    let i = line.find("strace: Process ")?;
    if i == 0 {
        return None;
    }
    let (prefix, msg) = line.split_at(i);
    let rest = msg.strip_prefix("strace: Process ")?;
    let (n, rest) = leading_digits(rest);
    n?;
    matches!(rest, " attached" | " detached").then_some(prefix)
}

/// The pid of a `strace: Process N attached` message, wherever it is in the line.
fn attached_pid(line: &str) -> Option<i32> {
    let i = line.find("strace: Process ")?;
    let rest = line.get(i + "strace: Process ".len()..)?;
    let (n, rest) = leading_digits(rest);
    n.filter(|_| rest == " attached")
}

fn pid_of_file_name(name: &str) -> Option<i32> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (_, suffix) = base.rsplit_once('.')?;
    if suffix.is_empty() || !suffix.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    suffix.parse::<i32>().ok().filter(|&p| p > 0)
}

/// A line read ahead, its header parsed.
struct Item<'a> {
    line_no: usize,
    text: Cow<'a, str>,
    head_pid: Option<i32>,
    t_abs: Option<u64>,
    body_off: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ts {
    /// `-t`, `-tt`: nanoseconds since midnight.
    TimeOfDay(u64),
    /// `-ttt` or `-r`: seconds and nanoseconds.
    Dotted { secs: u64, ns: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TsMode {
    #[default]
    Unknown,
    TimeOfDay,
    Epoch,
    Relative,
}

#[derive(Debug, Default)]
struct TsState {
    mode: TsMode,
    last_tod: u64,
    day: u64,
    rel: u64,
    last_abs: u64,
}

impl TsState {
    fn abs(&mut self, ts: Ts) -> u64 {
        let abs = match ts {
            Ts::TimeOfDay(ns) => {
                if self.mode == TsMode::Unknown {
                    self.mode = TsMode::TimeOfDay;
                }
                // Past midnight.
                if ns.saturating_add(DAY_NS / 2) < self.last_tod {
                    self.day = self.day.saturating_add(DAY_NS);
                }
                self.last_tod = ns;
                self.day.saturating_add(ns)
            }
            Ts::Dotted { secs, ns } => {
                let total = secs.saturating_mul(NS).saturating_add(ns);
                if self.mode == TsMode::Unknown {
                    self.mode = if secs >= 100_000_000 {
                        TsMode::Epoch
                    } else {
                        TsMode::Relative
                    };
                }
                if self.mode == TsMode::Relative {
                    self.rel = self.rel.saturating_add(total);
                    self.rel
                } else {
                    total
                }
            }
        };
        self.last_abs = abs;
        abs
    }
}

/// A line's pid prefix and timestamp, and the rest.
struct Head<'a> {
    pid: Option<i32>,
    ts: Option<Ts>,
    body: &'a str,
}

fn head(line: &str) -> Head<'_> {
    let mut s = line;
    let mut pid = None;
    if let Some(r) = s.strip_prefix("[pid") {
        let (n, r) = leading_digits(r.trim_start_matches(' '));
        if let (Some(n), Some(r)) = (n, skip_comm(r).strip_prefix(']')) {
            pid = Some(n);
            s = r;
        }
    } else if s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        let (n, r) = leading_digits(s);
        let r = skip_comm(r);
        if let Some(n) = n.filter(|_| r.starts_with([' ', '\t'])) {
            pid = Some(n);
            s = r;
        }
    }
    s = s.trim_start();
    let mut ts = None;
    if s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        let end = s.find([' ', '\t']).unwrap_or(s.len());
        let (tok, rest) = s.split_at(end);
        if let Some(t) = parse_ts(tok) {
            ts = Some(t);
            s = rest.trim_start();
        }
    }
    // -i: `[00007f0cd01a9000] `.
    if let Some(r) = s.strip_prefix('[') {
        if let Some((ip, rest)) = r.split_once(']') {
            if !ip.is_empty() && ip.bytes().all(|c| c.is_ascii_hexdigit() || c == b'?') {
                s = rest.trim_start();
            }
        }
    }
    Head { pid, ts, body: s }
}

/// A positive pid (or fd) in leading decimal digits, and what follows them.
fn leading_digits(s: &str) -> (Option<i32>, &str) {
    let end = s.bytes().take_while(u8::is_ascii_digit).count();
    let (d, rest) = s.split_at(end);
    (d.parse::<i32>().ok().filter(|&n| n > 0), rest)
}

/// `-Y`: skip the `<comm>` after a pid.
fn skip_comm(s: &str) -> &str {
    match s.strip_prefix('<').and_then(|r| r.split_once('>')) {
        Some((_, rest)) => rest,
        None => s,
    }
}

fn parse_ts(tok: &str) -> Option<Ts> {
    if tok.contains(':') {
        let mut it = tok.splitn(3, ':');
        let h: u64 = it.next()?.parse().ok()?;
        let m: u64 = it.next()?.parse().ok()?;
        let sec = it.next()?;
        let (s, frac) = match sec.split_once('.') {
            Some((s, f)) => (s, Some(f)),
            None => (sec, None),
        };
        let s: u64 = s.parse().ok()?;
        if h >= 48 || m >= 60 || s >= 61 {
            return None;
        }
        let ns = match frac {
            Some(f) => frac_ns(f)?,
            None => 0,
        };
        Some(Ts::TimeOfDay(((h * 60 + m) * 60 + s) * NS + ns))
    } else {
        let (s, f) = tok.split_once('.')?;
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(Ts::Dotted {
            secs: s.parse().ok()?,
            ns: frac_ns(f)?,
        })
    }
}

/// A decimal fraction's digits as nanoseconds.
fn frac_ns(f: &str) -> Option<u64> {
    if f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut ns = 0u64;
    for i in 0..9 {
        let d = f.as_bytes().get(i).map_or(0, |c| u64::from(c - b'0'));
        ns = ns * 10 + d;
    }
    Some(ns)
}

/// Read every file once for clone/fork results (a child's lines can come before its parent's
/// `= PID`), and for the `[pid N]` style.
fn prescan(srcs: &mut [Src], parent_of: &mut HashMap<i32, i32>) {
    let mut children = HashSet::new();
    let mut found = Vec::with_capacity(srcs.len());
    for src in srcs.iter_mut() {
        let mut forks = Vec::new();
        let mut bracket_pids = HashSet::new();
        let mut carry: Option<String> = None;
        for raw in src.text.split('\n') {
            // A line cut by an attach message continues on the next one.
            let joined = match carry.take() {
                Some(c) if !raw.starts_with("[pid") => Cow::Owned(c + raw),
                _ => Cow::Borrowed(raw),
            };
            let line: &str = &joined;
            if let Some(prefix) = cut_by_attach_message(line) {
                carry = Some(prefix.to_string());
            }
            if let Some(pid) = attached_pid(line) {
                // Attached to a new child (with -p, to a traced process: ignored then).
                children.insert(pid);
                continue;
            }
            let bracket = line.starts_with("[pid");
            if !(bracket || line.contains("fork") || line.contains("clone")) {
                continue;
            }
            let h = head(line);
            if bracket {
                if let Some(pid) = h.pid {
                    src.bracket = true;
                    bracket_pids.insert(pid);
                }
            }
            if let Some(child) = fork_result(h.body) {
                forks.push((h.pid, child));
                children.insert(child);
            }
        }
        found.push((forks, bracket_pids));
    }
    for (src, (forks, bracket_pids)) in srcs.iter_mut().zip(found) {
        if src.bracket {
            // The traced command's own pid: seen in prefixes, never a fork's result.
            let roots: Vec<i32> = bracket_pids
                .into_iter()
                .filter(|p| !children.contains(p))
                .collect();
            if let [root] = roots.as_slice() {
                src.default_pid = *root;
            }
        }
        for (parent, child) in forks {
            let parent = parent.unwrap_or(src.default_pid);
            if parent != child {
                parent_of.entry(child).or_insert(parent);
            }
        }
    }
}

/// The new pid of a finished clone, clone3, fork or vfork line (or its resumption).
fn fork_result(body: &str) -> Option<i32> {
    let (name, rest) = match body.strip_prefix("<... ") {
        Some(r) => {
            let i = r.find(" resumed>")?;
            (r.get(..i)?, r.get(i + " resumed>".len()..)?)
        }
        None => body.split_at(body.find('(')?),
    };
    if !is_fork(name) || rest.trim_end().ends_with("<unfinished ...>") {
        return None;
    }
    let i = rest.rfind(" = ")?;
    match parse_result(strip_duration(rest.get(i + 3..)?.trim())) {
        Res::Ok(n, _) if n > 0 && n <= i64::from(i32::MAX) => i32::try_from(n).ok(),
        _ => None,
    }
}

fn is_fork(name: &str) -> bool {
    matches!(name, "clone" | "clone3" | "fork" | "vfork")
}

fn depth(parent_of: &HashMap<i32, i32>, pid: i32) -> usize {
    let mut d = 0;
    let mut cur = pid;
    while let Some(&p) = parent_of.get(&cur) {
        d += 1;
        cur = p;
        if d > 4096 || p == pid {
            break;
        }
    }
    d
}

/// An unfinished call waiting for its resumption.
struct Pending {
    text: String,
    t_ns: u64,
    file: String,
    line_no: usize,
}

impl Pending {
    fn name(&self) -> &str {
        self.text.split('(').next().unwrap_or("")
    }
}

/// Where a line is, for warnings.
#[derive(Clone, Copy)]
struct Cx<'a> {
    file: &'a str,
    line: usize,
    pid: i32,
    t: u64,
    /// The file uses `[pid N]` prefixes.
    bracket: bool,
}

#[derive(Default)]
struct Parser {
    parent_of: HashMap<i32, i32>,
    /// Pids introduced to the builder.
    known: HashSet<i32>,
    /// Alive processes of `[pid N]` style files.
    live: HashSet<i32>,
    pending: HashMap<i32, Pending>,
    /// The working directory last announced by an `AT_FDCWD</dir>` annotation, per pid.
    cwd_seen: HashMap<i32, String>,
    base: Option<u64>,
    understood: usize,
    first_problem: Option<String>,
    spans: Vec<(usize, usize)>,
}

impl Parser {
    fn run(&mut self, srcs: &mut [Src], b: &mut Builder) {
        let mut heap = BinaryHeap::new();
        for (i, src) in srcs.iter_mut().enumerate() {
            if let Some(it) = src.peek() {
                heap.push(Reverse((it.t_abs.unwrap_or(src.ts.last_abs), i)));
                src.peeked = Some(it);
            }
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            let Some(src) = srcs.get_mut(i) else { continue };
            let Some(it) = src.peeked.take() else {
                continue;
            };
            self.line(b, src, &it);
            if let Some(next) = src.peek() {
                heap.push(Reverse((next.t_abs.unwrap_or(src.ts.last_abs), i)));
                src.peeked = Some(next);
            }
        }
        for (_, pd) in std::mem::take(&mut self.pending) {
            let name = pd.name().to_string();
            b.warn(
                &pd.file,
                pd.line_no,
                format_args!("`{name}` unfinished and never resumed"),
            );
        }
    }

    fn problem(&mut self, b: &mut Builder, file: &str, line: usize, what: std::fmt::Arguments) {
        if self.first_problem.is_none() {
            self.first_problem = Some(format!("line {line}: {what}"));
        }
        b.warn(file, line, what);
    }

    fn line(&mut self, b: &mut Builder, src: &mut Src, it: &Item) {
        if src.summary {
            return;
        }
        let text: &str = &it.text;
        let body = text.get(it.body_off..).unwrap_or("");
        let t = match it.t_abs {
            Some(a) => a.saturating_sub(*self.base.get_or_insert(a)),
            None => src.last_t_ns,
        };
        src.last_t_ns = t;
        let pid = match it.head_pid {
            Some(p) => p,
            None if src.bracket && self.live.len() == 1 => {
                self.live.iter().next().copied().unwrap_or(src.default_pid)
            }
            None => src.default_pid,
        };
        let cx = Cx {
            file: src.name,
            line: it.line_no,
            pid,
            t,
            bracket: src.bracket,
        };
        let ok = if text.starts_with("strace: ")
            || body.starts_with("--- ")
            || body.starts_with("[ Process PID=")
            || body.starts_with("> ")
        {
            // Messages, signals, personality changes, -k stack frames.
            Ok(())
        } else if body.starts_with("% time") {
            src.summary = true;
            Ok(())
        } else if let Some(r) = body.strip_prefix("+++ ") {
            self.exit_line(b, cx, r)
        } else if let Some(r) = body.strip_prefix("<... ") {
            self.resumed(b, cx, r)
        } else if body.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '?') {
            self.call(b, cx, body)
        } else {
            Err(None)
        };
        match ok {
            Ok(()) => self.understood += 1,
            Err(what) => {
                let what = what.unwrap_or_else(|| "not an strace line".into());
                self.problem(
                    b,
                    src.name,
                    it.line_no,
                    format_args!("{what}: `{}`", excerpt(text)),
                );
            }
        }
    }

    /// A line of `cx.pid` was understood: the process exists, and is alive.
    fn seen(&mut self, b: &mut Builder, cx: Cx) {
        self.ensure(b, cx.pid, cx.t, 0);
        if cx.bracket {
            self.live.insert(cx.pid);
        }
    }

    /// Introduce `pid` to the builder, as the child its parent's fork announced.
    fn ensure(&mut self, b: &mut Builder, pid: i32, t: u64, depth: usize) {
        if !self.known.insert(pid) {
            return;
        }
        match self.parent_of.get(&pid).copied() {
            Some(parent) if parent != pid && depth < 64 => {
                self.ensure(b, parent, t, depth + 1);
                b.spawned(pid, parent, t);
            }
            _ => {
                b.process(pid, 0, t);
            }
        }
    }

    fn exit_line(&mut self, b: &mut Builder, cx: Cx, r: &str) -> Result<(), Warn> {
        let r = r.trim_end();
        let r = r.strip_suffix("+++").unwrap_or(r).trim_end();
        let status = if let Some(n) = r.strip_prefix("exited with ") {
            n.trim()
                .parse::<i32>()
                .map_err(|_| Some("unreadable exit status".to_string()))?
        } else if let Some(sig) = r.strip_prefix("killed by ") {
            let name = sig.split_whitespace().next().unwrap_or("");
            match signal_number(name) {
                Some(n) => 128 + n,
                None => {
                    b.warn(
                        cx.file,
                        cx.line,
                        format_args!("unknown signal `{name}`, status 128 recorded"),
                    );
                    128
                }
            }
        } else if r.starts_with("superseded by execve") || r.starts_with("detached") {
            return Ok(());
        } else {
            return Err(Some("unreadable `+++` line".into()));
        };
        self.ensure(b, cx.pid, cx.t, 0);
        self.pending.remove(&cx.pid);
        self.live.remove(&cx.pid);
        b.ended(cx.pid, status, cx.t);
        Ok(())
    }

    fn resumed(&mut self, b: &mut Builder, cx: Cx, r: &str) -> Result<(), Warn> {
        let (name, rest) = match r.find("resumed>") {
            Some(i) => (
                r.get(..i).unwrap_or("").trim(),
                r.get(i + "resumed>".len()..).unwrap_or(""),
            ),
            None => return Err(Some("unreadable resumption".into())),
        };
        self.seen(b, cx);
        match self.pending.remove(&cx.pid) {
            Some(pd) if name.is_empty() || pd.name() == name => {
                let mut joined = pd.text;
                joined.push_str(rest);
                self.call(b, Cx { t: pd.t_ns, ..cx }, &joined)
            }
            other => {
                if let Some(pd) = other {
                    let started = pd.name().to_string();
                    b.warn(
                        cx.file,
                        cx.line,
                        format_args!("`{name}` resumed while `{started}` was unfinished"),
                    );
                } else {
                    b.warn(
                        cx.file,
                        cx.line,
                        format_args!("`{name}` resumed without its start"),
                    );
                }
                // A fork's result still says who the child is.
                if is_fork(name) {
                    if let Some(child) = fork_result(&format!("{name}({rest}")) {
                        self.forked(b, cx, child);
                    }
                }
                Ok(())
            }
        }
    }

    fn forked(&mut self, b: &mut Builder, cx: Cx, child: i32) {
        if child != cx.pid && self.known.insert(child) {
            b.spawned(child, cx.pid, cx.t);
        }
        if cx.bracket {
            self.live.insert(child);
        }
    }

    /// A call line: `name(args) = result`, or its unfinished start.
    fn call(&mut self, b: &mut Builder, cx: Cx, text: &str) -> Result<(), Warn> {
        let name_len = text
            .bytes()
            .take_while(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'?')
            .count();
        let (name, after) = text.split_at(name_len);
        if name.is_empty() || !after.starts_with('(') {
            return Err(None);
        }
        let trimmed = text.trim_end();
        if let Some(start) = trimmed.strip_suffix("<unfinished ...>") {
            self.seen(b, cx);
            let pd = Pending {
                text: start.to_string(),
                t_ns: cx.t,
                file: cx.file.to_string(),
                line_no: cx.line,
            };
            if let Some(old) = self.pending.insert(cx.pid, pd) {
                let old = old.name().to_string();
                b.warn(
                    cx.file,
                    cx.line,
                    format_args!("`{old}` unfinished and never resumed"),
                );
            }
            return Ok(());
        }
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        let out = match scan_args(text, name_len + 1, &mut spans) {
            None => Err(Some(format!("truncated or malformed `{name}` call"))),
            Some(close) => {
                let rest = text.get(close + 1..).unwrap_or("").trim_start();
                match rest.strip_prefix('=') {
                    None => Err(Some(format!("`{name}` call without a result"))),
                    Some(res) => match parse_result(strip_duration(res.trim())) {
                        Res::Bad => Err(Some(format!("unreadable result of `{name}`"))),
                        res => {
                            self.seen(b, cx);
                            let args = Args {
                                text,
                                spans: &spans,
                            };
                            self.apply(b, cx, name, &args, res);
                            Ok(())
                        }
                    },
                }
            }
        };
        self.spans = spans;
        out
    }

    fn apply(&mut self, b: &mut Builder, cx: Cx, name: &str, args: &Args, res: Res) {
        let pid = cx.pid;
        match name {
            "clone" | "clone3" | "fork" | "vfork" => {
                if let Res::Ok(n, _) = res {
                    if let Ok(child) = i32::try_from(n) {
                        if child > 0 {
                            self.forked(b, cx, child);
                        }
                    }
                }
            }
            "execve" | "execveat" => self.exec(b, cx, name, args, res),
            "chdir" => {
                let errno = match res.errno() {
                    Some(e) => e,
                    None => return,
                };
                let Some(path) = self.path_arg(b, cx, args.get(0)) else {
                    return;
                };
                let Some((path, dfd)) = self.resolve(b, cx, &Dir::Cwd(None), &path) else {
                    return;
                };
                b.event(pid, cx.t, Op::Chdir, dfd, &path, errno, name);
                if errno == 0 {
                    b.set_cwd(pid, &path);
                    self.cwd_seen.remove(&pid);
                }
            }
            "fchdir" => {
                let errno = match res.errno() {
                    Some(e) => e,
                    None => return,
                };
                let dir = parse_dir(args.get(0).unwrap_or(""));
                if let Some((path, _)) = self.resolve(b, cx, &dir, "") {
                    b.event(pid, cx.t, Op::Chdir, None, &path, errno, name);
                    if errno == 0 {
                        b.set_cwd(pid, &path);
                        self.cwd_seen.remove(&pid);
                    }
                }
            }
            "close" => {
                if let (Res::Ok(0, _), Some(fd)) = (res, args.get(0).and_then(fd_number)) {
                    b.set_fd(pid, fd, None);
                }
            }
            "dup" | "dup2" | "dup3" | "fcntl" | "fcntl64" => {
                let dups = !name.starts_with("fcntl")
                    || args.get(1).is_some_and(|c| c.starts_with("F_DUPFD"));
                if let (true, Res::Ok(new, ann)) = (dups, res) {
                    if new < 0 {
                        return;
                    }
                    let path = match ann.and_then(annotation_path) {
                        Some(p) => Some(p.into_owned()),
                        None if ann.is_some() => None,
                        None => args
                            .get(0)
                            .and_then(fd_number)
                            .map(|old| b.absolute(pid, Some(old), ""))
                            .filter(|p| p.starts_with('/')),
                    };
                    b.set_fd(pid, new, path.as_deref());
                }
            }
            _ => {
                if let Some((paths, op)) = path_spec(name) {
                    self.paths(b, cx, name, args, res, paths, op);
                } else if returns_fd(name) {
                    if let Res::Ok(fd, ann) = res {
                        if fd >= 0 {
                            let path = ann.and_then(annotation_path);
                            b.set_fd(pid, fd, path.as_deref());
                        }
                    }
                }
            }
        }
    }

    /// The events of a call naming paths.
    #[allow(clippy::too_many_arguments)]
    fn paths(
        &mut self,
        b: &mut Builder,
        cx: Cx,
        name: &str,
        args: &Args,
        res: Res,
        paths: &[(Option<usize>, usize)],
        op_from: OpFrom,
    ) {
        let Some(errno) = res.errno() else { return };
        let base_op = match op_from {
            OpFrom::Fixed(op) => op,
            OpFrom::Flags(i) => op_of_flags(args.get(i).unwrap_or("")),
            OpFrom::How(i) => op_of_flags(how_flags(args.get(i).unwrap_or(""))),
            OpFrom::Rename => Op::Rename,
        };
        let opens = matches!(op_from, OpFrom::Flags(_) | OpFrom::How(_)) || name == "creat";
        for (k, &(d, pi)) in paths.iter().enumerate() {
            let Some(path) = self.path_arg(b, cx, args.get(pi)) else {
                continue;
            };
            let dir = match d {
                Some(di) => parse_dir(args.get(di).unwrap_or("")),
                None => Dir::Cwd(None),
            };
            let Some((abs, dfd)) = self.resolve(b, cx, &dir, &path) else {
                continue;
            };
            let op = match base_op {
                Op::Rename if k == 0 => Op::Delete,
                Op::Rename => Op::Create,
                op => op,
            };
            b.event(cx.pid, cx.t, op, dfd, &abs, errno, name);
            if opens && k == 0 {
                if let Res::Ok(fd, ann) = res {
                    if fd >= 0 {
                        let known = ann.and_then(annotation_path).filter(|p| p.starts_with('/'));
                        match known {
                            Some(p) => b.set_fd(cx.pid, fd, Some(&p)),
                            None if dfd.is_none() => b.set_fd(cx.pid, fd, Some(&abs)),
                            None => b.set_fd(cx.pid, fd, None),
                        }
                    }
                }
            }
        }
    }

    fn exec(&mut self, b: &mut Builder, cx: Cx, name: &str, args: &Args, res: Res) {
        let (dir, pi, ai) = if name == "execveat" {
            (parse_dir(args.get(0).unwrap_or("")), 1, 2)
        } else {
            (Dir::Cwd(None), 0, 1)
        };
        let errno = match res {
            Res::Ok(..) | Res::Unknown => 0,
            Res::Err(e) => e,
            Res::Restart | Res::Bad => return,
        };
        let Some(path) = self.path_arg(b, cx, args.get(pi)) else {
            return;
        };
        let Some((abs, dfd)) = self.resolve(b, cx, &dir, &path) else {
            return;
        };
        if errno == 0 {
            let argv = parse_argv(args.get(ai).unwrap_or(""));
            b.executed(cx.pid, &abs, argv, cx.t);
        }
        b.event(cx.pid, cx.t, Op::Exec, dfd, &abs, errno, name);
    }

    /// A path argument, decoded; a truncated one gets `...` and a warning. None for NULL or an
    /// address.
    fn path_arg<'t>(
        &mut self,
        b: &mut Builder,
        cx: Cx,
        arg: Option<&'t str>,
    ) -> Option<Cow<'t, str>> {
        let (s, truncated, _) = unquote(arg?)?;
        if truncated {
            b.warn(
                cx.file,
                cx.line,
                format_args!("path `{s}...` truncated by strace -s: recorded as is"),
            );
            return Some(Cow::Owned(format!("{s}...")));
        }
        Some(s)
    }

    /// `path` made absolute against `dir` where the log says how; the dirfd to hand to the
    /// builder when it stays relative to a descriptor. None when there is nothing to name (an
    /// empty path on an unknown descriptor).
    fn resolve<'p>(
        &mut self,
        b: &mut Builder,
        cx: Cx,
        dir: &Dir,
        path: &'p str,
    ) -> Option<(Cow<'p, str>, Option<i64>)> {
        if let Dir::Cwd(Some(cwd)) = dir {
            self.sync_cwd(b, cx.pid, cwd);
        }
        if path.starts_with('/') {
            return Some((Cow::Borrowed(path), None));
        }
        match dir {
            Dir::Fd(_, Some(base)) | Dir::Cwd(Some(base)) => {
                Some((Cow::Owned(join(base, path)), None))
            }
            Dir::Fd(fd, None) => {
                let abs = b.absolute(cx.pid, Some(*fd), path);
                if abs.starts_with('/') {
                    Some((Cow::Owned(abs), None))
                } else if path.is_empty() {
                    None
                } else {
                    Some((Cow::Borrowed(path), Some(*fd)))
                }
            }
            Dir::Cwd(None) => {
                if path.is_empty() {
                    return None;
                }
                let cwd = b.process(cx.pid, 0, cx.t);
                if cwd.is_empty() {
                    Some((Cow::Borrowed(path), None))
                } else if cwd.starts_with('/') {
                    Some((Cow::Owned(join(&cwd, path)), None))
                } else {
                    // A relative working directory (a chdir before the cwd was known).
                    Some((Cow::Owned(join_relative(&cwd, path)), None))
                }
            }
        }
    }

    /// `AT_FDCWD</dir>`: the working directory, as strace saw it.
    fn sync_cwd(&mut self, b: &mut Builder, pid: i32, cwd: &str) {
        if self.cwd_seen.get(&pid).map(String::as_str) != Some(cwd) {
            b.set_cwd(pid, cwd);
            self.cwd_seen.insert(pid, cwd.to_string());
        }
    }
}

/// Why a line was not understood (None: not strace output at all).
type Warn = Option<String>;

/// Up to 60 characters of a line, for a warning.
fn excerpt(line: &str) -> Cow<'_, str> {
    let line = line.trim();
    match line.char_indices().nth(60) {
        Some((i, _)) => Cow::Owned(format!("{}...", line.get(..i).unwrap_or(""))),
        None => Cow::Borrowed(line),
    }
}

/// `base/path`, folded, for an absolute base.
fn join(base: &str, path: &str) -> String {
    if !base.starts_with('/') {
        return join_relative(base, path);
    }
    normalize(&Path::new(base).join(path))
        .to_string_lossy()
        .into_owned()
}

/// `base/path` for a relative base, `.` and `..` folded where they can be.
fn join_relative(base: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in base.split('/').chain(path.split('/')) {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// A call's arguments: spans of its text.
struct Args<'t, 's> {
    text: &'t str,
    spans: &'s [(usize, usize)],
}

impl<'t> Args<'t, '_> {
    fn get(&self, i: usize) -> Option<&'t str> {
        let &(s, e) = self.spans.get(i)?;
        self.text.get(s..e).map(str::trim)
    }
}

/// Split the arguments starting at `start` (after the opening parenthesis) at top-level commas;
/// the index of the closing parenthesis.
fn scan_args(text: &str, start: usize, spans: &mut Vec<(usize, usize)>) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = start;
    let mut depth = 0usize;
    let mut arg_start = start;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => i = skip_string(b, i)?,
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text.get(i + 2..)?.find("*/")?;
                i += 2 + end + 2;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                if depth == 0 {
                    if c != b')' {
                        return None;
                    }
                    spans.push((arg_start, i));
                    return Some(i);
                }
                depth -= 1;
                i += 1;
            }
            b',' if depth == 0 => {
                spans.push((arg_start, i));
                i += 1;
                arg_start = i;
            }
            b'<' if annotation_starts(b, i) => i = skip_annotation(b, i)?,
            _ => i += 1,
        }
    }
    None
}

/// The index after the closing quote of the string whose opening quote is at `i`.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match b.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// `<` opening a `-y`/`-Y` annotation: right after a number or name, not a shift (`1<<5`).
fn annotation_starts(b: &[u8], i: usize) -> bool {
    let prev = i.checked_sub(1).and_then(|p| b.get(p));
    prev.is_some_and(u8::is_ascii_alphanumeric)
        && !matches!(b.get(i + 1), Some(b'<' | b'=' | b' ') | None)
}

/// The index after the annotation opened at `i` (nested for `-yy`: `</dev/null<char 1:3>>`;
/// socket details in brackets may hold `->`).
fn skip_annotation(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut angles = 1usize;
    let mut brackets = 0usize;
    loop {
        match b.get(j)? {
            b'"' => {
                j = skip_string(b, j)?;
                continue;
            }
            b'[' => brackets += 1,
            b']' => brackets = brackets.saturating_sub(1),
            b'<' if brackets == 0 => angles += 1,
            b'>' if brackets == 0 => {
                angles -= 1;
                if angles == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
}

/// A call's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res<'t> {
    /// A value, with its `-y` annotation's inside.
    Ok(i64, Option<&'t str>),
    Err(i32),
    /// `= ?`: the call did not return (exit, an execve that replaced the process).
    Unknown,
    /// Interrupted, to be restarted: the restart is logged on its own.
    Restart,
    Bad,
}

impl Res<'_> {
    /// The errno for an event; None when the call is not to be recorded.
    fn errno(self) -> Option<i32> {
        match self {
            Res::Ok(..) => Some(0),
            Res::Err(e) => Some(e),
            Res::Unknown | Res::Restart | Res::Bad => None,
        }
    }
}

/// Drop a `-T` suffix: ` <0.000123>`.
fn strip_duration(res: &str) -> &str {
    if let Some(inner) = res.strip_suffix('>') {
        if let Some(i) = inner.rfind(" <") {
            let d = inner.get(i + 2..).unwrap_or("");
            if !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
                return inner.get(..i).unwrap_or("").trim_end();
            }
        }
    }
    res
}

fn parse_result(res: &str) -> Res<'_> {
    if let Some(rest) = res.strip_prefix('?') {
        return if rest.trim_start().starts_with("ERESTART") {
            Res::Restart
        } else {
            Res::Unknown
        };
    }
    if let Some(rest) = res.strip_prefix('-') {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Res::Bad;
        }
        let tail = rest.get(digits..).unwrap_or("").trim_start();
        let name = tail.split_whitespace().next().unwrap_or("");
        if name.starts_with("ERESTART") {
            return Res::Restart;
        }
        if let Some(e) = errno_of(name) {
            return Res::Err(e);
        }
        // `-1 (errno 2)` with raw output.
        if let Some(n) = tail
            .strip_prefix("(errno ")
            .and_then(|r| r.split(')').next())
            .and_then(|n| n.trim().parse::<i32>().ok())
        {
            return Res::Err(n);
        }
        return Res::Bad;
    }
    let (value, rest) = if let Some(hex) = res.strip_prefix("0x") {
        let n = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
        let (h, rest) = hex.split_at(n);
        match u64::from_str_radix(h, 16) {
            // Addresses above i64::MAX wrap: only their being non-negative fds matters.
            Ok(v) => (v as i64, rest),
            Err(_) => return Res::Bad,
        }
    } else {
        let n = res.bytes().take_while(u8::is_ascii_digit).count();
        let (d, rest) = res.split_at(n);
        match d.parse::<i64>() {
            Ok(v) => (v, rest),
            Err(_) => return Res::Bad,
        }
    };
    let ann = if rest.starts_with('<') {
        skip_annotation(rest.as_bytes(), 0).and_then(|end| rest.get(1..end - 1))
    } else {
        None
    };
    Res::Ok(value, ann)
}

fn errno_of(name: &str) -> Option<i32> {
    if let Some(n) = name.strip_prefix("ERRNO_") {
        return n.parse().ok();
    }
    if let Some(e) = errno_of_name(name) {
        return Some(e);
    }
    const MORE: &[(&str, i32)] = &[
        ("EWOULDBLOCK", 11),
        ("ENOTBLK", 15),
        ("EDOM", 33),
        ("EDEADLK", 35),
        ("ENOLCK", 37),
        ("ENOMSG", 42),
        ("EIDRM", 43),
        ("ETIME", 62),
        ("ENOLINK", 67),
        ("EPROTO", 71),
        ("EBADMSG", 74),
        ("EOVERFLOW", 75),
        ("EBADFD", 77),
        ("EILSEQ", 84),
        ("EUSERS", 87),
        ("ENOTSOCK", 88),
        ("EDESTADDRREQ", 89),
        ("EMSGSIZE", 90),
        ("EPROTOTYPE", 91),
        ("ENOPROTOOPT", 92),
        ("EPROTONOSUPPORT", 93),
        ("EAFNOSUPPORT", 97),
        ("EADDRINUSE", 98),
        ("EADDRNOTAVAIL", 99),
        ("ENETDOWN", 100),
        ("ENETUNREACH", 101),
        ("ECONNABORTED", 103),
        ("ECONNRESET", 104),
        ("ENOBUFS", 105),
        ("EISCONN", 106),
        ("ENOTCONN", 107),
        ("ETIMEDOUT", 110),
        ("ECONNREFUSED", 111),
        ("EHOSTUNREACH", 113),
        ("EALREADY", 114),
        ("EINPROGRESS", 115),
        ("ESTALE", 116),
        ("EUCLEAN", 117),
        ("EREMOTEIO", 121),
        ("EDQUOT", 122),
        ("ENOMEDIUM", 123),
        ("EMEDIUMTYPE", 124),
        ("ECANCELED", 125),
        ("ENOKEY", 126),
        ("EOWNERDEAD", 130),
        ("ENOTRECOVERABLE", 131),
    ];
    MORE.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn signal_number(name: &str) -> Option<i32> {
    const SIGNALS: &[(&str, i32)] = &[
        ("SIGHUP", 1),
        ("SIGINT", 2),
        ("SIGQUIT", 3),
        ("SIGILL", 4),
        ("SIGTRAP", 5),
        ("SIGABRT", 6),
        ("SIGIOT", 6),
        ("SIGBUS", 7),
        ("SIGFPE", 8),
        ("SIGKILL", 9),
        ("SIGUSR1", 10),
        ("SIGSEGV", 11),
        ("SIGUSR2", 12),
        ("SIGPIPE", 13),
        ("SIGALRM", 14),
        ("SIGTERM", 15),
        ("SIGSTKFLT", 16),
        ("SIGCHLD", 17),
        ("SIGCONT", 18),
        ("SIGSTOP", 19),
        ("SIGTSTP", 20),
        ("SIGTTIN", 21),
        ("SIGTTOU", 22),
        ("SIGURG", 23),
        ("SIGXCPU", 24),
        ("SIGXFSZ", 25),
        ("SIGVTALRM", 26),
        ("SIGPROF", 27),
        ("SIGWINCH", 28),
        ("SIGIO", 29),
        ("SIGPOLL", 29),
        ("SIGPWR", 30),
        ("SIGSYS", 31),
        ("SIGRTMIN", 32),
    ];
    if let Some(n) = name.strip_prefix("SIGRT_") {
        return n
            .parse::<i32>()
            .ok()
            .filter(|n| (0..=32).contains(n))
            .map(|n| 32 + n);
    }
    SIGNALS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// A dirfd argument.
enum Dir<'t> {
    /// AT_FDCWD, with the directory `-y` printed.
    Cwd(Option<Cow<'t, str>>),
    Fd(i64, Option<Cow<'t, str>>),
}

fn parse_dir(arg: &str) -> Dir<'_> {
    let (head, ann) = match arg.split_once('<') {
        Some((h, rest)) => (h.trim(), rest.strip_suffix('>').and_then(annotation_path)),
        None => (arg.trim(), None),
    };
    if head == "AT_FDCWD" {
        return Dir::Cwd(ann);
    }
    match head.parse::<i64>() {
        Ok(AT_FDCWD) => Dir::Cwd(ann),
        Ok(fd) => Dir::Fd(fd, ann),
        Err(_) => Dir::Cwd(None),
    }
}

/// The path of a `-y` annotation's inside (`/dev/null<char 1:3>` with `-yy`); None for
/// sockets, pipes and the like.
fn annotation_path(inner: &str) -> Option<Cow<'_, str>> {
    let path = inner.split('<').next().unwrap_or("");
    if !path.starts_with('/') {
        return None;
    }
    Some(decode_escapes(path))
}

/// The descriptor number at the start of an argument (`3`, `3</x>`).
fn fd_number(arg: &str) -> Option<i64> {
    arg.split('<').next()?.trim().parse().ok()
}

/// Decode a C-style quoted string at the start of `s`: its text, whether `-s` truncated it, and
/// the bytes used.
fn unquote(s: &str) -> Option<(Cow<'_, str>, bool, usize)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let end = skip_string(b, 0)?;
    let inner = s.get(1..end - 1)?;
    let truncated = s.get(end..).is_some_and(|r| r.starts_with("..."));
    let used = if truncated { end + 3 } else { end };
    Some((decode_escapes(inner), truncated, used))
}

fn decode_escapes(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = b.get(i + 1) else {
            break;
        };
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'f' => out.push(0x0c),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'x' => {
                let hex = b.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'x'),
                }
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut n = 1;
                while n < 3 {
                    match b.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// execve's argv: `["make", "-s"]`, maybe truncated (`"abc"...`, a final `...`).
fn parse_argv(arg: &str) -> Vec<String> {
    let Some(mut s) = arg.strip_prefix('[') else {
        return Vec::new();
    };
    let mut argv = Vec::new();
    loop {
        s = s.trim_start_matches([' ', ',']);
        if s.starts_with('"') {
            let Some((a, truncated, used)) = unquote(s) else {
                break;
            };
            argv.push(if truncated {
                format!("{a}...")
            } else {
                a.into_owned()
            });
            s = s.get(used..).unwrap_or("");
        } else {
            if s.starts_with("...") {
                argv.push("...".into());
            }
            break;
        }
    }
    argv
}

/// How a call's operation is found.
#[derive(Debug, Clone, Copy)]
enum OpFrom {
    Fixed(Op),
    /// Open flags in this argument.
    Flags(usize),
    /// openat2: `{flags=...}` in this argument.
    How(usize),
    /// rename: the first path deleted, the second created.
    Rename,
}

type PathArgs = &'static [(Option<usize>, usize)];

/// (dirfd argument, path argument) of the calls naming paths, and their operation; as in the
/// ptrace tracer's table (with the 32-bit and older names strace may print).
fn path_spec(name: &str) -> Option<(PathArgs, OpFrom)> {
    const P0: PathArgs = &[(None, 0)];
    const AT1: PathArgs = &[(Some(0), 1)];
    const TWO: PathArgs = &[(None, 0), (None, 1)];
    const AT_TWO: PathArgs = &[(Some(0), 1), (Some(2), 3)];
    use OpFrom::Fixed;
    Some(match name {
        "open" => (P0, OpFrom::Flags(1)),
        "openat" => (AT1, OpFrom::Flags(2)),
        "openat2" => (AT1, OpFrom::How(2)),
        "creat" | "mkdir" | "mknod" => (P0, Fixed(Op::Create)),
        "mkdirat" | "mknodat" => (AT1, Fixed(Op::Create)),
        "stat" | "lstat" | "stat64" | "lstat64" | "oldstat" | "oldlstat" | "statfs"
        | "statfs64" => (P0, Fixed(Op::Stat)),
        "newfstatat" | "fstatat64" | "statx" => (AT1, Fixed(Op::Stat)),
        "access" => (P0, Fixed(Op::Probe)),
        "faccessat" | "faccessat2" => (AT1, Fixed(Op::Probe)),
        "readlink" => (P0, Fixed(Op::Readlink)),
        "readlinkat" => (AT1, Fixed(Op::Readlink)),
        "unlink" | "rmdir" => (P0, Fixed(Op::Delete)),
        "unlinkat" => (AT1, Fixed(Op::Delete)),
        "rename" => (TWO, OpFrom::Rename),
        "renameat" | "renameat2" => (AT_TWO, OpFrom::Rename),
        "link" => (TWO, Fixed(Op::Create)),
        "linkat" => (AT_TWO, Fixed(Op::Create)),
        "symlink" => (&[(None, 1)], Fixed(Op::Create)),
        "symlinkat" => (&[(Some(1), 2)], Fixed(Op::Create)),
        "truncate" | "truncate64" | "chmod" | "chown" | "chown32" | "lchown" | "lchown32"
        | "utime" | "utimes" => (P0, Fixed(Op::Write)),
        "fchownat" | "fchmodat" | "fchmodat2" | "utimensat" | "futimesat" => {
            (AT1, Fixed(Op::Write))
        }
        _ => return None,
    })
}

/// Calls returning a new descriptor that names no path of the log (or one `-y` prints).
fn returns_fd(name: &str) -> bool {
    matches!(
        name,
        "socket"
            | "accept"
            | "accept4"
            | "memfd_create"
            | "memfd_secret"
            | "eventfd"
            | "eventfd2"
            | "epoll_create"
            | "epoll_create1"
            | "inotify_init"
            | "inotify_init1"
            | "signalfd"
            | "signalfd4"
            | "timerfd_create"
            | "pidfd_open"
            | "pidfd_getfd"
            | "userfaultfd"
            | "perf_event_open"
            | "fanotify_init"
            | "open_by_handle_at"
            | "open_tree"
            | "fsopen"
            | "fsmount"
            | "fspick"
            | "io_uring_setup"
            | "mq_open"
    )
}

/// The op of open flags, symbolic (`O_RDONLY|O_CLOEXEC`) or numeric (raw output).
fn op_of_flags(flags: &str) -> Op {
    let flags = flags.trim();
    if !flags.starts_with(|c: char| c.is_ascii_digit()) {
        return op_of_flags_text(flags);
    }
    let n = if let Some(h) = flags.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else if flags.len() > 1 && flags.starts_with('0') {
        u64::from_str_radix(flags.get(1..).unwrap_or(""), 8).ok()
    } else {
        flags.parse().ok()
    };
    crate::tracer::op_of_open_flags(n.unwrap_or(0))
}

/// openat2's `{flags=O_RDONLY|O_CLOEXEC, resolve=...}`: the flags.
fn how_flags(how: &str) -> &str {
    match how.find("flags=") {
        Some(i) => {
            let rest = how.get(i + "flags=".len()..).unwrap_or("");
            rest.split([',', '}']).next().unwrap_or("")
        }
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{events, procs, XorShift, POISONED_READS};
    use crate::import::{Format, Imported};
    use crate::trace::{Event, Record};

    const POISONED: &str = include_str!("../../tests/fixtures/import/strace-poisoned.log");
    const FF_100: &str = include_str!("../../tests/fixtures/import/strace-ff.log.100");
    const FF_101: &str = include_str!("../../tests/fixtures/import/strace-ff.log.101");
    const PLAIN: &str = include_str!("../../tests/fixtures/import/strace-plain.log");
    const GARBAGE: &str = include_str!("../../tests/fixtures/import/strace-garbage.log");

    fn run_with(inputs: &[(&str, &str)], cwd: Option<&str>) -> Result<Imported, ImportError> {
        let inputs: Vec<(String, String)> = inputs
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let mut b = Builder::new();
        if let Some(c) = cwd {
            b.set_initial_cwd(c);
        }
        parse(&inputs, &mut b)?;
        let names: Vec<String> = inputs.iter().map(|(n, _)| n.clone()).collect();
        Ok(b.finish(Format::Strace, &names))
    }

    fn run(name: &str, text: &str) -> Imported {
        run_with(&[(name, text)], None).expect("imports")
    }

    fn exits(imp: &Imported) -> Vec<(i32, i32)> {
        imp.records
            .iter()
            .filter_map(|r| match r {
                Record::Exit { pid, status, .. } => Some((*pid, *status)),
                _ => None,
            })
            .collect()
    }

    fn end_status(imp: &Imported) -> Option<i32> {
        imp.records.iter().find_map(|r| match r {
            Record::End { status, .. } => Some(*status),
            _ => None,
        })
    }

    fn event<'a>(imp: &'a Imported, path: &str) -> Vec<&'a Event> {
        events(imp).into_iter().filter(|e| e.path == path).collect()
    }

    fn one<'a>(imp: &'a Imported, path: &str, syscall: &str) -> &'a Event {
        let found: Vec<_> = event(imp, path)
            .into_iter()
            .filter(|e| e.syscall == syscall)
            .collect();
        assert_eq!(found.len(), 1, "{syscall} {path}: {found:?}");
        found[0]
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The fixture as strace before 5.15 prints it: AT_FDCWD without the working directory.
    fn without_cwd_annotations(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find("AT_FDCWD<") {
            out.push_str(&rest[..i + "AT_FDCWD".len()]);
            let after = &rest[i + "AT_FDCWD".len()..];
            rest = &after[after.find('>').unwrap() + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn poisoned_imports_cleanly() {
        let imp = run("strace-poisoned.log", POISONED);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        // One event a path-naming call (two for rename).
        assert_eq!(events(&imp).len(), 90);
        match &imp.records[0] {
            Record::Header { command, cwd, .. } => {
                assert_eq!(command[0], "sh");
                assert_eq!(cwd, "/home/u/src/pkg");
            }
            r => panic!("no header: {r:?}"),
        }
        assert_eq!(end_status(&imp), Some(0));
        // Sequence numbers follow the log.
        let seqs: Vec<u64> = events(&imp).iter().map(|e| e.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] + 1 == w[1]));
    }

    #[test]
    fn poisoned_breach_paths() {
        let imp = run("strace-poisoned.log", POISONED);
        for (path, pid) in POISONED_READS {
            let e = one(&imp, path, "openat");
            assert_eq!((e.pid, e.op, e.errno), (pid, Op::Read, 0), "{path}");
        }
        let e = one(&imp, "/etc/gitconfig", "openat");
        assert_eq!((e.pid, e.op, e.errno), (101, Op::Read, 2));
        let e = one(&imp, "/etc/gitconfig", "access");
        assert_eq!((e.op, e.errno), (Op::Probe, 2));
        // A directory opened for listing, then its entries through the descriptor.
        let e = one(&imp, "/home/u/.cmake/packages/Poison", "openat");
        assert_eq!((e.pid, e.op), (103, Op::Read));
        // Escaped bytes decoded.
        let e = one(&imp, "/home/u/src/pkg/café", "newfstatat");
        assert_eq!((e.op, e.errno), (Op::Stat, 2));
    }

    #[test]
    fn poisoned_processes() {
        let imp = run("strace-poisoned.log", POISONED);
        let p = procs(&imp);
        let expect: &[(i32, i32, &str, &[&str])] = &[
            (
                100,
                0,
                "/usr/bin/sh",
                &[
                    "sh",
                    "-c",
                    "git config user.name; ./leakprobe; cmake -S proj -B build; python3 -c pass; make",
                ],
            ),
            (101, 100, "/usr/bin/git", &["git", "config", "user.name"]),
            (102, 100, "/home/u/src/pkg/leakprobe", &["./leakprobe"]),
            (103, 100, "/usr/bin/cmake", &["cmake", "-S", "proj", "-B", "build"]),
            (104, 100, "/usr/bin/python3", &["python3", "-c", "pass"]),
            (105, 100, "/usr/bin/make", &["make"]),
            (106, 105, "/bin/sh", &["/bin/sh", "-c", "gcc -c -o main.o main.c"]),
            (107, 106, "/usr/bin/gcc", &["gcc", "-c", "-o", "main.o", "main.c"]),
        ];
        for (pid, ppid, exe, argv) in expect {
            let pr = p[pid];
            assert_eq!((pr.ppid, pr.exe.as_str()), (*ppid, *exe), "pid {pid}");
            assert_eq!(pr.argv, strs(argv), "pid {pid}");
        }
        let cc1 = p[&108];
        assert_eq!(cc1.exe, "/usr/libexec/gcc/x86_64-linux-gnu/12/cc1");
        assert_eq!(cc1.argv.len(), 12);
        // cc1's ancestry: make > sh > gcc > cc1.
        let mut chain = Vec::new();
        let mut cur = 108;
        while cur != 0 {
            chain.push(p[&cur].argv[0].rsplit('/').next().unwrap().to_string());
            cur = p[&cur].ppid;
        }
        assert_eq!(chain, ["cc1", "gcc", "sh", "make", "sh"]);
        // Exec events, and every process's exit.
        let e = one(&imp, "/home/u/src/pkg/leakprobe", "execve");
        assert_eq!((e.pid, e.op, e.errno), (102, Op::Exec, 0));
        let mut ex = exits(&imp);
        ex.sort();
        assert_eq!(ex, (100..=108).map(|p| (p, 0)).collect::<Vec<_>>());
    }

    #[test]
    fn relative_paths_resolved_from_the_log_working_directory() {
        let imp = run("strace-poisoned.log", POISONED);
        let e = one(&imp, "/home/u/src/pkg/Makefile", "openat");
        assert_eq!((e.pid, e.op, e.errno), (105, Op::Read, 0));
        // cmake's chdir("build"), then relative opens.
        let e = one(&imp, "/home/u/src/pkg/build", "chdir");
        assert_eq!((e.pid, e.op, e.errno), (103, Op::Chdir, 0));
        assert_eq!(one(&imp, "/home/u/src/pkg/build", "mkdir").op, Op::Create);
        assert_eq!(
            one(&imp, "/home/u/src/pkg/build/CMakeCache.txt", "openat").errno,
            2
        );
        assert_eq!(
            one(&imp, "/home/u/src/pkg/proj/CMakeLists.txt", "openat").op,
            Op::Read
        );
        let out = one(
            &imp,
            "/home/u/src/pkg/build/CMakeFiles/CMakeOutput.log",
            "openat",
        );
        assert_eq!(out.op, Op::Write);
        // rename: the old path deleted, the new created.
        let old = one(&imp, "/home/u/src/pkg/build/CMakeCache.txt.tmp", "rename");
        assert_eq!(old.op, Op::Delete);
        let new = one(&imp, "/home/u/src/pkg/build/CMakeCache.txt", "rename");
        assert_eq!(new.op, Op::Create);
        assert_eq!(procs(&imp)[&105].cwd, "/home/u/src/pkg");
    }

    #[test]
    fn relative_paths_wait_for_the_callers_working_directory() {
        let old_style = without_cwd_annotations(POISONED);
        assert!(!old_style.contains("AT_FDCWD<"));
        // Unknown working directory: relative paths stay relative (chdir folded in).
        let imp = run("strace-poisoned.log", &old_style);
        assert_eq!(one(&imp, "Makefile", "openat").pid, 105);
        assert_eq!(one(&imp, "build/CMakeCache.txt", "openat").errno, 2);
        assert_eq!(one(&imp, "proj/CMakeLists.txt", "openat").pid, 103);
        assert_eq!(procs(&imp)[&102].exe, "./leakprobe");
        // Set before parsing: resolved.
        let imp = run_with(
            &[("strace-poisoned.log", &old_style)],
            Some("/home/u/src/pkg"),
        )
        .unwrap();
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        assert_eq!(one(&imp, "/home/u/src/pkg/Makefile", "openat").pid, 105);
        assert_eq!(
            one(&imp, "/home/u/src/pkg/build/CMakeCache.txt", "openat").pid,
            103
        );
        assert_eq!(procs(&imp)[&102].exe, "/home/u/src/pkg/leakprobe");
        // Descriptors from -y still resolve dirfds.
        assert_eq!(
            one(&imp, "/home/u/.cmake/packages/Poison/0123abcd", "openat").pid,
            103
        );
    }

    #[test]
    fn unfinished_and_resumed_are_joined() {
        let imp = run("strace-poisoned.log", POISONED);
        // git's execve started unfinished at .002190 (the log starts at .000100).
        let e = one(&imp, "/usr/bin/git", "execve");
        assert_eq!(
            (e.pid, e.op, e.errno, e.t_ns),
            (101, Op::Exec, 0, 2_090_000)
        );
        // vfork and clone3 resumed with the child's pid.
        assert_eq!(procs(&imp)[&103].ppid, 100);
        assert_eq!(procs(&imp)[&107].ppid, 106);
        // A joined line built from both halves.
        let text = "7 openat(AT_FDCWD, \"/x\", O_RDONLY <unfinished ...>\n\
                    8 read(0, \"\", 1)    = 0\n\
                    7 <... openat resumed>) = 3\n\
                    7 openat(3, \"y\", O_WRONLY|O_CREAT, 0644) = 4\n";
        let imp = run("t", text);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        assert_eq!(one(&imp, "/x", "openat").op, Op::Read);
        assert_eq!(one(&imp, "/x/y", "openat").op, Op::Write);
    }

    #[test]
    fn dirfds_resolved_from_annotations_and_the_descriptor_table() {
        let imp = run("strace-poisoned.log", POISONED);
        let e = one(&imp, "/home/u/.cmake/packages/Poison/0123abcd", "openat");
        assert_eq!(e.syscall, "openat");
        // newfstatat(3</etc/ld.so.cache>, "", ..., AT_EMPTY_PATH): the descriptor's file.
        let stats: Vec<_> = event(&imp, "/etc/ld.so.cache")
            .into_iter()
            .filter(|e| e.syscall == "newfstatat")
            .collect();
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0].op, Op::Stat);
        // Without -y: from the log's own opens.
        let imp = run("strace-plain.log", PLAIN);
        assert_eq!(one(&imp, "/usr/include/zlib.h", "newfstatat").op, Op::Stat);
        let e = one(&imp, "/usr/include/zstd.h", "faccessat2");
        assert_eq!((e.op, e.errno), (Op::Probe, 2));
        assert_eq!(one(&imp, "/etc/ld.so.cache", "newfstatat").op, Op::Stat);
    }

    #[test]
    fn descriptors_follow_close_dup_and_fcntl() {
        let text = "1 openat(AT_FDCWD, \"/d\", O_RDONLY|O_DIRECTORY) = 3\n\
                    1 dup(3) = 4\n\
                    1 fcntl(3, F_DUPFD_CLOEXEC, 10) = 10\n\
                    1 dup2(3, 7) = 7\n\
                    1 close(3) = 0\n\
                    1 openat(3, \"gone\", O_RDONLY) = -1 EBADF (Bad file descriptor)\n\
                    1 openat(4, \"a\", O_RDONLY) = 5\n\
                    1 openat(10, \"b\", O_RDONLY) = 6\n\
                    1 unlinkat(7, \"c\", 0) = 0\n\
                    1 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 4\n\
                    1 openat(4, \"d\", O_RDONLY) = -1 ENOTDIR (Not a directory)\n\
                    1 fchdir(7) = 0\n\
                    1 openat(AT_FDCWD, \"e\", O_RDONLY) = 3\n";
        let imp = run("t", text);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        let paths: Vec<_> = events(&imp).iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/d", "gone", "/d/a", "/d/b", "/d/c", "d", "/d", "/d/e"]
        );
        assert_eq!(one(&imp, "/d/c", "unlinkat").op, Op::Delete);
        assert_eq!(one(&imp, "/d", "fchdir").op, Op::Chdir);
        assert_eq!(events(&imp)[5].errno, 20);
    }

    #[test]
    fn timestamps_are_relative_to_the_first() {
        let imp = run("strace-poisoned.log", POISONED);
        let evs = events(&imp);
        assert_eq!(evs[0].t_ns, 0);
        assert_eq!(evs[0].syscall, "execve");
        let libc = event(&imp, "/lib/x86_64-linux-gnu/libc.so.6");
        assert_eq!(libc[0].t_ns, 690_000);
        // -ttt, -T, -i and -Y, -r.
        let text = "1795932981.373671 [00007f7126b64ad7] execve(\"/bin/true\", [\"true\"], 0x7ffc04df4008 /* 35 vars */) = 0 <0.000244>\n\
                    1795932981.374671 [00007f7126b64ad7] openat(AT_FDCWD, \"/a\", O_RDONLY) = 3 <0.000012>\n";
        let imp = run("t", text);
        let ts: Vec<_> = events(&imp).iter().map(|e| e.t_ns).collect();
        assert_eq!(ts, [0, 1_000_000]);
        let text = "12182<sh>      0.000000 execve(\"/usr/bin/sh\", [\"sh\"], 0x7fff250626a8 /* 35 vars */) = 0 <0.000244>\n\
                    12182<sh>      0.000369 openat(AT_FDCWD</tmp/x>, \"a\", O_RDONLY|O_CLOEXEC) = 3</tmp/x/a> <0.000053>\n\
                    12182<sh>      0.000100 vfork()     = 12183<sh> <0.000364>\n\
                    12183<sh>      0.000100 openat(AT_FDCWD</tmp/x>, \"b\", O_RDONLY) = 3</tmp/x/b<char 1:3>> <0.000053>\n";
        let imp = run("t", text);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        let ts: Vec<_> = events(&imp)
            .iter()
            .map(|e| (e.path.as_str(), e.t_ns))
            .collect();
        assert_eq!(
            ts,
            [
                ("/usr/bin/sh", 0),
                ("/tmp/x/a", 369_000),
                ("/tmp/x/b", 569_000)
            ]
        );
        assert_eq!(procs(&imp)[&12183].ppid, 12182);
        // -t, and a night passing midnight.
        let text = "23:59:59 openat(AT_FDCWD, \"/a\", O_RDONLY) = 3\n\
                    00:00:01 openat(AT_FDCWD, \"/b\", O_RDONLY) = 3\n";
        let imp = run("t", text);
        let ts: Vec<_> = events(&imp).iter().map(|e| e.t_ns).collect();
        assert_eq!(ts, [0, 2_000_000_000]);
    }

    #[test]
    fn ff_files_give_parentage_and_exits() {
        let files = [("strace-ff.log.100", FF_100), ("strace-ff.log.101", FF_101)];
        for inputs in [files, [files[1], files[0]]] {
            let imp = run_with(&inputs, None).unwrap();
            assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
            let p = procs(&imp);
            assert_eq!(p[&100].ppid, 0);
            assert_eq!(p[&101].ppid, 100);
            assert_eq!(p[&101].exe, "/usr/bin/sleep");
            assert_eq!(p[&101].argv, strs(&["sleep", "60"]));
            // The child inherits the working directory and descriptors at the fork.
            let e = one(&imp, "/tmp/work/conf/settings.ini", "newfstatat");
            assert_eq!((e.pid, e.op), (101, Op::Stat));
            let e = one(&imp, "/tmp/work/data.txt", "openat");
            assert_eq!((e.pid, e.errno), (101, 2));
            let mut ex = exits(&imp);
            ex.sort();
            assert_eq!(ex, [(100, 0), (101, 137)]);
            assert_eq!(end_status(&imp), Some(0));
            // Merged in time order.
            let ts: Vec<u64> = events(&imp).iter().map(|e| e.t_ns).collect();
            assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");
            match &imp.records[0] {
                Record::Header { command, .. } => assert_eq!(command[0], "sh"),
                r => panic!("{r:?}"),
            }
        }
        // Without timestamps: the parent's file first all the same.
        let strip = |t: &str| -> String {
            t.lines()
                .map(|l| l.split_once(' ').unwrap().1.to_string() + "\n")
                .collect()
        };
        let (a, b) = (strip(FF_100), strip(FF_101));
        let imp = run_with(&[("x.101", &b), ("x.100", &a)], None).unwrap();
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        assert_eq!(procs(&imp)[&101].ppid, 100);
        assert_eq!(one(&imp, "/tmp/work/data.txt", "openat").pid, 101);
    }

    #[test]
    fn plain_log_without_pids() {
        let imp = run("strace-plain.log", PLAIN);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        let p = procs(&imp);
        assert_eq!(p.len(), 1);
        assert_eq!(p[&1].exe, "./configure-probe");
        assert_eq!(
            p[&1].argv,
            strs(&[
                "./configure-probe",
                "--prefix=/usr/local/very/long/pr...",
                "--with-zlib"
            ])
        );
        assert_eq!(exits(&imp), [(1, 139)]);
        assert_eq!(end_status(&imp), Some(139));
        assert_eq!(one(&imp, "config.h.in", "openat").op, Op::Read);
        assert_eq!(one(&imp, "config.h", "openat").op, Op::Write);
        let e = one(&imp, "/home/u/src/pkg/.probe-cache", "mkdir");
        assert_eq!((e.op, e.errno), (Op::Create, 17));
        assert!(events(&imp).iter().all(|e| e.t_ns == 0));
        // The pid of a -ff style name; the caller's working directory.
        let imp = run_with(&[("/tmp/trace.4321", PLAIN)], Some("/home/u/src/pkg")).unwrap();
        assert_eq!(procs(&imp)[&4321].exe, "/home/u/src/pkg/configure-probe");
        assert_eq!(one(&imp, "/home/u/src/pkg/config.h.in", "openat").pid, 4321);
    }

    #[test]
    fn garbage_is_warned_about_by_line() {
        let imp = run("strace-garbage.log", GARBAGE);
        for n in [2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 17] {
            let prefix = format!("strace-garbage.log:{n}: ");
            assert!(
                imp.warnings.iter().any(|w| w.starts_with(&prefix)),
                "no warning for line {n}: {:#?}",
                imp.warnings
            );
        }
        assert!(!imp
            .warnings
            .iter()
            .any(|w| w.starts_with("strace-garbage.log:1:")));
        assert!(!imp
            .warnings
            .iter()
            .any(|w| w.starts_with("strace-garbage.log:5:")));
        assert_eq!(one(&imp, "/etc/hosts", "openat").errno, 0);
        assert_eq!(one(&imp, "/bin/cat", "execve").pid, 200);
        // A truncated path is kept, marked.
        let e = one(
            &imp,
            "/usr/share/locale/de_DE.UTF-8/LC_MESSAGES/coreutils...",
            "open",
        );
        assert_eq!(e.errno, 2);
        assert!(event(&imp, "/etc/hosts.allow").is_empty());
        assert_eq!(exits(&imp), [(200, 0)]);
        // Lines not understood make no processes.
        assert_eq!(procs(&imp).keys().collect::<Vec<_>>(), [&200]);
    }

    #[test]
    fn nothing_understood_is_an_error() {
        let err = run_with(&[], None).unwrap_err();
        assert!(err.message.starts_with("not an strace log"));
        for junk in [
            "",
            "\n\n  \n",
            "hello\nworld\n",
            "\u{0}\u{1}\u{7f}\u{fffd}\u{fffd}PK\u{3}\u{4}\n\u{fffd}ELF\u{2}\u{1}",
            "12345 \n[pid 1] \n= 3\n(((\n",
        ] {
            let err = run_with(&[("junk.bin", junk)], None).unwrap_err();
            assert_eq!(err.file, "junk.bin");
            assert!(err.message.starts_with("not an strace log"), "{err}");
        }
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let junk = String::from_utf8_lossy(&bytes).into_owned();
        assert!(run_with(&[("junk.bin", &junk)], None).is_err());
    }

    #[test]
    fn exits_and_signals() {
        let text = "5 execve(\"/bin/x\", [\"x\"], NULL) = 0\n\
                    6 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=5, si_uid=0} ---\n\
                    6 +++ killed by SIGTERM +++\n\
                    7 +++ killed by SIGABRT (core dumped) +++\n\
                    8 +++ killed by SIGRT_2 +++\n\
                    9 +++ exited with 3 +++\n\
                    10 +++ killed by SIGWHAT +++\n\
                    5 +++ killed by SIGKILL +++\n";
        let imp = run("t", text);
        assert_eq!(
            exits(&imp),
            [(6, 143), (7, 134), (8, 162), (9, 3), (10, 128), (5, 137)]
        );
        assert_eq!(end_status(&imp), Some(137));
        assert_eq!(imp.warnings.len(), 1, "{:?}", imp.warnings);
    }

    #[test]
    fn failed_exec_is_an_event_only() {
        let text = "1 execve(\"/usr/local/bin/cc\", [\"cc\"], 0x1 /* 2 vars */) = -1 ENOENT (No such file or directory)\n\
                    1 execve(\"/usr/bin/cc\", [\"cc\", \"-c\", ...], 0x1 /* 2 vars */) = 0\n\
                    1 execveat(AT_FDCWD, \"/bin/ls\", [\"ls\"], NULL, 0) = ?\n";
        let imp = run("t", text);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        let e = one(&imp, "/usr/local/bin/cc", "execve");
        assert_eq!((e.op, e.errno), (Op::Exec, 2));
        assert_eq!(one(&imp, "/bin/ls", "execveat").errno, 0);
        let p = procs(&imp);
        assert_eq!(p[&1].exe, "/bin/ls");
        let execs: Vec<_> = imp
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Process(p) => Some(p.argv.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(execs, [vec![], strs(&["cc", "-c", "..."]), strs(&["ls"])]);
    }

    #[test]
    fn stderr_style_pid_prefixes() {
        // strace -f without -o: `[pid N]` only while several processes live, and the attach
        // message cutting a line.
        let text = "execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"cat /etc/hostname\"], 0x7ffc04df4008 /* 35 vars */) = 0\n\
                    openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3\n\
                    vfork(strace: Process 12223 attached\n \
                    <unfinished ...>\n\
                    [pid 12223] execve(\"/usr/bin/cat\", [\"cat\", \"/etc/hostname\"], 0x562405067a98 /* 35 vars */ <unfinished ...>\n\
                    [pid 12192] <... vfork resumed>) = 12223\n\
                    [pid 12192] wait4(-1,  <unfinished ...>\n\
                    [pid 12223] <... execve resumed>) = 0\n\
                    [pid 12223] openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3\n\
                    [pid 12223] +++ exited with 0 +++\n\
                    <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 12223\n\
                    --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=12223, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---\n\
                    exit_group(0)                           = ?\n\
                    +++ exited with 0 +++\n";
        let imp = run("t", text);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        let p = procs(&imp);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[&12192].exe, "/usr/bin/sh");
        assert_eq!(p[&12223].ppid, 12192);
        assert_eq!(p[&12223].exe, "/usr/bin/cat");
        assert_eq!(one(&imp, "/etc/hostname", "openat").pid, 12223);
        assert_eq!(one(&imp, "/etc/ld.so.cache", "openat").pid, 12192);
        assert_eq!(exits(&imp), [(12223, 0), (12192, 0)]);
        // The message in the middle of the fork's own line, unfinished calls on both sides.
        let text = "1795933780.044094 execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"ls / & wait\"], 0x7ffc0475cb20 /* 35 vars */) = 0\n\
                    1795933780.046296 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLDstrace: Process 9717 attached\n\
                    , child_tidptr=0x7f116bea6a10) = 9717\n\
                    [pid  9716] 1795933780.046435 wait4(-1,  <unfinished ...>\n\
                    [pid  9717] 1795933780.046458 set_robust_list(0x7f116bea6a20, 24) = 0\n\
                    [pid  9716] 1795933780.046538 <... wait4 resumed>0x7ffe61a31fbc, WNOHANG, NULL) = 0\n\
                    [pid  9716] 1795933780.046642 rt_sigsuspend([], 8 <unfinished ...>\n\
                    [pid  9717] 1795933780.047210 execve(\"/usr/bin/ls\", [\"ls\", \"/\"], 0x563f5a843b48 /* 35 vars */) = 0\n\
                    [pid  9717] 1795933780.057020 +++ exited with 0 +++\n\
                    1795933780.057028 <... rt_sigsuspend resumed>) = ? ERESTARTNOHAND (To be restarted if no handler)\n\
                    1795933780.057196 exit_group(0)         = ?\n\
                    1795933780.057314 +++ exited with 0 +++\n";
        let imp = run("t", text);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        let p = procs(&imp);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!((p[&9716].exe.as_str(), p[&9716].ppid), ("/usr/bin/sh", 0));
        assert_eq!(
            (p[&9717].exe.as_str(), p[&9717].ppid),
            ("/usr/bin/ls", 9716)
        );
        assert_eq!(exits(&imp), [(9717, 0), (9716, 0)]);
    }

    #[test]
    fn ops_mirror_the_tracer() {
        let text = "1 open(\"/a\", O_RDWR) = 3\n\
                    1 open(\"/b\", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3\n\
                    1 open(\"/c\", O_PATH) = 3\n\
                    1 openat(AT_FDCWD, \"/d\", 0x241) = 3\n\
                    1 openat2(AT_FDCWD, \"/e\", {flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_NO_SYMLINKS}, 24) = 3\n\
                    1 creat(\"/f\", 0644) = 3\n\
                    1 stat(\"/g\", {st_mode=S_IFREG|0644, st_size=1, ...}) = 0\n\
                    1 statx(AT_FDCWD, \"/h\", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL, ...}) = 0\n\
                    1 access(\"/i\", F_OK) = 0\n\
                    1 readlinkat(AT_FDCWD, \"/j\", \"k\", 4095) = 1\n\
                    1 symlink(\"target\", \"/l\") = 0\n\
                    1 linkat(AT_FDCWD, \"/m\", AT_FDCWD, \"/n\", 0) = 0\n\
                    1 renameat2(AT_FDCWD, \"/o\", AT_FDCWD, \"/p\", RENAME_NOREPLACE) = 0\n\
                    1 rmdir(\"/q\") = -1 ENOTEMPTY (Directory not empty)\n\
                    1 chmod(\"/r\", 0755) = 0\n\
                    1 utimensat(AT_FDCWD, \"/s\", [UTIME_NOW, UTIME_NOW], 0) = 0\n\
                    1 utimensat(3, NULL, [UTIME_NOW, UTIME_NOW], 0) = 0\n\
                    1 mknodat(AT_FDCWD, \"/t\", S_IFIFO|0600) = 0\n\
                    1 statfs(\"/u\", {f_type=EXT2_SUPER_MAGIC, ...}) = 0\n\
                    1 truncate(\"/v\", 0) = 0\n\
                    1 openat(AT_FDCWD, \"/w\", O_RDONLY) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)\n";
        let imp = run("t", text);
        assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
        let got: Vec<(String, Op)> = events(&imp)
            .iter()
            .map(|e| (e.path.clone(), e.op))
            .collect();
        let want: Vec<(String, Op)> = [
            ("/a", Op::Write),
            ("/b", Op::Create),
            ("/c", Op::Stat),
            ("/d", Op::Write),
            ("/e", Op::Read),
            ("/f", Op::Create),
            ("/g", Op::Stat),
            ("/h", Op::Stat),
            ("/i", Op::Probe),
            ("/j", Op::Readlink),
            ("/l", Op::Create),
            ("/m", Op::Create),
            ("/n", Op::Create),
            ("/o", Op::Delete),
            ("/p", Op::Create),
            ("/q", Op::Delete),
            ("/r", Op::Write),
            ("/s", Op::Write),
            ("/t", Op::Create),
            ("/u", Op::Stat),
            ("/v", Op::Write),
        ]
        .iter()
        .map(|(p, o)| (p.to_string(), *o))
        .collect();
        assert_eq!(got, want);
        assert_eq!(one(&imp, "/q", "rmdir").errno, 39);
    }

    #[test]
    fn helpers() {
        assert_eq!(parse_result("0"), Res::Ok(0, None));
        assert_eq!(parse_result("3</a/b>"), Res::Ok(3, Some("/a/b")));
        assert_eq!(
            parse_result("4<TCP:[127.0.0.1:22->127.0.0.1:5555]>"),
            Res::Ok(4, Some("TCP:[127.0.0.1:22->127.0.0.1:5555]"))
        );
        assert_eq!(
            parse_result("-1 ENOENT (No such file or directory)"),
            Res::Err(2)
        );
        assert_eq!(
            parse_result("-1 ERRNO_520 (Unknown error 520)"),
            Res::Err(520)
        );
        assert_eq!(parse_result("-1 (errno 13)"), Res::Err(13));
        assert_eq!(parse_result("?"), Res::Unknown);
        assert_eq!(
            parse_result("? ERESTARTNOHAND (To be restarted)"),
            Res::Restart
        );
        assert_eq!(
            parse_result("0x7f0cd036e000"),
            Res::Ok(0x7f0cd036e000, None)
        );
        assert_eq!(parse_result("banana"), Res::Bad);
        assert_eq!(strip_duration("3</x> <0.000053>"), "3</x>");
        assert_eq!(strip_duration("3</x>"), "3</x>");
        let (s, t, n) = unquote(r#""a\"b\\c\n\x41\101\0"..., 4)"#).unwrap();
        assert_eq!((s.as_ref(), t, n), ("a\"b\\c\nAA\0", true, 24));
        assert_eq!(
            parse_argv(r#"["a", "b c"..., ...]"#),
            strs(&["a", "b c...", "..."])
        );
        assert_eq!(parse_argv("NULL"), Vec::<String>::new());
        let mut spans = Vec::new();
        let text =
            r#"f(3</a,b<char 1:3>>, "x,)", {a=1, b=[2, 3]}, 1<<5 /* c, d */, AT_FDCWD</q>) = 0"#;
        let close = scan_args(text, 2, &mut spans).unwrap();
        let args: Vec<&str> = spans.iter().map(|&(s, e)| text[s..e].trim()).collect();
        assert_eq!(
            args,
            [
                "3</a,b<char 1:3>>",
                "\"x,)\"",
                "{a=1, b=[2, 3]}",
                "1<<5 /* c, d */",
                "AT_FDCWD</q>"
            ]
        );
        assert_eq!(&text[close..], ") = 0");
        assert!(matches!(parse_dir("3</a/b>"), Dir::Fd(3, Some(p)) if p == "/a/b"));
        assert!(matches!(parse_dir("AT_FDCWD"), Dir::Cwd(None)));
        assert!(matches!(parse_dir("-100"), Dir::Cwd(None)));
        assert!(matches!(parse_dir("5<pipe:[1234]>"), Dir::Fd(5, None)));
        assert_eq!(join_relative("build", "../x/./y"), "x/y");
        assert_eq!(join_relative("", "../x"), "../x");
        assert_eq!(pid_of_file_name("/tmp/trace.log.1234"), Some(1234));
        assert_eq!(pid_of_file_name("trace.log"), None);
        assert_eq!(op_of_flags("O_RDONLY|O_CLOEXEC"), Op::Read);
        assert_eq!(op_of_flags("0101"), Op::Write);
    }

    fn import_anything(name: &str, text: &str) {
        let mut b = Builder::new();
        let _ = parse(&[(name.to_string(), text.to_string())], &mut b);
        let _ = b.finish(Format::Strace, &[name.to_string()]);
    }

    #[test]
    fn prefixes_and_byte_flips_never_panic() {
        // The poisoned log is ASCII (strace escapes other bytes); the garbage one has UTF-8.
        for (text, flips) in [(POISONED, 2000), (GARBAGE, 500), (PLAIN, 500)] {
            let bytes = text.as_bytes();
            // Every prefix of the shorter ones, many of the long one, mid-UTF-8 included.
            let step = if bytes.len() > 4000 { 31 } else { 1 };
            for cut in (0..=bytes.len()).step_by(step) {
                import_anything("cut.log", &String::from_utf8_lossy(&bytes[..cut]));
            }
            let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
            for _ in 0..flips {
                let mut v = bytes.to_vec();
                let flips = 1 + rng.next() % 16;
                for _ in 0..flips {
                    let i = (rng.next() % v.len() as u64) as usize;
                    let r = rng.next();
                    // Flip bits, or put a character strace gives meaning to.
                    v[i] = if r % 3 == 0 {
                        b"\"<>()[]{},=\\ \n."[(r >> 8) as usize % 15]
                    } else {
                        v[i] ^ (1 << ((r >> 8) % 8))
                    };
                }
                import_anything("flip.log", &String::from_utf8_lossy(&v));
            }
        }
    }

    #[test]
    fn hundred_thousand_lines() {
        let mut text = String::with_capacity(12_000_000);
        for i in 0..100_000u32 {
            let pid = 1000 + i % 7;
            let (s, us) = (i / 1_000_000, i % 1_000_000);
            use std::fmt::Write;
            match i % 4 {
                0 => writeln!(
                    text,
                    "{pid} 10:00:{s:02}.{us:06} openat(AT_FDCWD</home/u/src>, \"lib/f{i}.h\", O_RDONLY|O_CLOEXEC) = 3</home/u/src/lib/f{i}.h>"
                ),
                1 => writeln!(
                    text,
                    "{pid} 10:00:{s:02}.{us:06} read(3</home/u/src/lib/f{}.h>, \"#pragma once\\n\", 4096) = 13",
                    i - 1
                ),
                2 => writeln!(text, "{pid} 10:00:{s:02}.{us:06} close(3</home/u/src/lib/f{}.h>) = 0", i - 2),
                _ => writeln!(
                    text,
                    "{pid} 10:00:{s:02}.{us:06} newfstatat(AT_FDCWD</home/u/src>, \"/usr/include/x{i}.h\", 0x7ffc, 0) = -1 ENOENT (No such file or directory)"
                ),
            }
            .unwrap();
        }
        let start = std::time::Instant::now();
        let imp = run("big.log", &text);
        let took = start.elapsed();
        assert!(
            imp.warnings.is_empty(),
            "{:?}",
            &imp.warnings[..3.min(imp.warnings.len())]
        );
        assert_eq!(events(&imp).len(), 50_000);
        eprintln!("100k lines in {took:?}");
    }
}
