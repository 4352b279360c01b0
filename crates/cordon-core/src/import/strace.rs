//! Importer for strace logs.

use super::{Builder, ImportError};

/// Parse strace output into `b`.
pub fn parse(inputs: &[(String, String)], b: &mut Builder) -> Result<(), ImportError> {
    let _ = (inputs, b);
    Err(ImportError {
        file: inputs.first().map(|(n, _)| n.clone()).unwrap_or_default(),
        message: "the strace importer is not implemented yet".into(),
    })
}
