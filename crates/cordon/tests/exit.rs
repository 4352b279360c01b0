//! Exit statuses, signals, orphans and standard streams.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cordon_testutil::{as_each_backend, as_each_user, describe, output, stdout, World};

fn status_of(w: &World, extra: &[&str], command: &[&str]) -> (Option<i32>, String) {
    let o = w.run_in_sandbox(extra, command);
    (o.status.code(), describe(&o))
}

as_each_backend! {
    /// The command's own status; 128+N for signal N; 127 not found; 126 not executable;
    /// 125 for cordon's own failures.
    fn exit_statuses(w) {
        assert_eq!(status_of(w, &[], &["true"]).0, Some(0));
        assert_eq!(status_of(w, &[], &["/bin/sh", "-c", "exit 3"]).0, Some(3));
        assert_eq!(status_of(w, &[], &["/bin/sh", "-c", "exit 125"]).0, Some(125));
        assert_eq!(status_of(w, &[], &["/bin/sh", "-c", "kill -9 $$"]).0, Some(137));
        assert_eq!(status_of(w, &[], &["/bin/sh", "-c", "kill -TERM $$"]).0, Some(143));
        let (code, text) = status_of(w, &[], &["no-such-command-xyz"]);
        assert_eq!(code, Some(127), "{text}");
        assert!(text.contains("not found"), "{text}");
        let (code, _) = status_of(w, &[], &["/no/such/path"]);
        assert_eq!(code, Some(127));
        let plain = w.write("work/not-executable", "#!/bin/sh\n");
        let (code, text) = status_of(w, &[], &[plain.to_str().unwrap()]);
        assert_eq!(code, Some(126), "{text}");
        // A hidden command is not found, as if it did not exist; hidden inside a writable
        // directory it is unreadable instead, so it cannot be executed.
        let hidden = w.script("tools/hidden-tool", "#!/bin/sh\necho ran\n");
        let tools = w.path("tools");
        // Under Landlock alone hidden means unreadable: it cannot be executed (126).
        let (code, _) = status_of(w, &["--ro", tools.to_str().unwrap(),
                                       "--hide", hidden.to_str().unwrap()],
                                  &[hidden.to_str().unwrap()]);
        assert_eq!(code, Some(if w.hides() { 127 } else { 126 }));
        // Inside a writable directory the namespace backend makes it unreadable too, where
        // the backends that check each path make it absent.
        let hidden = w.script("work/hidden-tool", "#!/bin/sh\necho ran\n");
        let (code, _) = status_of(w, &["--hide", hidden.to_str().unwrap()],
                                  &[hidden.to_str().unwrap()]);
        let absent = w.hides() && w.backend() != Some("namespace");
        assert_eq!(code, Some(if absent { 127 } else { 126 }));
        let (code, text) = status_of(w, &["--redirect", "/etc/x"], &["true"]);
        assert_eq!(code, Some(125), "{text}");
        assert!(text.contains("PATH=OTHER"), "{text}");
        let (code, text) = status_of(w, &["--ro", "relative/dir"], &["true"]);
        assert_eq!(code, Some(125), "{text}");
        assert!(text.contains("relative") && text.contains("absolute"), "{text}");
        let (code, text) = status_of(w, &["--bogus-flag"], &["true"]);
        assert_eq!(code, Some(125), "{text}");
        let (code, text) = status_of(w, &["-C", "/no/such/dir"], &["true"]);
        assert_eq!(code, Some(125), "{text}");
    }
}

as_each_backend! {
    /// The command starts with SIGPIPE at its default, as from a shell, whether run, traced
    /// or both: cordon's own runtime ignores it, and an ignored signal survives exec.
    fn command_dies_of_sigpipe_as_elsewhere(w) {
        let kill_self = ["/bin/sh", "-c", "kill -PIPE $$; echo survived"];
        let (code, text) = status_of(w, &[], &kill_self);
        assert_eq!(code, Some(128 + 13), "{text}");
        let trace = w.path("work/t.jsonl");
        let trace = trace.to_str().unwrap();
        for how in [&["trace", "-o", trace][..], &["run", "--trace", trace][..]] {
            // The seccomp backend cannot be traced (its notification comes first); it
            // refuses --trace, as a test in tests/doctor.rs shows.
            if how[0] == "run" && w.backend().is_some_and(|b| b.contains("seccomp")) {
                continue;
            }
            let o = output(w.cordon(how.iter().chain(&["--"]).chain(&kill_self)));
            assert_eq!(o.status.code(), Some(128 + 13), "{how:?}: {}", describe(&o));
            assert!(!stdout(&o).contains("survived"), "{how:?}: {}", describe(&o));
        }
    }
}

