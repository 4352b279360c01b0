//! The shim, loaded into real programs: setup outside, check inside. Each test first shows that
//! the path is reachable without the shim, so that it can fail.

use cordon_preload::{encode, parse_gaps, Access, Gap, Rule, SHIM};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique(name: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("cordon-preload-{}-{n}-{name}", std::process::id())
}

/// The shim, written once under a name derived from its content (FNV-1a), so that test runs
/// share one file instead of leaving one each behind.
fn shim_path() -> &'static Path {
    static SHIM_PATH: OnceLock<PathBuf> = OnceLock::new();
    SHIM_PATH.get_or_init(|| {
        let hash = SHIM.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let p = std::env::temp_dir().join(format!("cordon-preload-shim-{hash:016x}.so"));
        if std::fs::read(&p).ok().as_deref() != Some(SHIM) {
            let tmp = std::env::temp_dir().join(format!("{}.so", unique("shim")));
            std::fs::write(&tmp, SHIM).unwrap();
            std::fs::rename(&tmp, &p).unwrap();
        }
        p
    })
}

/// A scratch directory, its rules and gaps files, and a way to run a program in the view.
struct View {
    dir: PathBuf,
    rules: PathBuf,
    gaps: PathBuf,
    strict: bool,
}

impl View {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(unique(name));
        std::fs::create_dir_all(dir.join("d")).unwrap();
        let rules = dir.join("rules");
        let gaps = dir.join("gaps");
        View {
            dir,
            rules,
            gaps,
            strict: false,
        }
    }

    /// `d/NAME` with `content`, returning its path.
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.join("d").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    fn d(&self) -> PathBuf {
        self.dir.join("d")
    }

    fn rules(&self, rules: &[Rule]) {
        std::fs::write(&self.rules, encode(rules).unwrap()).unwrap();
    }

    fn run<S: AsRef<OsStr>>(&self, prog: &str, args: &[S]) -> Output {
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .env("LD_PRELOAD", shim_path())
            .env("CORDON_PRELOAD_RULES", &self.rules)
            .env("CORDON_PRELOAD_GAPS", &self.gaps);
        if self.strict {
            cmd.env("CORDON_PRELOAD_STRICT", "1");
        }
        cmd.output().unwrap()
    }

    fn sh(&self, script: &str) -> Output {
        self.run("/bin/sh", &["-c", script])
    }

    fn gaps(&self) -> Vec<Gap> {
        parse_gaps(&std::fs::read(&self.gaps).unwrap_or_default())
    }
}

