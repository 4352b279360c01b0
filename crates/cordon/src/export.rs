//! `cordon export`: the policy as another sandbox's native configuration.

use anyhow::{anyhow, Context as _, Result};

use cordon_core::export;
use cordon_core::plan::{self, Context, Mirrors};

use crate::cli::{ExportArgs, ExportTarget, FlagOrder};

pub fn export(args: ExportArgs, order: &FlagOrder) -> Result<i32> {
    let cwd = crate::run::work_dir(args.chdir.as_deref())?;
    let policy = crate::run::resolve_policy(&args.policy, order, &cwd)?;
    let text = match args.to {
        ExportTarget::Bwrap => {
            let (home, env) = crate::run::sandbox_env(&policy, std::env::vars_os());
            // bubblewrap has no overlay option in its common versions: mirror with binds.
            let ctx = Context {
                cwd: cwd.clone(),
                home,
                argv: vec!["sh".into()],
                envp: env.vars.clone(),
                root: false,
                mirrors: Mirrors::Binds,
            };
            let plan = plan::compile(&policy, &ctx).map_err(|e| anyhow!(e))?;
            export::bwrap(&policy, &plan, &env, &cwd)
        }
        ExportTarget::Unveil => export::unveil(&policy),
        ExportTarget::SandboxExec => export::sandbox_exec(&policy),
        ExportTarget::Landlock => export::landlock(&policy),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}
