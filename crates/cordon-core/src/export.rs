//! One policy, written as another platform's native sandbox configuration: bubblewrap
//! arguments, an OpenBSD `unveil` program, a macOS `sandbox-exec` profile, a Landlock program.
//! Each output opens with a comment saying what could not be expressed and how it was
//! approximated.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::env::ResolvedEnv;
use crate::plan::Plan;
use crate::policy::{Home, Policy, RuleKind};
use cordon_sys::sandbox::{MountOp, NEWROOT, OLDROOT};

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Bwrap,
    Unveil,
    SandboxExec,
    Landlock,
}

fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn c_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn sbpl_quote(s: &str) -> String {
    c_quote(s)
}

fn strip(p: &OsStr, prefix: &str) -> Option<String> {
    let b = p.as_bytes();
    let rest = b.strip_prefix(prefix.as_bytes())?;
    if !rest.is_empty() && rest[0] != b'/' {
        return None;
    }
    let s = String::from_utf8_lossy(rest).into_owned();
    Some(if s.is_empty() { "/".into() } else { s })
}

/// bubblewrap arguments for `plan` (compiled with bind mirrors: bubblewrap has no overlay
/// option in its common versions), as a shell script that runs `bwrap ... -- "$@"`.
pub fn bwrap(policy: &Policy, plan: &Plan, env: &ResolvedEnv, cwd: &Path) -> String {
    // One option with its operands per line.
    let mut args: Vec<Vec<String>> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    // `empty` and `deny` of a file bind the sandbox's /dev/null, which has no host path.
    let mut null_binds = false;
    let new = |p: &std::ffi::CString| strip(OsStr::from_bytes(p.to_bytes()), NEWROOT);
    let old = |p: &std::ffi::CString| strip(OsStr::from_bytes(p.to_bytes()), OLDROOT);
    let under_dev = |p: &str| plan.dev.iter().any(|d| Path::new(p).starts_with(d));
    for op in &plan.spec.ops {
        match op {
            MountOp::Mkdir { path } => {
                if let Some(p) = new(path).filter(|p| !under_dev(p) && p != "/") {
                    args.push(vec!["--dir".into(), p]);
                }
            }
            MountOp::Touch { .. } => {} // bwrap makes bind mount points itself
            MountOp::Symlink { target, path } => {
                if let Some(p) = new(path).filter(|p| !under_dev(p)) {
                    args.push(vec![
                        "--symlink".into(),
                        String::from_utf8_lossy(target.to_bytes()).into_owned(),
                        p,
                    ]);
                }
            }
            MountOp::Bind {
                src, dst, readonly, ..
            } => {
                let Some(d) = new(dst) else { continue };
                if under_dev(&d) {
                    continue;
                }
                let s = old(src).unwrap_or_else(|| {
                    null_binds = true;
                    "/dev/null".into()
                });
                let flag = if *readonly { "--ro-bind" } else { "--bind" };
                args.push(vec![flag.into(), s, d]);
            }
            MountOp::Dev { dst } => {
                if let Some(d) = new(dst) {
                    args.push(vec!["--dev".into(), d]);
                }
            }
            MountOp::Tmpfs { dst, mode } => {
                let Some(d) = new(dst) else { continue };
                if under_dev(&d) {
                    continue;
                }
                let mut group = Vec::new();
                if *mode != 0o755 {
                    group.extend(["--perms".into(), format!("{mode:04o}")]);
                }
                group.extend(["--tmpfs".into(), d]);
                args.push(group);
            }
            MountOp::Proc { dst } => {
                if let Some(d) = new(dst) {
                    args.push(vec!["--proc".into(), d]);
                }
            }
            MountOp::RemountReadonly { dst } => {
                if let Some(d) = new(dst).filter(|d| !under_dev(d)) {
                    args.push(vec!["--remount-ro".into(), d]);
                }
            }
            MountOp::Overlay { dst, .. } => notes.push(format!(
                "{}: an overlay bubblewrap cannot make; export with binds",
                String::from_utf8_lossy(dst.to_bytes())
            )),
        }
    }
    if null_binds {
        notes.insert(
            0,
            "`empty` and `deny` of a file are an empty character device (/dev/null) in its \
             place"
                .into(),
        );
    }
    let mut namespaces: Vec<String> = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
    ]
    .map(String::from)
    .to_vec();
    if !policy.network {
        namespaces.push("--unshare-net".into());
    }
    args.push(namespaces);
    args.push(vec![
        "--die-with-parent".into(),
        "--cap-drop".into(),
        "ALL".into(),
    ]);
    // The environment as it resolves now: bwrap has no prefix patterns.
    args.push(vec!["--clearenv".into()]);
    for (k, v) in &env.vars {
        args.push(vec![
            "--setenv".into(),
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        ]);
    }
    if !env.vars.is_empty() {
        notes.push(
            "the environment is the one resolved when this was exported (bwrap has no \
             patterns such as PIP_*)"
                .into(),
        );
    }
    args.push(vec!["--chdir".into(), cwd.to_string_lossy().into_owned()]);

    let mut out = String::from("#!/bin/sh\n# bubblewrap arguments exported by cordon");
    let _ = writeln!(out, " from {}.", policy.sources.join(", "));
    out.push_str("# Approximations:\n");
    for n in &notes {
        let _ = writeln!(out, "# - {n}");
    }
    out.push_str("exec bwrap \\\n");
    for group in &args {
        let words: Vec<String> = group.iter().map(|w| sh_quote(w)).collect();
        let _ = writeln!(out, "    {} \\", words.join(" "));
    }
    out.push_str("    -- \"$@\"\n");
    out
}

