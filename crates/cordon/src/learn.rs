//! `cordon learn`: trace a command in a copy of its work tree, write the policy it needs,
//! verify it in a fresh copy.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};

use cordon_core::analysis::Owners;
use cordon_core::learn;
use cordon_core::plan::{self, Context, Mirrors};
use cordon_core::policy::{Loader, Policy, Vars};
use cordon_core::report;
use cordon_core::sys::sandbox::{self, LaunchError};
use cordon_core::tracer::read_trace_file;

use crate::cli::{FlagOrder, LearnArgs};

/// Copy the tree at `from` to `to` (files, directories with their modes, symlinks).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ft = entry.file_type()?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ft.is_dir() {
            copy_tree(&src, &dst)?;
            let mode = std::fs::metadata(&src)?.permissions().mode();
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode))?;
        } else if ft.is_file() {
            std::fs::copy(&src, &dst).with_context(|| format!("cannot copy {}", src.display()))?;
        }
    }
    Ok(())
}

/// Regular files under `root` (relative path -> size), to compare two runs' products.
pub fn files(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, u64>) {
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in rd.flatten() {
        let r = rel.join(e.file_name());
        match e.file_type() {
            Ok(t) if t.is_dir() => files(root, &r, out),
            Ok(t) if t.is_file() => {
                out.insert(r, e.metadata().map(|m| m.len()).unwrap_or(0));
            }
            _ => {}
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub fn learn(_args: LearnArgs, _order: &FlagOrder) -> Result<i32> {
    bail!("cordon learn traces the command, which is implemented for x86_64 only")
}

#[cfg(target_arch = "x86_64")]
pub fn learn(args: LearnArgs, order: &FlagOrder) -> Result<i32> {
    let tree = crate::run::work_dir(args.chdir.as_deref())?;
    let base = std::env::temp_dir().join(format!(
        "cordon-learn-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    let (traced, verify) = (base.join("traced"), base.join("verify"));
    copy_tree(&tree, &traced).context("cannot copy the work tree")?;
    copy_tree(&tree, &verify).context("cannot copy the work tree")?;
    let result = learn_in(&args, order, &traced, &verify, &base);
    if args.keep {
        eprintln!("cordon: copies and trace kept in {}", base.display());
    } else {
        let _ = std::fs::remove_dir_all(&base);
    }
    result
}

#[cfg(target_arch = "x86_64")]
fn learn_in(
    args: &LearnArgs,
    order: &FlagOrder,
    traced: &Path,
    verify: &Path,
    base: &Path,
) -> Result<i32> {
    // 1. Trace the command in the first copy, in the real environment.
    let classify = crate::run::resolve_policy(&args.policy, order, traced)?;
    let trace_path = base.join("trace.jsonl");
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let first = trace_in(&args.command, traced, &classify, &trace_path, &env)?;

    // 2. Learn the policy from what it consumed.
    let (records, _) = read_trace_file(&trace_path).map_err(|e| anyhow!(e))?;
    let analyzer = report::analyzer_for(&records, Owners::detect()).map_err(|e| anyhow!(e))?;
    let learned = learn::learn(&records, &analyzer, traced);
    let command: Vec<String> = args
        .command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let draft = learn::render(&learned, &command, None);
    let draft_path = base.join("policy.toml");
    std::fs::write(&draft_path, &draft)?;

    // 3. Run it again in a fresh copy under that policy alone.
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/".into());
    let mut policy = Policy::default();
    Loader::new(Vars::new(&home, verify, |k| std::env::var(k).ok()))
        .load_file(&draft_path, &mut policy)
        .map_err(|e| anyhow!("the learned policy does not load: {e}"))?;
    let second = run_under(&policy, &args.command, verify, env)?;

    // 4. Compare.
    let (mut fa, mut fb) = (BTreeMap::new(), BTreeMap::new());
    files(traced, Path::new(""), &mut fa);
    files(verify, Path::new(""), &mut fb);
    let only_a: Vec<_> = fa.keys().filter(|k| !fb.contains_key(*k)).collect();
    let only_b: Vec<_> = fb.keys().filter(|k| !fa.contains_key(*k)).collect();
    let same = first == second && only_a.is_empty() && only_b.is_empty();
    let verdict = if same {
        format!(
            "re-run in a fresh copy under this policy alone, the command exited {second} as \
             traced and left the same {} files",
            fb.len()
        )
    } else {
        let list = |v: &[&PathBuf]| {
            v.iter()
                .take(8)
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "re-run under this policy alone, the command DIFFERED: exit {first} traced, \
             {second} under the policy; files only in the traced run: [{}]; only under the \
             policy: [{}]",
            list(&only_a),
            list(&only_b)
        )
    };
    let text = learn::render(&learned, &command, Some(&verdict));
    std::fs::write(&args.out, text)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "cordon: {} rules written to {}; {verdict}",
        learn::rule_count(&learned),
        args.out.display()
    );
    Ok(if same { 0 } else { 1 })
}

/// Trace `command` in `cwd` in the real environment (with `env`) into `trace_path`; its status.
#[cfg(target_arch = "x86_64")]
pub fn trace_in(
    command: &[OsString],
    cwd: &Path,
    classify: &Policy,
    trace_path: &Path,
    env: &[(OsString, OsString)],
) -> Result<i32> {
    use cordon_core::sys::ptrace;
    let spec = crate::trace::trace_spec(command, cwd, env)?;
    let mut writer =
        crate::trace::open_writer(trace_path, command, cwd, classify, "ptrace", "keep", &[])?;
    let status = match ptrace::trace(&spec, &mut writer) {
        Ok(o) => o.code(),
        Err(LaunchError::NotFound { command }) => bail!("{command}: command not found"),
        Err(e) => bail!("cannot trace the command: {e}"),
    };
    writer.finish(status).context("cannot write the trace")?;
    Ok(status)
}

/// Run `command` in `cwd` in a sandbox made from `policy` (HOME and environment from it
/// and `env`); its status.
pub fn run_under(
    policy: &Policy,
    command: &[OsString],
    cwd: &Path,
    env: Vec<(OsString, OsString)>,
) -> Result<i32> {
    let (sandbox_home, resolved) = crate::run::sandbox_env(policy, env);
    let mut ctx = Context {
        cwd: cwd.to_path_buf(),
        home: sandbox_home,
        argv: command.to_vec(),
        envp: resolved.vars,
        root: cordon_core::sys::probe::euid() == 0,
        mirrors: Mirrors::Overlay,
    };
    let mut plan = plan::compile(policy, &ctx)?;
    let mut outcome = sandbox::launch(&plan.spec);
    if matches!(&outcome, Err(LaunchError::Setup(e)) if e.call == "overlay") {
        ctx.mirrors = Mirrors::Binds;
        plan = plan::compile(policy, &ctx)?;
        outcome = sandbox::launch(&plan.spec);
    }
    Ok(match outcome {
        Ok(o) => o.code(),
        Err(LaunchError::NotFound { .. }) => 127,
        Err(LaunchError::CannotExecute { .. }) => 126,
        // Nothing ran: on a machine whose namespaces cannot hold the sandbox, run it the way
        // `cordon run` would fall back.
        Err(LaunchError::Setup(e)) if e.call != "chdir" => {
            let args = crate::cli::RunArgs {
                backend: "auto".into(),
                command: command.to_vec(),
                ..Default::default()
            };
            crate::run::fall_back(&args, policy, &ctx, cwd, &e.to_string(), &|_| Ok(()))?
        }
        Err(LaunchError::Setup(e)) => bail!("cannot set up the sandbox: {e}"),
    })
}
