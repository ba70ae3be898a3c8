//! `custos bench serve --viewers N --seconds S`: live click-to-first-frame and playback
//! time-to-first-byte (p50/p99) with N concurrent viewers on loopback, and the server's CPU
//! per viewer, each against the same server sending the same number of bytes as a static file
//! (tower-http `ServeFile`, the baseline). The server runs as a child `custos serve
//! --insecure-http` process (TLS costs the same on both sides and is left out) and its CPU is
//! read from /proc. The last line is the CPU ratio (ours / static file) of playback.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use custos_testkit::{Camsim, CamsimOptions};
use futures::StreamExt;

#[derive(clap::Args)]
pub struct Args {
    /// Concurrent viewers.
    #[arg(long, default_value_t = 50)]
    pub viewers: usize,
    /// Seconds each live phase lasts.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

const ADMIN_PW: &str = "correct-horse-battery-staple";
const OP_PW: &str = "viewer-password-of-the-bench";

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = 100.0; // USER_HZ on Linux
    let ut: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let st: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    (ut + st) / ticks
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

struct Phase {
    ttfb_ms: Vec<f64>,
    bytes: u64,
    cpu_s: f64,
}

impl Phase {
    fn line(&mut self, name: &str) -> String {
        let (p50, p99) = (pct(&mut self.ttfb_ms, 0.5), pct(&mut self.ttfb_ms, 0.99));
        format!(
            "{name:<22} first byte p50 {p50:7.1} ms  p99 {p99:7.1} ms  {:8.1} MB  server CPU {:6.3} s = {:6.2} ms/MB",
            self.bytes as f64 / 1e6,
            self.cpu_s,
            self.cpu_per_mb() * 1e3
        )
    }
    fn cpu_per_mb(&self) -> f64 {
        self.cpu_s / (self.bytes as f64 / 1e6).max(1e-9)
    }
}

/// N concurrent downloads of `url`; time to first body byte and total bytes.
async fn downloads(http: &reqwest::Client, url: &str, n: usize, pid: u32) -> Result<Phase> {
    let c0 = cpu_seconds(pid);
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (http, url) = (http.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let r = http.get(&url).send().await?;
            if !r.status().is_success() {
                bail!("{url}: {}", r.status());
            }
            let mut s = r.bytes_stream();
            let mut first = None;
            let mut n = 0u64;
            while let Some(c) = s.next().await {
                let c = c?;
                first.get_or_insert(t0.elapsed());
                n += c.len() as u64;
            }
            Ok::<_, anyhow::Error>((first.unwrap_or_default(), n))
        }));
    }
    let mut ph = Phase {
        ttfb_ms: Vec::new(),
        bytes: 0,
        cpu_s: 0.0,
    };
    for t in tasks {
        let (ttfb, n) = t.await??;
        ph.ttfb_ms.push(ttfb.as_secs_f64() * 1e3);
        ph.bytes += n;
    }
    ph.cpu_s = cpu_seconds(pid) - c0;
    Ok(ph)
}

/// N concurrent live viewers for `secs`: time to the first media fragment, bytes received.
async fn live_viewers(base: &str, cookie: &str, n: usize, secs: u64, pid: u32) -> Result<Phase> {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let c0 = cpu_seconds(pid);
    let mut tasks = Vec::new();
    for _ in 0..n {
        let mut req = format!(
            "{}/api/cameras/cam1/live?stream=main",
            base.replacen("http", "ws", 1)
        )
        .into_client_request()?;
        req.headers_mut().insert("cookie", cookie.parse()?);
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
            let mut first = None;
            let mut bytes = 0u64;
            let end = t0 + Duration::from_secs(secs);
            while Instant::now() < end {
                match tokio::time::timeout_at(end.into(), ws.next()).await {
                    Ok(Some(Ok(Message::Binary(b)))) => {
                        if b.len() > 8 && &b[4..8] == b"moof" {
                            first.get_or_insert(t0.elapsed());
                        }
                        bytes += b.len() as u64;
                    }
                    Ok(Some(Ok(_))) => {}
                    Ok(_) => bail!("live stream ended"),
                    Err(_) => break,
                }
            }
            Ok::<_, anyhow::Error>((first.context("no frame arrived")?, bytes))
        }));
    }
    let mut ph = Phase {
        ttfb_ms: Vec::new(),
        bytes: 0,
        cpu_s: 0.0,
    };
    for t in tasks {
        let (ttfb, n) = t.await??;
        ph.ttfb_ms.push(ttfb.as_secs_f64() * 1e3);
        ph.bytes += n;
    }
    ph.cpu_s = cpu_seconds(pid) - c0;
    Ok(ph)
}

