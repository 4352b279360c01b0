//! Reports: the breaches of a trace, grouped, attributed and explained, as JSON (a versioned
//! schema), Markdown (to paste into a bug report) or plain text.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::trace::{Event, Op, Process, Record, Verdict};

/// The version of the report's JSON schema (docs/report-schema.md).
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// What the classifier says of one breaching access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdicted {
    pub category: String,
    pub tool: String,
    pub explanation: String,
    pub fix: String,
}

/// A process, as a report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcRef {
    pub pid: i32,
    pub exe: String,
    pub argv: Vec<String>,
}

/// Which package a file belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerRef {
    pub manager: String,
    pub package: String,
}

/// One breach: a path reached for outside what was declared, with everything needed to act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breach {
    pub path: String,
    pub category: String,
    pub tool: String,
    pub op: Op,
    pub verdict: Verdict,
    /// The first process that made the access.
    pub process: ProcRef,
    /// From the traced command down to `process`.
    pub ancestry: Vec<ProcRef>,
    pub owner: Option<OwnerRef>,
    pub fix: String,
    pub explanation: String,
    /// How many accesses of this path in this category.
    pub count: u64,
}

/// How the trace was taken and what it could not see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub tracer: String,
    pub gaps: Vec<String>,
    /// Problems of the trace file itself (a cut-short run).
    pub warnings: Vec<String>,
}

/// Counts for the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub events: u64,
    pub processes: u64,
    pub breaches: u64,
    /// Category -> number of distinct paths.
    pub by_category: BTreeMap<String, u64>,
    /// The command's exit status, when the trace ended.
    pub status: Option<i32>,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub command: Vec<String>,
    pub cwd: String,
    pub policy_sources: Vec<String>,
    pub coverage: Coverage,
    pub summary: Summary,
    pub breaches: Vec<Breach>,
    /// Variables the traced command started with that steer the build (search paths,
    /// compiler flags, tool configuration): inputs as much as files are.
    pub environment: Vec<EnvVar>,
}

/// A variable of the traced command's environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// Build a report from trace records. `classify` says whether an event is a breach; `owner`
/// who owns a path. Only accesses that reached something (no error, or blocked by the sandbox)
/// are breaches: a failed probe consumed nothing.
pub fn build(
    records: &[Record],
    warnings: Vec<String>,
    mut classify: impl FnMut(&Event) -> Option<Verdicted>,
    mut owner: impl FnMut(&str) -> Option<OwnerRef>,
) -> Report {
    let mut command = Vec::new();
    let mut cwd = String::new();
    let mut policy_sources = Vec::new();
    let mut coverage = Coverage {
        tracer: String::new(),
        gaps: Vec::new(),
        warnings,
    };
    let mut live: HashMap<i32, Process> = HashMap::new();
    let mut processes = 0u64;
    let mut events = 0u64;
    let mut status = None;
    let mut found: BTreeMap<(String, String), Breach> = BTreeMap::new();

    for r in records {
        match r {
            Record::Header {
                tracer,
                command: c,
                cwd: d,
                gaps,
                policy_sources: s,
                ..
            } => {
                command = c.clone();
                cwd = d.clone();
                coverage.tracer = tracer.clone();
                coverage.gaps = gaps.clone();
                policy_sources = s.clone();
            }
            Record::Process(p) => {
                if !live.contains_key(&p.pid) {
                    processes += 1;
                }
                live.insert(p.pid, p.clone());
            }
            Record::Event(e) => {
                events += 1;
                let reached = e.errno == 0 || e.verdict != Verdict::Allowed;
                if !reached {
                    continue;
                }
                let Some(v) = classify(e) else { continue };
                let key = (e.path.clone(), v.category.clone());
                if let Some(b) = found.get_mut(&key) {
                    b.count += 1;
                    if e.op.strength() > b.op.strength() {
                        b.op = e.op;
                    }
                    continue;
                }
                let ancestry = ancestry(&live, e.pid);
                let process = ancestry.last().cloned().unwrap_or(ProcRef {
                    pid: e.pid,
                    exe: String::new(),
                    argv: Vec::new(),
                });
                found.insert(
                    key,
                    Breach {
                        path: e.path.clone(),
                        category: v.category,
                        tool: v.tool,
                        op: e.op,
                        verdict: e.verdict,
                        process,
                        ancestry,
                        owner: owner(&e.path),
                        fix: v.fix,
                        explanation: v.explanation,
                        count: 1,
                    },
                );
            }
            Record::Exit { .. } | Record::Inputs { .. } => {}
            Record::End { status: s, .. } => status = Some(*s),
        }
    }
    let mut breaches: Vec<Breach> = found.into_values().collect();
    breaches.sort_by(|a, b| {
        (
            a.category.as_str(),
            std::cmp::Reverse(a.count),
            a.path.as_str(),
        )
            .cmp(&(
                b.category.as_str(),
                std::cmp::Reverse(b.count),
                b.path.as_str(),
            ))
    });
    let mut by_category = BTreeMap::new();
    for b in &breaches {
        *by_category.entry(b.category.clone()).or_insert(0) += 1;
    }
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        command,
        cwd,
        policy_sources,
        coverage,
        environment: crate::env::steering_of(records)
            .into_iter()
            .map(|(name, value)| EnvVar { name, value })
            .collect(),
        summary: Summary {
            events,
            processes,
            breaches: breaches.len() as u64,
            by_category,
            status,
        },
        breaches,
    }
}

