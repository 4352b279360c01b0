//! Importer for kdump logs.

use super::{Builder, ImportError};

/// Parse kdump output into `b`.
pub fn parse(inputs: &[(String, String)], b: &mut Builder) -> Result<(), ImportError> {
    let _ = (inputs, b);
    Err(ImportError {
        file: inputs.first().map(|(n, _)| n.clone()).unwrap_or_default(),
        message: "the kdump importer is not implemented yet".into(),
    })
}
