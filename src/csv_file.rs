//! Uploaded CSV files (the users inventory, the manager mapping): the row-level problem type
//! the pages show, and on the server the size and encoding checks and the capped error list
//! every importer shares.

use serde::{Deserialize, Serialize};

/// A problem in an imported file: line 1 is the header row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: usize,
    pub column: Option<String>,
    pub message: String,
}

/// Largest accepted file.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Most rows accepted.
pub const MAX_ROWS: usize = 50_000;
/// Most errors reported (the count of the rest is given).
pub const MAX_ERRORS: usize = 200;

/// Why a file was refused: every problem found, capped at [`MAX_ERRORS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub errors: Vec<RowError>,
    pub more: usize,
}

/// Problems found so far, capped at [`MAX_ERRORS`].
#[derive(Debug, Default)]
pub struct Errors {
    pub list: Vec<RowError>,
    pub more: usize,
}

impl Errors {
    pub fn into_rejected(self) -> Rejected {
        Rejected {
            errors: self.list,
            more: self.more,
        }
    }

    pub fn push(&mut self, line: usize, column: Option<&str>, message: impl Into<String>) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(RowError {
                line,
                column: column.map(str::to_string),
                message: message.into(),
            });
        } else {
            self.more += 1;
        }
    }
}

/// The text of an uploaded CSV file: at most [`MAX_BYTES`], UTF-8, without a byte order mark.
pub fn decode(bytes: &[u8]) -> Result<&str, Rejected> {
    let refuse = |message: String| Rejected {
        errors: vec![RowError {
            line: 0,
            column: None,
            message,
        }],
        more: 0,
    };
    if bytes.len() > MAX_BYTES {
        return Err(refuse(format!(
            "the file is larger than {} KiB",
            MAX_BYTES / 1024
        )));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes)
        .map_err(|_| refuse("the file is not UTF-8 text (save it as CSV UTF-8)".into()))
}
