//! `cordon run`: flags + policy files + profiles -> one Policy -> the backend's plan -> run.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};

use cordon_core::backend::{self, BackendKind, Selection};
use cordon_core::direct::{self, PrepareError};
use cordon_core::doctor::HostFacts;
use cordon_core::env;
use cordon_core::plan::{self, Context, Mirrors};
use cordon_core::policy::{self, EnvRule, Home, Loader, Origin, Policy, RuleKind, Vars};
use cordon_core::sys::error::Errno;
use cordon_core::sys::sandbox::{self, LaunchError};
use cordon_core::view::Mode;

use crate::cli::{FlagOrder, PolicyArgs, Require, RunArgs};
use crate::{EXIT_CANNOT_EXECUTE, EXIT_FAILURE, EXIT_NOT_FOUND};

/// The caller's home directory: $HOME if absolute, else the passwd entry's.
fn host_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Resolve the flags, files and profiles into one policy.
pub fn resolve_policy(args: &PolicyArgs, order: &FlagOrder, cwd: &Path) -> Result<Policy> {
    resolve_policy_at(args, order, cwd, &host_home())
}

/// [`resolve_policy`] for a machine whose home directory is `home` (an imported log's).
pub fn resolve_policy_at(
    args: &PolicyArgs,
    order: &FlagOrder,
    cwd: &Path,
    home: &Path,
) -> Result<Policy> {
    let home = home.to_path_buf();
    let vars = Vars::new(&home, cwd, |k| std::env::var(k).ok());
    let mut loader = Loader::new(vars);
    let mut policy = Policy::default();
    if args.policy_files.is_empty() && args.profile.is_empty() {
        loader.load_profile("build", &mut policy)?;
    }
    for name in &args.profile {
        loader.load_profile(name, &mut policy)?;
    }
    for file in &args.policy_files {
        loader.load_file(file, &mut policy)?;
    }

    let cli = Origin::command_line;
    let value = |list: &[String], nth: usize| list.get(nth).cloned().unwrap_or_default();
    for &(_, flag, nth) in &order.occurrences {
        let rule = |kind: RuleKind, list: &[String]| (kind, value(list, nth));
        let (kind, raw) = match flag {
            "ro" => rule(RuleKind::Ro, &args.ro),
            "rw" => rule(RuleKind::Rw, &args.rw),
            "hide" => rule(RuleKind::Hide, &args.hide),
            "deny" => rule(RuleKind::Deny, &args.deny),
            "empty" => rule(RuleKind::Empty, &args.empty),
            "tmpfs" => rule(RuleKind::Tmpfs, &args.tmpfs),
            "redirect" => {
                let r = value(&args.redirect, nth);
                let (path, to) = r
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--redirect {r}: expected PATH=OTHER"))?;
                (RuleKind::Redirect { to: to.into() }, path.to_string())
            }
            "env_unset" => {
                policy.env.rules.push(EnvRule::Unset {
                    pattern: value(&args.env_unset, nth),
                    origin: cli(),
                });
                continue;
            }
            "env_keep" => {
                policy
                    .env
                    .rules
                    .push(EnvRule::Keep(value(&args.env_keep, nth)));
                continue;
            }
            _ => {
                let kv = value(&args.env_set, nth);
                let (name, value) = kv
                    .split_once('=')
                    .filter(|(n, _)| !n.is_empty())
                    .ok_or_else(|| anyhow!("--env-set {kv}: expected VAR=VALUE"))?;
                policy.env.rules.push(EnvRule::Set {
                    name: name.into(),
                    value: value.into(),
                });
                continue;
            }
        };
        let flag = flag.replace('_', "-");
        policy
            .push_rule(&raw, kind, None, None, cli())
            .map_err(|e| anyhow!("--{flag} {raw}: {e}"))?;
    }
    if let Some(h) = &args.home {
        policy.home = policy::parse_home(h, loader.vars()).map_err(|e| anyhow!("--home: {e}"))?;
    }
    if args.env_clear {
        policy.env.clear = true;
    }
    if args.no_network {
        policy.network = false;
    }
    if policy.home == Home::Keep {
        // The caller's home, as it is, read-only; first, so that any rule for the same path
        // (or deeper, such as the profiles' hides) decides instead.
        if home != Path::new("/") {
            let mut keep = Policy::default();
            keep.push_rule(
                &home.to_string_lossy(),
                RuleKind::Ro,
                None,
                Some("home = keep".into()),
                Origin {
                    source: "home = keep".into(),
                    line: None,
                },
            )
            .map_err(|e| anyhow!("HOME: {e}"))?;
            policy.rules.splice(0..0, keep.rules);
        }
    }
    Ok(policy)
}

