//! `custos serve` as an installed service (D1 always on, E9 TLS paths in the config):
//! - a copy of the binary, away from the source tree, serves the console built into it (or,
//!   built without web/dist, refuses to start rather than print a URL that serves nothing);
//! - systemd readiness and watchdog over a real NOTIFY_SOCKET (a unix datagram socket);
//! - the config file (`data`, `[server]`, `[gb28181]`) and flags overriding it; bad keys get
//!   one line naming the key.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
// The shared helpers re-export the camera simulator; these tests need no camera.
#[allow(unused_imports)]
use common::Camsim as _;

/// Spawns `BIN serve ARGS` (plain HTTP on a free loopback port) and waits for its `console:`
/// line; returns the child, the base URL and the lines printed so far.
fn spawn_serve(cmd: &mut Command) -> (Child, String, mpsc::Receiver<String>) {
    // --for: a child a failed test leaves behind stops by itself.
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--insecure-http",
        "--for",
        "120s",
    ])
    .env("CUSTOS_ADMIN_PASSWORD", common::server::ADMIN_PW)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn custos serve");
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => {
                if let Some(u) = l.strip_prefix("console: ") {
                    return (child, u.trim_end_matches('/').to_owned(), rx);
                }
                seen.push(l);
            }
            Err(_) => {
                let _ = child.kill();
                let o = child.wait_with_output().unwrap();
                panic!("no `console:` line: {seen:?} {}", stderr(&o));
            }
        }
    }
}