as_each_user! {
    /// cordon's printing subcommands end quietly on a closed pipe (`cordon report t | head`),
    /// killed by SIGPIPE as other Unix tools are, rather than panicking on EPIPE.
    fn printing_to_a_closed_pipe_ends_quietly(w) {
        use std::os::unix::process::ExitStatusExt;
        // A socket whose peer is gone fails writes as a pipe without reader does.
        let (writer, reader) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(reader);
        let o = w
            .cordon(["doctor"])
            .stdout(std::os::fd::OwnedFd::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(o.status.signal(), Some(13), "{}", describe(&o));
        assert!(o.stderr.is_empty(), "{}", describe(&o));
    }
}

as_each_user! {
    /// A working directory that the policy does not show is a clear error.
    fn invisible_working_directory(w) {
        let o = output({
            let mut c = w.cordon(["run", "--profile", "git", "--ro", "/usr", "--", "/usr/bin/true"]);
            c.current_dir(w.work());
            c
        });
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(describe(&o).contains("working directory"), "{}", describe(&o));
    }
}

as_each_backend! {
    /// The command may run on every CPU cordon's caller may: cordon moves its own processes
    /// between CPUs while the sandbox starts, and none of that may stick to the command (a
    /// build pinned to one CPU).
    fn command_keeps_every_cpu(w) {
        let allowed = |status: &str| {
            status
                .lines()
                .find(|l| l.starts_with("Cpus_allowed_list:"))
                .map(|l| l.to_string())
        };
        let outside = allowed(&std::fs::read_to_string("/proc/self/status").unwrap());
        assert!(outside.is_some());
        for _ in 0..5 {
            let o = w.run_in_sandbox(&[], &["/bin/cat", "/proc/self/status"]);
            assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
            assert_eq!(allowed(&stdout(&o)), outside, "{}", describe(&o));
        }
    }
}

as_each_backend! {
    /// stdin, stdout and stderr pass through untouched.
    fn standard_streams(w) {
        let mut c = w.cordon(["run", "--", "/bin/sh", "-c", "cat; echo to-stderr >&2"]);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(b"line one\nline two\n").unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "line one\nline two\n");
        assert_eq!(String::from_utf8_lossy(&o.stderr), "to-stderr\n");
    }
}

as_each_user! {
    /// The command keeps the caller's terminal: isatty holds inside.
    fn terminal_passes_through(w) {
        let cordon = w.bin("cordon");
        let inner = format!("{} run -- /bin/sh -c 'test -t 0 && test -t 1 && echo is-a-tty'",
                            cordon.display());
        let o = output({
            let mut c = w.command("script");
            c.args(["-qec", &inner, "/dev/null"]);
            c
        });
        assert!(stdout(&o).contains("is-a-tty"), "{}", describe(&o));
    }
}

fn spawn_until_ready(
    mut c: Command,
) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    c.stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null());
    let mut child = c.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "ready", "the command did not start");
    (child, out)
}

/// Kills the child if the test fails before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kill(sig: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

as_each_backend! {
    /// A signal sent to cordon reaches the command, whose handler decides the status.
    fn signals_are_forwarded(w) {
        let c = w.cordon(["run", "--", "/bin/sh", "-c",
            "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done"]);
        let (mut child, mut out) = spawn_until_ready(c);
        kill("-TERM", child.id());
        let status = child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        assert_eq!(status.code(), Some(7), "{rest}");
        assert!(rest.contains("got-term"), "{rest}");

        // Without a handler the command dies of it: 128 + 15.
        let c = w.cordon(["run", "--", "/bin/sh", "-c", "echo ready; exec sleep 30"]);
        let (mut child, _out) = spawn_until_ready(c);
        kill("-TERM", child.id());
        assert_eq!(child.wait().unwrap().code(), Some(143));
    }
}

/// Processes whose command line starts with `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    processes(|cmd| cmd.starts_with(needle))
}

/// Processes whose command line contains `needle`.
fn processes_containing(needle: &str) -> Vec<String> {
    processes(|cmd| cmd.contains(needle))
}

/// What `find` still finds after waiting up to 5 s for it to find nothing (processes end
/// asynchronously after cordon or their pid namespace has).
fn left_after_waiting(find: impl Fn() -> Vec<String>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = find();
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = find();
    }
    left
}

