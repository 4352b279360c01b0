// The shapes of a policy file as TOML gives them, before any check. Included by policy/load.rs
// and by build.rs (which turns the built-in profiles into these at build time); both bring
// `Deserialize`, `Spanned`, `BTreeMap` and `Class` into scope.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[allow(dead_code)]
    description: Option<String>,
    extends: Option<Vec<Spanned<String>>>,
    home: Option<Spanned<String>>,
    network: Option<bool>,
    rules: Option<Vec<Spanned<RawRule>>>,
    env: Option<RawEnv>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    ro: Option<String>,
    rw: Option<String>,
    hide: Option<String>,
    deny: Option<String>,
    empty: Option<String>,
    redirect: Option<String>,
    to: Option<String>,
    tmpfs: Option<String>,
    dev: Option<String>,
    proc: Option<String>,
    class: Option<Class>,
    why: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnv {
    clear: Option<bool>,
    unset: Option<Vec<Spanned<String>>>,
    keep: Option<Vec<Spanned<String>>>,
    set: Option<BTreeMap<String, String>>,
}

/// The offsets of the newlines in `text`, from which a span's line is found: by the loader for
/// a file, and by build.rs for each built-in profile, once.
fn newlines_of(text: &str) -> Vec<usize> {
    // match_indices finds a char with memchr, a word at a time.
    text.match_indices('\n').map(|(i, _)| i).collect()
}
