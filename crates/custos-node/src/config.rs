//! The TOML configuration of `custos record --config FILE` and `custos serve --config FILE`
//! (installed as `/etc/custos/custos.toml`, read by the systemd unit). Every key is optional
//! except a camera's `name` and `url`; command-line flags (and their environment variables)
//! override the file (the binary merges them).
//!
//! ```toml
//! data = "/var/lib/custos"      # optional; data directory (absolute path); --data overrides
//! segment_seconds = 60          # optional; seal a segment at the first key frame after this
//!
//! [[camera]]
//! name = "gate-1"
//! url = "rtsp://192.0.2.10:554/Streaming/Channels/101"
//! sub_url = "rtsp://192.0.2.10:554/Streaming/Channels/102"   # optional
//! username = "admin"             # optional
//! password_env = "GATE1_PASSWORD" # or: password = "..."
//! transport = "tcp"              # tcp (default) | udp
//! retention = "30d"              # 30d (default) | 90d | 2y | <N>d with N >= 30
//! area = "local/main/gate"       # optional: organisation/system/area (access scopes, E1)
//!
//! [server]                       # optional, for `custos serve`
//! listen = "0.0.0.0:8443"
//! cert = "/etc/custos/cert.pem"  # optional: your certificate (default: self-signed, kept)
//! key = "/etc/custos/key.pem"
//!
//! [gb28181]                      # optional: the GB/T 28181 platform (the --sip-* flags)
//! listen = "0.0.0.0:5060"        # --sip-listen; without it no platform runs
//! id = "34020000002000000001"    # --sip-id
//! password = "..."               # --sip-password / CUSTOS_SIP_PASSWORD
//! keepalive_secs = 60            # --sip-keepalive-secs
//! media = "udp"                  # --sip-media: udp | tcp-passive | tcp-active
//! upper = "ID@HOST:PORT"         # --sip-upper
//! upper_password = "..."         # --sip-upper-password / CUSTOS_SIP_UPPER_PASSWORD
//! ```

use std::path::Path;

use custos_core::{Error, ErrorKind, Result};

macro_rules! bail {
    ($($arg:tt)*) => {
        return Err(Error::new(ErrorKind::InvalidArgument, format!($($arg)*)))
    };
}
use custos_core::camera::CameraName;
use custos_core::retention::RetentionClass;
use custos_ingest::Transport;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Data directory; `--data` overrides it.
    pub data: Option<std::path::PathBuf>,
    #[serde(default = "default_segment_seconds")]
    pub segment_seconds: u32,
    #[serde(default, rename = "camera")]
    pub cameras: Vec<CameraConfig>,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub gb28181: GbConfig,
}

/// `[gb28181]`: the GB/T 28181 platform, as the `--sip-*` flags (which override it).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GbConfig {
    pub listen: Option<String>,
    pub id: Option<String>,
    pub password: Option<String>,
    pub keepalive_secs: Option<u64>,
    pub media: Option<String>,
    pub upper: Option<String>,
    pub upper_password: Option<String>,
}

/// `[server]`: where `custos serve` listens and which certificate it presents.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: Option<std::net::SocketAddr>,
    pub cert: Option<std::path::PathBuf>,
    pub key: Option<std::path::PathBuf>,
}

fn default_segment_seconds() -> u32 {
    60
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    pub name: CameraName,
    pub url: url::Url,
    pub sub_url: Option<url::Url>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    #[serde(default)]
    pub transport: Transport,
    #[serde(default)]
    pub retention: RetentionClass,
    /// `org/system/area` the camera belongs to (access scopes); default `local/main/default`.
    pub area: Option<String>,
}

