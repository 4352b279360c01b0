//! `cordon run`: flags + policy files + profiles -> one Policy -> the backend's plan -> run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};

use cordon_core::backend::{self, BackendKind};
use cordon_core::doctor::HostFacts;
use cordon_core::env;
use cordon_core::plan::{self, Context, Mirrors};
use cordon_core::policy::{self, EnvRule, Home, Loader, Origin, Policy, RuleKind, Vars};
use cordon_core::sys::sandbox::{self, LaunchError};

use crate::cli::{FlagOrder, PolicyArgs, RunArgs};
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

pub fn run(args: RunArgs, order: &FlagOrder) -> Result<i32> {
    let cwd = work_dir(args.chdir.as_deref())?;
    let policy = resolve_policy(&args.policy, order, &cwd)?;

    let requested = match args.backend.as_str() {
        "auto" => None,
        name => Some(name.parse::<BackendKind>().map_err(|e| {
            anyhow!("--backend: {e} (auto, namespace, landlock, seccomp, ptrace, preload)")
        })?),
    };
    // Auto means the strongest backend that works; the namespace backend is tried directly,
    // and only when it cannot start is the host probed to say why (probing forks a child).
    let backend = match requested {
        None | Some(BackendKind::Namespace) => BackendKind::Namespace,
        Some(other) => {
            let host = HostFacts::probe(false);
            backend::choose(Some(other), &host).map_err(|e| anyhow!(e))?
        }
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
    let mut plan = plan::compile(&policy, &ctx)?;

    if args.verbose || args.dry_run {
        eprintln!("cordon: backend {backend}: {}", backend.guarantees());
        eprintln!("cordon: policy from {}", policy.sources.join(", "));
        for (name, origin) in &env.removed {
            eprintln!("cordon: unset {name} ({origin})");
        }
        if env.cleared > 0 {
            eprintln!("cordon: env clear removed {} variables", env.cleared);
        }
        for note in &plan.notes {
            eprintln!("cordon: note: {note}");
        }
    }
    if args.dry_run {
        print_dry_run(&policy, &plan.spec);
        return Ok(0);
    }
    let mut writer = match &args.trace {
        Some(path) => Some(
            crate::trace::open_writer(
                path,
                &args.command,
                &cwd,
                &policy,
                "ptrace, in the namespace sandbox",
                &match &policy.home {
                    Home::Fresh => "fresh".to_string(),
                    Home::Keep => "keep".to_string(),
                    Home::Path(p) => p.to_string_lossy().into_owned(),
                },
            )?
            .with_verdicts(cordon_core::tracer::plan_verdicts(&plan)),
        ),
        None => None,
    };
    let mut launch = |spec: &sandbox::Spec| match writer.as_mut() {
        Some(w) => crate::trace::launch_traced(spec, w),
        None => sandbox::launch(spec),
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
            plan = plan::compile(&policy, &ctx)?;
            launched = launch(&plan.spec);
        }
    }
    // The init's copy of the trace writer wrote the trace; the supervisor's copy (same file,
    // same offset) must not add to it, not even a compressed frame's end.
    if let Some(w) = writer {
        std::mem::forget(w);
    }
    match launched {
        Ok(outcome) => Ok(outcome.code()),
        Err(e @ LaunchError::NotFound { .. }) => {
            eprintln!("cordon: {e}");
            Ok(EXIT_NOT_FOUND)
        }
        Err(e @ LaunchError::CannotExecute { .. }) => {
            eprintln!("cordon: {e}");
            Ok(EXIT_CANNOT_EXECUTE)
        }
        Err(LaunchError::Setup(e)) => {
            if e.call == "chdir" {
                eprintln!(
                    "cordon: the working directory {} is not visible in the sandbox \
                     (add --ro or --rw for it)",
                    cwd.display()
                );
            } else if e.call == "clone" && requested.is_none() {
                match backend::choose(None, &HostFacts::probe(false)) {
                    Err(why) => eprintln!("cordon: {why}"),
                    Ok(_) => eprintln!("cordon: cannot create the sandbox's namespaces: {e}"),
                }
            } else if e.call == "clone" {
                eprintln!(
                    "cordon: cannot create the sandbox's namespaces: {e} \
                     (user namespaces unavailable? see `cordon doctor`)"
                );
            } else if e.call == "write"
                && e.arg.ends_with("uid_map")
                && cordon_core::sys::probe::euid() == 0
            {
                // Mapping uid 0 into a new user namespace needs CAP_SETFCAP (Linux 5.12),
                // which a sandboxed root (cordon inside cordon) no longer has.
                eprintln!(
                    "cordon: cannot set up the sandbox: {e}: uid 0 without capabilities (as \
                     inside another sandbox) cannot map itself into a new user namespace; \
                     run cordon as a non-root user there"
                );
            } else {
                eprintln!("cordon: cannot set up the sandbox: {e}");
            }
            Ok(EXIT_FAILURE)
        }
    }
}

fn print_dry_run(policy: &Policy, spec: &sandbox::Spec) {
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
    println!("# mount plan");
    for op in &spec.ops {
        println!("{op:?}");
    }
}
