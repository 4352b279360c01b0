//! Unit tests of the analysis: the knowledge base, the classifier and the owner lookups.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::kb::{check_fix, glob_match, parse_pattern, Pattern};
use super::owners::{dpkg_package_name, homebrew_owner, nix_owner, spack_package};
use super::*;
use crate::policy::{Loader, Origin, Vars};
use crate::trace::{Event, Op, Verdict};

const HOME: &str = "/home/u";
const CWD: &str = "/work/proj";
const EACCES: i32 = 13;
const EROFS: i32 = 30;

fn push(p: &mut Policy, path: &str, kind: RuleKind, class: Class) {
    p.push_rule(path, kind, Some(class), None, Origin::command_line())
        .unwrap();
}

/// `ro /` (system), private /tmp, /dev, /proc, the project read-write, home kept.
fn base_policy() -> Policy {
    let mut p = Policy {
        home: Home::Keep,
        ..Policy::default()
    };
    push(&mut p, "/", RuleKind::Ro, Class::System);
    push(&mut p, "/tmp", RuleKind::Tmpfs, Class::Scratch);
    push(&mut p, "/dev", RuleKind::Dev, Class::System);
    push(&mut p, "/proc", RuleKind::Proc, Class::System);
    push(&mut p, CWD, RuleKind::Rw, Class::Declared);
    p
}

fn analyzer_with(policy: &Policy, owners: Owners) -> Analyzer {
    Analyzer::new(policy, KnowledgeBase::builtin(), Context::new(HOME), owners)
}

fn analyzer(policy: &Policy) -> Analyzer {
    analyzer_with(policy, Owners::none())
}

fn ev(op: Op, path: &str, errno: i32) -> Event {
    Event {
        seq: 0,
        t_ns: 0,
        pid: 100,
        op,
        path: path.into(),
        errno,
        verdict: Verdict::Allowed,
        syscall: "openat".into(),
    }
}

fn read(a: &Analyzer, path: &str) -> Classification {
    a.classify(&ev(Op::Read, path, 0))
}

fn breach(c: &Classification) -> &Breach {
    c.breach()
        .unwrap_or_else(|| panic!("expected a breach, got {c:?}"))
}

fn assert_kb(c: &Classification, category: Category, tool: &str, fix: &str) {
    let b = breach(c);
    assert_eq!(b.category, category, "{b:?}");
    assert_eq!(b.tool, tool, "{b:?}");
    assert_eq!(b.fix, fix, "{b:?}");
    assert!(b.pattern.is_some(), "{b:?}");
}

fn ignored(reason: Ignore) -> Classification {
    Classification::Ignored { reason }
}

