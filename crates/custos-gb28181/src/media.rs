//! Media sessions toward devices: INVITE (live `Play`, `Playback`, `Download`) with a GB SSRC,
//! receive PS over RTP (UDP, or TCP with RFC 4571 framing, passive or active), reorder, demux,
//! and hand recorder frames ([`StreamEvent`]) to the caller; BYE from either side ends it.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use custos_core::frame::StreamEvent;
use custos_core::{Error, ErrorKind, Result, Time90k};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};

use crate::h26x::FrameBuilder;
use crate::platform::{Platform, PlatformEvent};
use crate::ps::PsDemuxer;
use crate::rtp::{self, Jitter, JitterBuffer, Rfc4571};
use crate::sdp::{self, MediaSdp};
use crate::sip::{self, Message};
use crate::transport::Peer;

/// What to ask the device for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Live,
    /// Device-side recordings between two Unix times.
    Playback {
        start: u64,
        end: u64,
    },
    Download {
        start: u64,
        end: u64,
        speed: u32,
    },
}

/// How RTP reaches us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MediaTransport {
    #[default]
    Udp,
    /// We listen, the device connects (`a=setup:passive` in our offer).
    TcpPassive,
    /// The device listens, we connect (`a=setup:active` in our offer).
    TcpActive,
}

impl std::str::FromStr for MediaTransport {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "udp" => Ok(Self::Udp),
            "tcp" | "tcp-passive" => Ok(Self::TcpPassive),
            "tcp-active" => Ok(Self::TcpActive),
            _ => Err(format!(
                "unknown media transport {s:?}: udp, tcp-passive or tcp-active"
            )),
        }
    }
}

/// Receive-side counters of one session.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct MediaStats {
    pub packets: u64,
    pub lost: u64,
    pub reordered: u64,
    pub frames: u64,
    /// Packets with another SSRC than the session's: dropped.
    pub ssrc_mismatch: u64,
    /// Packets (or TCP connections) from another address than the device's: dropped.
    pub foreign_source: u64,
}

/// The dialog state we keep to send BYE and to find a session.
pub(crate) struct SessionCtl {
    pub device: String,
    pub channel: String,
    pub peer: Peer,
    /// In-dialog request template (BYE; INFO reuses it with another method).
    pub bye: Message,
    /// Our next CSeq in the dialog.
    pub cseq: u32,
    /// MANSRTSP CSeq of the next playback control.
    pub rtsp_cseq: u32,
    pub stop: watch::Sender<Option<String>>,
}

/// Playback control of a device-side playback session (in-dialog INFO, MANSRTSP).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlaybackControl {
    Pause,
    /// Resume, at `scale` times normal speed (1.0 normal; 0.5, 2, 4 ...).
    Play {
        scale: f64,
    },
    /// Jump to `secs` seconds from the start of the requested range.
    Seek {
        secs: u32,
    },
}

impl PlaybackControl {
    /// The MANSRTSP body (GB/T 28181 Annex B).
    pub fn body(self, cseq: u32) -> String {
        match self {
            PlaybackControl::Pause => {
                format!("PAUSE RTSP/1.0\r\nCSeq: {cseq}\r\nPauseTime: now\r\n")
            }
            PlaybackControl::Play { scale } => {
                format!("PLAY RTSP/1.0\r\nCSeq: {cseq}\r\nScale: {scale:.6}\r\n")
            }
            PlaybackControl::Seek { secs } => {
                format!("PLAY RTSP/1.0\r\nCSeq: {cseq}\r\nRange: npt={secs}-\r\n")
            }
        }
    }
}

/// A running session: frames arrive on `frames` until it ends (then one
/// [`StreamEvent::Interrupted`] and the channel closes).
pub struct MediaSession {
    pub call_id: String,
    pub ssrc: u32,
    /// Our media port in the offer (UDP, or TCP passive); 0 for TCP active.
    pub local_port: u16,
    pub frames: mpsc::Receiver<StreamEvent>,
    pub stats: watch::Receiver<MediaStats>,
}