pub async fn run(a: Args) -> Result<()> {
    if a.viewers == 0 {
        bail!("--viewers must be at least 1");
    }
    let tmp = tempdir()?;
    let web = tmp.join("web");
    std::fs::create_dir_all(&web)?;
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>bench</title>",
    )?;
    let opts = CamsimOptions {
        cameras: 1,
        width: 1280,
        height: 720,
        fps: 25,
        bitrate_kbps: 2000,
        ..Default::default()
    };
    eprintln!("starting a 720p25 simulated camera and custos serve…");
    let sim = Camsim::start(&opts).context("starting the camera simulator")?;
    let cfg = tmp.join("custos.toml");
    std::fs::write(
        &cfg,
        format!(
            "segment_seconds = 10\n\n[[camera]]\nname = \"cam1\"\nurl = \"{}\"\n",
            sim.url(1)
        ),
    )?;
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--insecure-http",
            "--listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(tmp.join("data"))
        .arg("--config")
        .arg(&cfg)
        .arg("--web")
        .arg(&web)
        .env("CUSTOS_ADMIN_PASSWORD", ADMIN_PW)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::from(std::fs::File::create(
            tmp.join("serve.log"),
        )?))
        .spawn()?;
    let pid = child.id();
    let base = {
        use std::io::BufRead;
        let out = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(out).lines();
        loop {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("console: ") => {
                    break l[9..].trim_end_matches('/').to_owned();
                }
                Some(_) => continue,
                None => bail!(
                    "custos serve exited before listening: {}",
                    std::fs::read_to_string(tmp.join("serve.log"))
                        .unwrap_or_default()
                        .trim()
                ),
            }
        }
    };
    let result = measure(&a, &base, &web, pid).await;
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    drop(sim);
    let _ = std::process::Command::new("chattr")
        .args(["-R", "-ia"])
        .arg(&tmp)
        .status();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

async fn measure(a: &Args, base: &str, web: &Path, pid: u32) -> Result<()> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .build()?;
    let login = |user: &'static str, pw: &'static str| {
        let http = http.clone();
        let url = format!("{base}/api/login");
        async move {
            let r = http
                .post(url)
                .json(&serde_json::json!({"username": user, "password": pw}))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("login {user}: {}", r.text().await?);
            }
            let cookie = r
                .headers()
                .get("set-cookie")
                .context("no cookie")?
                .to_str()?
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            let v: serde_json::Value = r.json().await?;
            Ok::<_, anyhow::Error>((cookie, v["csrf"].as_str().unwrap_or_default().to_owned()))
        }
    };
    let (_, csrf) = login("admin", ADMIN_PW).await?;
    let r = http.post(format!("{base}/api/users")).header("x-csrf-token", csrf)
        .json(&serde_json::json!({"name": "bench-op", "password": OP_PW, "role": "watch_operator", "scopes": ["local"]}))
        .send().await?;
    if !r.status().is_success() {
        bail!("creating the viewer account: {}", r.text().await?);
    }
    let (cookie, csrf) = login("bench-op", OP_PW).await?;
    http.post(format!("{base}/api/duty"))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"on": true}))
        .send()
        .await?;
    // Wait for 12 s of sealed footage.
    let start = std::time::SystemTime::now() + Duration::from_secs(1);
    let rfc = |t: std::time::SystemTime| {
        chrono::DateTime::<chrono::Utc>::from(t)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let view = format!(
        "{base}/api/cameras/cam1/view.mp4?from={}&to={}",
        rfc(start),
        rfc(start + Duration::from_secs(10))
    );
    eprintln!("waiting for 10 s of sealed footage…");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = http.get(&view).header("range", "bytes=0-0").send().await?;
        if r.status().is_success() {
            break;
        }
        if Instant::now() > deadline {
            bail!("no footage after 60 s: {}", r.text().await?);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    // The same bytes as a static file, for the baseline.
    let bytes = http.get(&view).send().await?.bytes().await?;
    std::fs::write(web.join("same.mp4"), &bytes)?;
    let static_url = format!("{base}/same.mp4");
    println!(
        "custos bench serve: {} viewers, {} s live, playback of 10 s ({:.1} MB) per viewer",
        a.viewers,
        a.seconds,
        bytes.len() as f64 / 1e6
    );
    let mut live = live_viewers(base, &cookie, a.viewers, a.seconds, pid).await?;
    println!("{}", live.line("live (WebSocket fMP4)"));
    // Baseline for live: the same number of bytes per viewer from a static file.
    let live_static_file = web.join("live-equivalent.bin");
    let per_viewer = (live.bytes / a.viewers as u64).max(1);
    std::fs::write(&live_static_file, vec![0u8; per_viewer as usize])?;
    let mut live_base = downloads(
        &http,
        &format!("{base}/live-equivalent.bin"),
        a.viewers,
        pid,
    )
    .await?;
    println!("{}", live_base.line("  static, same bytes"));
    let mut play = downloads(&http, &view, a.viewers, pid).await?;
    println!("{}", play.line("playback (view.mp4)"));
    let mut play_base = downloads(&http, &static_url, a.viewers, pid).await?;
    println!("{}", play_base.line("  static, same bytes"));
    let live_cpu_per_viewer = live.cpu_s / (a.viewers as f64 * a.seconds as f64) * 100.0;
    println!(
        "live: server CPU {live_cpu_per_viewer:.3} % of a core per viewer; first frame p50 {:.1} ms p99 {:.1} ms",
        pct(&mut live.ttfb_ms, 0.5),
        pct(&mut live.ttfb_ms, 0.99)
    );
    println!(
        "live CPU per MB vs static file: ratio {:.2}",
        live.cpu_per_mb() / live_base.cpu_per_mb().max(1e-9)
    );
    println!(
        "playback first byte p50 vs static file: ratio {:.2}",
        pct(&mut play.ttfb_ms, 0.5) / pct(&mut play_base.ttfb_ms, 0.5).max(1e-9)
    );
    println!(
        "ratio {:.2}",
        play.cpu_per_mb() / play_base.cpu_per_mb().max(1e-9)
    );
    let _ = PathBuf::new();
    Ok(())
}

fn tempdir() -> Result<PathBuf> {
    let mut r = [0u8; 6];
    getrandom::fill(&mut r).map_err(|e| anyhow::anyhow!("{e}"))?;
    let d = std::env::temp_dir().join(format!("custos-bench-serve-{}", hex::encode(r)));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
