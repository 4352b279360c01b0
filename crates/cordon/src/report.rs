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