/// What unveil(2) grants for a rule, or None when it has no equivalent.
fn unveil_perms(kind: &RuleKind) -> Option<&'static str> {
    match kind {
        RuleKind::Ro => Some("rx"),
        RuleKind::Rw | RuleKind::Tmpfs => Some("rwxc"),
        RuleKind::Hide | RuleKind::Deny => Some(""),
        RuleKind::Dev => Some("rw"),
        RuleKind::Proc | RuleKind::Empty | RuleKind::Redirect { .. } => None,
    }
}

/// An OpenBSD program that unveils each path of the policy and then runs its arguments.
pub fn unveil(policy: &Policy) -> String {
    let mut notes = vec![
        "tmpfs: the real directory, writable (unveil cannot make a private one)".to_string(),
        "deny: hidden (ENOENT) rather than unreadable".to_string(),
        "HOME and the environment are not changed (unveil covers paths only)".to_string(),
    ];
    let mut calls = String::new();
    let mut list = String::new();
    for r in &policy.rules {
        let path = r.path.to_string_lossy();
        match unveil_perms(&r.kind) {
            Some(perms) => {
                let _ = writeln!(list, " *   {path} \"{perms}\"");
                let _ = writeln!(
                    calls,
                    "    if (unveil({}, {}) == -1 && errno != ENOENT)\n        err(125, \"unveil %s\", {});",
                    c_quote(&path),
                    c_quote(perms),
                    c_quote(&path)
                );
            }
            None => notes.push(format!(
                "{} {path}: no unveil equivalent, left out",
                r.kind.keyword()
            )),
        }
    }
    let mut out = String::from("/*\n * OpenBSD unveil(2) program exported by cordon");
    let _ = writeln!(out, " from {}.", policy.sources.join(", "));
    out.push_str(" * Build: cc -o cordon-unveil this.c; run: ./cordon-unveil COMMAND [ARGS...]\n");
    out.push_str(" * Approximations:\n");
    for n in &notes {
        let _ = writeln!(out, " * - {n}");
    }
    out.push_str(" * Paths and permissions (the list form):\n");
    out.push_str(&list);
    out.push_str(" */\n#include <err.h>\n#include <errno.h>\n#include <unistd.h>\n\n");
    out.push_str("int\nmain(int argc, char *argv[])\n{\n");
    out.push_str(
        "    if (argc < 2)\n        errx(125, \"usage: %s COMMAND [ARGS...]\", argv[0]);\n",
    );
    out.push_str(&calls);
    out.push_str("    if (unveil(NULL, NULL) == -1)\n        err(125, \"unveil\");\n");
    out.push_str("    execvp(argv[1], argv + 1);\n");
    out.push_str("    err(errno == ENOENT ? 127 : 126, \"%s\", argv[1]);\n}\n");
    out
}