/// "PID: COMMAND LINE" of the processes whose command line `matches`.
fn processes(matches: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if matches(&cmd) {
                found.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

as_each_user! {
    /// Nothing cordon started survives `kill -9` of cordon: not the command, not its
    /// background children, not a daemon that left its session.
    fn no_orphans_after_sigkill(w) {
        let unique = format!("{}.{}", std::process::id(), w.user() as u8 + 17);
        let script = format!(
            "sleep {unique}1 & setsid sleep {unique}2 & (sleep {unique}3 &) ; echo ready; wait");
        let c = w.cordon(["run", "--", "/bin/sh", "-c", &script]);
        let (child, _out) = spawn_until_ready(c);
        let mut child = KillOnDrop(child);
        let child = &mut child.0;
        let deadline = Instant::now() + Duration::from_secs(5);
        while processes_with(&format!("sleep {unique}")).len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(processes_with(&format!("sleep {unique}")).len(), 3, "not all started");
        kill("-KILL", child.id());
        let _ = child.wait();
        let left = left_after_waiting(|| processes_with(&format!("sleep {unique}")));
        assert!(left.is_empty(), "survivors: {left:?}");
    }
}

as_each_user! {
    /// `cordon run` starts its sandbox before it parses its command line: when the line turns
    /// out wrong, or asks for help, cordon still says so as usual and leaves nothing behind.
    fn a_sandbox_started_early_ends_with_a_wrong_command_line(w) {
        let unique = format!("/early.{}.{}", std::process::id(), w.user() as u8);
        let cases: [(&[&str], i32, &str); 2] = [
            (&["--no-such-flag"], 125, "--no-such-flag"),
            (&["-vh"], 0, "Usage:"),
        ];
        for (flags, code, says) in cases {
            let mut c = w.cordon(["run", "--hide", &unique]);
            c.args(flags).args(["--", "true"]);
            let o = output(c);
            assert_eq!(o.status.code(), Some(code), "{}", describe(&o));
            assert!(describe(&o).contains(says), "{}", describe(&o));
            // The init shares cordon's memory, so its command line is cordon's.
            let left = left_after_waiting(|| processes_containing(&unique));
            assert!(left.is_empty(), "left running: {left:?}");
        }
    }
}

as_each_user! {
    /// The sandbox's init, which waits for cordon's exit once it has reported the status (so
    /// that cordon's exit need not unmap the memory the two share), ends with cordon, and
    /// cordon's status is the command's.
    fn the_init_ends_with_cordon(w) {
        let unique = format!("/linger.{}.{}", std::process::id(), w.user() as u8);
        for (command, code) in [("exit 0", 0), ("exit 7", 7), ("kill -9 $$", 137)] {
            let o = output(w.cordon(["run", "--hide", &unique, "--", "/bin/sh", "-c", command]));
            assert_eq!(o.status.code(), Some(code), "{}", describe(&o));
            let left = left_after_waiting(|| processes_containing(&unique));
            assert!(left.is_empty(), "left running: {left:?}");
        }
    }
}

as_each_user! {
    /// When the command exits, whatever it left running in the background is killed too.
    fn background_processes_end_with_the_command(w) {
        let unique = format!("{}.{}", std::process::id(), w.user() as u8 + 40);
        let o = w.run_in_sandbox(&[], &["/bin/sh", "-c", &format!("setsid sleep {unique} & exit 0")]);
        assert_eq!(o.status.code(), Some(0));
        let left = left_after_waiting(|| processes_with(&format!("sleep {unique}")));
        assert!(left.is_empty(), "left running: {left:?}");
    }
}

as_each_user! {
    /// cordon started with its standard output closed: the trace file it opens must not take
    /// descriptor 1, which the command would inherit and write its output into.
    fn closed_standard_output_keeps_the_trace_whole(w) {
        let trace = w.path("work/closed-stdout.jsonl");
        // The output, into-42, is not in the command line, which the trace records.
        let script = format!(
            "{} run --trace {} -- /bin/sh -c 'echo into-$((6 * 7))' >&-",
            w.bin("cordon").display(),
            trace.display()
        );
        let o = output({
            let mut c = w.command("sh");
            c.args(["-c", &script]);
            c
        });
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let bytes = std::fs::read(&trace).unwrap_or_default();
        assert!(
            !bytes.windows(7).any(|b| b == b"into-42"),
            "the command wrote into the trace"
        );
        let r = output(w.cordon(["report", trace.to_str().unwrap(), "--format", "json"]));
        assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
    }
}
