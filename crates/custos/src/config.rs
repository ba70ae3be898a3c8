//! The recorder's TOML configuration (`custos record --config FILE`).
//!
//! ```toml
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
//! ```

use std::path::Path;

use anyhow::{Context, Result};

macro_rules! bail {
    ($($arg:tt)*) => {
        return Err(custos_core::Error::new(custos_core::ErrorKind::InvalidArgument, format!($($arg)*)).into())
    };
}
use custos_core::camera::CameraName;
use custos_core::retention::RetentionClass;
use custos_ingest::Transport;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_segment_seconds")]
    pub segment_seconds: u32,
    #[serde(default, rename = "camera")]
    pub cameras: Vec<CameraConfig>,
    #[serde(default)]
    pub server: ServerConfig,
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
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            custos_core::Error::io(format!("cannot read config {}", path.display()), e)
        })?;
        Self::parse(&text).map_err(|e| {
            let kind = e
                .downcast_ref::<custos_core::Error>()
                .map(|e| e.kind())
                .unwrap_or(custos_core::ErrorKind::InvalidArgument);
            custos_core::Error::new(kind, format!("config {}: {e:#}", path.display())).into()
        })
    }

    /// No cameras: `serve` without `--config` serves what is already recorded.
    pub fn empty() -> Config {
        Config {
            segment_seconds: default_segment_seconds(),
            cameras: Vec::new(),
            server: ServerConfig::default(),
        }
    }

    pub fn parse(text: &str) -> Result<Config> {
        let mut c: Config = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            custos_core::Error::new(
                custos_core::ErrorKind::InvalidArgument,
                format!(
                    "{}{}; see the example in docs/operations.md",
                    line.map(|l| format!("line {l}: ")).unwrap_or_default(),
                    e.message().trim()
                ),
            )
        })?;
        if c.cameras.is_empty() {
            bail!("no [[camera]] entries; add at least one camera with name and url");
        }
        if c.server.cert.is_some() != c.server.key.is_some() {
            bail!(
                "[server] needs both cert and key (PEM files), or neither for a self-signed certificate"
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
                cam.password = Some(std::env::var(var).with_context(|| {
                    format!(
                        "camera {}: password_env names {var}, which is not set",
                        cam.name
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