/// A macOS sandbox-exec (SBPL) profile.
pub fn sandbox_exec(policy: &Policy) -> String {
    let mut notes = vec![
        "hide and deny: access is refused (EPERM), not absent".to_string(),
        "tmpfs and a fresh HOME: the real directories, writable (SBPL cannot make private ones)"
            .to_string(),
        "the environment is not changed: sandbox-exec covers access only".to_string(),
    ];
    let mut allow = String::new();
    let mut deny = String::new();
    for r in &policy.rules {
        let path = sbpl_quote(&r.path.to_string_lossy());
        match &r.kind {
            RuleKind::Ro => {
                let _ = writeln!(allow, "(allow file-read* process-exec (subpath {path}))");
            }
            RuleKind::Rw | RuleKind::Tmpfs => {
                let _ = writeln!(
                    allow,
                    "(allow file-read* file-write* process-exec (subpath {path}))"
                );
            }
            RuleKind::Dev => {
                let _ = writeln!(allow, "(allow file-read* file-write* (subpath {path}))");
            }
            RuleKind::Hide | RuleKind::Deny => {
                let _ = writeln!(deny, "(deny file-read* file-write* (subpath {path}))");
            }
            RuleKind::Proc | RuleKind::Empty | RuleKind::Redirect { .. } => notes.push(format!(
                "{} {}: no SBPL equivalent, left out",
                r.kind.keyword(),
                r.path.display()
            )),
        }
    }
    if let Home::Path(p) = &policy.home {
        let _ = writeln!(
            allow,
            "(allow file-read* file-write* (subpath {}))",
            sbpl_quote(&p.to_string_lossy())
        );
    }
    let mut out = String::from(";; macOS sandbox-exec profile exported by cordon");
    let _ = writeln!(out, " from {}.", policy.sources.join(", "));
    out.push_str(";; Run: sandbox-exec -f this.sb COMMAND [ARGS...]\n;; Approximations:\n");
    for n in &notes {
        let _ = writeln!(out, ";; - {n}");
    }
    out.push_str("(version 1)\n(deny default)\n");
    out.push_str("(allow process-fork signal sysctl-read mach-lookup ipc-posix-shm iokit-open)\n");
    out.push_str("(allow file-read-metadata)\n");
    if policy.network {
        out.push_str("(allow network*)\n");
    }
    out.push_str(&allow);
    // Later rules win in SBPL: the hides and denials come last.
    out.push_str(&deny);
    out
}

/// A Linux program that restricts itself with Landlock (ABI 1, for the widest reach) and then
/// runs its arguments.
pub fn landlock(policy: &Policy) -> String {
    let mut notes = vec![
        "hide and deny: not granted, so access is refused (EACCES) and existence stays visible \
         through stat; a hidden path inside a granted directory stays reachable"
            .to_string(),
        "tmpfs and a fresh HOME: the real directories, writable (Landlock cannot make private \
         ones)"
            .to_string(),
    ];
    let mut rules = String::new();
    for r in &policy.rules {
        let rights = match &r.kind {
            RuleKind::Ro | RuleKind::Proc => "READ",
            RuleKind::Rw | RuleKind::Tmpfs | RuleKind::Dev => "ALL",
            RuleKind::Hide | RuleKind::Deny => continue,
            RuleKind::Empty | RuleKind::Redirect { .. } => {
                notes.push(format!(
                    "{} {}: no Landlock equivalent, left out",
                    r.kind.keyword(),
                    r.path.display()
                ));
                continue;
            }
        };
        let _ = writeln!(
            rules,
            "    allow({}, {rights});",
            c_quote(&r.path.to_string_lossy())
        );
    }
    let mut out = String::from("/*\n * Landlock program exported by cordon");
    let _ = writeln!(out, " from {}.", policy.sources.join(", "));
    out.push_str(
        " * Build: cc -o cordon-landlock this.c; run: ./cordon-landlock COMMAND [ARGS...]\n",
    );
    out.push_str(" * Approximations:\n");
    for n in &notes {
        let _ = writeln!(out, " * - {n}");
    }
    out.push_str(LANDLOCK_PRELUDE);
    out.push_str(&rules);
    out.push_str(LANDLOCK_EPILOGUE);
    out
}

const LANDLOCK_PRELUDE: &str = r#" */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
              LANDLOCK_ACCESS_FS_READ_DIR)
#define ALL (READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
             LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | \
             LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
             LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \
             LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)

static int ruleset;

static void
allow(const char *path, __u64 access)
{
    struct landlock_path_beneath_attr rule = { .allowed_access = access };
    rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
    if (rule.parent_fd < 0)
        return; /* a path this machine lacks */
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0))
        err(125, "landlock_add_rule %s", path);
    close(rule.parent_fd);
}

int
main(int argc, char *argv[])
{
    struct landlock_ruleset_attr attr = { .handled_access_fs = ALL };
    if (argc < 2)
        errx(125, "usage: %s COMMAND [ARGS...]", argv[0]);
    ruleset = syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0)
        err(125, "landlock_create_ruleset (needs Linux 5.13 with Landlock enabled)");
"#;

const LANDLOCK_EPILOGUE: &str = r#"    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        err(125, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (syscall(SYS_landlock_restrict_self, ruleset, 0))
        err(125, "landlock_restrict_self");
    close(ruleset);
    execvp(argv[1], argv + 1);
    err(errno == ENOENT ? 127 : 126, "%s", argv[1]);
}
"#;