enum Rx {
    Udp(UdpSocket),
    TcpListen(TcpListener),
    TcpConnect,
}

/// No RTP for this long ends a session.
const NO_MEDIA: Duration = Duration::from_secs(10);
/// How long packets wait for a missing earlier one before it counts as lost.
const REORDER_WAIT: Duration = Duration::from_millis(300);

impl Platform {
    /// INVITEs `channel` (on the device that owns it) and starts receiving.
    pub async fn invite(
        &self,
        channel: &str,
        mode: Mode,
        transport: MediaTransport,
    ) -> Result<MediaSession> {
        let dev = self.owner_of(channel).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("no registered GB device has channel {channel}"),
            )
        })?;
        let peer = dev.peer().ok_or_else(|| {
            Error::new(
                ErrorKind::Unavailable,
                format!("GB device {} has no address", dev.id),
            )
        })?;
        if !dev.online {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("GB device {} is offline", dev.id),
            ));
        }
        let ip = self.public_ip();
        let (rx, port) = match transport {
            MediaTransport::Udp => {
                let s = UdpSocket::bind(SocketAddr::new(ip, 0))
                    .await
                    .map_err(|e| Error::io("media UDP port", e))?;
                let _ = set_recv_buffer(&s);
                let p = s
                    .local_addr()
                    .map_err(|e| Error::io("media UDP port", e))?
                    .port();
                (Rx::Udp(s), p)
            }
            MediaTransport::TcpPassive => {
                let l = TcpListener::bind(SocketAddr::new(ip, 0))
                    .await
                    .map_err(|e| Error::io("media TCP port", e))?;
                let p = l
                    .local_addr()
                    .map_err(|e| Error::io("media TCP port", e))?
                    .port();
                (Rx::TcpListen(l), p)
            }
            MediaTransport::TcpActive => (Rx::TcpConnect, 9),
        };
        let history = !matches!(mode, Mode::Live);
        let serial = (self.0.serial.fetch_add(1, Ordering::Relaxed) % 10_000) as u16;
        let ssrc = sdp::make_ssrc(history, self.config().domain(), serial);
        let (session, start, end, uri) = match &mode {
            Mode::Live => ("Play", 0, 0, None),
            Mode::Playback { start, end } => {
                ("Playback", *start, *end, Some(format!("{channel}:0")))
            }
            Mode::Download { start, end, .. } => {
                ("Download", *start, *end, Some(format!("{channel}:0")))
            }
        };
        let offer = MediaSdp {
            session: session.into(),
            origin: channel.into(),
            addr: ip.to_string(),
            port,
            tcp: transport != MediaTransport::Udp,
            setup: match transport {
                MediaTransport::Udp => None,
                MediaTransport::TcpPassive => Some("passive".into()),
                MediaTransport::TcpActive => Some("active".into()),
            },
            ssrc: Some(ssrc),
            start,
            end,
            uri,
            direction: Some("recvonly".into()),
        };
        let mut body = sdp::build(&offer, channel);
        if let Mode::Download { speed, .. } = mode {
            body.push_str(&format!("a=downloadspeed:{speed}\r\n"));
        }
        let domain = self.config().domain().to_owned();
        let host = ip.to_string();
        let call_id = format!("{}@{host}", sip::token());
        let from_tag = sip::token();
        let mut inv = Message::request("INVITE", &format!("sip:{channel}@{}", peer.addr()));
        inv.push("Via", self.transport().via(peer, &host))
            .push(
                "From",
                format!("<sip:{}@{domain}>;tag={from_tag}", self.config().id),
            )
            .push("To", format!("<sip:{channel}@{domain}>"))
            .push("Call-ID", call_id.clone())
            .push("CSeq", "1 INVITE")
            .push(
                "Contact",
                format!(
                    "<sip:{}@{host}:{}>",
                    self.config().id,
                    self.local_addr().port()
                ),
            )
            .push("Max-Forwards", "70")
            .push(
                "Subject",
                format!("{channel}:{ssrc:010},{}:0", self.config().id),
            )
            .push("User-Agent", "custos");
        inv.with_body("APPLICATION/SDP", body.into_bytes());
        let resp = self
            .transport()
            .request(peer, &inv, Duration::from_secs(10))
            .await?;
        let code = resp.status().unwrap_or(0);
        if !(200..300).contains(&code) {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("GB device {} refused INVITE for {channel}: {code}", dev.id),
            ));
        }
        let to = resp.header("To").unwrap_or("").to_owned();
        let mut ack = Message::request("ACK", &format!("sip:{channel}@{}", peer.addr()));
        ack.push("Via", self.transport().via(peer, &host))
            .push(
                "From",
                format!("<sip:{}@{domain}>;tag={from_tag}", self.config().id),
            )
            .push("To", to.clone())
            .push("Call-ID", call_id.clone())
            .push("CSeq", "1 ACK")
            .push("Max-Forwards", "70");
        self.transport().send(peer, &ack).await?;
        let mut bye = Message::request("BYE", &format!("sip:{channel}@{}", peer.addr()));
        bye.push(
            "From",
            format!("<sip:{}@{domain}>;tag={from_tag}", self.config().id),
        )
        .push("To", to)
        .push("Call-ID", call_id.clone())
        .push("CSeq", "2 BYE")
        .push("Max-Forwards", "70");
        let answer = std::str::from_utf8(&resp.body).ok().and_then(sdp::parse);
        let ssrc = answer.as_ref().and_then(|a| a.ssrc).unwrap_or(ssrc);
        let (stop_tx, stop_rx) = watch::channel(None);
        self.0.sessions.lock().unwrap().insert(
            call_id.clone(),
            SessionCtl {
                device: dev.id.clone(),
                channel: channel.to_owned(),
                peer,
                bye,
                cseq: 2,
                rtsp_cseq: 1,
                stop: stop_tx,
            },
        );
        let (ftx, frx) = mpsc::channel(256);
        let (stx, srx) = watch::channel(MediaStats::default());
        let p = self.clone();
        let cid = call_id.clone();
        // Media is accepted only from the device: its SIP address or the address its answer
        // names.
        let mut from_ips = vec![peer.addr().ip()];
        if let Some(ip) = answer
            .as_ref()
            .and_then(|a| a.addr.parse::<std::net::IpAddr>().ok())
            && !from_ips.contains(&ip)
        {
            from_ips.push(ip);
        }
        tokio::spawn(async move {
            let reason = receive(&p, rx, answer, ssrc, &from_ips, ftx.clone(), stx, stop_rx).await;
            let _ = ftx
                .send(StreamEvent::Interrupted {
                    reason: reason.clone(),
                })
                .await;
            end_session(&p, &cid, &reason, true).await;
        });
        tracing::info!(%channel, %call_id, ssrc, ?transport, "GB media session started");
        Ok(MediaSession {
            call_id,
            ssrc,
            local_port: if transport == MediaTransport::TcpActive {
                0
            } else {
                port
            },
            frames: frx,
            stats: srx,
        })
    }

    /// Ends a media session with BYE.
    pub async fn bye(&self, call_id: &str) {
        end_session(self, call_id, "stopped by the platform", true).await;
    }

    /// Pauses, resumes (at a speed) or seeks a device-side playback: an INFO in the session's
    /// dialog with an `Application/MANSRTSP` body; waits for the device's 200.
    pub async fn playback_control(&self, call_id: &str, ctl: PlaybackControl) -> Result<()> {
        let (peer, mut info) = {
            let mut ss = self.0.sessions.lock().unwrap();
            let s = ss.get_mut(call_id).ok_or_else(|| {
                Error::new(ErrorKind::NotFound, format!("no media session {call_id}"))
            })?;
            let mut m = s.bye.clone();
            if let sip::StartLine::Request { method, .. } = &mut m.start {
                *method = "INFO".into();
            }
            m.set("CSeq", format!("{} INFO", s.cseq));
            m.with_body("Application/MANSRTSP", ctl.body(s.rtsp_cseq).into_bytes());
            s.cseq += 1;
            s.rtsp_cseq += 1;
            (s.peer, m)
        };
        info.headers.insert(
            0,
            (
                "Via".into(),
                self.transport().via(peer, &self.public_ip().to_string()),
            ),
        );
        let r = self
            .transport()
            .request(peer, &info, Duration::from_secs(8))
            .await?;
        match r.status() {
            Some(200..=299) => Ok(()),
            s => Err(Error::new(
                ErrorKind::Unavailable,
                format!("device refused playback control {ctl:?}: {s:?}"),
            )),
        }
    }
}