/// A plain HTTP/1.0 GET: (status, lower-cased head, body).
fn http_get(base: &str, path: &str) -> (u16, String, Vec<u8>) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    let head = String::from_utf8_lossy(&buf[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    (status, head, buf[split + 4..].to_vec())
}

/// D1: the console travels with the binary. A copy of `custos` in a temporary directory, run
/// from there with no CUSTOS_WEB_DIR, serves the built console: `/` is the embedded
/// index.html byte for byte, its script is served as JavaScript, and a console route falls
/// back to index.html. A binary built without web/dist refuses to start instead (exit 2, one
/// line saying what to do, no console URL). Either way `--web` naming a directory without
/// index.html is refused before anything starts.
#[test]
fn d1_copied_binary_serves_its_embedded_console() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let copy = tmp.path().join("custos");
    std::fs::copy(bin(), &copy).unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let base_cmd = || {
        let mut c = Command::new(&copy);
        c.current_dir(tmp.path())
            .env_remove("CUSTOS_WEB_DIR")
            .arg("serve")
            .arg("--data")
            .arg(&data);
        c
    };

    let o = Command::new("timeout")
        .arg("60")
        .arg(&copy)
        .current_dir(tmp.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--insecure-http",
            "--data",
        ])
        .arg(&data)
        .args(["--web", "/nonexistent/console"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--web /nonexistent/console: no index.html"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("console:"), "{}", stdout(&o));

    if !EMBEDDED_CONSOLE {
        let o = base_cmd()
            .args(["--listen", "127.0.0.1:0", "--insecure-http", "--for", "60s"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("built without its web console"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!stdout(&o).contains("console:"), "{}", stdout(&o));
        eprintln!("note: this build has no web/dist; only the refusal was checked");
        return;
    }
    let embedded = Path::new(env!("CUSTOS_CONSOLE_DIR"));
    let index = std::fs::read(embedded.join("index.html")).unwrap();
    let (child, base, _) = spawn_serve(&mut base_cmd());
    let (status, head, body) = http_get(&base, "/");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert_eq!(body, index, "/ is not the embedded index.html");
    let html = String::from_utf8_lossy(&index).into_owned();
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|p| format!("/{}", p.trim_start_matches("./").trim_start_matches('/')))
        .expect("index.html loads a script");
    let (status, head, js) = http_get(&base, &script);
    assert_eq!(status, 200, "{script}: {head}");
    assert!(head.contains("javascript"), "{head}");
    assert_eq!(
        js,
        std::fs::read(embedded.join(script.trim_start_matches('/'))).unwrap()
    );
    assert!(
        head.contains("immutable"),
        "hashed assets are cached: {head}"
    );
    let (status, _, body) = http_get(&base, "/live/cam1");
    assert_eq!(
        (status, body),
        (200, index),
        "console routes fall back to index.html"
    );
    let (status, _, body) = http_get(&base, "/api/no-such-route");
    assert_eq!(status, 404);
    assert!(body.starts_with(b"{"), "API 404s stay JSON");
    let out = terminate(child);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// D1: under systemd (`Type=notify`, `WatchdogSec=`), `custos serve` sends READY=1 once it
/// listens, WATCHDOG=1 at half of WATCHDOG_USEC for as long as its main loop runs, and
/// STOPPING=1 when SIGTERM stops it — received here on a real unix datagram socket.
#[test]
fn d1_serve_notifies_systemd_ready_watchdog_and_stopping() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let sock_path = tmp.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut cmd = Command::new(bin());
    console_env(&mut cmd)
        .arg("serve")
        .arg("--data")
        .arg(&data)
        .env("NOTIFY_SOCKET", &sock_path)
        // 1 s: a WATCHDOG=1 every 0.5 s.
        .env("WATCHDOG_USEC", "1000000")
        .env_remove("WATCHDOG_PID");
    let (child, _base, _) = spawn_serve(&mut cmd);
    let mut msgs: Vec<String> = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let watchdogs = msgs.iter().filter(|m| m.contains("WATCHDOG=1")).count();
        if msgs.iter().any(|m| m.contains("READY=1")) && watchdogs >= 3 {
            break;
        }
        if let Ok(n) = sock.recv(&mut buf) {
            msgs.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let ready = msgs
        .iter()
        .position(|m| m.lines().any(|l| l == "READY=1"))
        .unwrap_or_else(|| panic!("no READY=1: {msgs:?}"));
    assert!(
        msgs[ready].contains("STATUS=serving http://127.0.0.1:"),
        "{msgs:?}"
    );
    let watchdogs = msgs
        .iter()
        .filter(|m| m.lines().any(|l| l == "WATCHDOG=1"))
        .count();
    assert!(watchdogs >= 3, "expected WATCHDOG=1 every 0.5 s: {msgs:?}");
    let out = terminate(child);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut stopping = false;
    while let Ok(n) = sock.recv(&mut buf) {
        if String::from_utf8_lossy(&buf[..n])
            .lines()
            .any(|l| l == "STOPPING=1")
        {
            stopping = true;
            break;
        }
    }
    assert!(stopping, "no STOPPING=1 after SIGTERM");
}

/// Waits until something holds UDP `port` on 127.0.0.1.
fn udp_port_taken(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_err()
}

/// D1/E9: `custos serve --config FILE` takes the data directory, [server] and [gb28181]
/// settings (which were flags only) from the file; `--data` on the command line wins over
/// the file's `data`; a config without cameras is a valid server config. A bad key gets one
/// line naming it (exit 2).
#[test]
fn d1_e9_config_file_sets_data_server_and_gb28181_flags_override() {
    let tmp = custos_testkit::ProtectedTempDir::new().unwrap();
    let sip_port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let from_file = tmp.path().join("from-file");
    let cfg = tmp.path().join("custos.toml");
    std::fs::write(
        &cfg,
        format!(
            "data = \"{}\"\n\n[server]\nlisten = \"127.0.0.1:1\"\n\n[gb28181]\nlisten = \"127.0.0.1:{sip_port}\"\nid = \"34020000002000000001\"\npassword = \"12345678\"\nkeepalive_secs = 30\nmedia = \"tcp-passive\"\n",
            from_file.display()
        ),
    )
    .unwrap();
    // --listen on the command line beats [server] listen (port 1 would fail to bind).
    let mut cmd = Command::new(bin());
    console_env(&mut cmd).arg("serve").arg("--config").arg(&cfg);
    let (child, _, _) = spawn_serve(&mut cmd);
    wait_until(60.0, "the SIP port from [gb28181] listen", || {
        udp_port_taken(sip_port)
    });
    let out = terminate(child);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        from_file.join("custos.db").exists(),
        "data = … of the file was not used"
    );

    // --data given: the file's data is not touched.
    let other = tmp.path().join("other");
    let from_file = tmp.path().join("from-file-2");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("from-file", "from-file-2");
    std::fs::write(&cfg, text).unwrap();
    let mut cmd = Command::new(bin());
    console_env(&mut cmd)
        .arg("serve")
        .arg("--config")
        .arg(&cfg)
        .arg("--data")
        .arg(&other);
    let (child, _, _) = spawn_serve(&mut cmd);
    let out = terminate(child);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(other.join("custos.db").exists());
    assert!(!from_file.exists(), "--data did not override the file");

    for (text, want) in [
        ("[gb28181]\nid = \"123\"\n", "[gb28181] id = \"123\""),
        ("[server]\nlisten = \"nowhere\"\n", "[server] listen"),
        ("data = \"relative/dir\"\n", "absolute path"),
        ("[gb28181]\nmedia = \"carrier-pigeon\"\n", "[gb28181] media"),
        ("[server]\ncolour = \"red\"\n", "unknown field `colour`"),
        (
            "[gb28181]\nlisten = \"127.0.0.1:0\"\n",
            "[gb28181] listen needs [gb28181] password",
        ),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let o = custos(&[
            "serve",
            "--config",
            cfg.to_str().unwrap(),
            "--data",
            tmp.path().join("bad").to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text:?}: {err}");
        assert!(err.contains(want), "{text:?} → {err}");
        assert_eq!(err.trim().lines().count(), 1, "{text:?} → {err}");
    }
}
