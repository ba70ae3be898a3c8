//! Typed ledger entries and their canonical byte form (the Merkle leaf data).
//!
//! Canonical form (version 1): one JSON object, UTF-8, no whitespace, object keys sorted
//! by their UTF-8 bytes at every depth (including inside `details`), strings escaped as
//! `serde_json` does (`"`, `\`, control characters; non-ASCII left as UTF-8), numbers
//! as `serde_json` prints them. Top-level keys:
//!
//! `{"action":S,"actor":S,"details":V,"object":S,"purpose":S|null,"seq":U64,"time_unix_ms":U64,"v":1}`
//!
//! A verifier re-serialises every parsed entry and requires the same bytes, so exactly one
//! byte string encodes each entry.

use std::fmt;

use serde_json::Value;

use crate::error::Result;

/// Canonical-form version written in `"v"`.
pub const ENTRY_VERSION: u64 = 1;

/// What happened. The string form ([`Action::as_str`]) is what is stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// A recorded segment was sealed (its hash committed).
    SegmentSealed,
    /// A recording gap (E7).
    Gap,
    /// A segment was deleted (retention).
    SegmentDeleted,
    /// Footage was exported.
    Export,
    /// Live view.
    View,
    /// Recorded playback.
    Playback,
    /// Download / copy.
    Download,
    /// Read of classified information (E6).
    ConfidentialRead,
    /// User / role / permission change.
    AdminChange,
    /// Configuration change.
    ConfigChange,
    /// Legal hold placed (E5).
    HoldPlaced,
    /// Legal hold released (E5).
    HoldReleased,
    /// An access was refused.
    AccessDenied,
    /// The ledger repaired a torn tail on open (written by the ledger itself).
    LedgerRecovered,
    /// Anything else; parsing a known name always yields the named variant.
    Other(String),
}

const NAMED: &[(&str, Action)] = &[
    ("SegmentSealed", Action::SegmentSealed),
    ("Gap", Action::Gap),
    ("SegmentDeleted", Action::SegmentDeleted),
    ("Export", Action::Export),
    ("View", Action::View),
    ("Playback", Action::Playback),
    ("Download", Action::Download),
    ("ConfidentialRead", Action::ConfidentialRead),
    ("AdminChange", Action::AdminChange),
    ("ConfigChange", Action::ConfigChange),
    ("HoldPlaced", Action::HoldPlaced),
    ("HoldReleased", Action::HoldReleased),
    ("AccessDenied", Action::AccessDenied),
    ("LedgerRecovered", Action::LedgerRecovered),
];

impl Action {
    /// The stored string form.
    pub fn as_str(&self) -> &str {
        if let Action::Other(s) = self {
            return s;
        }
        NAMED
            .iter()
            .find(|(_, a)| a == self)
            .map(|(s, _)| *s)
            .unwrap_or("")
    }

