//! `cordon export`: the policy as another sandbox's native configuration.

use std::ffi::OsString;

use anyhow::{anyhow, Context as _, Result};

use cordon_core::env;
use cordon_core::export;
use cordon_core::plan::{self, Context, Mirrors};

use crate::cli::{ExportArgs, ExportTarget, FlagOrder};

pub fn export(args: ExportArgs, order: &FlagOrder) -> Result<i32> {
    let cwd = match &args.chdir {
        Some(d) => std::fs::canonicalize(d)
            .with_context(|| format!("-C {}: cannot use this directory", d.display()))?,
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let policy = crate::run::resolve_policy(&args.policy, order, &cwd)?;
    let text = match args.to {
        ExportTarget::Bwrap => {
            let home = crate::run::sandbox_home(&policy);
            let overrides: Vec<(&str, OsString)> = home
                .iter()
                .map(|h| ("HOME", h.clone().into_os_string()))
                .collect();
            let env = env::resolve(&policy.env, std::env::vars_os(), &overrides);
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
