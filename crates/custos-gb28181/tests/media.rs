//! GB device media end to end at the protocol level (I1, I2): sipp registers as the device and
//! answers the platform's INVITE with the platform's SSRC; the test harness streams H.264 from
//! GStreamer (x264enc → mpegpsmux; GStreamer 1.22's mpegpsmux takes no H.265) as PS over RTP the GB way, over UDP (with reordering), TCP
//! passive and TCP active (RFC 4571). The platform's frames must be every frame sent, in order,
//! with 90 kHz timestamps, and decode with ffprobe without error.

mod common;

use std::time::Duration;

use common::*;
use custos_core::frame::StreamEvent;
use custos_gb28181::{MediaTransport, Mode, PlatformEvent};
use tokio::io::AsyncWriteExt;

async fn stream_once(transport: MediaTransport, h265: bool) {
    stream_with_loss(transport, h265, None).await
}

/// Streams 75 frames; with `drop_frame = Some(i)` the first packet of frame `i` is lost (UDP).
async fn stream_with_loss(transport: MediaTransport, h265: bool, drop_frame: Option<usize>) {
    let dir = tempfile::tempdir().unwrap();
    let frames = ps_frames(&gst_ps(dir.path(), 75, h265));
    assert_eq!(frames.len(), 75);
    let p = platform(Duration::from_secs(30), false).await;
    let mut events = p.subscribe();
    // The device's media port (used by TCP active: the device listens).
    let dev_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mport = dev_listener.local_addr().unwrap().port();
    let (mproto, msetup) = match transport {
        MediaTransport::Udp => ("RTP/AVP", "a=x-transport:udp"),
        MediaTransport::TcpPassive => ("TCP/RTP/AVP", "a=setup:active"),
        MediaTransport::TcpActive => ("TCP/RTP/AVP", "a=setup:passive"),
    };
    let args: Vec<String> = [
        "-sf",
        scenario("device_media.xml").to_str().unwrap(),
        "-oocsf",
        scenario("device_invite.xml").to_str().unwrap(),
        "-i",
        "127.0.0.1",
        "-p",
        &free_port().to_string(),
        "-key",
        "mport",
        &mport.to_string(),
        "-key",
        "mproto",
        mproto,
        "-key",
        "msetup",
        msetup,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let target = p.local_addr();
    let sipp_dir = dir.path().to_owned();
    let sipp_task = tokio::spawn(async move { sipp(target, &args, &sipp_dir).await });
    loop {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
            Ok(Ok(PlatformEvent::Registered { .. })) => break,
            Ok(_) => continue,
            Err(_) => panic!("sipp device did not register"),
        }
    }
    let mut s = p
        .invite(DEVICE, Mode::Live, transport)
        .await
        .expect("INVITE answered");
    let packets = rtp_packets(&frames, s.ssrc);
    let port = s.local_port;
    let sender = tokio::spawn(async move {
        match transport {
            MediaTransport::Udp => {
                let u = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                for (i, f) in packets.iter().enumerate() {
                    let mut f = f.clone();
                    // Reorder: every 5th multi-packet frame sends its first two packets swapped.
                    if i % 5 == 2 && f.len() > 2 {
                        f.swap(0, 1);
                    }
                    if Some(i) == drop_frame {
                        f.remove(0);
                    }
                    for pkt in f {
                        u.send_to(&pkt, ("127.0.0.1", port)).await.unwrap();
                    }
                    tokio::time::sleep(Duration::from_millis(8)).await;
                }
            }
            MediaTransport::TcpPassive | MediaTransport::TcpActive => {
                let mut c = if transport == MediaTransport::TcpPassive {
                    tokio::net::TcpStream::connect(("127.0.0.1", port))
                        .await
                        .unwrap()
                } else {
                    dev_listener.accept().await.unwrap().0
                };
                for f in &packets {
                    for pkt in f {
                        let mut b = (pkt.len() as u16).to_be_bytes().to_vec();
                        b.extend_from_slice(pkt);
                        c.write_all(&b).await.unwrap();
                    }
                    tokio::time::sleep(Duration::from_millis(8)).await;
                }
            }
        }
    });
    // After a loss, frames up to the next key frame (every 25th) cannot be decoded and are
    // dropped; the stream resumes there.
    let expected: Vec<u32> = match drop_frame {
        None => frames.iter().map(|f| f.0).collect(),
        Some(d) => frames
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < d || *i >= d.div_ceil(25) * 25)
            .map(|(_, f)| f.0)
            .collect(),
    };
    let mut got = Vec::new();
    while got.len() < expected.len() {
        match tokio::time::timeout(Duration::from_secs(15), s.frames.recv()).await {
            Ok(Some(StreamEvent::Frame(f))) => got.push(f),
            Ok(other) => panic!("stream ended early: {other:?} after {} frames", got.len()),
            Err(_) => panic!("only {} of {} frames", got.len(), frames.len()),
        }
    }
    sender.await.unwrap();
    p.bye(&s.call_id).await;
    // The device's out-of-call scenario ends on our BYE; the main call is killed.
    let ended = tokio::time::timeout(Duration::from_secs(5), s.frames.recv()).await;
    assert!(
        matches!(ended, Ok(Some(StreamEvent::Interrupted { .. })) | Ok(None)),
        "{ended:?}"
    );
    sipp_task.abort();
    assert!(got[0].is_key);
    let codec = got[0].params.codec;
    assert_eq!(
        codec,
        if h265 {
            custos_core::frame::Codec::H265
        } else {
            custos_core::frame::Codec::H264
        }
    );
    assert_eq!((got[0].params.width, got[0].params.height), (320, 240));
    // The sample entry built from the in-band SPS/PPS gives them back (cascade re-sends them).
    let sets = custos_gb28181::h26x::parameter_sets(&got[0].params.sample_entry);
    let types: Vec<u8> = sets.iter().map(|n| n[0] & 0x1f).collect();
    assert_eq!(types, vec![7, 8]);
    let got_pts: Vec<u32> = got.iter().map(|f| f.pts_90k as u32).collect();
    assert_eq!(got_pts, expected, "every frame, in order, 90 kHz PTS kept");
    if drop_frame.is_none() {
        for w in got.windows(2) {
            assert_eq!(w[1].pts_90k - w[0].pts_90k, 3600, "25 fps at 90 kHz");
        }
    }
    // Everything decodes.
    let es = dir.path().join("out.es");
    let mut annexb = Vec::new();
    for f in &got {
        annexb.extend(custos_gb28181::h26x::avcc_to_annexb(&f.data));
    }
    std::fs::write(&es, annexb).unwrap();
    let (n, diag) = ffprobe_frames(&es, Some(if h265 { "hevc" } else { "h264" }));
    assert_eq!(n, expected.len() as u64, "{diag}");
    assert!(!diag.to_lowercase().contains("error"), "{diag}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_gb_device_h264_ps_over_rtp_udp_with_reordering() {
    stream_once(MediaTransport::Udp, false).await;
}

