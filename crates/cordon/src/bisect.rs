//! `cordon bisect`: the few breaches that make a build differ between the real environment and
//! the sandbox, by delta debugging over hide and unset rules, each run in a fresh copy.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{anyhow, bail, Context as _, Result};

use cordon_core::analysis::{Classification, Owners};
use cordon_core::bisect::minimal_fix;
use cordon_core::policy::{EnvRule, Home, Origin, Policy, RuleKind};
use cordon_core::report;
use cordon_core::trace::Record;
use cordon_core::tracer::read_trace_file;

use crate::cli::{BisectArgs, FlagOrder};
use crate::learn::{copy_tree, run_under, trace_in};

/// A rule that may fix the run.
#[derive(Debug, Clone)]
enum Candidate {
    Hide(String, String),
    Unset(String),
}

impl Candidate {
    fn rule(&self) -> String {
        match self {
            Candidate::Hide(p, cat) => format!("hide {p}    # {cat}"),
            Candidate::Unset(v) => format!("env unset {v}"),
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub fn bisect(_args: BisectArgs, _order: &FlagOrder) -> Result<i32> {
    bail!("cordon bisect traces the command, which is implemented for x86_64 only")
}

#[cfg(target_arch = "x86_64")]
pub fn bisect(args: BisectArgs, order: &FlagOrder) -> Result<i32> {
    let tree = crate::run::work_dir(args.chdir.as_deref())?;
    let base = std::env::temp_dir().join(format!("cordon-bisect-{}", std::process::id()));
    let result = bisect_in(&args, order, &tree, &base);
    if args.keep {
        eprintln!("cordon: copies kept in {}", base.display());
    } else {
        let _ = std::fs::remove_dir_all(&base);
    }
    result
}

#[cfg(target_arch = "x86_64")]
fn bisect_in(args: &BisectArgs, order: &FlagOrder, tree: &Path, base: &Path) -> Result<i32> {
    let mut runs = 0usize;
    let mut fresh = |name: &str| -> Result<std::path::PathBuf> {
        runs += 1;
        let dir = base.join(format!("{name}-{runs}"));
        copy_tree(tree, &dir).context("cannot copy the work tree")?;
        Ok(dir)
    };
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let check = |dir: &Path, status: i32, reference: i32| -> bool {
        match &args.check {
            Some(script) => std::process::Command::new("/bin/sh")
                .args(["-c", script])
                .current_dir(dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false),
            None => status == reference,
        }
    };

    // The reference: the sandbox's outcome; and the native one, traced.
    let sandbox_policy = crate::run::resolve_policy(&args.policy, order, tree)?;
    let dir = fresh("sandbox")?;
    let mut policy = crate::run::resolve_policy(&args.policy, order, &dir)?;
    let reference = run_under(&policy, &args.command, &dir, env.clone())?;
    let dir = fresh("native")?;
    let trace_path = base.join("native.jsonl");
    let native = trace_in(&args.command, &dir, &sandbox_policy, &trace_path, &env)?;
    let native_good = check(&dir, native, reference);
    if native_good {
        eprintln!(
            "cordon: the command behaves the same in the real environment (exit {native}) and \
             in the sandbox (exit {reference}){}: nothing to bisect",
            if args.check.is_some() {
                ", and passes the check"
            } else {
                ""
            }
        );
        return Ok(0);
    }

    // The candidates: breaches it reached for, and variables the sandbox would remove.
    let (records, _) = read_trace_file(&trace_path).map_err(|e| anyhow!(e))?;
    let analyzer = report::analyzer_for(&records, Owners::none()).map_err(|e| anyhow!(e))?;
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in &records {
        let Record::Event(e) = r else { continue };
        if e.errno != 0 || Path::new(&e.path).starts_with(&dir) || !seen.insert(e.path.clone()) {
            continue;
        }
        if let Classification::Breach(b) = analyzer.classify(e) {
            if b.category.as_str() != "write-outside" {
                candidates.push(Candidate::Hide(e.path.clone(), b.category.as_str().into()));
            }
        }
    }
    let removed = cordon_core::env::resolve(&sandbox_policy.env, env.clone(), &[]).removed;
    candidates.extend(removed.into_iter().map(|(name, _)| Candidate::Unset(name)));
    if candidates.is_empty() {
        bail!("the run differs, but it reached for no breach and no variable the sandbox removes");
    }
    eprintln!(
        "cordon: the command exits {native} in the real environment and {reference} in the \
         sandbox; bisecting over {} candidates",
        candidates.len()
    );

    // Each test: the system visible as it is, the home kept, only some candidates applied.
    let mut failure: Option<anyhow::Error> = None;
    let found = minimal_fix(candidates.len(), |subset| {
        if failure.is_some() {
            return false;
        }
        let result = (|| -> Result<bool> {
            let dir = fresh("try")?;
            policy = Policy {
                home: Home::Keep,
                ..Policy::default()
            };
            let o = Origin::command_line;
            for (p, k) in [
                ("/", RuleKind::Ro),
                ("/tmp", RuleKind::Tmpfs),
                ("/dev", RuleKind::Dev),
                ("/proc", RuleKind::Proc),
            ] {
                policy
                    .push_rule(p, k, None, None, o())
                    .map_err(|e| anyhow!(e))?;
            }
            if let Some(home) = std::env::var_os("HOME").filter(|h| h != "/") {
                policy
                    .push_rule(&home.to_string_lossy(), RuleKind::Ro, None, None, o())
                    .map_err(|e| anyhow!(e))?;
            }
            policy
                .push_rule(&dir.to_string_lossy(), RuleKind::Rw, None, None, o())
                .map_err(|e| anyhow!(e))?;
            for &i in subset {
                match &candidates[i] {
                    Candidate::Hide(p, _) => policy
                        .push_rule(p, RuleKind::Hide, None, None, o())
                        .map_err(|e| anyhow!(e))?,
                    Candidate::Unset(v) => policy.env.rules.push(EnvRule::Unset {
                        pattern: v.clone(),
                        origin: o(),
                    }),
                }
            }
            let status = run_under(&policy, &args.command, &dir, env.clone())?;
            Ok(check(&dir, status, reference))
        })();
        result.unwrap_or_else(|e| {
            failure = Some(e);
            false
        })
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let total = runs;
    match found {
        Some(fix) => {
            println!(
                "# {} of {} candidates fix it ({total} runs):",
                fix.len(),
                candidates.len()
            );
            for i in fix {
                println!("{}", candidates[i].rule());
            }
            Ok(0)
        }
        None => {
            eprintln!(
                "cordon: hiding every breach and unsetting every variable does not reproduce the \
                 sandbox's outcome ({total} runs): the difference lies elsewhere"
            );
            Ok(1)
        }
    }
}
