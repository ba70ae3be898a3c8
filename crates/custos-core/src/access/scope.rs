//! Scopes (E1: "organisation, area, device"): the hierarchy organisation ⊃ system ⊃ area ⊃
//! camera, modelled as a path of ids so "this camera is inside that scope" is a prefix test.
//!
//! Ids are only unique within their parent, so a scope always carries the full path: system
//! `s1` of organisation `a` is not system `s1` of organisation `b`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind};

/// A node of the hierarchy, named by its full path. Written `org`, `org/system`,
/// `org/system/area` or `org/system/area/camera` (see [`FromStr`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Organisation {
        org: String,
    },
    System {
        org: String,
        system: String,
    },
    Area {
        org: String,
        system: String,
        area: String,
    },
    Camera {
        org: String,
        system: String,
        area: String,
        camera: String,
    },
}

/// Where a camera sits: the full path down to it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Placement {
    pub org: String,
    pub system: String,
    pub area: String,
    pub camera: String,
}

/// The level of a scope, from widest to narrowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Organisation,
    System,
    Area,
    Camera,
}

impl Placement {
    pub fn new(
        org: impl Into<String>,
        system: impl Into<String>,
        area: impl Into<String>,
        camera: impl Into<String>,
    ) -> Self {
        Placement {
            org: org.into(),
            system: system.into(),
            area: area.into(),
            camera: camera.into(),
        }
    }

    /// The camera-level scope naming exactly this camera.
    pub fn scope(&self) -> Scope {
        Scope::Camera {
            org: self.org.clone(),
            system: self.system.clone(),
            area: self.area.clone(),
            camera: self.camera.clone(),
        }
    }
}

impl From<Placement> for Scope {
    fn from(p: Placement) -> Scope {
        Scope::Camera {
            org: p.org,
            system: p.system,
            area: p.area,
            camera: p.camera,
        }
    }
}

impl Scope {
    pub fn organisation(org: impl Into<String>) -> Self {
        Scope::Organisation { org: org.into() }
    }

    pub fn system(org: impl Into<String>, system: impl Into<String>) -> Self {
        Scope::System {
            org: org.into(),
            system: system.into(),
        }
    }

    pub fn area(
        org: impl Into<String>,
        system: impl Into<String>,
        area: impl Into<String>,
    ) -> Self {
        Scope::Area {
            org: org.into(),
            system: system.into(),
            area: area.into(),
        }
    }

    pub fn camera(p: &Placement) -> Self {
        p.scope()
    }

    pub fn level(&self) -> Level {
        match self {
            Scope::Organisation { .. } => Level::Organisation,
            Scope::System { .. } => Level::System,
            Scope::Area { .. } => Level::Area,
            Scope::Camera { .. } => Level::Camera,
        }
    }

    /// The path from the organisation down, 1–4 ids.
    pub fn path(&self) -> Vec<&str> {
        match self {
            Scope::Organisation { org } => vec![org],
            Scope::System { org, system } => vec![org, system],
            Scope::Area { org, system, area } => vec![org, system, area],
            Scope::Camera {
                org,
                system,
                area,
                camera,
            } => vec![org, system, area, camera],
        }
    }

    /// `self` is `other` or one of its ancestors: everything inside `other` is inside `self`.
    pub fn covers(&self, other: &Scope) -> bool {
        let (mine, theirs) = (self.path(), other.path());
        mine.len() <= theirs.len() && mine.iter().zip(&theirs).all(|(a, b)| a == b)
    }

    /// The camera at `p` is inside this scope.
    pub fn contains(&self, p: &Placement) -> bool {
        self.covers(&p.scope())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path().join("/"))
    }
}

/// Parses `org[/system[/area[/camera]]]`; every id is non-empty and contains no `/`.
impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "bad scope {s:?}: write org, org/system, org/system/area or \
                     org/system/area/camera with non-empty ids"
                ),
            )
        };
        if parts.iter().any(|p| p.trim().is_empty() || *p != p.trim()) {
            return Err(bad());
        }
        Ok(match parts.as_slice() {
            [o] => Scope::organisation(*o),
            [o, s] => Scope::system(*o, *s),
            [o, s, a] => Scope::area(*o, *s, *a),
            [o, s, a, c] => Placement::new(*o, *s, *a, *c).scope(),
            _ => return Err(bad()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E1: scopes nest organisation ⊃ system ⊃ area ⊃ camera.
    #[test]
    fn e1_scope_containment_is_a_path_prefix() {
        let cam = Placement::new("o", "s", "a", "c");
        assert!(Scope::organisation("o").contains(&cam));
        assert!(Scope::system("o", "s").contains(&cam));
        assert!(Scope::area("o", "s", "a").contains(&cam));
        assert!(cam.scope().contains(&cam));
        assert!(!Scope::organisation("o2").contains(&cam));
        assert!(!Scope::system("o", "s2").contains(&cam));
        // Same system id in another organisation is another system.
        assert!(!Scope::system("o2", "s").contains(&cam));
        assert!(!Scope::area("o", "s", "a2").contains(&cam));
        assert!(!Placement::new("o", "s", "a", "c2").scope().contains(&cam));
        // A narrower scope does not cover a wider one.
        assert!(!Scope::area("o", "s", "a").covers(&Scope::system("o", "s")));
        assert!(Scope::system("o", "s").covers(&Scope::area("o", "s", "a")));
    }

    #[test]
    fn e1_scope_parses_and_prints() {
        for s in ["o", "o/s", "o/s/a", "o/s/a/c"] {
            let scope: Scope = s.parse().unwrap();
            assert_eq!(scope.to_string(), s);
            assert_eq!(scope.path().len(), s.split('/').count());
        }
        assert_eq!("o/s".parse::<Scope>().unwrap().level(), Level::System);
        for bad in ["", "/", "o//a", "o/s/a/c/x", " o", "o/"] {
            let e = bad.parse::<Scope>().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
        }
    }
}