/// Loss tolerance: a lost packet costs the frames up to the next key frame, nothing more, and
/// what is kept decodes without error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_gb_device_udp_loss_resyncs_at_next_key_frame() {
    stream_with_loss(MediaTransport::Udp, false, Some(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_gb_device_h264_ps_over_rtp_tcp_passive() {
    stream_once(MediaTransport::TcpPassive, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_gb_device_h264_ps_over_rtp_tcp_active() {
    stream_once(MediaTransport::TcpActive, false).await;
}

/// I1: device-side playback. The INVITE says `s=Playback` with `u=`, the time range and a
/// history SSRC (leading 1); a playback control (INFO, MANSRTSP `Scale: 2`) is answered; the
/// device streams, then reports the end of its recording with MediaStatus 121, and the
/// platform ends the session with BYE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_gb_device_playback_ends_on_media_status_121() {
    let dir = tempfile::tempdir().unwrap();
    let frames = ps_frames(&gst_ps(dir.path(), 50, false));
    let p = platform(Duration::from_secs(30), false).await;
    let mut events = p.subscribe();
    let args: Vec<String> = [
        "-sf",
        scenario("device_media.xml").to_str().unwrap(),
        "-oocsf",
        scenario("device_playback.xml").to_str().unwrap(),
        "-i",
        "127.0.0.1",
        "-p",
        &free_port().to_string(),
        "-key",
        "mport",
        "9",
        "-d",
        "1500",
        "-trace_logs",
        "-log_file",
        dir.path().join("sipp.log").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let target = p.local_addr();
    let d2 = dir.path().to_owned();
    let sipp_task = tokio::spawn(async move { sipp(target, &args, &d2).await });
    loop {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
            Ok(Ok(PlatformEvent::Registered { .. })) => break,
            Ok(_) => continue,
            Err(_) => panic!("sipp device did not register"),
        }
    }
    let (start, end) = (1_795_766_400u64, 1_795_770_000u64);
    let mut s = p
        .invite(DEVICE, Mode::Playback { start, end }, MediaTransport::Udp)
        .await
        .expect("playback INVITE answered");
    assert!(
        s.ssrc >= 1_000_000_000,
        "history SSRC starts with 1: {}",
        s.ssrc
    );
    p.playback_control(
        &s.call_id,
        custos_gb28181::PlaybackControl::Play { scale: 2.0 },
    )
    .await
    .expect("INFO answered");
    let u = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for f in rtp_packets(&frames, s.ssrc) {
        for pkt in f {
            u.send_to(&pkt, ("127.0.0.1", s.local_port)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut n = 0;
    let reason = loop {
        match tokio::time::timeout(Duration::from_secs(10), s.frames.recv()).await {
            Ok(Some(StreamEvent::Frame(_))) => n += 1,
            Ok(Some(StreamEvent::Interrupted { reason })) => break reason,
            other => panic!("{other:?} after {n} frames"),
        }
    };
    assert_eq!(n, frames.len());
    assert!(reason.contains("MediaStatus 121"), "{reason}");
    let (ok, diag) = sipp_task_or_kill(sipp_task).await;
    let log = std::fs::read_to_string(dir.path().join("sipp.log")).unwrap_or_default();
    assert!(log.contains("got BYE after MediaStatus"), "{log}");
    assert!(log.contains("scale=2.000000"), "MANSRTSP Scale: {log}");
    assert!(
        log.contains(&format!("s=Playback t={start} {end} u={DEVICE}:0")),
        "{log}\n{ok} {diag}"
    );
}

/// The device's main call (registered, idle) never ends by itself: stop it.
async fn sipp_task_or_kill(t: tokio::task::JoinHandle<(bool, String)>) -> (bool, String) {
    // Give the out-of-call scenario time to take the BYE.
    tokio::time::sleep(Duration::from_millis(500)).await;
    t.abort();
    (true, String::new())
}

/// H.265 devices (stream type 0x24): GStreamer's x265enc access units, muxed to PS by our muxer
/// (whose output ffprobe must decode on its own), sent as RTP over UDP; the platform's frames
/// carry an `hvc1` sample entry built from the in-band VPS/SPS/PPS and decode again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i1_gb_device_h265_ps_over_rtp_udp() {
    let dir = tempfile::tempdir().unwrap();
    let aus = gst_h265_aus(dir.path(), 50);
    let mut ps_all = Vec::new();
    let frames: Vec<(u32, Vec<u8>)> = aus
        .iter()
        .enumerate()
        .map(|(i, au)| {
            let pts = 90_000 + i as i64 * 3600;
            let ps = custos_gb28181::ps::mux_frame(
                custos_core::frame::Codec::H265,
                au,
                pts,
                pts,
                i % 25 == 0,
            );
            ps_all.extend_from_slice(&ps);
            (pts as u32, ps)
        })
        .collect();
    let ps_file = dir.path().join("h265.ps");
    std::fs::write(&ps_file, &ps_all).unwrap();
    let (n, diag) = ffprobe_frames(&ps_file, None);
    assert_eq!(n, 50, "our H.265 PS decodes: {diag}");
    assert!(diag.contains("hevc"), "{diag}");
    let p = platform(Duration::from_secs(30), false).await;
    let mut events = p.subscribe();
    let args: Vec<String> = [
        "-sf",
        scenario("device_media.xml").to_str().unwrap(),
        "-oocsf",
        scenario("device_invite.xml").to_str().unwrap(),
        "-i",
        "127.0.0.1",
        "-p",
        &free_port().to_string(),
        "-key",
        "mport",
        "9",
        "-key",
        "mproto",
        "RTP/AVP",
        "-key",
        "msetup",
        "a=x-transport:udp",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let target = p.local_addr();
    let d2 = dir.path().to_owned();
    let sipp_task = tokio::spawn(async move { sipp(target, &args, &d2).await });
    loop {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
            Ok(Ok(PlatformEvent::Registered { .. })) => break,
            Ok(_) => continue,
            Err(_) => panic!("sipp device did not register"),
        }
    }
    let mut s = p
        .invite(DEVICE, Mode::Live, MediaTransport::Udp)
        .await
        .expect("INVITE answered");
    let u = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for f in rtp_packets(&frames, s.ssrc) {
        for pkt in f {
            u.send_to(&pkt, ("127.0.0.1", s.local_port)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut got = Vec::new();
    while got.len() < frames.len() {
        match tokio::time::timeout(Duration::from_secs(15), s.frames.recv()).await {
            Ok(Some(StreamEvent::Frame(f))) => got.push(f),
            other => panic!("{other:?} after {} frames", got.len()),
        }
    }
    p.bye(&s.call_id).await;
    sipp_task.abort();
    assert_eq!(got[0].params.codec, custos_core::frame::Codec::H265);
    assert_eq!(&got[0].params.sample_entry[4..8], b"hvc1");
    assert!(
        got[0].params.rfc6381_codec.starts_with("hvc1"),
        "{}",
        got[0].params.rfc6381_codec
    );
    assert_eq!((got[0].params.width, got[0].params.height), (320, 240));
    let key_count = got.iter().filter(|f| f.is_key).count();
    assert_eq!(key_count, 2, "IRAP pictures at 0 and 25");
    let types: Vec<u8> = custos_gb28181::h26x::parameter_sets(&got[0].params.sample_entry)
        .iter()
        .map(|n| (n[0] >> 1) & 0x3f)
        .collect();
    assert_eq!(types, vec![32, 33, 34], "VPS, SPS, PPS in the hvcC");
    let es = dir.path().join("out.h265");
    let mut annexb = Vec::new();
    for f in &got {
        annexb.extend(custos_gb28181::h26x::avcc_to_annexb(&f.data));
    }
    std::fs::write(&es, annexb).unwrap();
    let (n, diag) = ffprobe_frames(&es, Some("hevc"));
    assert_eq!(n, 50, "{diag}");
    assert!(!diag.to_lowercase().contains("error"), "{diag}");
}
