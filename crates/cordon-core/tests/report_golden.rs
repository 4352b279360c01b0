//! Golden files for the report renderers: a fixed trace, classified with a fixed home and no
//! package database, rendered as JSON, Markdown and text. `CORDON_BLESS=1 cargo test` rewrites
//! the files after a deliberate change.

mod common;
use common::check_golden as check;

use cordon_core::analysis::Owners;
use cordon_core::policy::Class;
use cordon_core::report;
use cordon_core::trace::{Event, Op, Process, Record, RuleRecord, Verdict};

fn proc(pid: i32, ppid: i32, exe: &str, argv: &[&str]) -> Record {
    Record::Process(Process {
        pid,
        ppid,
        exe: exe.into(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cwd: "/work/proj".into(),
        start_ns: 0,
        env: Vec::new(),
    })
}

fn ev(seq: u64, pid: i32, op: Op, path: &str, errno: i32) -> Record {
    Record::Event(Event {
        seq,
        t_ns: seq * 1000,
        pid,
        op,
        path: path.into(),
        errno,
        verdict: Verdict::Allowed,
        syscall: "openat".into(),
    })
}

fn records() -> Vec<Record> {
    let rule = |path: &str, kind: &str, class: Class| RuleRecord {
        path: path.into(),
        kind: kind.into(),
        class,
        to: None,
    };
    vec![
        Record::Header {
            schema_version: 1,
            tracer: "ptrace".into(),
            command: vec!["make".into()],
            cwd: "/work/proj".into(),
            started: 0,
            gaps: vec!["calls on a descriptor alone name no path".into()],
            home: "/home/u".into(),
            rules: vec![
                rule("/", "ro", Class::System),
                rule("/tmp", "tmpfs", Class::Scratch),
                rule("/work/proj", "rw", Class::Declared),
            ],
            policy_sources: vec!["profile build".into()],
            home_setting: "keep".into(),
            xdg_config_home: String::new(),
            xdg_cache_home: String::new(),
            xdg_data_home: String::new(),
        },
        proc(10, 0, "/usr/bin/make", &["make"]),
        proc(11, 10, "/bin/sh", &["sh", "-c", "gcc -c m.c"]),
        proc(12, 11, "/usr/bin/gcc", &["gcc", "-c", "m.c"]),
        proc(
            13,
            12,
            "/usr/lib/gcc/x86_64-linux-gnu/12/cc1",
            &["cc1", "m.c"],
        ),
        ev(1, 10, Op::Read, "/work/proj/Makefile", 0),
        ev(2, 11, Op::Read, "/home/u/.gitconfig", 0),
        ev(3, 11, Op::Read, "/home/u/.gitconfig", 0),
        ev(4, 13, Op::Read, "/usr/include/stdio.h", 0),
        ev(5, 13, Op::Read, "/usr/local/include/zlib.h", 0),
        ev(6, 13, Op::Read, "/home/u/.cmake/packages/Foo/abc", 0),
        ev(7, 12, Op::Write, "/etc/build-stamp", 0),
        ev(8, 13, Op::Read, "/home/u/.pip/pip.conf", 2),
        Record::Exit {
            pid: 13,
            t_ns: 9000,
            status: 0,
        },
        Record::End {
            t_ns: 10000,
            status: 0,
            events: 8,
        },
    ]
}

#[test]
fn renderers_match_their_golden_files() {
    let records = records();
    let a = report::analyzer_for(&records, Owners::none()).unwrap();
    let r = report::build_with(&records, vec![], &a);
    // What the renderers show rests on these.
    let cats: Vec<&str> = r.breaches.iter().map(|b| b.category.as_str()).collect();
    assert_eq!(
        cats,
        [
            "system-header",
            "user-config",
            "user-package-registry",
            "write-outside"
        ],
        "{r:#?}"
    );
    assert_eq!(r.breaches[1].count, 2);
    assert_eq!(report::chain(&r.breaches[0]), "make > sh > gcc > cc1");
    check("report.json", &report::render_json(&r));
    check("report.md", &report::render_markdown(&r));
    check("report.txt", &report::render_text(&r));
}
