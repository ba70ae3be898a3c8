//! The configuration file as the command line sees it: the file format is
//! `custos_node::config` (re-exported here); this module merges it with the flags (a flag the
//! user gave wins over the file, the file over a flag's default).

use std::path::Path;

use anyhow::Result;
pub use custos_node::config::*;

#[cfg_attr(not(feature = "gb28181"), allow(unused_macros))]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err(custos_core::Error::new(custos_core::ErrorKind::InvalidArgument, format!($($arg)*)).into())
    };
}

/// The parsed command line, kept so that a command can tell a flag the user gave (which wins)
/// from a clap default (which the config file overrides).
static MATCHES: std::sync::OnceLock<clap::ArgMatches> = std::sync::OnceLock::new();

pub fn set_matches(m: clap::ArgMatches) {
    let _ = MATCHES.set(m);
}

/// Whether the running subcommand's option `id` (clap's id: the field name) was given on the
/// command line or through its environment variable.
pub fn given(id: &str) -> bool {
    use clap::parser::ValueSource;
    let Some((_, sub)) = MATCHES.get().and_then(|m| m.subcommand()) else {
        return true;
    };
    matches!(
        sub.try_get_raw(id).ok().and(sub.value_source(id)),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// The data directory: `--data` if given, else `data` of the config file, else `flag`'s
/// default.
pub fn data_dir(flag: &Path, cfg: &Config) -> std::path::PathBuf {
    match &cfg.data {
        Some(d) if !given("data") => d.clone(),
        _ => flag.to_path_buf(),
    }
}

/// Fills the `--sip-*` options the command line left at their defaults from `[gb28181]`.
#[cfg(feature = "gb28181")]
pub fn apply_gb(sip: &mut crate::cmd::gb::SipArgs, g: &GbConfig) -> Result<()> {
    if let (Some(v), false) = (&g.listen, given("sip_listen")) {
        sip.sip_listen = Some(v.clone());
    }
    if let (Some(v), false) = (&g.id, given("sip_id")) {
        sip.sip_id = v.clone();
    }
    if let (Some(v), false) = (&g.password, given("sip_password")) {
        sip.sip_password = Some(v.clone());
    }
    if let (Some(v), false) = (g.keepalive_secs, given("sip_keepalive_secs")) {
        sip.sip_keepalive_secs = v;
    }
    if let (Some(v), false) = (&g.media, given("sip_media")) {
        sip.sip_media = v
            .parse()
            .map_err(|e| anyhow::anyhow!("[gb28181] media = {v:?}: {e}"))?;
    }
    if let (Some(v), false) = (&g.upper, given("sip_upper")) {
        sip.sip_upper = Some(v.clone());
    }
    if let (Some(v), false) = (&g.upper_password, given("sip_upper_password")) {
        sip.sip_upper_password = Some(v.clone());
    }
    // Said before anything starts, in the file's terms when the file turned the platform on.
    if g.listen.is_some() && sip.sip_listen.is_some() && sip.sip_password.is_none() {
        bail!(
            "[gb28181] listen needs [gb28181] password (or --sip-password / CUSTOS_SIP_PASSWORD): the password GB devices register with"
        );
    }
    Ok(())
}

#[cfg(not(feature = "gb28181"))]
pub fn apply_gb(_sip: &mut crate::cmd::gb::SipArgs, _g: &GbConfig) -> Result<()> {
    Ok(())
}