impl Config {
    /// Reads and checks a config file; a file without cameras is valid (a server of GB/T
    /// 28181 devices, or one that only serves what was recorded).
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            custos_core::Error::io(format!("cannot read config {}", path.display()), e)
        })?;
        Self::parse_any(&text)
            .map_err(|e| Error::new(e.kind(), format!("config {}: {e}", path.display())))
    }

    /// No cameras: `serve` without `--config` serves what is already recorded.
    pub fn empty() -> Config {
        Config {
            segment_seconds: default_segment_seconds(),
            cameras: Vec::new(),
            server: ServerConfig::default(),
            gb28181: GbConfig::default(),
            data: None,
        }
    }

    /// Parses a recorder's config: at least one camera.
    #[cfg(test)]
    pub fn parse(text: &str) -> Result<Config> {
        let c = Self::parse_any(text)?;
        if c.cameras.is_empty() {
            bail!("{NO_CAMERA}");
        }
        Ok(c)
    }

    /// Parses and checks a config that may list no camera.
    pub fn parse_any(text: &str) -> Result<Config> {
        let mut c: Config = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| s.start.min(text.len()));
            let line = at.map(|a| text[..a].lines().count().max(1));
            let key = at.and_then(|a| key_at(text, a));
            custos_core::Error::new(
                custos_core::ErrorKind::InvalidArgument,
                format!(
                    "{}{}{}; fix it (the keys and their defaults are in docs/operations.md)",
                    line.map(|l| format!("line {l}: ")).unwrap_or_default(),
                    key.map(|k| format!("{k}: ")).unwrap_or_default(),
                    e.message().trim()
                ),
            )
        })?;
        if let Some(d) = &c.data
            && !d.is_absolute()
        {
            bail!(
                "data = {:?}: write the data directory as an absolute path, e.g. \"/var/lib/custos\"",
                d.display().to_string()
            );
        }
        c.gb28181.check()?;
        if c.server.cert.is_some() != c.server.key.is_some() {
            bail!(
                "[server] cert and key: give both (PEM files), or neither for a self-signed certificate"
            );
        }
        if !(5..=600).contains(&c.segment_seconds) {
            bail!(
                "segment_seconds = {} is out of range; use 5..600 (default 60)",
                c.segment_seconds
            );
        }
        let mut seen = std::collections::HashSet::new();
        for cam in &mut c.cameras {
            if let Some(a) = &cam.area
                && (a.split('/').count() != 3 || a.split('/').any(str::is_empty))
            {
                bail!(
                    "camera {}: area {a:?} must be organisation/system/area, e.g. \"local/main/gate\"",
                    cam.name
                );
            }
            if !seen.insert(cam.name.clone()) {
                bail!(
                    "camera {} is listed twice; camera names must be unique",
                    cam.name
                );
            }
            for u in std::iter::once(&cam.url).chain(cam.sub_url.as_ref()) {
                if u.scheme() != "rtsp" && u.scheme() != "rtsps" {
                    bail!(
                        "camera {}: url {} is not rtsp://…; custos records RTSP cameras (GB/T 28181 devices register instead)",
                        cam.name,
                        u
                    );
                }
            }
            if let Some(var) = &cam.password_env {
                cam.password = Some(std::env::var(var).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "camera {}: password_env names {var}, which is not set ({e})",
                            cam.name
                        ),
                    )
                })?);
            }
            // Credentials in the URL are accepted too, and moved out of it.
            if cam.username.is_none() && !cam.url.username().is_empty() {
                cam.username = Some(cam.url.username().to_owned());
                cam.password = cam
                    .password
                    .take()
                    .or(cam.url.password().map(str::to_owned));
            }
        }
        Ok(c)
    }
}

pub const NO_CAMERA: &str = "no [[camera]] entries; add at least one camera with name and url (or [gb28181] listen for GB/T 28181 devices)";

/// `[section] key` of the line holding byte `at` (for error messages).
fn key_at(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let key = line.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with('[') || key.starts_with('#') {
        return None;
    }
    let section = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| format!("{} ", l.split('#').next().unwrap_or(l).trim()));
    Some(format!("{}{key}", section.unwrap_or_default()))
}

impl GbConfig {
    /// Checks the section's values (before anything starts).
    pub fn check(&self) -> Result<()> {
        let g = self;
        if !cfg!(feature = "gb28181") && g.listen.is_some() {
            bail!(
                "[gb28181] listen: this custos was built without GB/T 28181 (feature gb28181); remove the section or rebuild with it"
            );
        }
        if let Some(id) = &g.id
            && (id.len() != 20 || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            bail!(
                "[gb28181] id = {id:?}: write the platform's 20-digit SIP id, e.g. \"34020000002000000001\""
            );
        }
        if let Some(l) = &g.listen
            && l.parse::<std::net::SocketAddr>().is_err()
            && format!("{l}:5060").parse::<std::net::SocketAddr>().is_err()
        {
            bail!("[gb28181] listen = {l:?}: write ADDR:PORT, e.g. \"0.0.0.0:5060\"");
        }
        if let Some(k) = g.keepalive_secs
            && !(1..=3600).contains(&k)
        {
            bail!("[gb28181] keepalive_secs = {k}: use 1..3600 (default 60)");
        }
        if let Some(m) = &g.media
            && !["udp", "tcp-passive", "tcp-active"].contains(&m.as_str())
        {
            bail!("[gb28181] media = {m:?}: use \"udp\", \"tcp-passive\" or \"tcp-active\"");
        }
        if let Some(u) = &g.upper
            && !u.contains('@')
        {
            bail!("[gb28181] upper = {u:?}: write UPPER_ID@HOST:PORT");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// F1: a retention below the legal floor is refused with the reason.
    #[test]
    fn f1_config_refuses_retention_below_30_days() {
        let e =
            Config::parse("[[camera]]\nname='a'\nurl='rtsp://h/x'\nretention='7d'\n").unwrap_err();
        assert!(format!("{e:#}").contains("legal minimum"), "{e:#}");
    }

    #[test]
    fn garbage_config_gets_a_clear_error() {
        for (text, want) in [
            ("this is not toml", "line 1"),
            (
                "[[camera]]\nname='../x'\nurl='rtsp://h/'",
                "bad camera name",
            ),
            ("[[camera]]\nname='a'\nurl='http://h/'", "not rtsp"),
            (
                "[[camera]]\nname='a'\nurl='rtsp://h/'\ncolour='red'",
                "unknown field",
            ),
            ("", "no [[camera]]"),
        ] {
            let e = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(e.contains(want), "{text:?} → {e}");
        }
    }

    /// I2: credentials in a camera URL are moved out of it (never logged with the URL).
    #[test]
    fn credentials_move_out_of_the_url() {
        let c = Config::parse("[[camera]]\nname='a'\nurl='rtsp://u:p@h/x'\n").unwrap();
        assert_eq!(c.cameras[0].username.as_deref(), Some("u"));
        assert_eq!(c.cameras[0].password.as_deref(), Some("p"));
        assert_eq!(c.cameras[0].retention, RetentionClass::Standard30d);
    }
}
