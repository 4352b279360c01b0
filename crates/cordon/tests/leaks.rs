//! A poisoned HOME: each test first shows that the leak is real without cordon, then that
//! `cordon run` (the default `build` profile) removes it. On every backend, as root and as
//! uid 65534.

use cordon_testutil::{as_each_backend, as_each_user, describe, output, stderr, stdout, World};

/// Run `sh -c SCRIPT` natively or in the sandbox, in the world's work directory.
fn sh(w: &World, sandboxed: bool, script: &str) -> std::process::Output {
    if sandboxed {
        w.run_in_sandbox(&[], &["/bin/sh", "-c", script])
    } else {
        output({
            let mut c = w.command("/bin/sh");
            c.args(["-c", script]);
            c
        })
    }
}

as_each_backend! {
    /// git: a .gitconfig demanding gpg signing with /bin/false, a hooksPath hook that fails
    /// and leaves a marker, and a fake identity.
    fn git_user_config(w) {
        let marker = w.mkdir("markers").join("hook-ran");
        let hooks = w.mkdir("poison-hooks");
        w.script("poison-hooks/pre-commit",
                 &format!("#!/bin/sh\ntouch {}\nexit 1\n", marker.display()));
        w.write("home/.gitconfig", &format!(
            "[user]\n\tname = Fake Identity\n\temail = fake@poison.invalid\n\
             [commit]\n\tgpgsign = true\n[gpg]\n\tprogram = /bin/false\n\
             [core]\n\thooksPath = {}\n", hooks.display()));
        let script = "set -e; rm -rf repo; git init -q repo; cd repo; echo x > f; git add f; \
            git config user.name || echo 'no identity'; \
            git -c user.name=Builder -c user.email=builder@example.invalid commit -q -m one; \
            git log --format='author=%an signed=%G?'";

        let native = sh(w, false, script);
        assert_ne!(native.status.code(), Some(0), "the poison did not break git natively: {}",
                   describe(&native));
        assert!(stdout(&native).contains("Fake Identity"), "{}", describe(&native));
        assert!(marker.exists(), "the hook did not run natively: {}", describe(&native));
        std::fs::remove_file(&marker).unwrap();

        let o = sh(w, true, script);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let out = stdout(&o);
        assert!(out.contains("no identity"), "{out}");
        assert!(!out.contains("Fake Identity"), "{out}");
        assert!(out.contains("author=Builder signed=N"), "{out}");
        assert!(!marker.exists(), "the poisoned hook ran in the sandbox");
    }
}

as_each_backend! {
    /// gpg: a gpg.conf with an invalid option.
    fn gpg_user_config(w) {
        w.write("home/.gnupg/gpg.conf", "this-option-does-not-exist\n");
        std::fs::set_permissions(w.path("home/.gnupg"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let script = "gpg --batch --list-keys";
        let native = sh(w, false, script);
        assert!(stderr(&native).contains("gpg.conf:1: invalid option"), "{}", describe(&native));

        let o = sh(w, true, script);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(!stderr(&o).contains("invalid option"), "{}", describe(&o));
    }
}

as_each_backend! {
    /// CMake: a user package registry entry pointing to a package nobody declared.
    fn cmake_user_registry(w) {
        let pkg = w.mkdir("poison-pkg");
        w.write("poison-pkg/PoisonConfig.cmake", "set(Poison_FOUND TRUE)\n");
        w.write("home/.cmake/packages/Poison/0123abcd", &format!("{}\n", pkg.display()));
        w.write("work/proj/CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.10)\nproject(p NONE)\n\
             find_package(Poison CONFIG QUIET)\nmessage(STATUS \"POISON_FOUND=${Poison_FOUND}\")\n");
        let script = "rm -rf build && cmake -S proj -B build";
        let native = sh(w, false, script);
        assert!(stdout(&native).contains("POISON_FOUND=1"), "{}", describe(&native));

        let o = sh(w, true, script);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(stdout(&o).contains("POISON_FOUND=0"), "{}", describe(&o));
    }
}

as_each_backend! {
    /// Python: a .pth file in the user site-packages runs code at every start.
    fn python_user_site(w) {
        let version = output({
            let mut c = w.command("/usr/bin/python3");
            c.args(["-c", "import sys; print('python%d.%d' % sys.version_info[:2])"]);
            c
        });
        let version = stdout(&version).trim().to_string();
        assert!(version.starts_with("python3."), "{version}");
        w.write(&format!("home/.local/lib/{version}/site-packages/leak.pth"),
                "import sys; sys.stderr.write('PTH-LEAK\\n')\n");
        let script = "/usr/bin/python3 -c 'print(\"python ran\")'";
        let native = sh(w, false, script);
        assert!(stderr(&native).contains("PTH-LEAK"), "{}", describe(&native));

        let o = sh(w, true, script);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(stdout(&o).contains("python ran"));
        assert!(!stderr(&o).contains("PTH-LEAK"), "{}", describe(&o));
    }
}

as_each_backend! {
    /// With `--home keep`, HOME is the real one (read-only under the build profile) and the
    /// profiles' hide rules still remove the known configuration files from it.
    fn kept_home_still_hides_config(w) {
        w.write("home/.gitconfig", "[user]\n\tname = Fake Identity\n");
        w.write("home/.npmrc", "registry=http://poison.invalid\n");
        w.write("home/notes.txt", "mine\n");
        let home = w.home();
        let script = format!(
            "cat {h}/notes.txt; test -e {h}/.gitconfig && echo gitconfig-visible; \
             test -e {h}/.npmrc && echo npmrc-visible; git config user.name || echo no-identity",
            h = home.display());
        let o = w.run_in_sandbox(&["--home", "keep"], &["/bin/sh", "-c", &script]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let out = stdout(&o);
        assert!(out.contains("mine"), "{out}");
        // Landlock makes them unreadable, and `test -e` (stat) still sees them.
        assert_eq!(!out.contains("visible"), w.hides(), "{out}");
        assert!(out.contains("no-identity"), "{}", describe(&o));
    }
}

as_each_user! {
    /// Variables that redirect tools to user configuration are removed, and --verbose says
    /// which; --env-keep brings one back.
    fn redirecting_variables_unset(w) {
        let mut c = w.cordon(["run", "--verbose", "--", "/bin/sh", "-c",
            "echo G=${GIT_CONFIG_GLOBAL:-unset} P=${PIP_INDEX_URL:-unset} K=${KEEP_ME:-unset}"]);
        c.env("GIT_CONFIG_GLOBAL", "/poison/gitconfig")
            .env("PIP_INDEX_URL", "http://poison.invalid")
            .env("KEEP_ME", "kept");
        let o = output(c);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(stdout(&o).contains("G=unset P=unset K=kept"), "{}", describe(&o));
        assert!(stderr(&o).contains("unset GIT_CONFIG_GLOBAL"), "{}", describe(&o));
        assert!(stderr(&o).contains("unset PIP_INDEX_URL"), "{}", describe(&o));

        let mut c = w.cordon(["run", "--env-keep", "PIP_INDEX_URL", "--", "/bin/sh", "-c",
            "echo P=${PIP_INDEX_URL:-unset}"]);
        c.env("PIP_INDEX_URL", "http://mirror.invalid");
        let o = output(c);
        assert!(stdout(&o).contains("P=http://mirror.invalid"), "{}", describe(&o));
    }
}