/// The analyzer for a trace: the policy, home and XDG directories its header stores, this
/// machine's package databases (`owners`).
pub fn analyzer_for(
    records: &[Record],
    owners: crate::analysis::Owners,
) -> Result<crate::analysis::Analyzer, String> {
    use crate::analysis::{Analyzer, Context, KnowledgeBase};
    let Some(Record::Header {
        rules,
        home,
        home_setting,
        xdg_config_home,
        xdg_cache_home,
        xdg_data_home,
        ..
    }) = records.first()
    else {
        return Err("no header record".into());
    };
    let policy = crate::trace::RuleRecord::to_policy(rules, home_setting)?;
    let mut context = Context::new(home.clone());
    for (dir, value) in [
        (&mut context.xdg_config, xdg_config_home),
        (&mut context.xdg_cache, xdg_cache_home),
        (&mut context.xdg_data, xdg_data_home),
    ] {
        if value.starts_with('/') {
            *dir = value.into();
        }
    }
    Ok(Analyzer::new(
        &policy,
        KnowledgeBase::builtin(),
        context,
        owners,
    ))
}

/// Build a report with `analyzer`'s classification and owners.
pub fn build_with(
    records: &[Record],
    warnings: Vec<String>,
    analyzer: &crate::analysis::Analyzer,
) -> Report {
    build(
        records,
        warnings,
        |ev| {
            analyzer.classify(ev).breach().map(|b| Verdicted {
                category: b.category.as_str().to_string(),
                tool: b.tool.clone(),
                explanation: b.explanation.clone(),
                fix: b.fix.clone(),
            })
        },
        |path| {
            analyzer.owner(path).map(|o| OwnerRef {
                manager: o.manager,
                package: o.package,
            })
        },
    )
}

/// The chain of processes from the traced command down to `pid`.
fn ancestry(live: &HashMap<i32, Process>, pid: i32) -> Vec<ProcRef> {
    let mut chain = Vec::new();
    let mut at = pid;
    while let Some(p) = live.get(&at) {
        chain.push(ProcRef {
            pid: p.pid,
            exe: p.exe.clone(),
            argv: p.argv.clone(),
        });
        if p.ppid == 0 || chain.len() > 256 {
            break;
        }
        at = p.ppid;
    }
    chain.reverse();
    chain
}

fn short_name(p: &ProcRef) -> String {
    let exe = p.exe.rsplit('/').next().unwrap_or(&p.exe);
    if exe.is_empty() {
        p.argv.first().cloned().unwrap_or_else(|| p.pid.to_string())
    } else {
        exe.to_string()
    }
}

/// `make > sh > gcc > cc1`.
pub fn chain(b: &Breach) -> String {
    b.ancestry
        .iter()
        .map(short_name)
        .collect::<Vec<_>>()
        .join(" > ")
}

