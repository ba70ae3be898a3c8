//! Recorded footage as encoded frames, for whoever re-sends them (GB/T 28181 cascade playback
//! toward an upper platform). Like every read in [`crate::read`], it takes the [`Registered`]
//! proof that the access was put in the ledger first (E2), and it reads segment files only
//! through the same checked opening (sealed size, parse).

use std::os::unix::fs::FileExt;
use std::sync::Arc;

use custos_core::frame::{Codec, EncodedFrame, VideoParams};
use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_store::{Store, Stream};
use tokio::sync::mpsc;

use crate::journal::Registered;
use crate::layout::DataDir;
use crate::read::SegSamples;

/// Sends the frames of [from, to) of `stream` to `tx`, in order, starting at the key frame at
/// or before `from`. Each frame's PTS is its wall time minus `from` (90 kHz; negative for the
/// lead-in before `from`) and its `wall` the recorded wall time. Returns when the range is
/// sent or the receiver is gone. `_access` proves the read was registered first (E2).
pub async fn send_frames(
    _access: &Registered,
    store: &Store,
    data: &DataDir,
    stream: &Stream,
    from: Time90k,
    to: Time90k,
    tx: mpsc::Sender<EncodedFrame>,
) -> Result<()> {
    if to <= from {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("empty range: `to` {to} is not after `from` {from}"),
        ));
    }
    let segs = store.sealed_segments(stream.id, from, to).await?;
    let data = data.clone();
    tokio::task::spawn_blocking(move || {
        let mut started = false;
        for seg in segs {
            let s = SegSamples::open(&data, seg)?;
            if !send_segment(&s, from, to, &mut started, &tx)? {
                return Ok(());
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Internal, format!("frame read task failed: {e}")))?
}

/// One segment's frames; `Ok(false)` when nothing more is wanted (past `to`, or the
/// receiver is gone).
fn send_segment(
    s: &SegSamples,
    from: Time90k,
    to: Time90k,
    started: &mut bool,
    tx: &mpsc::Sender<EncodedFrame>,
) -> Result<bool> {
    let Some(s0) = s.samples.first() else {
        return Ok(true);
    };
    let entry = &s.init.sample_entry;
    let params = Arc::new(VideoParams {
        codec: if entry.get(4..8) == Some(b"avc1") {
            Codec::H264
        } else {
            Codec::H265
        },
        width: s.init.width,
        height: s.init.height,
        rfc6381_codec: String::new(),
        sample_entry: entry.clone().into(),
    });
    let timescale = i64::from(s.init.timescale.max(1));
    let base = s0.dts as i64 + i64::from(s0.composition_offset);
    // Wall time of a sample's presentation: the row's start is the first sample's.
    let wall = |x: &custos_mp4::ParsedSample| {
        s.seg.start.0 + (x.dts as i64 + i64::from(x.composition_offset) - base) * 90_000 / timescale
    };
    for (i, x) in s.samples.iter().enumerate() {
        let w = wall(x);
        if w >= to.0 {
            return Ok(false);
        }
        if !*started {
            // Start at the last key frame at or before `from`.
            let later_key_le_from = s.samples[i + 1..]
                .iter()
                .find(|n| n.is_sync)
                .is_some_and(|n| wall(n) <= from.0);
            if !x.is_sync || later_key_le_from {
                continue;
            }
            *started = true;
        }
        let mut body = vec![0u8; x.size as usize];
        s.file.read_exact_at(&mut body, x.file_offset).map_err(|e| {
            Error::new(
                ErrorKind::DataLoss,
                format!(
                    "segment {} is damaged: sample at byte {} cannot be read ({e}); run `custos verify`",
                    s.seg.id, x.file_offset
                ),
            )
        })?;
        let f = EncodedFrame {
            pts_90k: w - from.0,
            wall: Time90k(w),
            is_key: x.is_sync,
            data: body.into(),
            params: params.clone(),
        };
        if tx.blocking_send(f).is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}
