//! `cordon import`: another tracer's log as a cordon trace.

use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};

use cordon_core::import::{self, Format};
use cordon_core::trace::{Record, RuleRecord};
use cordon_core::tracer::Sink;

use crate::cli::{FlagOrder, ImportArgs, ImportFormat};

pub fn import(args: ImportArgs, order: &FlagOrder) -> Result<i32> {
    let format = match args.format {
        ImportFormat::Strace => Format::Strace,
        ImportFormat::FsUsage => Format::FsUsage,
        ImportFormat::Dtruss => Format::Dtruss,
        ImportFormat::Kdump => Format::Kdump,
    };
    let mut inputs = Vec::new();
    for f in &args.files {
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        // Logs may hold bytes that are not UTF-8 (paths, binary arguments): keep going.
        inputs.push((
            f.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    let home = args
        .user_home
        .clone()
        .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/"));
    let cwd = match &args.cwd {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let policy = crate::run::resolve_policy_at(&args.policy, order, &cwd, &home)?;

    let mut b = import::Builder::new();
    if args.cwd.is_some() {
        b.set_initial_cwd(&cwd.to_string_lossy());
    }
    let imported = import::import_with(format, &inputs, b).map_err(|e| anyhow!(e))?;
    for w in &imported.warnings {
        eprintln!("cordon: warning: {w}");
    }
    let mut records = imported.records;
    if let Some(Record::Header {
        home: h,
        rules,
        policy_sources,
        ..
    }) = records.first_mut()
    {
        *h = home.to_string_lossy().into_owned();
        *rules = RuleRecord::from_policy(&policy);
        *policy_sources = policy.sources.clone();
    }
    let mut sink =
        Sink::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    for r in &records {
        let mut line = serde_json::to_vec(r)?;
        line.push(b'\n');
        std::io::Write::write_all(&mut sink, &line)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
    }
    sink.finish_frame()
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let events = records
        .iter()
        .filter(|r| matches!(r, Record::Event(_)))
        .count();
    eprintln!(
        "cordon: {events} file accesses imported to {}",
        args.out.display()
    );
    Ok(0)
}