    /// Parse the string form; unknown names become [`Action::Other`].
    pub fn parse(s: &str) -> Action {
        NAMED
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| Action::Other(s.to_string()))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entry as submitted; the ledger assigns `seq` and `time_unix_ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    /// Who (user id, service name).
    pub actor: String,
    /// What.
    pub action: Action,
    /// On what, e.g. `camera/gate-1/segment/123`.
    pub object: String,
    /// Legal basis / purpose of the access (E2), when there is one.
    pub purpose: Option<String>,
    /// Free structured details (destination, hashes, ...).
    pub details: Value,
}

impl NewEntry {
    /// Entry with empty details and no purpose.
    pub fn new(actor: impl Into<String>, action: Action, object: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            action,
            object: object.into(),
            purpose: None,
            details: Value::Null,
        }
    }
    /// Set the purpose.
    pub fn purpose(mut self, p: impl Into<String>) -> Self {
        self.purpose = Some(p.into());
        self
    }
    /// Set the details.
    pub fn details(mut self, d: Value) -> Self {
        self.details = d;
        self
    }
}

/// A recorded entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Position in the log, from 0, contiguous; equals the Merkle leaf index.
    pub seq: u64,
    /// Ledger clock when appended, Unix milliseconds.
    pub time_unix_ms: u64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: Action,
    /// On what.
    pub object: String,
    /// Legal basis.
    pub purpose: Option<String>,
    /// Details.
    pub details: Value,
}

impl Entry {
    pub(crate) fn from_new(e: NewEntry, seq: u64, time_unix_ms: u64) -> Self {
        Entry {
            seq,
            time_unix_ms,
            actor: e.actor,
            action: e.action,
            object: e.object,
            purpose: e.purpose,
            details: e.details,
        }
    }

    /// Canonical bytes: the Merkle leaf data.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        let mut s = String::with_capacity(128);
        s.push_str("{\"action\":");
        push_str_json(&mut s, self.action.as_str());
        s.push_str(",\"actor\":");
        push_str_json(&mut s, &self.actor);
        s.push_str(",\"details\":");
        push_value(&mut s, &self.details);
        s.push_str(",\"object\":");
        push_str_json(&mut s, &self.object);
        s.push_str(",\"purpose\":");
        match &self.purpose {
            Some(p) => push_str_json(&mut s, p),
            None => s.push_str("null"),
        }
        s.push_str(",\"seq\":");
        s.push_str(&self.seq.to_string());
        s.push_str(",\"time_unix_ms\":");
        s.push_str(&self.time_unix_ms.to_string());
        s.push_str(",\"v\":");
        s.push_str(&ENTRY_VERSION.to_string());
        s.push('}');
        s.into_bytes()
    }

    /// Parse canonical bytes; rejects anything that is not exactly canonical.
    pub fn from_canonical_bytes(b: &[u8]) -> Result<Self, String> {
        let v: Value = serde_json::from_slice(b).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(m) = v else {
            return Err("not a JSON object".into());
        };
        let str_field = |k: &str| -> Result<String, String> {
            match m.get(k) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(format!("field {k:?} missing or not a string")),
            }
        };
        let u64_field = |k: &str| -> Result<u64, String> {
            m.get(k)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("field {k:?} missing or not an unsigned integer"))
        };
        if u64_field("v")? != ENTRY_VERSION {
            return Err(format!("unsupported entry version (want {ENTRY_VERSION})"));
        }
        if m.len() != 8 {
            return Err(format!("expected 8 fields, found {}", m.len()));
        }
        let purpose = match m.get("purpose") {
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            _ => return Err("field \"purpose\" missing or not a string/null".into()),
        };
        let e = Entry {
            seq: u64_field("seq")?,
            time_unix_ms: u64_field("time_unix_ms")?,
            actor: str_field("actor")?,
            action: Action::parse(&str_field("action")?),
            object: str_field("object")?,
            purpose,
            details: m
                .get("details")
                .cloned()
                .ok_or("field \"details\" missing")?,
        };
        if e.to_canonical_bytes() != b {
            return Err("not in canonical form (key order, whitespace or escaping differ)".into());
        }
        Ok(e)
    }
}

fn push_str_json(out: &mut String, s: &str) {
    // serde_json's string escaping is deterministic; serialising a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// Canonical JSON of a value: keys sorted at every depth, no whitespace. Independent of
/// serde_json's `preserve_order` feature.
pub fn canonical_json(v: &Value) -> String {
    let mut s = String::new();
    push_value(&mut s, v);
    s
}

fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_str_json(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_value(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str_json(out, k);
                out.push(':');
                push_value(out, &m[k.as_str()]);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_roundtrip() {
        let e = Entry {
            seq: 7,
            time_unix_ms: 1_700_000_000_123,
            actor: "alice \"ä\"".into(),
            action: Action::Other("Custom".into()),
            object: "camera/gate-1/segment/123".into(),
            purpose: Some("case 2026-17".into()),
            details: serde_json::json!({"z": 1.5, "a": [1, {"y": null, "b": "x\n"}]}),
        };
        let b = e.to_canonical_bytes();
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            r#"{"action":"Custom","actor":"alice \"ä\"","details":{"a":[1,{"b":"x\n","y":null}],"z":1.5},"object":"camera/gate-1/segment/123","purpose":"case 2026-17","seq":7,"time_unix_ms":1700000000123,"v":1}"#
        );
        assert_eq!(Entry::from_canonical_bytes(&b).unwrap(), e);
        let spaced = String::from_utf8(b)
            .unwrap()
            .replace(",\"seq\"", ", \"seq\"");
        assert!(Entry::from_canonical_bytes(spaced.as_bytes()).is_err());
        assert_eq!(Action::parse("View"), Action::View);
        assert_eq!(Action::View.as_str(), "View");
    }
}