/// HOME inside the sandbox, or None when it is kept as it is.
fn sandbox_home(policy: &Policy) -> Option<PathBuf> {
    match &policy.home {
        Home::Keep => None,
        Home::Path(p) => Some(p.clone()),
        Home::Fresh => {
            let home = host_home();
            // A fresh home at the caller's home path, so that tools that read the passwd entry
            // agree with $HOME; never over the root directory itself.
            Some(if home == Path::new("/") {
                PathBuf::from("/tmp/home")
            } else {
                home
            })
        }
    }
}

/// The directory the command runs in: `-C DIR` made absolute, or the current one.
pub fn work_dir(chdir: Option<&Path>) -> Result<PathBuf> {
    match chdir {
        Some(d) => std::fs::canonicalize(d)
            .with_context(|| format!("-C {}: cannot use this directory", d.display())),
        None => std::env::current_dir().context("cannot read the current directory"),
    }
}

/// The sandbox's HOME (None: the caller's) and its environment, resolved from `policy`
/// over `host`.
pub fn sandbox_env(
    policy: &Policy,
    host: impl IntoIterator<Item = (OsString, OsString)>,
) -> (Option<PathBuf>, env::ResolvedEnv) {
    let home = sandbox_home(policy);
    let overrides: Vec<(&str, OsString)> = home
        .iter()
        .map(|h| ("HOME", h.clone().into_os_string()))
        .collect();
    let env = env::resolve(&policy.env, host, &overrides);
    (home, env)
}

/// A namespace sandbox started for `cordon run`, or why it could not be: a failure to start
/// is the launch's to report (or to fall back from).
pub type Started = Result<sandbox::Prelaunch, LaunchError>;

/// Start the namespace sandbox of a `cordon run` from the raw command line, before it is
/// parsed: its init makes its namespaces and staging root while clap parses (about 0.1 ms)
/// and the policy is resolved. Only for a run whose options ask for the namespace backend (or
/// auto) and a real run; anything else waits for the parse. A wrong guess costs an init that
/// is killed unused.
pub fn start_early() -> Option<Started> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    early_namespace_run(&args, std::env::var_os("CORDON_BACKEND")).then(start_sandbox)
}

/// Start the namespace sandbox with the id map the plan will have.
fn start_sandbox() -> Started {
    sandbox::Prelaunch::start(plan::id_map(cordon_core::sys::probe::euid() == 0))
}

/// Whether `args` (after the program name) are a `cordon run` in the namespace sandbox:
/// `run` first, the command after `--`, no --dry-run, --trace or help, and --backend (or else
/// `env_backend`, as clap reads CORDON_BACKEND) auto or namespace.
fn early_namespace_run(args: &[OsString], env_backend: Option<OsString>) -> bool {
    let Some((first, rest)) = args.split_first() else {
        return false;
    };
    let Some(end) = rest.iter().position(|a| a == "--") else {
        return false;
    };
    if first != "run" {
        return false;
    }
    let mut backend = env_backend;
    let mut options = rest[..end].iter();
    while let Some(arg) = options.next() {
        match arg.as_bytes() {
            b"--backend" => backend = options.next().cloned(),
            b"--dry-run" | b"--trace" | b"-h" | b"--help" => return false,
            a if a.starts_with(b"--trace=") => return false,
            a => {
                if let Some(value) = a.strip_prefix(b"--backend=") {
                    backend = Some(std::ffi::OsStr::from_bytes(value).to_owned());
                }
            }
        }
    }
    match backend {
        None => true,
        Some(b) => b == "auto" || b == "namespace",
    }
}

/// Whether the plan's root will be the host's, read-only, as far as the policy tells before
/// the plan is compiled: the last rule for `/` is `ro`, and no hide lies directly under it
/// (the root would be mirrored instead). A wrong guess costs the init an unmount.
fn root_is_the_hosts(policy: &cordon_core::policy::Policy) -> bool {
    let root = Path::new("/");
    let last_for_root = policy.rules.iter().rev().find(|r| r.path == root);
    matches!(last_for_root, Some(r) if r.kind == RuleKind::Ro)
        && !policy
            .rules
            .iter()
            .any(|r| r.kind == RuleKind::Hide && r.path.parent() == Some(root))
}

