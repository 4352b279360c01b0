//! Parses the built-in profiles at build time into the code that makes their raw form, so
//! that no `cordon run` spends its start parsing TOML it was shipped with (about a tenth of
//! it), and a broken profile fails the build instead of a run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

/// Mirrors `policy::Class`; a class the profiles use that this lacks fails the build.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Class {
    Declared,
    System,
    Scratch,
}

include!("src/policy/raw.rs");

/// Rust source that builds the same value.
trait Code {
    fn code(&self) -> String;
}

impl Code for String {
    fn code(&self) -> String {
        // Debug escapes a string as a valid Rust literal.
        format!("String::from({self:?})")
    }
}

impl Code for bool {
    fn code(&self) -> String {
        self.to_string()
    }
}

impl Code for Class {
    fn code(&self) -> String {
        format!("Class::{self:?}")
    }
}

impl<T: Code> Code for Option<T> {
    fn code(&self) -> String {
        match self {
            Some(v) => format!("Some({})", v.code()),
            None => "None".into(),
        }
    }
}

impl<T: Code> Code for Vec<T> {
    fn code(&self) -> String {
        let items: Vec<String> = self.iter().map(Code::code).collect();
        format!("vec![{}]", items.join(", "))
    }
}

impl<T: Code> Code for Spanned<T> {
    fn code(&self) -> String {
        let s = self.span();
        format!(
            "Spanned::new({}..{}, {})",
            s.start,
            s.end,
            self.get_ref().code()
        )
    }
}

impl Code for BTreeMap<String, String> {
    fn code(&self) -> String {
        let items: Vec<String> = self
            .iter()
            .map(|(k, v)| format!("({}, {})", k.code(), v.code()))
            .collect();
        format!("BTreeMap::from([{}])", items.join(", "))
    }
}

impl Code for RawRule {
    fn code(&self) -> String {
        format!(
            "RawRule {{ ro: {}, rw: {}, hide: {}, deny: {}, empty: {}, redirect: {}, to: {}, \
             tmpfs: {}, dev: {}, proc: {}, class: {}, why: {} }}",
            self.ro.code(),
            self.rw.code(),
            self.hide.code(),
            self.deny.code(),
            self.empty.code(),
            self.redirect.code(),
            self.to.code(),
            self.tmpfs.code(),
            self.dev.code(),
            self.proc.code(),
            self.class.code(),
            self.why.code()
        )
    }
}

impl Code for RawEnv {
    fn code(&self) -> String {
        format!(
            "RawEnv {{ clear: {}, unset: {}, keep: {}, set: {} }}",
            self.clear.code(),
            self.unset.code(),
            self.keep.code(),
            self.set.code()
        )
    }
}

impl Code for RawPolicy {
    fn code(&self) -> String {
        format!(
            "RawPolicy {{ description: {}, extends: {}, home: {}, network: {}, rules: {}, \
             env: {} }}",
            self.description.code(),
            self.extends.code(),
            self.home.code(),
            self.network.code(),
            self.rules.code(),
            self.env.code()
        )
    }
}

/// The built-in profiles, in the order `cordon profiles` lists them.
const PROFILES: &[&str] = &[
    "build", "git", "gpg", "cmake", "python", "pip", "ssh", "npm",
];

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles");
    let out_dir = Path::new(&std::env::var("OUT_DIR").unwrap()).to_path_buf();
    let mut table = String::from(
        "/// Each built-in profile's name and text.\nconst PROFILES: &[(&str, &str)] = &[\n",
    );
    let mut out = String::from(
        "/// The raw form of a built-in profile, as parsing its text gives it, and the offsets of\n\
         /// the text's newlines (for the lines of its rules).\n\
         fn raw_profile(name: &str) -> Option<(RawPolicy, &'static [usize])> {\n    match name {\n",
    );
    for name in PROFILES {
        let path = dir.join(format!("{name}.toml"));
        writeln!(
            table,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
        println!("cargo:rerun-if-changed={}", path.display());
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let raw: RawPolicy = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("profile {name} ({}): {e}", path.display()));
        let newlines = newlines_of(&text);
        writeln!(
            out,
            "        {name:?} => Some(({}, &{newlines:?})),",
            raw.code()
        )
        .unwrap();
    }
    out.push_str("        _ => None,\n    }\n}\n");
    println!("cargo:rerun-if-changed=src/policy/raw.rs");
    table.push_str("];\n");
    std::fs::write(out_dir.join("profile_texts.rs"), table).unwrap();
    std::fs::write(out_dir.join("raw_profiles.rs"), out).unwrap();
}
