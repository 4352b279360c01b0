//! `cordon trace`: complete (static binaries and raw system calls included), with results,
//! processes and their parents, durable when killed. As root and as uid 65534.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use cordon_core::trace::{Op, Record};
use cordon_core::tracer::read_trace;
use cordon_testutil::{as_each_user, describe, output, World};

fn trace(w: &World, command: &[&str]) -> (std::process::Output, Vec<Record>) {
    let out = w.path("work/trace.jsonl");
    let mut args = vec!["trace", "-o", out.to_str().unwrap(), "--"];
    args.extend_from_slice(command);
    let o = output(w.cordon(args));
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
    let (records, warnings) = read_trace(&text).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    (o, records)
}

fn events(records: &[Record]) -> Vec<&cordon_core::trace::Event> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

as_each_user! {
    /// A static binary's raw-syscall opens, the dynamic loader's library opens, relative
    /// paths, failed probes and writes are all recorded with their results, attributed to the
    /// process that made them, whose parent is the shell that started it.
    fn complete_with_results_and_processes(w) {
        let leak = w.write("home/.leakrc", "secret\n");
        let leak = leak.to_str().unwrap().to_string();
        let probe = w.bin("probe-static");
        let probe = probe.to_str().unwrap().to_string();
        let script = format!(
            "{probe} rawopen {leak} open {leak}.missing >/dev/null; cat rel.txt; echo out > made.txt; \
             exit 3");
        w.write("work/rel.txt", "relative\n");
        let (o, records) = trace(w, &["/bin/sh", "-c", &script]);
        assert_eq!(o.status.code(), Some(3), "{}", describe(&o));
        let evs = events(&records);
        let find = |path: &str, op: Op| {
            evs.iter().find(|e| e.path == path && e.op == op).copied()
                .unwrap_or_else(|| panic!("no {op:?} of {path} in {} events", evs.len()))
        };
        let raw = find(&leak, Op::Read);
        assert_eq!(raw.errno, 0);
        assert_eq!(find(&format!("{leak}.missing"), Op::Read).errno, 2);
        let work = w.work();
        assert_eq!(find(&format!("{}/rel.txt", work.display()), Op::Read).errno, 0);
        assert_eq!(find(&format!("{}/made.txt", work.display()), Op::Write).errno, 0);
        // The loader's opens in cat (dynamic), e.g. libc.
        assert!(evs.iter().any(|e| e.path.contains("libc.so") && e.errno == 0), "no libc open");

        // The static probe's event belongs to a process running the probe, whose parent runs
        // the shell.
        let procs: Vec<_> = records.iter().filter_map(|r| match r {
            Record::Process(p) => Some(p), _ => None }).collect();
        let probe_proc = procs.iter().rev().find(|p| p.pid == raw.pid && p.exe == probe)
            .unwrap_or_else(|| panic!("no process record for pid {}", raw.pid));
        let parent = procs.iter().rev().find(|p| p.pid == probe_proc.ppid).unwrap();
        assert!(parent.exe.ends_with("sh") || parent.exe.ends_with("dash"), "{}", parent.exe);
        assert!(matches!(records.last(), Some(Record::End { status: 3, .. })));
    }
}