/// Stops a session's receiver and, if `send_bye`, sends BYE to the device. Idempotent.
pub(crate) async fn end_session(p: &Platform, call_id: &str, reason: &str, send_bye: bool) {
    let Some(s) = p.0.sessions.lock().unwrap().remove(call_id) else {
        return;
    };
    let _ = s.stop.send(Some(reason.to_owned()));
    if send_bye {
        let mut bye = s.bye;
        bye.set("CSeq", format!("{} BYE", s.cseq));
        bye.headers.insert(
            0,
            (
                "Via".into(),
                p.transport().via(s.peer, &p.public_ip().to_string()),
            ),
        );
        let t = p.transport().clone();
        tokio::spawn(async move {
            let _ = t.request(s.peer, &bye, Duration::from_secs(4)).await;
        });
    }
    tracing::info!(%call_id, channel = %s.channel, device = %s.device, %reason, "GB media session ended");
    p.emit(PlatformEvent::MediaEnded {
        call_id: call_id.to_owned(),
        reason: reason.to_owned(),
    });
}

/// The session of a device's channel (for MediaStatus, which names the channel or device).
pub(crate) fn session_of_device(p: &Platform, id: &str, device: &str) -> Option<String> {
    // Only the sessions of the device that sent it: a device cannot end another's session.
    let s = p.0.sessions.lock().unwrap();
    s.iter()
        .find(|(_, c)| c.channel == id && c.device == device)
        .or_else(|| s.iter().find(|(_, c)| c.device == device))
        .map(|(k, _)| k.clone())
}