/// `cordon run`; `early` is the sandbox [`start_early`] started, if it did.
pub fn run(args: RunArgs, order: &FlagOrder, mut early: Option<Started>) -> Result<i32> {
    // The namespace sandbox's init builds the staging root and, once the policy says, what the
    // policy's root will have, while the plan is made here.
    if let Some(Ok(p)) = early.as_mut() {
        p.settle();
    }
    let cwd = work_dir(args.chdir.as_deref())?;
    let policy = resolve_policy(&args.policy, order, &cwd)?;
    let prelaunch = (matches!(args.backend.as_str(), "auto" | "namespace")
        && !args.dry_run
        && args.trace.is_none())
    .then(|| {
        early.unwrap_or_else(start_sandbox).map(|mut p| {
            // `cordon run` exits as soon as the command's status is there.
            p.linger();
            let has = |kind: RuleKind| policy.rules.iter().any(|r| r.kind == kind);
            p.prefabs(sandbox::Prefabs {
                dev: has(RuleKind::Dev),
                proc: has(RuleKind::Proc),
                root: root_is_the_hosts(&policy),
            });
            p
        })
    });

    let requested = match args.backend.as_str() {
        "auto" => None,
        name => Some(Selection::parse(name).map_err(|e| {
            anyhow!(
                "--backend: {e} (auto, namespace, landlock, seccomp, ptrace, preload, or \
                 landlock+NAME)"
            )
        })?),
    };
    let require = |sel: &Selection| -> Result<(), String> {
        for r in &args.require {
            match r {
                Require::Enforce if !sel.enforces() => {
                    return Err(format!(
                        "{sel} does not enforce the view against a hostile build \
                         (--require enforce)"
                    ))
                }
                Require::Hide if !sel.hides() => {
                    return Err(format!(
                        "{sel} cannot make hidden paths absent, only unreadable \
                         (--require hide)"
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    };

    let (home, env) = sandbox_env(&policy, std::env::vars_os());
    let ctx = Context {
        cwd: cwd.clone(),
        home,
        argv: args.command.clone(),
        envp: env.vars.clone(),
        root: cordon_core::sys::probe::euid() == 0,
        mirrors: if std::env::var_os(plan::MIRROR_ENV).is_some_and(|v| v == "binds") {
            Mirrors::Binds
        } else {
            Mirrors::Overlay
        },
    };
    if args.verbose || args.dry_run {
        eprintln!("cordon: policy from {}", policy.sources.join(", "));
        for (name, origin) in &env.removed {
            eprintln!("cordon: unset {name} ({origin})");
        }
        if env.cleared > 0 {
            eprintln!("cordon: env clear removed {} variables", env.cleared);
        }
    }

    let namespace = Selection(vec![BackendKind::Namespace]);
    match requested {
        // Auto means the strongest backend that works; the namespace backend is tried
        // directly, and only when it cannot start is the host probed (probing forks a child).
        None => match run_namespace(&args, &policy, ctx.clone(), &cwd, true, prelaunch)? {
            Ok(code) => Ok(code),
            Err(why) => fall_back(&args, &policy, &ctx, &cwd, &why, &require),
        },
        Some(sel) if sel == namespace => {
            require(&sel).map_err(|e| anyhow!(e))?;
            Ok(run_namespace(&args, &policy, ctx, &cwd, false, prelaunch)?.unwrap_or(EXIT_FAILURE))
        }
        Some(sel) => {
            let host = HostFacts::probe(false);
            backend::usable(&sel, &host).map_err(|e| anyhow!("--backend {sel}: {e}"))?;
            require(&sel).map_err(|e| anyhow!("--backend {sel}: {e}"))?;
            let prepared = direct::prepare(&policy, &ctx, mode_of(&sel))
                .map_err(|e| anyhow!("--backend {sel}: {e}"))?;
            run_direct(&args, &policy, &sel, prepared, &host, &cwd)
        }
    }
}

/// `auto` after the namespace sandbox could not be set up (`why`; nothing ran): the strongest
/// other selection that this machine allows, that `require` accepts and that can show the
/// policy, announced on stderr. Status 125 with the reasons when none can.
pub fn fall_back(
    args: &RunArgs,
    policy: &Policy,
    ctx: &Context,
    cwd: &Path,
    why: &str,
    require: &dyn Fn(&Selection) -> Result<(), String>,
) -> Result<i32> {
    let host = HostFacts::probe(false);
    let (candidates, mut skipped) = backend::auto_candidates(&host);
    for sel in candidates {
        if sel.contains(BackendKind::Namespace) {
            continue;
        }
        if let Err(why) = require(&sel) {
            skipped.push(why);
            continue;
        }
        match direct::prepare(policy, ctx, mode_of(&sel)) {
            Err(PrepareError::View(e)) => {
                skipped.push(format!("{sel}: {e}"));
                continue;
            }
            Err(e) => return Err(e.into()),
            Ok(prepared) => {
                // Never a silent fallback: say which backend runs instead.
                eprintln!(
                    "cordon: {}; running with the {sel} backend: {}",
                    host.user_namespaces
                        .error
                        .as_deref()
                        .map(|e| format!("user namespaces unavailable: {e}"))
                        .unwrap_or_else(|| format!(
                            "the namespace sandbox cannot be set up: {why}"
                        )),
                    sel.guarantees()
                );
                return run_direct(args, policy, &sel, prepared, &host, cwd);
            }
        }
    }
    eprintln!("cordon: no backend can run this policy here:");
    for s in skipped {
        eprintln!("cordon:   {s}");
    }
    Ok(EXIT_FAILURE)
}

/// How a selection shows paths: with rewriting (a private /tmp at /tmp), by answering from
/// another file (seccomp), or neither (landlock).
fn mode_of(sel: &Selection) -> Mode {
    if sel.rewrites() {
        Mode::Rewrite
    } else if sel.contains(BackendKind::Seccomp) {
        Mode::Inject
    } else {
        Mode::Fixed
    }
}

/// The command's status from a launch, or cordon's own for a failure to start it.
fn launch_status(launched: Result<sandbox::Outcome, LaunchError>, cwd: &Path) -> i32 {
    match launched {
        Ok(outcome) => outcome.code(),
        Err(e @ LaunchError::NotFound { .. }) => {
            eprintln!("cordon: {e}");
            EXIT_NOT_FOUND
        }
        Err(e @ LaunchError::CannotExecute { .. }) => {
            eprintln!("cordon: {e}");
            EXIT_CANNOT_EXECUTE
        }
        Err(LaunchError::Setup(e)) if e.call == "chdir" => {
            eprintln!(
                "cordon: the working directory {} is not visible in the sandbox \
                 (add --ro or --rw for it)",
                cwd.display()
            );
            EXIT_FAILURE
        }
        Err(LaunchError::Setup(e)) => {
            eprintln!("cordon: cannot set up the sandbox: {e}");
            EXIT_FAILURE
        }
    }
}

/// Run with a backend that uses the host's own mounts (landlock, ptrace, landlock+ptrace).
fn run_direct(
    args: &RunArgs,
    policy: &Policy,
    sel: &Selection,
    mut prepared: direct::Prepared,
    host: &HostFacts,
    cwd: &Path,
) -> Result<i32> {
    if args.verbose || args.dry_run {
        eprintln!("cordon: backend {sel}: {}", sel.guarantees());
        if sel.contains(BackendKind::Landlock) {
            if let Some(abi) = host.landlock_abi {
                eprintln!("cordon: {}", direct::landlock::describe(abi));
            }
        }
        for d in &prepared.view.degraded {
            eprintln!("cordon: degraded: {d}");
        }
        if !sel.hides() {
            eprintln!(
                "cordon: degraded: hide is EACCES (unreadable), not ENOENT; the hidden paths \
                 still exist for stat"
            );
        }
    }
    if args.dry_run {
        print_rules(policy);
        println!("# view ({sel})");
        for e in &prepared.view.entries {
            let host = if e.host != e.path {
                format!(" -> {}", e.host.display())
            } else {
                String::new()
            };
            println!("{:?} {}{host}  ({})", e.access, e.path.display(), e.origin);
        }
        return Ok(0);
    }
    let mut ruleset = if sel.contains(BackendKind::Landlock) {
        let filtered = sel.contains(BackendKind::Ptrace) || sel.contains(BackendKind::Seccomp);
        Some(direct::landlock::prepare(&prepared.view, filtered)?.ruleset)
    } else {
        None
    };
    let mut before_exec =
        || -> Result<(), (&'static str, Errno)> { direct::landlock::restrict(&mut ruleset) };
    if sel.contains(BackendKind::Seccomp) {
        return supervise_direct(args, sel, &mut prepared, &mut before_exec, cwd);
    }
    let preload = if sel.contains(BackendKind::Preload) {
        let setup = direct::preload::setup(&prepared.view, &prepared.private.path)?;
        for (name, value) in &setup.env {
            prepared.set_env(name, value.as_os_str(), name == "LD_PRELOAD")?;
        }
        // cordon itself starts the command, without the shim: apply the view to it here.
        let candidates = direct::preload::command_candidates(&prepared.view, &prepared.spec);
        direct::preload::note_command(&setup, &candidates);
        prepared.spec.exec_candidates = candidates
            .iter()
            .filter_map(|c| std::ffi::CString::new(c.as_os_str().as_bytes()).ok())
            .collect();
        Some(setup)
    } else {
        None
    };
    let traced = sel.contains(BackendKind::Ptrace) || args.trace.is_some();
    let code = if traced {
        trace_direct(args, policy, sel, &prepared, &mut before_exec, cwd)?
    } else {
        launch_status(direct::launch(&prepared.spec, &mut before_exec), cwd)
    };
    if let Some(setup) = &preload {
        // The shim cannot follow a static program: say which ran outside the view.
        for gap in direct::preload::gaps(setup) {
            eprintln!("cordon: preload gap, outside the view: {gap}");
        }
    }
    Ok(code)
}

/// Run with every file system call checked by the seccomp supervisor.
#[cfg(target_arch = "x86_64")]
fn supervise_direct(
    args: &RunArgs,
    sel: &Selection,
    prepared: &mut direct::Prepared,
    before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
    cwd: &Path,
) -> Result<i32> {
    if args.trace.is_some() {
        anyhow::bail!(
            "--trace cannot be combined with the {sel} backend (a seccomp notification \
             comes before the tracer's stop); use --backend ptrace or landlock+ptrace"
        );
    }
    // The fast path: dynamic programs get the preload shim, which walks paths itself (glibc's
    // realpath makes a readlink per component) from a stub the filter lets through; the
    // supervisor still answers every call the program makes. Without the shim (a noexec
    // TMPDIR) every call goes to the supervisor: slower, the same answers.
    let fast = match direct::preload::setup(&prepared.view, &prepared.private.path) {
        Ok(setup) => {
            for (name, value) in &setup.env {
                prepared.set_env(name, value.as_os_str(), name == "LD_PRELOAD")?;
            }
            prepared.set_env("CORDON_PRELOAD_FASTPATH", std::ffi::OsStr::new("1"), false)?;
            true
        }
        Err(e) => {
            if args.verbose {
                eprintln!("cordon: note: no fast path for the seccomp backend: {e}");
            }
            false
        }
    };
    let d = &prepared.spec;
    let spec = cordon_core::sys::unotif::NotifySpec {
        cwd: d.cwd.clone(),
        exec_candidates: d.exec_candidates.clone(),
        argv: d.argv.clone(),
        envp: d.envp.clone(),
        notified: {
            let mut n = cordon_core::tracer::traced_syscalls();
            n.push(cordon_core::direct::seccomp::GETDENTS64);
            n
        },
        refused: cordon_core::tracer::refused_syscalls(),
        drop_capabilities: cordon_core::sys::probe::euid() == 0
            && cordon_core::sys::probe::has_capabilities(),
        allow_ip: fast.then_some(cordon_core::direct::preload::FAST_PATH_IP),
        confine: true,
        no_network: d.no_network,
    };
    let mut checker = cordon_core::direct::seccomp::Checker {
        view: &prepared.view,
    };
    let mut hook = || before_exec().map_err(|(_, e)| e);
    let launched = cordon_core::sys::unotif::supervise(&spec, &mut hook, &mut checker);
    Ok(launch_status(launched, cwd))
}

#[cfg(not(target_arch = "x86_64"))]
fn supervise_direct(
    _args: &RunArgs,
    sel: &Selection,
    _prepared: &mut direct::Prepared,
    _before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
    _cwd: &Path,
) -> Result<i32> {
    anyhow::bail!("the {sel} backend is implemented for x86_64 only")
}

#[cfg(not(target_arch = "x86_64"))]
fn trace_direct(
    _args: &RunArgs,
    _policy: &Policy,
    sel: &Selection,
    _prepared: &direct::Prepared,
    _before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
    _cwd: &Path,
) -> Result<i32> {
    anyhow::bail!("{sel} with tracing: the tracer is implemented for x86_64 only")
}

/// Run under the tracer: enforcing the view when the selection has ptrace, recording when
/// `--trace` is given.
#[cfg(target_arch = "x86_64")]
fn trace_direct(
    args: &RunArgs,
    policy: &Policy,
    sel: &Selection,
    prepared: &direct::Prepared,
    before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
    cwd: &Path,
) -> Result<i32> {
    let d = &prepared.spec;
    let spec = cordon_core::sys::ptrace::TraceSpec {
        cwd: d.cwd.clone(),
        exec_candidates: d.exec_candidates.clone(),
        argv: d.argv.clone(),
        envp: d.envp.clone(),
        traced: {
            let mut t = cordon_core::tracer::traced_syscalls();
            if sel.contains(BackendKind::Ptrace) {
                t.extend(cordon_core::direct::ptrace::GETDENTS);
                t.push(cordon_core::direct::ptrace::GETCWD);
            }
            t
        },
        refused: cordon_core::tracer::refused_syscalls(),
        confine: true,
        no_network: d.no_network,
    };
    let mut notes = prepared.view.degraded.clone();
    if !sel.hides() {
        notes.push("hide is EACCES (unreadable), not ENOENT; hidden paths exist for stat".into());
    }
    let mut writer = match &args.trace {
        Some(path) => Some(
            crate::trace::open_writer(
                path,
                &args.command,
                cwd,
                policy,
                &format!("ptrace, under the {sel} backend: {}", sel.guarantees()),
                &home_setting(policy),
                &notes,
            )?
            .with_verdicts(prepared.view.verdicts()),
        ),
        None => None,
    };
    let launched = if sel.contains(BackendKind::Ptrace) {
        let mut enforcer =
            cordon_core::direct::ptrace::Enforcer::new(&prepared.view, writer.as_mut());
        cordon_core::sys::ptrace::trace_with(&spec, before_exec, &mut enforcer)
    } else {
        let w = writer
            .as_mut()
            .expect("traced without ptrace means --trace");
        cordon_core::sys::ptrace::trace_with(&spec, before_exec, w)
    };
    let code = launch_status(launched, cwd);
    if let Some(w) = writer {
        w.finish(code).context("cannot write the trace file")?;
    }
    Ok(code)
}

fn home_setting(policy: &Policy) -> String {
    match &policy.home {
        Home::Fresh => "fresh".to_string(),
        Home::Keep => "keep".to_string(),
        Home::Path(p) => p.to_string_lossy().into_owned(),
    }
}

/// Run in the namespace sandbox. `Ok(Err(why))` when the sandbox cannot be set up and
/// `auto` may fall back (`fallback`): nothing has run then. User namespaces may be refused
/// outright (clone), or made without the rights to build a root in them (Ubuntu's AppArmor
/// restriction fails the first mount).
fn run_namespace(
    args: &RunArgs,
    policy: &Policy,
    ctx: Context,
    cwd: &Path,
    fallback: bool,
    mut prelaunch: Option<Started>,
) -> Result<Result<i32, String>> {
    let backend = BackendKind::Namespace;
    if let Some(Ok(p)) = prelaunch.as_mut() {
        p.settle();
    }
    let started = prelaunch.as_ref().and_then(|p| p.as_ref().ok());
    let table = started.and_then(|p| p.host_mount_table());
    let mut plan = plan::compile_with_mount_table(policy, &ctx, table)?;

    if args.verbose || args.dry_run {
        eprintln!("cordon: backend {backend}: {}", backend.guarantees());
        for note in &plan.notes {
            eprintln!("cordon: note: {note}");
        }
    }
    if args.dry_run {
        print_dry_run(policy, &plan.spec);
        return Ok(Ok(0));
    }
    let mut writer = match &args.trace {
        Some(path) => Some(
            crate::trace::open_writer(
                path,
                &args.command,
                cwd,
                policy,
                &format!(
                    "ptrace, under the namespace backend: {}",
                    backend.guarantees()
                ),
                &home_setting(policy),
                &[],
            )?
            .with_verdicts(cordon_core::tracer::plan_verdicts(&plan)),
        ),
        None => None,
    };
    let mut launch = |spec: &sandbox::Spec| match (writer.as_mut(), prelaunch.take()) {
        (Some(w), _) => crate::trace::launch_traced(spec, w),
        (None, Some(started)) => started.and_then(|p| p.launch(spec)),
        (None, None) => sandbox::launch(spec),
    };
    let mut launched = launch(&plan.spec);
    if let Err(LaunchError::Setup(e)) = &launched {
        if e.call == "overlay" && ctx.mirrors == Mirrors::Overlay {
            // This kernel refuses overlayfs in a user namespace (before 5.11): nothing ran
            // yet, so build the same view with binds instead.
            if args.verbose {
                eprintln!("cordon: note: {e}; mirroring with binds instead");
            }
            let ctx = Context {
                mirrors: Mirrors::Binds,
                ..ctx
            };
            plan = plan::compile(policy, &ctx)?;
            launched = launch(&plan.spec);
        }
    }
    // The init's copy of the trace writer wrote the trace; the supervisor's copy (same file,
    // same offset) must not add to it, not even a compressed frame's end.
    if let Some(w) = writer {
        std::mem::forget(w);
    }
    match launched {
        // Nothing ran: a setup failure other than the policy's own (an invisible working
        // directory) means this machine's namespaces cannot hold the sandbox.
        Err(LaunchError::Setup(e)) if fallback && e.call != "chdir" => Ok(Err(e.to_string())),
        Err(LaunchError::Setup(e)) if e.call == "clone" => {
            eprintln!(
                "cordon: cannot create the sandbox's namespaces: {e} \
                 (user namespaces unavailable? see `cordon doctor`)"
            );
            Ok(Ok(EXIT_FAILURE))
        }
        Err(LaunchError::Setup(e))
            if e.call == "write"
                && e.arg.ends_with("uid_map")
                && cordon_core::sys::probe::euid() == 0 =>
        {
            // Mapping uid 0 into a new user namespace needs CAP_SETFCAP (Linux 5.12),
            // which a sandboxed root (cordon inside cordon) no longer has.
            eprintln!(
                "cordon: cannot set up the sandbox: {e}: uid 0 without capabilities (as \
                 inside another sandbox) cannot map itself into a new user namespace; \
                 run cordon as a non-root user there"
            );
            Ok(Ok(EXIT_FAILURE))
        }
        other => Ok(Ok(launch_status(other, cwd))),
    }
}

fn print_rules(policy: &Policy) {
    println!("# rules (longest prefix wins; later wins for the same path)");
    for r in &policy.rules {
        let extra = match &r.kind {
            RuleKind::Redirect { to } => format!(" -> {}", to.display()),
            _ => String::new(),
        };
        println!(
            "{:<8} {}{extra}  [{}] ({})",
            r.kind.keyword(),
            r.path.display(),
            r.class,
            r.origin
        );
    }
    println!("home     {:?}", policy.home);
    println!("network  {}", if policy.network { "on" } else { "off" });
}

fn print_dry_run(policy: &Policy, spec: &sandbox::Spec) {
    print_rules(policy);
    println!("# mount plan");
    for op in &spec.ops {
        println!("{op:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::early_namespace_run;
    use std::ffi::OsString;

    fn early(args: &str, env: Option<&str>) -> bool {
        let args: Vec<OsString> = args.split(' ').map(OsString::from).collect();
        early_namespace_run(&args, env.map(OsString::from))
    }

    #[test]
    fn the_sandbox_starts_early_only_for_a_namespace_run() {
        assert!(early("run -- true", None));
        assert!(early("run --hide /x -v -C /tmp -- make -j4", None));
        assert!(early("run --backend namespace -- true", Some("ptrace")));
        assert!(early("run --backend=auto -- true", None));
        assert!(early("run -- true", Some("namespace")));
        // The command's own options are not cordon's.
        assert!(early("run -- cordon run --dry-run -- true", None));

        assert!(!early("trace -- true", None));
        assert!(!early("--verbose run -- true", None));
        assert!(!early("run true", None));
        assert!(!early("run --dry-run -- true", None));
        assert!(!early("run --trace t.jsonl -- true", None));
        assert!(!early("run --trace=t.jsonl -- true", None));
        assert!(!early("run --help -- true", None));
        assert!(!early("run --backend landlock -- true", None));
        assert!(!early("run --backend=ptrace -- true", None));
        assert!(!early("run -- true", Some("seccomp")));
        assert!(!early(
            "run --backend namespace --backend preload -- true",
            None
        ));
    }
}
