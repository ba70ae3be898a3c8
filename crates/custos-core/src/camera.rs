//! Camera and stream identities. A camera's name is used in file paths and on the command line,
//! so it is restricted to a safe alphabet.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind};

/// A camera's short name: 1–64 characters of `A–Z a–z 0–9 _ - .`, not starting with `.`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CameraName(String);

impl CameraName {
    pub fn new(s: impl Into<String>) -> Result<Self, Error> {
        let s = s.into();
        let ok = !s.is_empty()
            && s.len() <= 64
            && !s.starts_with('.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !ok {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "bad camera name {s:?}: use 1-64 characters of letters, digits, '_', '-' or '.', \
                     not starting with '.'"
                ),
            ));
        }
        Ok(CameraName(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CameraName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CameraName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        CameraName::new(s)
    }
}

impl TryFrom<String> for CameraName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        CameraName::new(s)
    }
}

impl From<CameraName> for String {
    fn from(c: CameraName) -> String {
        c.0
    }
}

/// Which of a camera's streams: IP cameras usually offer a high-resolution main stream and a
/// low-resolution sub stream (for camera walls and thumbnails). Both are recorded if configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    Main,
    Sub,
}

impl StreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Main => "main",
            StreamKind::Sub => "sub",
        }
    }
}

impl fmt::Display for StreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StreamKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "main" => Ok(StreamKind::Main),
            "sub" => Ok(StreamKind::Sub),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("bad stream {s:?}: use \"main\" or \"sub\""),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_escape_a_directory_are_refused() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "名字", &"x".repeat(65)] {
            assert!(CameraName::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(CameraName::new("gate-1_east.A").is_ok());
    }
}
