//! Importer for fs_usage logs.

use super::{Builder, ImportError};

/// Parse fs_usage output into `b`.
pub fn parse(inputs: &[(String, String)], b: &mut Builder) -> Result<(), ImportError> {
    let _ = (inputs, b);
    Err(ImportError {
        file: inputs.first().map(|(n, _)| n.clone()).unwrap_or_default(),
        message: "the fs_usage importer is not implemented yet".into(),
    })
}
