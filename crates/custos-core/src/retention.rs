//! Retention classes (F1): the legal minimum time a segment must be kept. Retention is a floor,
//! never a quota: nothing may delete a segment before `end + minimum` (or while it is held).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Duration90k, Error, ErrorKind, Time90k};

/// The shortest minimum any class may have: 30 days (001 art. 20).
pub const LEGAL_FLOOR_DAYS: u32 = 30;

/// How long footage of a camera must be kept at least.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RetentionClass {
    /// 30 days: the general minimum (001 art. 20; 003 art. 28).
    #[default]
    Standard30d,
    /// 90 days: anti-terrorism key targets (003 art. 28).
    KeyTarget90d,
    /// 2 years: important public-safety information handed to the police (004 §4).
    PoliceEvidence2y,
    /// Custom number of days, never below [`LEGAL_FLOOR_DAYS`].
    CustomDays(u32),
}

impl RetentionClass {
    pub fn days(self) -> u32 {
        match self {
            RetentionClass::Standard30d => 30,
            RetentionClass::KeyTarget90d => 90,
            RetentionClass::PoliceEvidence2y => 730,
            RetentionClass::CustomDays(d) => d,
        }
    }

    pub fn minimum(self) -> Duration90k {
        Duration90k::from_secs(self.days() as i64 * 86_400)
    }

    /// The earliest instant a segment that ended at `end` may be deleted.
    pub fn deletable_after(self, end: Time90k) -> Time90k {
        end + self.minimum()
    }

    /// Builds a custom class, refusing anything below the legal floor.
    pub fn custom(days: u32) -> Result<Self, Error> {
        if days < LEGAL_FLOOR_DAYS {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "retention of {days} days is below the legal minimum of {LEGAL_FLOOR_DAYS} days \
                     (001 art. 20); use 30d, 90d, 2y or a custom number of days >= 30"
                ),
            ));
        }
        Ok(match days {
            30 => RetentionClass::Standard30d,
            90 => RetentionClass::KeyTarget90d,
            730 => RetentionClass::PoliceEvidence2y,
            d => RetentionClass::CustomDays(d),
        })
    }
}

impl fmt::Display for RetentionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetentionClass::Standard30d => f.write_str("30d"),
            RetentionClass::KeyTarget90d => f.write_str("90d"),
            RetentionClass::PoliceEvidence2y => f.write_str("2y"),
            RetentionClass::CustomDays(d) => write!(f, "{d}d"),
        }
    }
}

impl FromStr for RetentionClass {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let bad = || {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("bad retention class {s:?}; use 30d, 90d, 2y or e.g. 180d (at least 30d)"),
            )
        };
        if let Some(y) = s.strip_suffix('y') {
            let y: u32 = y.parse().map_err(|_| bad())?;
            return Self::custom(y.checked_mul(365).ok_or_else(bad)?);
        }
        let d = s.strip_suffix('d').ok_or_else(bad)?;
        Self::custom(d.parse().map_err(|_| bad())?)
    }
}

impl TryFrom<String> for RetentionClass {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<RetentionClass> for String {
    fn from(c: RetentionClass) -> String {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// F1: the classes of the regulations parse, and nothing below 30 days is accepted.
    #[test]
    fn f1_classes_and_floor() {
        assert_eq!(
            "30d".parse::<RetentionClass>().unwrap(),
            RetentionClass::Standard30d
        );
        assert_eq!(
            "90d".parse::<RetentionClass>().unwrap(),
            RetentionClass::KeyTarget90d
        );
        assert_eq!(
            "2y".parse::<RetentionClass>().unwrap(),
            RetentionClass::PoliceEvidence2y
        );
        assert_eq!("180d".parse::<RetentionClass>().unwrap().days(), 180);
        let e = "7d".parse::<RetentionClass>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.msg().contains("legal minimum"));
        assert!("banana".parse::<RetentionClass>().is_err());
    }

    #[test]
    fn f1_deletable_after_is_end_plus_minimum() {
        let end = Time90k(1_000);
        assert_eq!(
            RetentionClass::Standard30d.deletable_after(end).0,
            1_000 + 30 * 86_400 * 90_000
        );
    }
}
