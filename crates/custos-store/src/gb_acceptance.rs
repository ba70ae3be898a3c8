//! Whether a GB/T 28181 channel may be recorded (A2): its device must be accepted in the
//! registry, and the channel itself not rejected. Read at the moment of deciding, so that an
//! administrator's `custos gb accept` (another process) takes effect without a restart.

use custos_core::Result;
use sqlx::Row;

use crate::{Store, db_err};

/// A channel's standing in the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GbAcceptance {
    /// The device's registry status (pending, accepted, rejected).
    pub device: String,
    /// The channel's own status, when the channel is a catalog item of the device (an IP
    /// camera registering on its own is its own channel and has none).
    pub channel: Option<String>,
}

impl GbAcceptance {
    /// Why the channel may not be recorded now, or `None` if it may.
    pub fn refusal(&self, device: &str, channel: &str) -> Option<String> {
        if self.device != "accepted" {
            return Some(format!(
                "not accepted: GB/T 28181 device {device} is {} in the device registry; \
                 recording starts when an administrator runs `custos gb accept {device} --by NAME`",
                self.device
            ));
        }
        if self.channel.is_none() && channel != device {
            return Some(format!(
                "not accepted: {channel} is not a channel in the catalog of GB/T 28181 device {device}"
            ));
        }
        if self.channel.as_deref() == Some("rejected") {
            return Some(format!(
                "not accepted: channel {channel} of GB/T 28181 device {device} is rejected in the \
                 device registry; `custos gb accept {device} --channel {channel} --by NAME` accepts it"
            ));
        }
        None
    }
}

impl Store {
    /// The registry standing of `channel` of `device`; `None` if the device never registered.
    pub async fn gb_acceptance(&self, device: &str, channel: &str) -> Result<Option<GbAcceptance>> {
        let row = sqlx::query(
            "SELECT d.registry_status,
                    (SELECT c.registry_status FROM gb_channel c WHERE c.device_id = d.id AND c.id = ?)
             FROM gb_device d WHERE d.id = ?",
        )
        .bind(channel)
        .bind(device)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading GB registry status", e))?;
        Ok(row.map(|r| GbAcceptance {
            device: r.get(0),
            channel: r.get(1),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GbChannel;
    use custos_core::Time90k;

    /// A2: a pending device's channels are refused (saying how to accept); accepting the
    /// device admits them; a rejected channel of an accepted device stays refused.
    #[tokio::test]
    async fn a2_gb_channel_recorded_only_when_device_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_sqlite(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        let dev = "34020000001110000001";
        let (c1, c2) = ("34020000001310000001", "34020000001310000002");
        assert_eq!(s.gb_acceptance(dev, c1).await.unwrap(), None);
        s.gb_registered(dev, "UDP", "127.0.0.1:5061", Time90k(90_000))
            .await
            .unwrap();
        let ch = |id: &str| GbChannel {
            id: id.into(),
            status: "ON".into(),
            code_valid: true,
            ..Default::default()
        };
        s.gb_set_channels(dev, &[ch(c1), ch(c2)]).await.unwrap();
        let a = s.gb_acceptance(dev, c1).await.unwrap().unwrap();
        let why = a.refusal(dev, c1).expect("pending device refused");
        assert!(
            why.contains("not accepted") && why.contains("custos gb accept"),
            "{why}"
        );
        s.gb_set_registry_status(dev, None, "accepted")
            .await
            .unwrap();
        let a = s.gb_acceptance(dev, c1).await.unwrap().unwrap();
        assert_eq!(a.refusal(dev, c1), None);
        s.gb_set_registry_status(dev, Some(c2), "rejected")
            .await
            .unwrap();
        let a = s.gb_acceptance(dev, c2).await.unwrap().unwrap();
        assert!(a.refusal(dev, c2).unwrap().contains("rejected"));
        // The device as its own channel (no catalog row).
        let a = s.gb_acceptance(dev, dev).await.unwrap().unwrap();
        assert_eq!(a.channel, None);
        assert_eq!(a.refusal(dev, dev), None);
    }

    /// A2 (finding: rejected channel brought back): a Catalog update that drops a rejected
    /// channel and a later one that lists it again leave it rejected; a channel id the
    /// device never listed is refused too.
    #[tokio::test]
    async fn a2_rejected_channel_stays_rejected_after_catalog_del_then_add() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_sqlite(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        let dev = "34020000001110000001";
        let (c1, c2) = ("34020000001310000001", "34020000001310000002");
        s.gb_registered(dev, "UDP", "127.0.0.1:5061", Time90k(90_000))
            .await
            .unwrap();
        let ch = |id: &str| GbChannel {
            id: id.into(),
            status: "ON".into(),
            code_valid: true,
            ..Default::default()
        };
        s.gb_set_channels(dev, &[ch(c1), ch(c2)]).await.unwrap();
        s.gb_set_registry_status(dev, None, "accepted")
            .await
            .unwrap();
        s.gb_set_registry_status(dev, Some(c2), "rejected")
            .await
            .unwrap();
        // Catalog NOTIFY DEL c2, then ADD c2.
        s.gb_set_channels(dev, &[ch(c1)]).await.unwrap();
        s.gb_set_channels(dev, &[ch(c1), ch(c2)]).await.unwrap();
        let a = s.gb_acceptance(dev, c2).await.unwrap().unwrap();
        assert_eq!(a.channel.as_deref(), Some("rejected"));
        assert!(a.refusal(dev, c2).unwrap().contains("rejected"));
        // A channel id not in this device's catalog.
        let other = "34020000001310000099";
        let a = s.gb_acceptance(dev, other).await.unwrap().unwrap();
        assert!(
            a.refusal(dev, other).unwrap().contains("not a channel"),
            "{:?}",
            a.refusal(dev, other)
        );
    }
}
