//! Where things live in a data directory. A person can find a camera's footage by name, day
//! and time without the database:
//!
//! ```text
//! DATA/
//!   custos.db                      metadata (SQLite, WAL)
//!   footage/<camera>/<stream>/<YYYY-MM-DD>/<HHMMSS.mmm>Z.mp4   e.g. footage/gate-1/main/2026-11-27/080000.040Z.mp4
//! ```
//!
//! Dates and times in names are UTC; a segment file is a self-contained fragmented MP4 that any
//! player opens.

use std::path::{Path, PathBuf};

use custos_core::camera::{CameraName, StreamKind};
use custos_core::{Error, Result, Time90k};

#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

/// A data directory is its root path (so [`custos_journal::Journal::open`] takes one).
impl AsRef<Path> for DataDir {
    fn as_ref(&self) -> &Path {
        &self.root
    }
}

impl DataDir {
    /// Creates the directory (and `footage/`) if needed.
    pub fn create(root: &Path) -> Result<DataDir> {
        std::fs::create_dir_all(root.join("footage"))
            .map_err(|e| Error::io(format!("creating data directory {}", root.display()), e))?;
        Ok(DataDir {
            root: root.to_path_buf(),
        })
    }

    /// Opens an existing data directory; NotFound if it has no database.
    pub fn open_existing(root: &Path) -> Result<DataDir> {
        let d = DataDir {
            root: root.to_path_buf(),
        };
        if !d.db_path().exists() {
            return Err(Error::new(
                custos_core::ErrorKind::NotFound,
                format!(
                    "{} is not a custos data directory (no custos.db); pass --data DIR of a recording, \
                     or record first with `custos record` or `custos demo`",
                    root.display()
                ),
            ));
        }
        Ok(d)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join("custos.db")
    }

    pub fn footage_dir(&self) -> PathBuf {
        self.root.join("footage")
    }

    /// The relative path of a new segment.
    pub fn segment_rel_path(camera: &CameraName, stream: StreamKind, start: Time90k) -> String {
        let dt = start.to_datetime();
        format!(
            "footage/{camera}/{stream}/{}/{}Z.mp4",
            dt.format("%Y-%m-%d"),
            dt.format("%H%M%S%.3f")
        )
    }

    /// Camera and stream named by a segment's relative path, if it follows the layout.
    pub fn parse_rel_path(rel: &str) -> Option<(CameraName, StreamKind)> {
        let mut parts = rel.split('/');
        if parts.next()? != "footage" {
            return None;
        }
        let cam = CameraName::new(parts.next()?).ok()?;
        let kind = parts.next()?.parse().ok()?;
        Some((cam, kind))
    }

    pub fn abs(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}
