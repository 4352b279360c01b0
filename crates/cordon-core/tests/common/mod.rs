//! What the golden-file tests share.

use std::path::Path;

/// Compare `actual` with `tests/golden/<name>`; `CORDON_BLESS=1` rewrites the file instead,
/// after a deliberate change.
pub fn check_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("CORDON_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (CORDON_BLESS=1 creates it)", path.display()));
    assert_eq!(expected, actual, "{name} differs from its golden file");
}
