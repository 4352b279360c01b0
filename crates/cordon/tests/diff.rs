//! `cordon diff`: two traces of the same build, one from a machine that has an extra header in
//! /usr/local/include which the build picks up: the header comes first. As root and as uid
//! 65534 (the extra header is given to one run by a redirect, and the run's header then
//! forgets that rule, as if that machine simply had the file).

use cordon_testutil::{as_each_user, describe, output, stdout};

as_each_user! {
    fn extra_header_comes_first(w) {
        let extra = w.write("extra.h", "#define EXTRA 1\n");
        w.write("work/main.c",
            "#if __has_include(<cordon-extra.h>)\n#include <cordon-extra.h>\n#endif\n\
             #include <stdio.h>\nint main(void){return 0;}\n");
        let run = |name: &str, flags: &[&str]| {
            let out = w.path(&format!("work/{name}.jsonl"));
            let mut args = vec!["--trace", out.to_str().unwrap()];
            args.extend_from_slice(flags);
            let o = w.run_in_sandbox(&args, &["/bin/sh", "-c", "gcc -c main.c -o main.o"]);
            assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
            out
        };
        let redirect = format!("/usr/local/include/cordon-extra.h={}", extra.display());
        let a = run("a", &["--redirect", &redirect]);
        let b = run("b", &["--env-set", "CPATH=/opt/other/include", "--env-set", "ZZ_UNRELATED=1"]);
        // Machine A "has" the header: drop the redirect from its policy.
        let text = std::fs::read_to_string(&a).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        header["rules"].as_array_mut().unwrap().retain(|r| r["kind"] != "redirect");
        lines[0] = header.to_string();
        std::fs::write(&a, lines.join("\n") + "\n").unwrap();

        let o = output(w.cordon(["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let first = &d["only"][0];
        assert_eq!(first["path"], "/usr/local/include/cordon-extra.h", "{d:#}");
        assert_eq!(first["side"], "a");
        assert_eq!(first["kind"], "system-header");
        assert!(first["by"].as_str().unwrap().ends_with("cc1"), "{first}");
        // The environments: the steering CPATH before an unrelated variable.
        let env = d["env"].as_array().unwrap();
        assert_eq!(env[0]["name"], "CPATH", "{d:#}");
        assert_eq!(env[0]["b"], "/opt/other/include");
        assert!(env[0]["a"].is_null());
        assert!(env.iter().any(|e| e["name"] == "ZZ_UNRELATED" && e["steers"] == false));
        let o = output(w.cordon(["diff", a.to_str().unwrap(), b.to_str().unwrap()]));
        assert!(stdout(&o).lines().nth(1).unwrap_or("").contains("cordon-extra.h"), "{}", stdout(&o));
    }
}

as_each_user! {
    /// Two traces that read the same path in two versions: diff says the content differs.
    fn same_path_different_content(w) {
        let f = w.write("data/config.h", "#define V 1\n");
        let trace = |name: &str| {
            let out = w.path(&format!("work/{name}.jsonl"));
            let o = output(w.cordon(["trace", "-o", out.to_str().unwrap(), "--", "cat",
                                     f.to_str().unwrap()]));
            assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
            out
        };
        let a = trace("a");
        std::fs::write(&f, "#define V 2\n").unwrap();
        let b = trace("b");
        let o = output(w.cordon(["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let changed = d["changed"].as_array().unwrap();
        assert!(changed.iter().any(|c| c["path"] == f.to_str().unwrap() && c["what"] == "content"),
                "{d:#}");
        assert!(d["only"].as_array().unwrap().is_empty(), "{d:#}");
    }
}