/// A dpkg info dir with a few packages, as `<name>[:<arch>].list` files.
fn fake_dpkg(dir: &Path) -> Owners {
    let info = dir.join("info");
    fs::create_dir_all(&info).unwrap();
    let lists: &[(&str, &str)] = &[
        (
            "zlib1g-dev:amd64.list",
            "/.\n/usr\n/usr/include\n/usr/include/zlib.h\n/usr/include/zconf.h\n\
             /usr/lib/x86_64-linux-gnu/libz.a\n/usr/lib/x86_64-linux-gnu/libz.so\n",
        ),
        (
            "zlib1g:amd64.list",
            "/.\n/lib/x86_64-linux-gnu/libz.so.1\n/lib/x86_64-linux-gnu/libz.so.1.2.13\n",
        ),
        (
            "libc6-dev:amd64.list",
            "/usr/include/stdio.h\n/usr/include/x86_64-linux-gnu/bits/types.h\n\
             /usr/lib/x86_64-linux-gnu/libc.so\n",
        ),
        ("libc6:amd64.list", "/usr/lib/x86_64-linux-gnu/libc.so.6\n"),
        (
            "libxml2-dev:amd64.list",
            "/usr/include/libxml2/libxml/tree.h\n",
        ),
        (
            "libssl-dev:amd64.list",
            "/usr/include/x86_64-linux-gnu/openssl/opensslconf.h\n",
        ),
        ("cpp-12.list", "/usr/bin/cpp-12\n"),
    ];
    for (name, text) in lists {
        fs::write(info.join(name), text).unwrap();
    }
    fs::write(
        info.join("zlib1g-dev:amd64.md5sums"),
        "0123 usr/include/zlib.h\n",
    )
    .unwrap();
    Owners::with_roots(Roots {
        dpkg_info: Some(info),
        rpm_db: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Knowledge base

#[test]
fn kb_builtin_parses_and_every_entry_is_complete() {
    let kb = KnowledgeBase::builtin();
    assert!(kb.entries().len() > 100, "{}", kb.entries().len());
    let mut patterns = HashSet::new();
    for e in kb.entries() {
        let at = format!("{} `{}`", e.source, e.pattern);
        assert!(Category::ALL.contains(&e.category), "{at}");
        assert!(!e.tool.trim().is_empty(), "{at}: tool");
        assert!(!e.source.is_empty(), "{at}: source");
        assert!(
            e.explanation.ends_with('.'),
            "{at}: explanation ends with `.`"
        );
        assert!(
            !e.explanation.contains('\n'),
            "{at}: explanation on one line"
        );
        assert!(
            e.explanation.len() > 40,
            "{at}: explanation too short to say what and why"
        );
        check_fix(&e.fix).unwrap_or_else(|m| panic!("{at}: {m}"));
        parse_pattern(&e.pattern).unwrap_or_else(|m| panic!("{at}: {m}"));
        assert!(
            patterns.insert(e.pattern.as_str()),
            "{at}: duplicate pattern"
        );
        if e.fix.contains("${MATCHED}") {
            assert!(e.pattern.contains('*'), "{at}: ${{MATCHED}} without a glob");
        }
    }
    let tools: HashSet<&str> = kb.entries().iter().map(|e| e.tool.as_str()).collect();
    for t in [
        "git",
        "gpg",
        "ssh",
        "cmake",
        "python",
        "pip",
        "npm",
        "cargo",
        "R",
        "spack",
        "pkg-config",
        "shell",
        "curl",
        "ccache",
        "conda",
    ] {
        assert!(tools.contains(t), "no entry for {t}");
    }
    let categories: HashSet<Category> = kb.entries().iter().map(|e| e.category).collect();
    for c in [
        Category::UserConfig,
        Category::SiteConfig,
        Category::UserPackageRegistry,
        Category::UserSitePackages,
        Category::Cache,
        Category::Credentials,
        Category::SystemLibrary,
    ] {
        assert!(categories.contains(&c), "no entry of category {c}");
    }
    // The catch-alls are the only entries below the default priority.
    for e in kb.entries().iter().filter(|e| e.priority != 0) {
        assert_eq!(e.priority, -1, "{}", e.pattern);
        assert_eq!(e.source, "generic.toml", "{}", e.pattern);
    }
    assert!(kb
        .entries()
        .iter()
        .any(|e| e.pattern == "${HOME}/.*/**" && e.category == Category::UserConfig));
}

#[test]
fn kb_toolchain_parses() {
    let tc = KnowledgeBase::builtin().toolchain();
    for name in [
        "libc6-dev",
        "libc6",
        "linux-libc-dev",
        "libgcc-12-dev",
        "libgcc-s1",
        "gcc-12",
        "libstdc++-12-dev",
        "libstdc++6",
        "libcrypt-dev",
        "glibc-devel",
        "kernel-headers",
    ] {
        assert!(tc.packages.iter().any(|p| glob_match(p, name)), "{name}");
    }
    for name in [
        "zlib1g-dev",
        "libssl-dev",
        "libxml2-dev",
        "libcurl4",
        "libz",
    ] {
        assert!(!tc.packages.iter().any(|p| glob_match(p, name)), "{name}");
    }
    assert!(tc.paths.iter().any(|p| p == "/usr/lib/gcc/**"));
    assert!(tc.headers.iter().any(|h| h == "stdio.h"));
    assert!(tc.libraries.iter().any(|l| l == "libc"));
    assert_eq!(super::kb::builtin_files().count(), 17);
}

#[test]
fn kb_rejects_bad_entries() {
    let entry = |pattern: &str, category: &str, fix: &str| {
        format!(
            "[[entry]]\npattern = \"{pattern}\"\ncategory = \"{category}\"\ntool = \"t\"\n\
             explanation = \"e.\"\nfix = \"{fix}\"\n"
        )
    };
    let add = |text: String| {
        let mut kb = KnowledgeBase::from_toolchain_toml(
            "tc.toml",
            "packages = []\npaths = []\nheaders = []\nlibraries = []",
        )
        .unwrap();
        kb.add_toml("k.toml", &text).map(|_| kb)
    };
    let ok = add(entry(
        "${HOME}/.foorc",
        "user-config",
        "hide ${HOME}/.foorc",
    ))
    .unwrap();
    assert_eq!(ok.entries()[0].source, "k.toml");

    let err = add(entry("${HOME}/.foorc", "user-configuration", "hide /x")).unwrap_err();
    assert!(err.to_string().contains("k.toml"), "{err}");
    assert!(err.to_string().contains("user-configuration"), "{err}");
    let err = add(entry("${HOMEDIR}/.foorc", "cache", "hide /x")).unwrap_err();
    assert!(err.to_string().contains("unknown variable"), "{err}");
    let err = add(entry("relative/x", "cache", "hide /x")).unwrap_err();
    assert!(err.to_string().contains("absolute"), "{err}");
    let err = add(entry("/a/b**/c", "cache", "hide /x")).unwrap_err();
    assert!(err.to_string().contains("whole component"), "{err}");
    let err = add(entry("/a//c", "cache", "hide /x")).unwrap_err();
    assert!(err.to_string().contains("empty component"), "{err}");
    let err = add(entry("/a/${HOME}", "cache", "hide /x")).unwrap_err();
    assert!(err.to_string().contains("variables"), "{err}");
    let err = add(entry("/a", "cache", "remove /x")).unwrap_err();
    assert!(err.to_string().contains("fix statement"), "{err}");
    let err = add(entry("/a", "cache", "hide relative")).unwrap_err();
    assert!(err.to_string().contains("fix statement"), "{err}");
    let err = add(
        "[[entry]]\npattern = \"/a\"\ncategory = \"cache\"\ntool = \"t\"\nfix = \"hide /a\"\n"
            .into(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("explanation"), "{err}");
    let err = add(format!(
        "{}color = \"red\"\n",
        entry("/a", "cache", "hide /a")
    ))
    .unwrap_err();
    assert!(err.to_string().contains("color"), "{err}");
    let err = add(entry("/a", "cache", "env set =1")).unwrap_err();
    assert!(err.to_string().contains("fix statement"), "{err}");
    assert!(check_fix("env unset PYTHONPATH; hide ${HOME}/.x; env set A=; home fresh").is_ok());
}

#[test]
fn categories_have_stable_names() {
    let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "user-config",
            "site-config",
            "user-package-registry",
            "user-site-packages",
            "cache",
            "credentials",
            "system-header",
            "system-library",
            "undeclared-read",
            "write-outside"
        ]
    );
    for c in Category::ALL {
        assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
        assert_eq!(c.to_string(), c.as_str());
        assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
    }
    assert!("nope"
        .parse::<Category>()
        .unwrap_err()
        .contains("user-config"));
}

#[test]
fn glob_and_pattern_matching() {
    assert!(glob_match("*", ""));
    assert!(glob_match("python*", "python3.11"));
    assert!(glob_match("*.pth", "easy-install.pth"));
    assert!(glob_match("lib*.so*", "libz.so.1"));
    assert!(glob_match("a*b*c", "aXbYbZc"));
    assert!(!glob_match("*.pth", "x.pthx"));
    assert!(!glob_match("python*", "pypy3"));
    assert!(!glob_match("abc", "ab"));

    let home = |_| HOME.to_string();
    let comps = |p: &'static str| super::components(p);
    let p = Pattern::compile("${HOME}/.ssh/**", home).unwrap();
    // `**` matches zero components: the directory itself.
    assert_eq!(p.matches("/home/u/.ssh", &comps("/home/u/.ssh")), Some(3));
    assert_eq!(
        p.matches("/home/u/.ssh/a/b", &comps("/home/u/.ssh/a/b")),
        Some(3)
    );
    assert_eq!(p.matches("/home/u/.sshx", &comps("/home/u/.sshx")), None);
    let p = Pattern::compile("${HOME}/.*/**", home).unwrap();
    assert_eq!(
        p.matches("/home/u/.foo/x", &comps("/home/u/.foo/x")),
        Some(3)
    );
    assert_eq!(p.matches("/home/u/foo", &comps("/home/u/foo")), None);
    let p = Pattern::compile("/**/.cargo/config.toml", home).unwrap();
    assert!(p.floating());
    let path = "/a/b/.cargo/config.toml";
    assert_eq!(p.matches(path, &comps(path)), Some(4));
    assert_eq!(
        p.matches("/.cargo/config.toml", &comps("/.cargo/config.toml")),
        Some(2)
    );
    assert_eq!(
        p.matches("/a/.cargo/config", &comps("/a/.cargo/config")),
        None
    );
    assert_eq!(super::leading("/a/b/c", 0), "/");
    assert_eq!(super::leading("/a/b/c", 2), "/a/b");
    assert_eq!(super::leading("/a/b/c", 3), "/a/b/c");
}

#[test]
fn normalize_paths() {
    assert_eq!(super::normalize("/a/b"), "/a/b");
    assert_eq!(super::normalize("/"), "/");
    assert_eq!(super::normalize("/a//b/./c/../d/"), "/a/b/d");
    assert_eq!(super::normalize("/.."), "/");
    let a = analyzer(&base_policy());
    assert_kb(
        &read(&a, "/home/u//x/../.gitconfig"),
        Category::UserConfig,
        "git",
        "hide ${HOME}/.gitconfig",
    );
}

// ---------------------------------------------------------------------------------------------
// Knowledge-base breaches

#[test]
fn user_gitconfig_is_user_config_with_a_hide_fix() {
    let a = analyzer(&base_policy());
    let c = read(&a, "/home/u/.gitconfig");
    assert_kb(&c, Category::UserConfig, "git", "hide ${HOME}/.gitconfig");
    assert!(breach(&c).fix.starts_with("hide "));
    assert!(breach(&c).owner.is_none());
    // A stat finds it too: existence and metadata reach the build.
    assert!(a
        .classify(&ev(Op::Stat, "/home/u/.gitconfig", 0))
        .is_breach());
    assert_eq!(a.lookup("/home/u/.gitconfig").unwrap().tool, "git");
}

#[test]
fn site_gitconfig_under_ro_root_is_site_config() {
    let policy = base_policy();
    let rule = policy.rule_for(Path::new("/etc/gitconfig")).unwrap();
    assert_eq!(
        (rule.path.as_path(), rule.class),
        (Path::new("/"), Class::System)
    );
    let a = analyzer(&policy);
    assert_kb(
        &read(&a, "/etc/gitconfig"),
        Category::SiteConfig,
        "git",
        "hide /etc/gitconfig",
    );
    // The rest of /etc is the system.
    assert_eq!(read(&a, "/etc/passwd"), Classification::System);
}

#[test]
fn cmake_user_package_registry() {
    let a = analyzer(&base_policy());
    assert_kb(
        &read(&a, "/home/u/.cmake/packages/Foo/0123abcd"),
        Category::UserPackageRegistry,
        "cmake",
        "hide ${HOME}/.cmake/packages",
    );
    // Listing the registry directory is the same breach.
    assert_eq!(
        breach(&read(&a, "/home/u/.cmake/packages/Foo")).category,
        Category::UserPackageRegistry
    );
}

#[test]
fn python_user_site() {
    let a = analyzer(&base_policy());
    let c = read(
        &a,
        "/home/u/.local/lib/python3.11/site-packages/distutils-precedence.pth",
    );
    assert_kb(
        &c,
        Category::UserSitePackages,
        "python",
        "env set PYTHONNOUSERSITE=1",
    );
    assert!(breach(&c).pattern.as_deref().unwrap().ends_with("*.pth"));
    let c = read(
        &a,
        "/home/u/.local/lib/python3.13t/site-packages/numpy/__init__.py",
    );
    assert_eq!(breach(&c).category, Category::UserSitePackages);
    let c = read(
        &a,
        "/home/u/.local/lib/python3.12/site-packages/usercustomize.py",
    );
    assert!(breach(&c)
        .pattern
        .as_deref()
        .unwrap()
        .ends_with("usercustomize.py"));
    assert_kb(
        &read(&a, "/home/u/.pydistutils.cfg"),
        Category::UserConfig,
        "python",
        "hide ${HOME}/.pydistutils.cfg",
    );
}

#[test]
fn pip_npm_cargo_r_spack_and_credentials() {
    let a = analyzer(&base_policy());
    let cases: &[(&str, Category, &str)] = &[
        ("/etc/pip.conf", Category::SiteConfig, "pip"),
        ("/etc/xdg/pip/pip.conf", Category::SiteConfig, "pip"),
        ("/home/u/.config/pip/pip.conf", Category::UserConfig, "pip"),
        ("/home/u/.pip/pip.conf", Category::UserConfig, "pip"),
        ("/home/u/.cache/pip/wheels/ab/x.whl", Category::Cache, "pip"),
        ("/home/u/.npmrc", Category::UserConfig, "npm"),
        ("/etc/npmrc", Category::SiteConfig, "npm"),
        ("/usr/local/etc/npmrc", Category::SiteConfig, "npm"),
        ("/home/u/.cargo/config.toml", Category::UserConfig, "cargo"),
        ("/home/u/.cargo/config", Category::UserConfig, "cargo"),
        (
            "/home/u/.cargo/credentials.toml",
            Category::Credentials,
            "cargo",
        ),
        ("/home/u/.cargo/registry/index/x", Category::Cache, "cargo"),
        ("/home/u/.Rprofile", Category::UserConfig, "R"),
        ("/home/u/.Renviron", Category::UserConfig, "R"),
        (
            "/home/u/R/x86_64-pc-linux-gnu-library/4.3/Rcpp/DESCRIPTION",
            Category::UserSitePackages,
            "R",
        ),
        (
            "/home/u/.spack/packages.yaml",
            Category::UserConfig,
            "spack",
        ),
        ("/etc/spack/config.yaml", Category::SiteConfig, "spack"),
        ("/home/u/.netrc", Category::Credentials, "curl"),
        ("/home/u/.ssh/id_ed25519", Category::Credentials, "ssh"),
        ("/home/u/.ssh/config", Category::UserConfig, "ssh"),
        (
            "/etc/ssh/ssh_config.d/50-site.conf",
            Category::SiteConfig,
            "ssh",
        ),
        (
            "/home/u/.gnupg/private-keys-v1.d/ABCD.key",
            Category::Credentials,
            "gpg",
        ),
        ("/home/u/.gnupg/gpg.conf", Category::UserConfig, "gpg"),
        ("/home/u/.gnupg/pubring.kbx", Category::UserConfig, "gpg"),
        ("/home/u/.ccache/ccache.conf", Category::Cache, "ccache"),
        ("/home/u/.cache/ccache/a/b", Category::Cache, "ccache"),
        ("/home/u/.cache/something/x", Category::Cache, "unknown"),
        (
            "/usr/local/lib/pkgconfig/foo.pc",
            Category::SystemLibrary,
            "pkg-config",
        ),
        (
            "/home/u/.local/lib/pkgconfig/foo.pc",
            Category::UserSitePackages,
            "pkg-config",
        ),
        ("/home/u/.config/git/config", Category::UserConfig, "git"),
        (
            "/home/u/.config/git/credentials",
            Category::Credentials,
            "git",
        ),
        ("/home/u/.zshenv", Category::UserConfig, "shell"),
    ];
    for (path, category, tool) in cases {
        let c = read(&a, path);
        let b = breach(&c);
        assert_eq!(
            (b.category, b.tool.as_str()),
            (*category, *tool),
            "{path}: {b:?}"
        );
    }
    // pkg-config files of the distribution are the system.
    assert_eq!(
        read(&a, "/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc"),
        Classification::System
    );
    assert_eq!(
        read(&a, "/usr/share/pkgconfig/bash-completion.pc"),
        Classification::System
    );
}

#[test]
fn generic_dotfile_is_user_config() {
    let a = analyzer(&base_policy());
    let c = read(&a, "/home/u/.somethingrc");
    assert_kb(
        &c,
        Category::UserConfig,
        "unknown",
        "hide ${HOME}/.somethingrc",
    );
    assert_eq!(breach(&c).pattern.as_deref(), Some("${HOME}/.*/**"));
    // The fix names the top-level dotfile or dotdir.
    assert_kb(
        &read(&a, "/home/u/.foo/bar/baz"),
        Category::UserConfig,
        "unknown",
        "hide ${HOME}/.foo",
    );
    assert_kb(
        &read(&a, "/home/u/.config/foo/settings.ini"),
        Category::UserConfig,
        "unknown",
        "hide ${XDG_CONFIG_HOME}/foo",
    );
    // Not a dotfile: not in the knowledge base, and ro / makes it system.
    assert_eq!(read(&a, "/home/u/notes.txt"), Classification::System);
}

#[test]
fn fix_names_the_matched_part() {
    let a = analyzer(&base_policy());
    assert_kb(
        &read(&a, "/usr/local/lib/cmake/Foo/FooConfig.cmake"),
        Category::SystemLibrary,
        "cmake",
        "hide /usr/local/lib/cmake/Foo",
    );
    assert_kb(
        &read(&a, "/work/.cargo/config.toml"),
        Category::UserConfig,
        "cargo",
        "hide /work/.cargo/config.toml",
    );
}

#[test]
fn custom_xdg_directories() {
    let ctx = Context {
        home: HOME.into(),
        xdg_config: "/cfg".into(),
        xdg_cache: "/var/cache/u".into(),
        xdg_data: "/data/u/".into(),
    };
    let a = Analyzer::new(
        &base_policy(),
        KnowledgeBase::builtin(),
        ctx,
        Owners::none(),
    );
    assert_kb(
        &read(&a, "/cfg/git/config"),
        Category::UserConfig,
        "git",
        "hide ${XDG_CONFIG_HOME}/git",
    );
    assert_kb(
        &read(&a, "/var/cache/u/foo/bar"),
        Category::Cache,
        "unknown",
        "tmpfs ${XDG_CACHE_HOME}",
    );
    assert_kb(
        &read(&a, "/data/u/keyrings/login.keyring"),
        Category::Credentials,
        "keyring",
        "hide ${XDG_DATA_HOME}/keyrings",
    );
    // The defaults under home are then plain dotfiles.
    assert_eq!(
        breach(&read(&a, "/home/u/.config/git/config"))
            .pattern
            .as_deref(),
        Some("${HOME}/.*/**")
    );
}

#[test]
fn context_from_policy_vars() {
    let vars = Vars::new(Path::new(HOME), Path::new(CWD), |v| {
        (v == "XDG_CONFIG_HOME").then(|| "/cfg".to_string())
    });
    let ctx = Context::from_vars(&vars);
    assert_eq!(ctx.home, PathBuf::from(HOME));
    assert_eq!(ctx.xdg_config, PathBuf::from("/cfg"));
    assert_eq!(ctx.xdg_cache, PathBuf::from("/home/u/.cache"));
    assert_eq!(ctx.xdg_data, PathBuf::from("/home/u/.local/share"));
    assert_eq!(
        Context::new(HOME),
        Context::from_vars(&Vars::new(Path::new(HOME), Path::new(CWD), |_| None))
    );
}

// ---------------------------------------------------------------------------------------------
// Policy classes, writes, ignored accesses

#[test]
fn declared_input_under_a_declared_ro_rule() {
    let mut policy = base_policy();
    push(&mut policy, "/opt/zlib", RuleKind::Ro, Class::Declared);
    let a = analyzer(&policy);
    assert_eq!(
        read(&a, "/opt/zlib/include/zlib.h"),
        Classification::Declared
    );
    assert_eq!(
        read(&a, "/opt/zlib/lib/libz.so.1"),
        Classification::Declared
    );
    assert_eq!(read(&a, "/work/proj/src/main.c"), Classification::Declared);
    assert_eq!(read(&a, "/tmp/cc123.s"), Classification::Scratch);
    assert_eq!(read(&a, "/usr/bin/make"), Classification::System);
    assert_eq!(
        a.classify(&ev(Op::Exec, "/usr/bin/gcc-12", 0)),
        Classification::System
    );
}

#[test]
fn writes_outside_writable_areas() {
    let a = analyzer(&base_policy());
    let c = a.classify(&ev(Op::Write, "/usr/local/share/foo/bar.txt", 0));
    let b = breach(&c);
    assert_eq!(b.category, Category::WriteOutside);
    assert_eq!(b.tool, "build");
    assert_eq!(b.fix, "tmpfs /usr/local/share/foo");
    assert!(b.pattern.is_none());
    // Refused by the read-only mount: still the build reaching outside.
    let c = a.classify(&ev(Op::Create, "/opt/out", EROFS));
    assert_eq!(breach(&c).category, Category::WriteOutside);
    assert_eq!(breach(&c).fix, "tmpfs /opt");
    assert_eq!(
        breach(&a.classify(&ev(Op::Create, "/out", 0))).fix,
        "tmpfs /out"
    );
    for op in [Op::Delete, Op::Rename, Op::Create] {
        assert!(a.classify(&ev(op, "/etc/foo", 0)).is_breach(), "{op:?}");
    }
    // Into a known area: the tool and the area come from the knowledge base.
    let c = a.classify(&ev(Op::Write, "/home/u/.cache/ccache/a/b.o", 0));
    let b = breach(&c);
    assert_eq!(b.category, Category::WriteOutside);
    assert_eq!(b.tool, "ccache");
    assert_eq!(b.fix, "tmpfs ${XDG_CACHE_HOME}/ccache");
    assert!(b.explanation.contains("ccache returns"), "{b:?}");
    let c = a.classify(&ev(Op::Write, "/home/u/.gitconfig", 0));
    assert_eq!(breach(&c).fix, "tmpfs ${HOME}");
    // mkdir -p walking existing parents.
    assert_eq!(
        a.classify(&ev(Op::Create, "/work", 17)),
        ignored(Ignore::Failed)
    );
    // Inside writable areas.
    assert_eq!(
        a.classify(&ev(Op::Write, "/work/proj/build/main.o", 0)),
        Classification::Declared
    );
    assert_eq!(
        a.classify(&ev(Op::Create, "/tmp/ccXYZ.o", 0)),
        Classification::Scratch
    );
    // A scratch class makes even a read-only rule a place the build may write to.
    let mut policy = base_policy();
    push(&mut policy, "/stage", RuleKind::Ro, Class::Scratch);
    let a = analyzer(&policy);
    assert_eq!(
        a.classify(&ev(Op::Write, "/stage/x", 0)),
        Classification::Scratch
    );
}

#[test]
fn ignored_accesses() {
    let mut policy = base_policy();
    push(&mut policy, "/home/u/.ssh", RuleKind::Hide, Class::Declared);
    let a = analyzer(&policy);
    for p in [
        "/proc/self/maps",
        "/sys/devices/system/cpu/online",
        "/dev/null",
        "/dev",
    ] {
        assert_eq!(read(&a, p), ignored(Ignore::PseudoFilesystem), "{p}");
    }
    assert_eq!(
        a.classify(&ev(Op::Write, "/dev/null", 0)),
        ignored(Ignore::PseudoFilesystem)
    );
    // Loader and include search candidates, config files the user does not have.
    assert_eq!(
        a.classify(&ev(
            Op::Read,
            "/usr/lib/x86_64-linux-gnu/tls/libfoo.so.1",
            2
        )),
        ignored(Ignore::Absent)
    );
    assert_eq!(
        a.classify(&ev(Op::Stat, "/home/u/.gitconfig", 2)),
        ignored(Ignore::Absent)
    );
    assert_eq!(
        a.classify(&ev(Op::Exec, "/usr/local/sbin/cc", 20)),
        ignored(Ignore::Absent)
    );
    assert_eq!(
        a.classify(&ev(Op::Read, "/home/u/.netrc", EACCES)),
        ignored(Ignore::Failed)
    );
    // What the policy keeps out is still reached for: a sandboxed run's blocked attempt
    // (whatever errno the sandbox answered) and a real read of a hidden path are breaches.
    let mut hidden = ev(Op::Read, "/etc/gitconfig", 2);
    hidden.verdict = Verdict::Hidden;
    assert_eq!(breach(&a.classify(&hidden)).category, Category::SiteConfig);
    assert_eq!(
        breach(&read(&a, "/home/u/.ssh/id_rsa")).category,
        Category::Credentials
    );
    // A hidden path that was absent anyway was not consumed.
    assert_eq!(
        a.classify(&ev(Op::Read, "/home/u/.ssh/id_rsa", 2)),
        ignored(Ignore::Absent)
    );
    assert_eq!(
        a.classify(&ev(Op::Read, "relative/path", 0)),
        ignored(Ignore::Unresolved)
    );
}

#[test]
fn undeclared_reads_and_ancestors() {
    let mut policy = Policy {
        home: Home::Keep,
        ..Policy::default()
    };
    push(&mut policy, "/usr", RuleKind::Ro, Class::System);
    push(&mut policy, CWD, RuleKind::Rw, Class::Declared);
    let a = analyzer(&policy);
    let c = read(&a, "/etc/passwd");
    let b = breach(&c);
    assert_eq!(b.category, Category::UndeclaredRead);
    assert_eq!(b.tool, "build");
    assert_eq!(b.fix, "ro /etc/passwd");
    assert_eq!(
        breach(&read(&a, "/home/u/notes.txt")).fix,
        "ro ${HOME}/notes.txt"
    );
    // Directories on the way to a rule exist in the sandbox.
    for p in ["/", "/work"] {
        assert_eq!(
            a.classify(&ev(Op::Stat, p, 0)),
            ignored(Ignore::Ancestor),
            "{p}"
        );
    }
    // A known file is reported as what it is, not as a mere undeclared read.
    assert_eq!(
        breach(&read(&a, "/home/u/.gitconfig")).category,
        Category::UserConfig
    );
    // A failed lookup outside every rule is not a read.
    assert_eq!(
        a.classify(&ev(Op::Read, "/opt/x", 2)),
        ignored(Ignore::Absent)
    );
}

#[test]
fn fresh_home_is_scratch() {
    let mut policy = base_policy();
    policy.home = Home::Fresh;
    let a = analyzer(&policy);
    assert_eq!(a.rules()[0].path, PathBuf::from(HOME));
    assert_eq!(a.rules()[0].kind, RuleKind::Tmpfs);
    // Whatever is in a fresh home, the build put there.
    assert_eq!(read(&a, "/home/u/.gitconfig"), Classification::Scratch);
    assert_eq!(
        a.classify(&ev(Op::Write, "/home/u/.cache/pip/x", 0)),
        Classification::Scratch
    );
    // A home set to a directory is declared read-write; its dotfiles are still breaches.
    policy.home = Home::Path("/srv/home".into());
    let ctx = Context::new("/srv/home");
    let a = Analyzer::new(&policy, KnowledgeBase::builtin(), ctx, Owners::none());
    assert_eq!(read(&a, "/srv/home/work.txt"), Classification::Declared);
    assert_eq!(
        breach(&read(&a, "/srv/home/.gitconfig")).fix,
        "hide ${HOME}/.gitconfig"
    );
}

#[test]
fn a_rule_for_the_file_itself_is_a_declaration() {
    let mut policy = base_policy();
    push(
        &mut policy,
        "/home/u/.gitconfig",
        RuleKind::Ro,
        Class::Declared,
    );
    push(&mut policy, "/etc/pip.conf", RuleKind::Ro, Class::System);
    let a = analyzer(&policy);
    assert_eq!(read(&a, "/home/u/.gitconfig"), Classification::Declared);
    assert_eq!(read(&a, "/etc/pip.conf"), Classification::System);
    // A declared rule above the file (the whole home) does not declare it.
    let mut policy = base_policy();
    push(&mut policy, HOME, RuleKind::Rw, Class::Declared);
    let a = analyzer(&policy);
    assert_eq!(
        breach(&read(&a, "/home/u/.gitconfig")).category,
        Category::UserConfig
    );
    assert_eq!(read(&a, "/home/u/src/x.c"), Classification::Declared);
    // A private /tmp holds only what the build wrote.
    assert_eq!(read(&a, "/tmp/ssh-XXXX/agent.123"), Classification::Scratch);
}

#[test]
fn floating_patterns_respect_declared_trees() {
    let a = analyzer(&base_policy());
    assert_eq!(
        read(&a, "/work/proj/.cargo/config.toml"),
        Classification::Declared
    );
    assert_eq!(
        breach(&read(&a, "/work/.cargo/config.toml")).category,
        Category::UserConfig
    );
    assert_eq!(
        breach(&read(&a, "/.cargo/config")).fix,
        "hide /.cargo/config"
    );
}

#[test]
fn build_profile() {
    let vars = Vars::new(Path::new(HOME), Path::new(CWD), |_| None);
    let ctx = Context::from_vars(&vars);
    let mut policy = Policy::default();
    Loader::new(vars)
        .load_profile("build", &mut policy)
        .unwrap();
    let a = Analyzer::new(&policy, KnowledgeBase::builtin(), ctx, Owners::none());
    // The profiles hide these; reaching for them is still a breach of its kind.
    assert_eq!(
        breach(&read(&a, "/home/u/.gitconfig")).category,
        Category::UserConfig
    );
    assert_eq!(
        breach(&read(&a, "/etc/gitconfig")).category,
        Category::SiteConfig
    );
    assert_eq!(
        breach(&read(&a, "/home/u/.cmake/packages/Foo/x")).category,
        Category::UserPackageRegistry
    );
    assert_eq!(
        breach(&read(
            &a,
            "/home/u/.local/lib/python3.11/site-packages/x.pth"
        ))
        .category,
        Category::UserSitePackages
    );
    assert!(read(&a, "/run/user/1000/bus").is_breach());
    assert_eq!(read(&a, "/home/u/.somethingrc"), Classification::Scratch);
    assert_eq!(read(&a, "/usr/include/stdio.h"), Classification::System);
    assert_eq!(read(&a, "/work/proj/src/main.c"), Classification::Declared);
    assert_eq!(read(&a, "/tmp/x"), Classification::Scratch);
    // What the profiles do not cover is still found.
    assert_eq!(
        breach(&read(&a, "/etc/spack/packages.yaml")).category,
        Category::SiteConfig
    );

    // The analyzer's rule lookup agrees with Policy::rule_for.
    let reference = Policy {
        rules: a.rules().to_vec(),
        ..Policy::default()
    };
    let paths = [
        "/",
        "/home",
        "/home/u",
        "/home/u/.gitconfig",
        "/home/u/.gitconfigx",
        "/home/u/.config/git/x",
        "/tmp",
        "/tmp/a/b",
        "/work",
        "/work/proj",
        "/work/proj/a",
        "/work/project",
        "/run/user/1",
        "/etc/ssh",
        "/etc/ssh/ssh_config",
        "/etc/sshd",
        "/usr/lib/x",
        "/dev/null",
        "/proc/1",
    ];
    for p in paths {
        assert_eq!(
            a.rule_for(p).map(|r| (&r.path, &r.kind)),
            reference.rule_for(Path::new(p)).map(|r| (&r.path, &r.kind)),
            "{p}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// System headers and libraries

#[test]
fn headers_with_dpkg_owners() {
    let dir = tempfile::tempdir().unwrap();
    let a = analyzer_with(&base_policy(), fake_dpkg(dir.path()));
    let c = read(&a, "/usr/include/zlib.h");
    let b = breach(&c);
    assert_eq!(b.category, Category::SystemHeader);
    assert_eq!(b.tool, "cc");
    assert_eq!(b.fix, "hide /usr/include/zlib.h");
    assert_eq!(
        b.owner,
        Some(Owner {
            manager: "dpkg".into(),
            package: "zlib1g-dev".into()
        })
    );
    assert!(b.explanation.contains("zlib1g-dev (dpkg)"), "{b:?}");
    assert_eq!(read(&a, "/usr/include/stdio.h"), Classification::System);
    assert_eq!(
        read(&a, "/usr/include/x86_64-linux-gnu/bits/types.h"),
        Classification::System
    );
    assert_eq!(
        breach(&read(&a, "/usr/include/libxml2/libxml/tree.h")).fix,
        "hide /usr/include/libxml2"
    );
    assert_eq!(
        breach(&read(
            &a,
            "/usr/include/x86_64-linux-gnu/openssl/opensslconf.h"
        ))
        .fix,
        "hide /usr/include/x86_64-linux-gnu/openssl"
    );
    // Probing a header is not using it.
    assert_eq!(
        a.classify(&ev(Op::Stat, "/usr/include/zlib.h", 0)),
        Classification::System
    );
    // A rule naming the include directory is deliberate; a declared one declares.
    let mut policy = base_policy();
    push(&mut policy, "/usr/include", RuleKind::Ro, Class::System);
    let a = analyzer_with(&policy, fake_dpkg(dir.path()));
    assert_eq!(read(&a, "/usr/include/zlib.h"), Classification::System);
    let mut policy = base_policy();
    push(&mut policy, "/usr", RuleKind::Ro, Class::Declared);
    let a = analyzer_with(&policy, fake_dpkg(dir.path()));
    assert_eq!(read(&a, "/usr/include/zlib.h"), Classification::Declared);
    // `ro /usr` as system is as blanket as `ro /`.
    let mut policy = base_policy();
    push(&mut policy, "/usr", RuleKind::Ro, Class::System);
    let a = analyzer_with(&policy, fake_dpkg(dir.path()));
    assert!(read(&a, "/usr/include/zlib.h").is_breach());
}

#[test]
fn headers_without_owners() {
    let a = analyzer(&base_policy());
    for p in [
        "/usr/include/stdio.h",
        "/usr/include/x86_64-linux-gnu/bits/types.h",
        "/usr/include/x86_64-linux-gnu/sys/types.h",
        "/usr/include/linux/types.h",
        "/usr/include/asm-generic/errno.h",
        "/usr/include/c++/12/vector",
        "/usr/include/x86_64-linux-gnu/c++/12/bits/c++config.h",
        "/usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h",
    ] {
        assert_eq!(read(&a, p), Classification::System, "{p}");
    }
    let c = read(&a, "/usr/include/zlib.h");
    assert_eq!(breach(&c).category, Category::SystemHeader);
    assert_eq!(breach(&c).owner, None);
    let c = read(&a, "/usr/local/include/foo/foo.h");
    assert_eq!(breach(&c).fix, "hide /usr/local/include/foo");
}

#[test]
fn libraries() {
    let dir = tempfile::tempdir().unwrap();
    let a = analyzer_with(&base_policy(), fake_dpkg(dir.path()));
    let c = read(&a, "/usr/lib/x86_64-linux-gnu/libz.so");
    let b = breach(&c);
    assert_eq!(b.category, Category::SystemLibrary);
    assert_eq!(b.tool, "ld");
    assert_eq!(b.fix, "hide /usr/lib/x86_64-linux-gnu/libz.so");
    assert_eq!(b.owner.as_ref().unwrap().package, "zlib1g-dev");
    // A versioned name is what the loader opens to run a tool (cc1 loads libz.so.1): the
    // tool's own runtime, not an input of the build.
    assert_eq!(
        read(&a, "/usr/lib/x86_64-linux-gnu/libz.so.1"),
        Classification::System
    );
    // Listed under /lib, read under /usr/lib (merged /usr).
    assert_eq!(
        a.owner("/usr/lib/x86_64-linux-gnu/libz.so.1")
            .unwrap()
            .package,
        "zlib1g"
    );
    assert_eq!(
        breach(&read(&a, "/usr/lib/x86_64-linux-gnu/libz.a")).tool,
        "ld"
    );
    for p in [
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so",
        "/usr/lib/x86_64-linux-gnu/crt1.o",
        "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a",
        "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules",
    ] {
        assert_eq!(read(&a, p), Classification::System, "{p}");
    }
    // Without an owner: the built-in list of C library and runtime libraries.
    let a = analyzer(&base_policy());
    for p in [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30",
        "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/usr/lib/x86_64-linux-gnu/libpthread.a",
    ] {
        assert_eq!(read(&a, p), Classification::System, "{p}");
    }
    let c = read(&a, "/usr/local/lib/libfoo.so");
    assert_eq!(breach(&c).category, Category::SystemLibrary);
    assert_eq!(breach(&c).owner, None);
    // Named by a rule: deliberate.
    let mut policy = base_policy();
    push(&mut policy, "/usr/lib", RuleKind::Ro, Class::System);
    let a = analyzer_with(&policy, fake_dpkg(dir.path()));
    assert_eq!(
        read(&a, "/usr/lib/x86_64-linux-gnu/libz.so"),
        Classification::System
    );
}

/// The real dpkg database of this machine, when it has the packages.
#[test]
fn host_dpkg_headers() {
    let info = Path::new(Roots::DPKG_INFO);
    if !info.join("zlib1g-dev:amd64.list").exists() {
        eprintln!("skipped: no zlib1g-dev:amd64 in {}", info.display());
        return;
    }
    let a = analyzer_with(&base_policy(), Owners::detect());
    let c = read(&a, "/usr/include/zlib.h");
    let b = breach(&c);
    assert_eq!(b.category, Category::SystemHeader);
    assert_eq!(b.owner.as_ref().unwrap().package, "zlib1g-dev");
    assert_eq!(b.owner.as_ref().unwrap().manager, "dpkg");
    if info.join("libc6-dev:amd64.list").exists() {
        assert_eq!(read(&a, "/usr/include/stdio.h"), Classification::System);
        assert_eq!(
            a.owner("/usr/include/stdio.h").unwrap().package,
            "libc6-dev"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Owners

#[test]
fn owners_dpkg() {
    let dir = tempfile::tempdir().unwrap();
    let owners = fake_dpkg(dir.path());
    let owner = |p: &str| owners.owner(Path::new(p)).map(|o| (o.manager, o.package));
    let dpkg = |p: &str| Some(("dpkg".to_string(), p.to_string()));
    assert_eq!(owner("/usr/include/zlib.h"), dpkg("zlib1g-dev"));
    assert_eq!(owner("/lib/x86_64-linux-gnu/libz.so.1"), dpkg("zlib1g"));
    assert_eq!(owner("/usr/lib/x86_64-linux-gnu/libz.so.1"), dpkg("zlib1g"));
    assert_eq!(owner("/lib/x86_64-linux-gnu/libc.so.6"), dpkg("libc6"));
    assert_eq!(owner("/usr/bin/cpp-12"), dpkg("cpp-12"));
    assert_eq!(owner("/bin/cpp-12"), dpkg("cpp-12"));
    assert_eq!(owner("/usr/include/nothing.h"), None);
    assert_eq!(owner("/usr/share/lib/x"), None);
    assert_eq!(dpkg_package_name("zlib1g-dev:amd64"), "zlib1g-dev");
    assert_eq!(dpkg_package_name("gcc-12"), "gcc-12");
    // No database at all.
    let none = Owners::with_roots(Roots {
        dpkg_info: Some(dir.path().join("missing")),
        rpm_db: None,
    });
    assert_eq!(none.owner(Path::new("/usr/include/zlib.h")), None);
}

#[test]
fn owners_spack() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("opt/spack/linux-x86_64/zlib-1.3.1-abcdef");
    fs::create_dir_all(prefix.join(".spack")).unwrap();
    fs::create_dir_all(prefix.join("include")).unwrap();
    fs::write(
        prefix.join(".spack/spec.json"),
        r#"{"spec": {"_meta": {"version": 4}, "nodes": [
            {"name": "zlib", "version": "1.3.1", "arch": {"platform": "linux"}, "hash": "abcdef"},
            {"name": "gmake", "version": "4.4.1"}]}}"#,
    )
    .unwrap();
    let owners = Owners::none();
    let zlib = Owner {
        manager: "spack".into(),
        package: "zlib@1.3.1".into(),
    };
    let expected = Some(zlib.clone());
    assert_eq!(owners.owner(&prefix.join("include/zlib.h")), expected);
    assert_eq!(
        owners.owner(&prefix.join("lib/pkgconfig/zlib.pc")),
        expected
    );
    // Answered from the cache the second time, the same way.
    assert_eq!(owners.owner(&prefix.join("include/zconf.h")), expected);
    assert_eq!(zlib.name(), "zlib");
    assert_eq!(owners.owner(&dir.path().join("opt/other/x.h")), None);
    // A spec.json that cannot be read names the package by its directory.
    let broken = dir.path().join("opt/spack/foo-1.0-xyz");
    fs::create_dir_all(broken.join(".spack")).unwrap();
    fs::write(broken.join(".spack/spec.json"), "{").unwrap();
    assert_eq!(
        owners.owner(&broken.join("bin/foo")).unwrap().package,
        "foo-1.0-xyz"
    );
    assert_eq!(
        spack_package(r#"{"spec":{"nodes":[{"name":"x"}]}}"#).as_deref(),
        Some("x")
    );

    // An undeclared read of a Spack package names it.
    let mut policy = Policy {
        home: Home::Keep,
        ..Policy::default()
    };
    push(&mut policy, "/usr", RuleKind::Ro, Class::System);
    let a = analyzer_with(&policy, owners);
    let path = prefix.join("include/zlib.h");
    let c = read(&a, path.to_str().unwrap());
    let b = breach(&c);
    assert_eq!(b.category, Category::UndeclaredRead);
    assert_eq!(b.owner.as_ref().unwrap().package, "zlib@1.3.1");
    assert!(b.explanation.contains("zlib@1.3.1 (spack)"), "{b:?}");
}

#[test]
fn owners_conda() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("miniconda3");
    fs::create_dir_all(env.join("conda-meta")).unwrap();
    fs::write(
        env.join("conda-meta/zlib-1.2.13-h5eee18b_0.json"),
        r#"{"name": "zlib", "version": "1.2.13", "files": ["include/zlib.h", "lib/libz.so.1"]}"#,
    )
    .unwrap();
    fs::write(
        env.join("conda-meta/python-3.11.5-h0.json"),
        r#"{"name": "python", "version": "3.11.5", "files": ["bin/python3.11"]}"#,
    )
    .unwrap();
    fs::write(env.join("conda-meta/history"), "not json").unwrap();
    let nested = env.join("envs/build");
    fs::create_dir_all(nested.join("conda-meta")).unwrap();
    fs::write(
        nested.join("conda-meta/zstd-1.5.json"),
        r#"{"name": "zstd", "files": ["include/zstd.h"]}"#,
    )
    .unwrap();
    let owners = Owners::none();
    let owner = |p: PathBuf| owners.owner(&p).map(|o| (o.manager, o.package));
    let conda = |p: &str| Some(("conda".to_string(), p.to_string()));
    assert_eq!(owner(env.join("include/zlib.h")), conda("zlib"));
    assert_eq!(owner(env.join("lib/libz.so.1")), conda("zlib"));
    assert_eq!(owner(env.join("bin/python3.11")), conda("python"));
    assert_eq!(owner(env.join("include/unowned.h")), None);
    assert_eq!(owner(nested.join("include/zstd.h")), conda("zstd"));
    assert_eq!(owner(nested.join("include/zlib.h")), None);
}

#[test]
fn owners_nix_and_homebrew() {
    let hash = "0123456789abcdfghijklmnpqrsvwxyz";
    assert_eq!(hash.len(), 32);
    let owners = Owners::none();
    let o = owners
        .owner(Path::new(&format!(
            "/nix/store/{hash}-zlib-1.3.1-dev/include/zlib.h"
        )))
        .unwrap();
    assert_eq!(
        (o.manager.as_str(), o.package.as_str()),
        ("nix", "zlib-1.3.1-dev")
    );
    assert_eq!(o.to_string(), "zlib-1.3.1-dev (nix)");
    assert_eq!(nix_owner("/nix/store/short-zlib/x"), None);
    assert_eq!(
        nix_owner(&format!("/nix/store/{}-zlib/x", "A".repeat(32))),
        None
    );
    assert_eq!(nix_owner(&format!("/nix/store/{hash}")), None);
    assert_eq!(nix_owner("/usr/include/zlib.h"), None);

    let o = owners
        .owner(Path::new("/opt/homebrew/Cellar/zlib/1.3.1/include/zlib.h"))
        .unwrap();
    assert_eq!(
        (o.manager.as_str(), o.package.as_str()),
        ("homebrew", "zlib")
    );
    assert_eq!(
        homebrew_owner("/usr/local/Cellar/openssl@3/3.2.0/lib/libssl.3.dylib")
            .unwrap()
            .package,
        "openssl@3"
    );
    assert_eq!(homebrew_owner("/usr/local/Cellar/zlib"), None);
}

#[test]
fn rpm_database_without_rpm_is_skipped_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let owners = Owners::with_roots(Roots {
        dpkg_info: None,
        rpm_db: Some(dir.path().to_path_buf()),
    });
    // Whether or not an rpm program exists, an empty database owns nothing.
    assert_eq!(owners.owner(Path::new("/usr/include/zlib.h")), None);
    assert_eq!(owners.owner(Path::new("/usr/include/zlib.h")), None);
    assert_eq!(owners.roots().rpm_db.as_deref(), Some(dir.path()));
}

// ---------------------------------------------------------------------------------------------
// Output and scale

#[test]
fn classifications_serialize() {
    let a = analyzer(&base_policy());
    let c = read(&a, "/home/u/.gitconfig");
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["class"], "breach");
    assert_eq!(json["category"], "user-config");
    assert_eq!(json["tool"], "git");
    assert_eq!(json["fix"], "hide ${HOME}/.gitconfig");
    let back: Classification = serde_json::from_value(json).unwrap();
    assert_eq!(back, c);
    assert_eq!(
        serde_json::to_value(ignored(Ignore::PseudoFilesystem)).unwrap(),
        serde_json::json!({"class": "ignored", "reason": "pseudo-filesystem"})
    );
    assert_eq!(
        serde_json::to_value(Classification::System).unwrap(),
        serde_json::json!({"class": "system"})
    );
}

#[test]
fn analyzer_is_shareable() {
    fn sync_send<T: Sync + Send>() {}
    sync_send::<Analyzer>();
    sync_send::<Owners>();
}

#[test]
fn classifies_a_hundred_thousand_events() {
    let a = analyzer_with(&base_policy(), Owners::detect());
    let paths = [
        (Op::Read, "/usr/include/stdio.h", 0),
        (Op::Read, "/usr/include/zlib.h", 0),
        (Op::Read, "/usr/lib/x86_64-linux-gnu/libz.so.1", 0),
        (Op::Read, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0),
        (Op::Stat, "/usr/bin/cc", 0),
        (Op::Exec, "/usr/bin/make", 0),
        (Op::Read, "/home/u/.gitconfig", 0),
        (Op::Read, "/home/u/.config/foo/bar", 0),
        (
            Op::Read,
            "/home/u/.local/lib/python3.11/site-packages/a.pth",
            0,
        ),
        (Op::Read, "/work/proj/src/main.c", 0),
        (Op::Write, "/work/proj/build/main.o", 0),
        (Op::Create, "/tmp/cc.s", 0),
        (Op::Write, "/usr/local/share/x", 0),
        (Op::Read, "/proc/self/maps", 0),
        (Op::Read, "/usr/lib/x86_64-linux-gnu/tls/libfoo.so", 2),
        (Op::Read, "/etc/ld.so.cache", 0),
    ];
    let events: Vec<Event> = (0..100_000u64)
        .map(|i| {
            let (op, p, errno) = paths[(i as usize * 7) % paths.len()];
            // Vary the paths so caches do not answer everything.
            let path = if i % 3 == 0 {
                format!("/work/proj/src/f{}.c", i % 5000)
            } else {
                p.to_string()
            };
            let mut e = ev(op, &path, errno);
            e.seq = i;
            e
        })
        .collect();
    let t0 = std::time::Instant::now();
    a.owner("/usr/include/zlib.h");
    eprintln!("owner db warm-up: {:?}", t0.elapsed());
    let start = std::time::Instant::now();
    let mut breaches = 0;
    let mut declared = 0;
    for e in &events {
        match a.classify(e) {
            Classification::Breach(_) => breaches += 1,
            Classification::Declared => declared += 1,
            _ => {}
        }
    }
    eprintln!(
        "classified {} events in {:?}: {breaches} breaches, {declared} declared",
        events.len(),
        start.elapsed()
    );
    assert!(breaches > 0 && declared > 33_000);
}