fn set_recv_buffer(_s: &UdpSocket) -> std::io::Result<()> {
    Ok(())
}

/// Receives until stopped, idle or closed; returns why it ended. Packets from another
/// address than `from_ips` or with another SSRC are dropped and counted.
#[allow(clippy::too_many_arguments)]
async fn receive(
    plat: &Platform,
    rx: Rx,
    answer: Option<MediaSdp>,
    ssrc: u32,
    from_ips: &[std::net::IpAddr],
    out: mpsc::Sender<StreamEvent>,
    stats: watch::Sender<MediaStats>,
    mut stop: watch::Receiver<Option<String>>,
) -> String {
    let mut st = MediaStats::default();
    let mut jitter = JitterBuffer::new(64);
    let mut demux = PsDemuxer::new();
    let mut builder = FrameBuilder::default();
    let mut anchor: Option<(i64, Time90k)> = None;
    let mut jout = Vec::new();
    let mut framer = Rfc4571::default();
    // Establish the byte source.
    enum Src {
        Udp(UdpSocket),
        Tcp(TcpStream),
    }
    let src = match rx {
        Rx::Udp(s) => Src::Udp(s),
        Rx::TcpListen(l) => {
            let deadline = tokio::time::Instant::now() + NO_MEDIA;
            loop {
                tokio::select! {
                    r = tokio::time::timeout_at(deadline, l.accept()) => match r {
                        Ok(Ok((s, a))) if from_ips.contains(&a.ip()) => break Src::Tcp(s),
                        Ok(Ok((_, a))) => {
                            st.foreign_source += 1;
                            plat.0.counters.lock().unwrap().foreign_rtp += 1;
                            tracing::warn!(source = %a, "TCP media connection from another address than the device's; closed");
                            continue;
                        }
                        Ok(Err(_)) => continue,
                        Err(_) => return "device did not connect for TCP media".into(),
                    },
                    _ = stop.changed() => return stop.borrow().clone().unwrap_or_default(),
                }
            }
        }
        Rx::TcpConnect => {
            let Some(a) = answer.as_ref() else {
                return "device answer has no SDP for TCP active media".into();
            };
            let addr = format!("{}:{}", a.addr, a.port);
            // GB/T 28181-2022: retry a failed first connect at least 3 times, ≥1 s apart.
            let mut s = None;
            for _ in 0..4 {
                if let Ok(c) = TcpStream::connect(&addr).await {
                    s = Some(c);
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            match s {
                Some(s) => Src::Tcp(s),
                None => return format!("cannot connect to device media at {addr}"),
            }
        }
    };
    let mut buf = vec![0u8; 65536];
    let mut src = src;
    let mut idle = Duration::ZERO;
    loop {
        // While packets wait for a missing one, give it REORDER_WAIT before declaring it lost.
        let wait = if jitter.held() > 0 {
            REORDER_WAIT
        } else {
            NO_MEDIA
        };
        let got: std::io::Result<usize> = tokio::select! {
            r = async {
                match &mut src {
                    Src::Udp(s) => tokio::time::timeout(wait, async {
                        loop {
                            let (n, a) = s.recv_from(&mut buf).await?;
                            if from_ips.contains(&a.ip()) {
                                break Ok(n);
                            }
                            st.foreign_source += 1;
                            plat.0.counters.lock().unwrap().foreign_rtp += 1;
                        }
                    })
                    .await,
                    Src::Tcp(s) => tokio::time::timeout(wait, s.read(&mut buf)).await,
                }
            } => match r {
                Ok(r) => {
                    idle = Duration::ZERO;
                    r
                }
                Err(_) if jitter.held() > 0 => {
                    idle += wait;
                    jitter.flush(&mut jout);
                    Ok(usize::MAX)
                }
                Err(_) => return format!("no media for {}s", (idle + wait).as_secs()),
            },
            _ = stop.changed() => return stop.borrow().clone().unwrap_or_else(|| "stopped".into()),
        };
        let n = match got {
            Ok(0) => return "device closed the media connection".into(),
            Ok(n) => n,
            Err(e) => return format!("media receive failed: {e}"),
        };
        let mut pkts = Vec::new();
        match &src {
            _ if n == usize::MAX => {} // overdue packets released above
            Src::Udp(_) => pkts.push(buf[..n].to_vec()),
            Src::Tcp(_) => {
                framer.push(&buf[..n]);
                while let Some(p) = framer.next_packet() {
                    pkts.push(p);
                }
            }
        }
        for raw in pkts {
            let Some(p) = rtp::parse(&raw) else { continue };
            if p.ssrc != ssrc {
                st.ssrc_mismatch += 1;
                plat.0.counters.lock().unwrap().foreign_rtp += 1;
                continue;
            }
            st.packets += 1;
            jitter.push(p, &mut jout);
        }
        for j in jout.drain(..) {
            match j {
                Jitter::Lost(_) => {
                    demux.reset();
                    builder.need_key = true;
                }
                Jitter::Packet(p) => {
                    demux.push(&p.payload);
                    if p.marker {
                        demux.flush();
                    }
                }
            }
        }
        while let Some(f) = demux.pop() {
            let now = Time90k::from_system_time(std::time::SystemTime::now());
            let (a_pts, a_wall) = *anchor.get_or_insert((f.pts, now));
            let wall = Time90k(a_wall.0 + (f.pts - a_pts));
            match builder.build(&f, wall) {
                Ok(Some(ef)) => {
                    st.frames += 1;
                    if out.send(StreamEvent::Frame(ef)).await.is_err() {
                        return "receiver closed".into();
                    }
                }
                Ok(None) => {}
                Err(e) => return format!("undecodable stream: {e}"),
            }
        }
        st.lost = jitter.lost;
        st.reordered = jitter.reordered;
        let _ = stats.send(st);
    }
}
