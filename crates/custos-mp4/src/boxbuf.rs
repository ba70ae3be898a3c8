//! A growable buffer of boxes with size fix-ups.

use std::io;

/// Unity transformation matrix of `mvhd` / `tkhd`.
pub(crate) const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// Seconds from 1904-01-01 (MP4 epoch) to 1970-01-01 (Unix epoch).
pub(crate) const MP4_EPOCH_OFFSET: i64 = 2_082_844_800;

#[derive(Default)]
pub(crate) struct BoxBuf {
    pub(crate) buf: Vec<u8>,
}

impl BoxBuf {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Starts a box; returns its start for [`BoxBuf::close`].
    pub(crate) fn open(&mut self, typ: &[u8; 4]) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.buf.extend_from_slice(typ);
        start
    }

    /// Starts a full box (version + flags).
    pub(crate) fn open_full(&mut self, typ: &[u8; 4], version: u8, flags: u32) -> usize {
        let start = self.open(typ);
        self.u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
        start
    }

    /// Ends the box started at `start`, writing its 32-bit size.
    pub(crate) fn close(&mut self, start: usize) -> io::Result<()> {
        let size = self.buf.len().saturating_sub(start);
        let size = u32::try_from(size).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "box larger than 4 GiB (too many samples)",
            )
        })?;
        if let Some(dst) = self.buf.get_mut(start..start + 4) {
            dst.copy_from_slice(&size.to_be_bytes());
        }
        Ok(())
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    pub(crate) fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }
    pub(crate) fn matrix(&mut self) {
        for v in MATRIX {
            self.u32(v);
        }
    }

    /// `hdlr` for a video track.
    pub(crate) fn hdlr_vide(&mut self) -> io::Result<()> {
        let b = self.open_full(b"hdlr", 0, 0);
        self.u32(0); // pre_defined
        self.bytes(b"vide");
        self.zeros(12);
        self.bytes(b"VideoHandler\0");
        self.close(b)
    }

    /// `vmhd` + `dinf(dref(url self-contained))`.
    pub(crate) fn vmhd_dinf(&mut self) -> io::Result<()> {
        let v = self.open_full(b"vmhd", 0, 1);
        self.u16(0); // graphicsmode
        self.zeros(6); // opcolor
        self.close(v)?;
        let dinf = self.open(b"dinf");
        let dref = self.open_full(b"dref", 0, 0);
        self.u32(1);
        let url = self.open_full(b"url ", 0, 1);
        self.close(url)?;
        self.close(dref)?;
        self.close(dinf)
    }

    /// `ftyp` box.
    pub(crate) fn ftyp(
        &mut self,
        major: &[u8; 4],
        minor: u32,
        compat: &[&[u8; 4]],
    ) -> io::Result<()> {
        let f = self.open(b"ftyp");
        self.bytes(major);
        self.u32(minor);
        for c in compat {
            self.bytes(*c);
        }
        self.close(f)
    }
}

pub(crate) fn invalid_input(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// Checks that `entry` looks like a complete box whose header size matches its length.
pub(crate) fn check_sample_entry(entry: &[u8]) -> io::Result<()> {
    if entry.len() < 8 {
        return Err(invalid_input(format!(
            "sample entry is {} bytes; a box needs at least 8",
            entry.len()
        )));
    }
    let size = u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]);
    if u64::from(size) != entry.len() as u64 {
        return Err(invalid_input(format!(
            "sample entry header says {size} bytes but {} were given",
            entry.len()
        )));
    }
    Ok(())
}