as_each_user! {
    /// io_uring is refused while tracing, so it cannot carry opens past the tracer.
    fn io_uring_is_refused(w) {
        let target = w.write("work/target", "t\n");
        let esc = w.bin("escape-static");
        let scratch = w.mkdir("work/scratch");
        let (o, _) = trace(w, &[esc.to_str().unwrap(), target.to_str().unwrap(),
                                scratch.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(text.contains("route io_uring-openat unsupported ENOSYS"), "{text}");
    }
}

as_each_user! {
    /// A command that cannot be found or run gives 127/126, and the trace is still whole.
    fn exec_failures(w) {
        let (o, records) = trace(w, &["no-such-command-xyz"]);
        assert_eq!(o.status.code(), Some(127), "{}", describe(&o));
        assert!(matches!(records.last(), Some(Record::End { status: 127, .. })));
        let plain = w.write("work/plain", "not a program\n");
        let (o, _) = trace(w, &[plain.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(126), "{}", describe(&o));
    }
}

as_each_user! {
    /// Killing cordon mid-build leaves a trace that reads up to that point, and nothing it
    /// traced survives.
    fn killed_mid_run_still_reads(w) {
        w.write("work/input.txt", "in\n");
        let out = w.path("work/trace.jsonl");
        let unique = format!("{}{}", std::process::id(), w.user() as u8);
        let mut c = w.cordon(["trace", "-o", out.to_str().unwrap(), "--", "/bin/sh", "-c",
            &format!("cat input.txt >/dev/null; echo ready; exec sleep 7{unique}")]);
        c.stdout(Stdio::piped()).stdin(Stdio::null());
        let mut child = c.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");
        child.kill().unwrap();
        child.wait().unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let (records, warnings) = read_trace(&text).unwrap();
        assert!(warnings.iter().any(|w| w.contains("no end record")), "{warnings:?}");
        let input = format!("{}/input.txt", w.work().display());
        assert!(events(&records).iter().any(|e| e.path == input), "input.txt not in the trace");
        // PTRACE_O_EXITKILL: the tracee dies with the tracer.
        std::thread::sleep(Duration::from_millis(300));
        let alive = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&format!("sleep\u{0}7{unique}")))
                .unwrap_or(false)
        });
        assert!(!alive, "the traced sleep survived cordon");
    }
}