impl Drop for View {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bare<S: AsRef<OsStr>>(prog: &str, args: &[S]) -> Output {
    Command::new(prog).args(args).output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fails_with(o: &Output, message: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "succeeded: {o:?}");
    assert!(err.contains(message), "stderr {err:?} lacks {message:?}");
}

/// The system read-only, the scratch dir `d` read-write.
fn base(v: &View) -> Vec<Rule> {
    vec![Rule::new(Access::Ro, "/"), Rule::new(Access::Rw, v.d())]
}

fn has(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn hidden_file_is_absent_but_its_directory_lists() {
    let v = View::new("hide");
    let secret = v.file("secret", "s3cret\n");
    v.file("visible", "hello\n");
    let mut rules = base(&v);
    rules.push(Rule::new(Access::Hide, &secret));
    v.rules(&rules);

    assert_eq!(ok(&bare("/bin/cat", &[&secret])), "s3cret\n");
    assert!(bare("/usr/bin/test", &["-e".as_ref(), secret.as_os_str()])
        .status
        .success());

    fails_with(&v.run("/bin/cat", &[&secret]), "No such file or directory");
    fails_with(
        &v.run("/usr/bin/stat", &[&secret]),
        "No such file or directory",
    );
    let test_e = v.run("/usr/bin/test", &["-e".as_ref(), secret.as_os_str()]);
    assert_eq!(test_e.status.code(), Some(1));
    assert!(ok(&v.run("/bin/ls", &[v.d()])).contains("visible"));
    assert_eq!(ok(&v.run("/bin/cat", &[v.d().join("visible")])), "hello\n");
    // relative to the cwd and through `..`: the same file, still hidden
    let rel = format!("cd {} && cat ../d/./secret", v.d().display());
    fails_with(&v.sh(&rel), "No such file or directory");
}

#[test]
fn deny_is_permission_denied() {
    let v = View::new("deny");
    let secret = v.file("secret", "s3cret\n");
    let mut rules = base(&v);
    rules.push(Rule::new(Access::Deny, &secret));
    v.rules(&rules);

    assert_eq!(ok(&bare("/bin/cat", &[&secret])), "s3cret\n");
    fails_with(&v.run("/bin/cat", &[&secret]), "Permission denied");
}

#[test]
fn redirect_shows_the_host_content_and_cwd_reads_back() {
    let v = View::new("redirect");
    let host_dir = v.d().join("b");
    let y = v.file("b/y", "from y\n");
    let z = v.file("b/z", "from z\n");
    std::os::unix::fs::symlink(&z, host_dir.join("link")).unwrap();
    // a view path that does not exist on the host
    let view = PathBuf::from("/").join(unique("view"));
    let mut rules = base(&v);
    rules.push(Rule::redirect(Access::Rw, &view, &host_dir));
    rules.push(Rule::redirect(Access::Ro, view.join("x"), &y));
    v.rules(&rules);

    assert_eq!(ok(&bare("/bin/cat", &[&y])), "from y\n");
    assert!(!bare("/bin/cat", &[view.join("x")]).status.success());

    assert_eq!(ok(&v.run("/bin/cat", &[view.join("x")])), "from y\n");
    assert_eq!(ok(&v.run("/bin/cat", &[view.join("y")])), "from y\n");
    let pwd = ok(&v.sh(&format!("cd {} && pwd -P", view.display())));
    assert_eq!(pwd.trim_end(), view.to_str().unwrap());
    // a link whose target is under the redirected host dir reads as the view path
    let target = ok(&v.run("/bin/readlink", &[view.join("link")]));
    assert_eq!(target.trim_end(), view.join("z").to_str().unwrap());
    let real = ok(&v.run("/usr/bin/realpath", &[view.join("link")]));
    assert_eq!(real.trim_end(), view.join("z").to_str().unwrap());
    assert_eq!(ok(&v.run("/bin/cat", &[view.join("link")])), "from z\n");

    if has("python3") {
        let script = format!(
            "import os; os.chdir({:?}); print(os.getcwd()); print(open('x').read(), end='')",
            view.to_str().unwrap()
        );
        let out = ok(&v.run("python3", &["-c", &script]));
        assert_eq!(out, format!("{}\nfrom y\n", view.display()));
    } else {
        println!("SKIP: python3 not found");
    }
}

#[test]
fn symlink_in_writable_dir_to_hidden_file_is_absent() {
    let v = View::new("symlink");
    let secret = v.file("secret", "s3cret\n");
    let pre = v.d().join("pre-made");
    std::os::unix::fs::symlink(&secret, &pre).unwrap();
    let mut rules = base(&v);
    rules.push(Rule::new(Access::Hide, &secret));
    v.rules(&rules);

    assert_eq!(ok(&bare("/bin/cat", &[&pre])), "s3cret\n");
    fails_with(&v.run("/bin/cat", &[&pre]), "No such file or directory");
    let script = format!(
        "cd {d} && ln -s secret rel && ln -s {s} abs && ln -s rel chain && cat rel; cat abs; cat chain; readlink rel",
        d = v.d().display(),
        s = secret.display()
    );
    let out = v.sh(&script);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("No such file or directory").count(),
        3,
        "{out:?}"
    );
    // the links themselves are there (lstat, readlink do not follow)
    assert_eq!(String::from_utf8_lossy(&out.stdout), "secret\n");
}

#[test]
fn writes_under_ro_are_read_only_file_system() {
    let v = View::new("ro");
    let keep = v.file("keep", "keep\n");
    v.rules(&[Rule::new(Access::Ro, "/")]);

    let probe = v.d().join("probe");
    ok(&bare(
        "/bin/sh",
        &["-c", &format!("echo x > {}", probe.display())],
    ));
    std::fs::remove_file(&probe).unwrap();

    let d = v.d();
    fails_with(
        &v.sh(&format!("echo x > {}/new", d.display())),
        "Read-only file system",
    );
    fails_with(
        &v.sh(&format!("echo x >> {}", keep.display())),
        "Read-only file system",
    );
    fails_with(
        &v.run("/bin/mkdir", &[d.join("sub")]),
        "Read-only file system",
    );
    fails_with(&v.run("/bin/rm", &[&keep]), "Read-only file system");
    fails_with(
        &v.run("/bin/chmod", &["600".as_ref(), keep.as_os_str()]),
        "Read-only file system",
    );
    fails_with(&v.run("/bin/touch", &[&keep]), "Read-only file system");
    fails_with(
        &v.run(
            "/bin/ln",
            &["-s".as_ref(), keep.as_os_str(), d.join("l").as_os_str()],
        ),
        "Read-only file system",
    );
    assert!(keep.exists() && !d.join("new").exists() && !d.join("sub").exists());
    // reading, and writing a device, are fine
    assert_eq!(ok(&v.run("/bin/cat", &[&keep])), "keep\n");
    ok(&v.sh("echo x > /dev/null"));
}

#[test]
fn mkdir_and_rm_in_rw_work() {
    let v = View::new("rw");
    v.rules(&base(&v));
    let sub = v.d().join("sub");
    let script = format!(
        "mkdir {s} && echo hi > {s}/f && mv {s}/f {s}/g && cat {s}/g && rm {s}/g && rmdir {s} && mkdir {s}",
        s = sub.display()
    );
    assert_eq!(ok(&v.sh(&script)), "hi\n");
    assert!(sub.is_dir());
}

#[test]
fn env_i_does_not_drop_the_shim() {
    let v = View::new("env");
    let secret = v.file("secret", "s3cret\n");
    let mut rules = base(&v);
    rules.push(Rule::new(Access::Hide, &secret));
    v.rules(&rules);

    assert_eq!(
        ok(&bare(
            "/usr/bin/env",
            &["-i".as_ref(), "/bin/cat".as_ref(), secret.as_os_str()]
        )),
        "s3cret\n"
    );
    let out = v.run(
        "/usr/bin/env",
        &["-i".as_ref(), "/bin/cat".as_ref(), secret.as_os_str()],
    );
    fails_with(&out, "No such file or directory");
    // and through a PATH search done by the shim, and a shell's exec
    let out = v.sh(&format!(
        "env -i PATH=/usr/bin:/bin sh -c 'exec cat {}'",
        secret.display()
    ));
    fails_with(&out, "No such file or directory");
}

#[test]
fn static_executable_is_recorded_as_a_gap() {
    let v = View::new("static");
    let src = v.file(
        "hello.c",
        "#include <unistd.h>\nint main(void){write(1,\"static\\n\",7);return 0;}\n",
    );
    let exe = v.d().join("hello");
    let built = Command::new("gcc")
        .args(["-static", "-o"])
        .arg(&exe)
        .arg(&src)
        .output();
    if !built.is_ok_and(|o| o.status.success()) {
        println!("SKIP: gcc -static does not work here (static libc missing?)");
        return;
    }
    v.rules(&base(&v));
    assert_eq!(ok(&bare(exe.to_str().unwrap(), &[] as &[&str])), "static\n");

    assert_eq!(ok(&v.sh(&format!("{}; true", exe.display()))), "static\n");
    assert_eq!(v.gaps(), [Gap::Static(exe.clone())]);

    let mut strict = View::new("static-strict");
    strict.strict = true;
    strict.rules(&base(&v));
    let out = strict.sh(&exe.display().to_string());
    fails_with(&out, "Permission denied");
    assert_eq!(strict.gaps(), [Gap::Static(exe.clone())]);
}

#[test]
fn git_and_python_run_in_the_view() {
    let v = View::new("tools");
    let secret = v.file("secret", "s3cret\n");
    let visible = v.file("visible", "hello\n");
    let mut rules = base(&v);
    rules.push(Rule::new(Access::Hide, &secret));
    v.rules(&rules);

    if has("git") {
        assert!(ok(&v.run("git", &["--version"])).starts_with("git version"));
    } else {
        println!("SKIP: git not found");
    }
    if has("python3") {
        let script = format!(
            "import os; print(os.path.exists({s:?}), os.path.exists({v:?}), os.access({s:?}, os.F_OK))",
            s = secret.to_str().unwrap(),
            v = visible.to_str().unwrap()
        );
        assert_eq!(ok(&bare("python3", &["-c", &script])), "True True True\n");
        assert_eq!(
            ok(&v.run("python3", &["-c", &script])),
            "False True False\n"
        );
    } else {
        println!("SKIP: python3 not found");
    }
}
