//! Time in 90 kHz units, the clock rate of H.264/H.265 over RTP. Every timestamp custos stores
//! is an `i64` count of 1/90 000 s; database columns carrying one end in `_90k`.
//!
//! [`Time90k`] is a wall-clock instant (since the Unix epoch, UTC). [`Duration90k`] is a span.
//! Media (RTP-derived) times are also carried as 90 kHz counts but are never mixed with wall
//! times without an explicit anchor (see `custos-ingest`'s timing).

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind};

/// Ticks per second.
pub const HZ: i64 = 90_000;

/// A wall-clock instant in 90 kHz units since 1970-01-01T00:00:00Z.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Time90k(pub i64);

/// A signed span in 90 kHz units.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Duration90k(pub i64);

impl Time90k {
    pub const MIN: Time90k = Time90k(i64::MIN);
    pub const MAX: Time90k = Time90k(i64::MAX);

    pub fn from_unix_nanos(nanos: i128) -> Self {
        Time90k((nanos * HZ as i128 / 1_000_000_000) as i64)
    }

    pub fn from_system_time(t: std::time::SystemTime) -> Self {
        let nanos = match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        Self::from_unix_nanos(nanos)
    }

    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        let nanos = dt.timestamp() as i128 * 1_000_000_000 + dt.timestamp_subsec_nanos() as i128;
        Self::from_unix_nanos(nanos)
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        let secs = self.0.div_euclid(HZ);
        let rem = self.0.rem_euclid(HZ);
        Utc.timestamp_opt(secs, (rem * 1_000_000_000 / HZ) as u32)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Parses an RFC 3339 timestamp such as `2026-11-27T08:00:00Z` or `…+08:00`.
    pub fn parse_rfc3339(s: &str) -> Result<Self, Error> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|d| Self::from_datetime(d.with_timezone(&Utc)))
            .map_err(|e| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "bad time {s:?}: {e}; write it as RFC 3339, e.g. 2026-11-27T08:00:00+08:00"
                    ),
                )
            })
    }

    /// RFC 3339 in UTC with millisecond precision.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(HZ)
    }
}

/// A stored `*_90k` column read back (the store's row types decode through this).
impl From<i64> for Time90k {
    fn from(v: i64) -> Self {
        Time90k(v)
    }
}

impl fmt::Display for Time90k {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Duration90k {
    pub const fn from_secs(s: i64) -> Self {
        Duration90k(s * HZ)
    }
    pub const fn from_millis(ms: i64) -> Self {
        Duration90k(ms * HZ / 1000)
    }
    pub fn from_std(d: std::time::Duration) -> Self {
        Duration90k((d.as_nanos() * HZ as u128 / 1_000_000_000) as i64)
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / HZ as f64
    }
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos((self.0.max(0) as u128 * 1_000_000_000 / HZ as u128) as u64)
    }
}

impl fmt::Display for Duration90k {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

impl Add<Duration90k> for Time90k {
    type Output = Time90k;
    fn add(self, d: Duration90k) -> Time90k {
        Time90k(self.0.saturating_add(d.0))
    }
}
impl Sub<Duration90k> for Time90k {
    type Output = Time90k;
    fn sub(self, d: Duration90k) -> Time90k {
        Time90k(self.0.saturating_sub(d.0))
    }
}
impl Sub for Time90k {
    type Output = Duration90k;
    fn sub(self, o: Time90k) -> Duration90k {
        Duration90k(self.0.saturating_sub(o.0))
    }
}
impl Add for Duration90k {
    type Output = Duration90k;
    fn add(self, o: Duration90k) -> Duration90k {
        Duration90k(self.0 + o.0)
    }
}
impl AddAssign<Duration90k> for Time90k {
    fn add_assign(&mut self, d: Duration90k) {
        self.0 = self.0.saturating_add(d.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_with_offset() {
        let t = Time90k::parse_rfc3339("2026-11-27T16:00:00+08:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-27T08:00:00.000Z");
        assert_eq!(t.unix_seconds() * HZ, t.0);
    }

    #[test]
    fn bad_time_names_the_format() {
        let e = Time90k::parse_rfc3339("yesterday").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.msg().contains("RFC 3339"), "{e}");
    }

    #[test]
    fn negative_times_floor() {
        assert_eq!(Time90k(-1).unix_seconds(), -1);
    }
}