as_each_user! {
    /// `cordon run --trace`: the sandboxed command's accesses are recorded, including the
    /// attempts the sandbox blocked, and the report names them with their verdict.
    fn run_with_trace_records_blocked_attempts(w) {
        let secret = w.write("data/.secretrc", "token\n");
        w.write("data/ok", "ok\n");
        w.crowd("data");
        let data = w.path("data");
        let out = w.path("work/run.jsonl");
        let probe = w.bin("probe-static");
        let o = w.run_in_sandbox(
            &["--trace", out.to_str().unwrap(), "--ro", data.to_str().unwrap(),
              "--hide", secret.to_str().unwrap()],
            &["/bin/sh", "-c", &format!("{} rawopen {} open {}/ok; exit 5",
                probe.display(), secret.display(), data.display())]);
        assert_eq!(o.status.code(), Some(5), "{}", describe(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        let (records, warnings) = read_trace(&text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let evs = events(&records);
        let hidden = evs.iter().find(|e| e.path == secret.to_str().unwrap())
            .unwrap_or_else(|| panic!("the hidden file's access is not in the trace"));
        assert_eq!(hidden.errno, 2);
        assert_eq!(hidden.verdict, cordon_core::trace::Verdict::Hidden);
        let ok = evs.iter().find(|e| e.path.ends_with("/data/ok")).unwrap();
        assert_eq!((ok.errno, ok.verdict), (0, cordon_core::trace::Verdict::Allowed));
        assert!(matches!(records.last(), Some(Record::End { status: 5, .. })));

        let o = output(w.cordon(["report", out.to_str().unwrap(), "--format", "json"]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let b = r["breaches"].as_array().unwrap().iter()
            .find(|b| b["path"] == secret.to_str().unwrap())
            .unwrap_or_else(|| panic!("{r:#}"));
        assert_eq!(b["verdict"], "hidden");
        // Not a file the knowledge base knows: reached for although the policy keeps it out.
        assert_eq!(b["category"], "undeclared-read");
        assert!(b["fix"].as_str().unwrap().starts_with("hide "), "{b}");
    }
}

as_each_user! {
    /// `-o FILE.zst` writes a zstd-compressed trace that reports read as they read a plain one;
    /// cut short, it still reads up to its last complete block.
    fn compressed_traces(w) {
        let out = w.path("work/t.jsonl.zst");
        let o = output(w.cordon(["trace", "-o", out.to_str().unwrap(), "--", "/bin/sh", "-c",
                                 "cat /etc/hostname >/dev/null"]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[..4], &[0x28, 0xb5, 0x2f, 0xfd], "not zstd");
        let (records, warnings) = cordon_core::tracer::read_trace_file(&out).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(events(&records).iter().any(|e| e.path == "/etc/hostname"));
        assert!(matches!(records.last(), Some(Record::End { status: 0, .. })));

        let cut = w.path("work/cut.jsonl.zst");
        std::fs::write(&cut, &bytes[..bytes.len() - 8]).unwrap();
        let o = output(w.cordon(["report", cut.to_str().unwrap()]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("cut short"), "{}", describe(&o));

        // The sandboxed run's trace, compressed, is whole too (the init ends the frame).
        let out = w.path("work/run.jsonl.zst");
        let o = w.run_in_sandbox(&["--trace", out.to_str().unwrap()], &["cat", "/etc/hostname"]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let (records, warnings) = cordon_core::tracer::read_trace_file(&out).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(events(&records).iter().any(|e| e.path == "/etc/hostname"));
    }
}

as_each_user! {
    /// The trace holds the command's accesses, not cordon's own set-up; flags that would
    /// change the real environment are refused; the report honours custom XDG directories and
    /// a sandboxed run's fresh home.
    fn trace_contents_and_context(w) {
        let out = w.path("work/t.jsonl");
        let o = output(w.cordon(["trace", "-o", out.to_str().unwrap(), "--", "true"]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let (records, _) = cordon_core::tracer::read_trace_file(&out).unwrap();
        let first = records.iter().find_map(|r| match r {
            Record::Process(p) => Some(p), _ => None }).unwrap();
        assert!(first.exe.ends_with("/true"), "first process: {}", first.exe);
        assert!(!events(&records).iter().any(|e| e.op == Op::Chdir), "cordon's chdir recorded");

        let o = output(w.cordon(["trace", "-o", out.to_str().unwrap(), "--env-set", "A=1",
                                 "--", "true"]));
        assert_eq!(o.status.code(), Some(125));
        assert!(String::from_utf8_lossy(&o.stderr).contains("run --trace"), "{}", describe(&o));

        // git's config under a custom XDG_CONFIG_HOME is user configuration.
        w.write("xdg/git/config", "[user]\n\tname = X\n");
        let xdg = w.path("xdg");
        let mut c = w.cordon(["trace", "-o", out.to_str().unwrap(), "--", "git", "config",
                              "user.name"]);
        c.env("XDG_CONFIG_HOME", &xdg);
        assert_eq!(output(c).status.code(), Some(0));
        let o = output(w.cordon(["report", out.to_str().unwrap(), "--format", "json"]));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let b = r["breaches"].as_array().unwrap().iter()
            .find(|b| b["path"].as_str().unwrap().ends_with("/xdg/git/config"))
            .unwrap_or_else(|| panic!("{r:#}"));
        assert_eq!(b["category"], "user-config");

        // Under run --trace, writes to the fresh home are scratch, not writes outside.
        let out = w.path("work/r.jsonl");
        let home = w.home();
        let o = w.run_in_sandbox(&["--trace", out.to_str().unwrap()],
            &["/bin/sh", "-c", &format!("echo x > {}/made", home.display())]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let o = output(w.cordon(["report", out.to_str().unwrap(), "--format", "json"]));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(!r["breaches"].as_array().unwrap().iter()
            .any(|b| b["path"].as_str().unwrap().ends_with("/made")), "{r:#}");
    }
}

as_each_user! {
    /// Each exec records the environment the program started with, secrets redacted.
    fn environment_recorded_and_redacted(w) {
        let out = w.path("work/env.jsonl");
        let mut c = w.cordon(["trace", "-o", out.to_str().unwrap(), "--", "/bin/sh", "-c", "true"]);
        c.env("CPATH", "/opt/zlib/include").env("MY_API_TOKEN", "s3cr3t");
        assert_eq!(output(c).status.code(), Some(0));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(!text.contains("s3cr3t"), "a secret reached the trace");
        let (records, _) = read_trace(&text).unwrap();
        let root = records.iter().find_map(|r| match r {
            Record::Process(p) if p.ppid == 0 => Some(p), _ => None }).unwrap();
        assert!(root.env.iter().any(|e| e == "CPATH=/opt/zlib/include"), "{:?}", root.env);
        assert!(root.env.iter().any(|e| e == "MY_API_TOKEN=<redacted>"), "{:?}", root.env);
    }
}