fn owner_text(b: &Breach) -> String {
    let owner = match &b.owner {
        Some(o) => format!("{} ({})", o.package, o.manager),
        None => "no package".into(),
    };
    match b.verdict {
        Verdict::Allowed => owner,
        Verdict::Hidden => format!("{owner}; hidden by the sandbox"),
        Verdict::Denied => format!("{owner}; denied by the sandbox"),
        Verdict::Redirected => format!("{owner}; redirected by the sandbox"),
    }
}

/// JSON, pretty-printed.
pub fn render_json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}

/// How many breaches of a category the Markdown summary shows before folding the rest.
const SHOWN: usize = 8;

/// Markdown for a bug report: a one-page summary, the details folded.
pub fn render_markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## cordon report: `{}`\n", r.command.join(" "));
    let _ = writeln!(
        s,
        "{} file accesses by {} processes; **{} breaches** of the declared view{}.\n",
        r.summary.events,
        r.summary.processes,
        r.summary.breaches,
        r.summary
            .status
            .map(|st| format!("; the command exited with {st}"))
            .unwrap_or_default()
    );
    if !r.summary.by_category.is_empty() {
        let _ = writeln!(s, "| category | paths |\n| --- | --- |");
        for (c, n) in &r.summary.by_category {
            let _ = writeln!(s, "| {c} | {n} |");
        }
        s.push('\n');
    }
    let mut by_cat: BTreeMap<&str, Vec<&Breach>> = BTreeMap::new();
    for b in &r.breaches {
        by_cat.entry(&b.category).or_default().push(b);
    }
    for (cat, list) in by_cat {
        let _ = writeln!(s, "### {cat}\n");
        for (i, b) in list.iter().enumerate() {
            if i == SHOWN {
                let _ = writeln!(
                    s,
                    "<details><summary>{} more</summary>\n",
                    list.len() - SHOWN
                );
            }
            let _ = writeln!(
                s,
                "- `{}` ({}, {}x, {}) by `{}`: {} **Fix:** `{}`",
                b.path,
                owner_text(b),
                b.count,
                b.op.as_str(),
                chain(b),
                b.explanation,
                b.fix
            );
        }
        if list.len() > SHOWN {
            s.push_str("\n</details>\n");
        }
        s.push('\n');
    }
    if !r.environment.is_empty() {
        let _ = writeln!(s, "### environment that steers the build\n");
        for v in &r.environment {
            let _ = writeln!(s, "- `{}={}`", v.name, v.value);
        }
        s.push('\n');
    }
    let _ = writeln!(s, "<details><summary>Coverage</summary>\n");
    let _ = writeln!(s, "- tracer: {}", r.coverage.tracer);
    for g in &r.coverage.gaps {
        if g.starts_with("the view differs") {
            let _ = writeln!(s, "- {g}");
        } else {
            let _ = writeln!(s, "- not seen: {g}");
        }
    }
    for w in &r.coverage.warnings {
        let _ = writeln!(s, "- warning: {w}");
    }
    if !r.policy_sources.is_empty() {
        let _ = writeln!(s, "- policy: {}", r.policy_sources.join(", "));
    }
    s.push_str("\n</details>\n");
    s
}

/// Plain text for a terminal.
pub fn render_text(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} accesses, {} processes, {} breaches",
        r.command.join(" "),
        r.summary.events,
        r.summary.processes,
        r.summary.breaches
    );
    for b in &r.breaches {
        let _ = writeln!(
            s,
            "{:<22} {}  [{}; {}]\n{:22} by {}\n{:22} fix: {}",
            b.category,
            b.path,
            b.tool,
            owner_text(b),
            "",
            chain(b),
            "",
            b.fix
        );
    }
    for v in &r.environment {
        let _ = writeln!(s, "{:<22} {}={}", "environment", v.name, v.value);
    }
    let _ = writeln!(s, "coverage: {}", r.coverage.tracer);
    for g in r.coverage.gaps.iter().chain(&r.coverage.warnings) {
        let _ = writeln!(s, "  {g}");
    }
    s
}
