//! `cordon report`: classify a trace against the policy it was taken with and render it.

use anyhow::{anyhow, Context as _, Result};

use cordon_core::analysis::Owners;
use cordon_core::report;
use cordon_core::tracer::read_trace_file;

use crate::cli::{ReportArgs, ReportFormat};

pub fn report(args: ReportArgs) -> Result<i32> {
    let (records, warnings) =
        read_trace_file(&args.trace).map_err(|e| anyhow!("{}: {e}", args.trace.display()))?;
    for w in &warnings {
        eprintln!("cordon: warning: {}: {w}", args.trace.display());
    }
    let analyzer = report::analyzer_for(&records, Owners::detect())
        .map_err(|e| anyhow!("{}: {e}", args.trace.display()))?;
    let report = report::build_with(&records, warnings, &analyzer);
    let rendered = match args.format {
        ReportFormat::Json => report::render_json(&report),
        ReportFormat::Markdown => report::render_markdown(&report),
        ReportFormat::Text => report::render_text(&report),
    };
    match &args.out {
        Some(path) => std::fs::write(path, rendered)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{rendered}"),
    }
    Ok(0)
}

/// `cordon diff`.
pub fn diff(a: &std::path::Path, b: &std::path::Path, json: bool) -> Result<i32> {
    let load = |p: &std::path::Path| -> Result<_> {
        let (records, warnings) =
            read_trace_file(p).map_err(|e| anyhow!("{}: {e}", p.display()))?;
        for w in &warnings {
            eprintln!("cordon: warning: {}: {w}", p.display());
        }
        let analyzer = report::analyzer_for(&records, Owners::detect())
            .map_err(|e| anyhow!("{}: {e}", p.display()))?;
        Ok((records, analyzer))
    };
    let (ra, aa) = load(a)?;
    let (rb, ab) = load(b)?;
    let d = cordon_core::diff::diff(&ra, &aa, &rb, &ab);
    if json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", cordon_core::diff::render_text(&d));
    }
    Ok(0)
}
