//! `cordon trace` + `cordon report` on a poisoned HOME and a build that includes the system's
//! <zlib.h>: each breach is named with its category, process, owner and fix. As root and as
//! uid 65534.

use cordon_testutil::{as_each_user, describe, output, stderr, stdout, World};
use serde_json::Value;

fn report_json(w: &World, trace: &str) -> Value {
    let o = output(w.cordon(["report", trace, "--format", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)))
}

fn breach<'a>(report: &'a Value, path_suffix: &str) -> &'a Value {
    report["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["path"].as_str().unwrap().ends_with(path_suffix))
        .unwrap_or_else(|| panic!("no breach for {path_suffix} in {:#}", report["breaches"]))
}

as_each_user! {
    fn poisoned_home_and_system_header(w) {
        scenario(w);
    }
}

as_each_user! {
    /// The same on a machine without user namespaces: tracing needs none.
    fn poisoned_home_without_user_namespaces(w) {
        w.without_user_namespaces();
        scenario(w);
    }
}

fn scenario(w: &World) {
    if w.lacks_user_namespaces() {
        // The simulation is real: no namespace sandbox can be made here.
        let o = output(w.cordon(["run", "--backend", "namespace", "--", "true"]));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
    }
    {
        if !cordon_testutil::require(
            std::path::Path::new("/usr/include/zlib.h").exists(),
            "zlib1g-dev is not installed",
        ) {
            return;
        }
        w.write("home/.gitconfig", "[user]\n\tname = Fake Identity\n");
        let leak = w.write("home/.leakrc", "token\n");
        let pkg = w.mkdir("poison-pkg");
        w.write("poison-pkg/PoisonConfig.cmake", "set(Poison_FOUND TRUE)\n");
        w.write(
            "home/.cmake/packages/Poison/0123abcd",
            &format!("{}\n", pkg.display()),
        );
        w.write("work/proj/CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.10)\nproject(p NONE)\nfind_package(Poison CONFIG QUIET)\n");
        let version = stdout(&output({
            let mut c = w.command("/usr/bin/python3");
            c.args([
                "-c",
                "import sys; print('python%d.%d' % sys.version_info[:2])",
            ]);
            c
        }))
        .trim()
        .to_string();
        w.write(
            &format!("home/.local/lib/{version}/site-packages/leak.pth"),
            "import os\n",
        );
        w.write(
            "work/m.c",
            "#include <zlib.h>\n#include <stdio.h>\nint main(void){return 0;}\n",
        );
        w.write("work/Makefile", "all:\n\tgcc -c m.c -o m.o\n");
        let probe = w.bin("probe-static");
        let script =
            format!(
            "git config user.name; {} rawopen {} >/dev/null; cmake -S proj -B build >/dev/null; \
             /usr/bin/python3 -c pass; make -s",
            probe.display(), leak.display());
        let trace = w.path("work/trace.jsonl");
        let trace = trace.to_str().unwrap();
        let mut c = w.cordon(["trace", "-o", trace, "--", "/bin/sh", "-c", &script]);
        c.env("CPATH", "/opt/zlib/include");
        let o = output(c);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let r = report_json(w, trace);
        // A variable that steers the build is an input too.
        assert!(
            r["environment"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["name"] == "CPATH" && v["value"] == "/opt/zlib/include"),
            "{:#}",
            r["environment"]
        );
        assert_eq!(r["schema_version"], 1);

        let git = breach(&r, "/.gitconfig");
        assert_eq!(git["category"], "user-config");
        assert!(
            git["process"]["exe"].as_str().unwrap().ends_with("git"),
            "{git}"
        );
        assert!(git["fix"].as_str().unwrap().contains("hide"), "{git}");

        let leakrc = breach(&r, "/.leakrc");
        assert_eq!(leakrc["category"], "user-config");
        assert_eq!(leakrc["process"]["exe"], probe.to_str().unwrap());

        let cmake = breach(&r, "/.cmake/packages/Poison/0123abcd");
        assert_eq!(cmake["category"], "user-package-registry");
        assert!(
            cmake["process"]["exe"].as_str().unwrap().ends_with("cmake"),
            "{cmake}"
        );

        let pth = breach(&r, "/site-packages/leak.pth");
        assert_eq!(pth["category"], "user-site-packages");

        let zlib = breach(&r, "/usr/include/zlib.h");
        assert_eq!(zlib["category"], "system-header");
        assert_eq!(zlib["owner"]["package"], "zlib1g-dev");
        assert_eq!(zlib["owner"]["manager"], "dpkg");
        let chain: Vec<&str> = zlib["ancestry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["exe"].as_str().unwrap())
            .collect();
        assert!(chain.iter().any(|e| e.ends_with("/make")), "{chain:?}");
        assert!(chain.last().unwrap().ends_with("cc1"), "{chain:?}");
        assert!(zlib["fix"]
            .as_str()
            .unwrap()
            .contains("/usr/include/zlib.h"));

        // The C library's headers are the system's, not breaches.
        let paths: Vec<&str> = r["breaches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["path"].as_str().unwrap())
            .collect();
        assert!(!paths.iter().any(|p| p.ends_with("/stdio.h")), "{paths:?}");
        assert!(!paths.iter().any(|p| p.contains("libc.so")), "{paths:?}");

        // Markdown and text name the same breaches.
        for format in ["markdown", "text"] {
            let o = output(w.cordon(["report", trace, "--format", format]));
            assert_eq!(o.status.code(), Some(0));
            let text = stdout(&o);
            assert!(
                text.contains("/usr/include/zlib.h") && text.contains("zlib1g-dev"),
                "{text}"
            );
        }
    }
}

as_each_user! {
    /// Garbage, foreign or truncated trace files give a clear error or a warning, never a
    /// panic; a truncated one still reports.
    fn bad_trace_files(w) {
        let garbage = w.write("work/garbage.jsonl", "this is not json\n");
        let o = output(w.cordon(["report", garbage.to_str().unwrap()]));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(stderr(&o).contains("line 1"), "{}", describe(&o));
        assert!(!stderr(&o).contains("panicked"));

        let binary = w.path("work/binary.jsonl");
        std::fs::write(&binary, [0xff, 0xfe, 0, 1, 2]).unwrap();
        let o = output(w.cordon(["report", binary.to_str().unwrap()]));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(!stderr(&o).contains("panicked"));

        let missing = output(w.cordon(["report", "/no/such/trace.jsonl"]));
        assert_eq!(missing.status.code(), Some(125));

        // A real trace cut in the middle of a line.
        let trace = w.path("work/t.jsonl");
        let o = output(w.cordon(["trace", "-o", trace.to_str().unwrap(), "--", "cat", "/etc/hostname"]));
        assert_eq!(o.status.code(), Some(0));
        let text = std::fs::read_to_string(&trace).unwrap();
        let cut = &text[..text.len() - 40];
        let cut_path = w.write("work/cut.jsonl", cut);
        let o = output(w.cordon(["report", cut_path.to_str().unwrap()]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(stderr(&o).contains("incomplete last record"), "{}", describe(&o));

        // A middle line broken: an error naming it.
        let mut lines: Vec<&str> = text.lines().collect();
        lines[2] = "{\"type\":\"event\",";
        let broken = w.write("work/broken.jsonl", &(lines.join("\n") + "\n"));
        let o = output(w.cordon(["report", broken.to_str().unwrap()]));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(stderr(&o).contains("line 3"), "{}", describe(&o));
    }
}
