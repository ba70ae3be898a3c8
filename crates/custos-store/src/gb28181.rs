//! GB/T 28181 devices and channels: what the platform learned (REGISTER, keepalive, Catalog,
//! DeviceInfo), kept for other processes and the console. Registry acceptance (A2) is a
//! status the administrator changes; this module does not decide it.

use custos_core::{Result, Time90k};
use sqlx::Row;

use crate::{Store, db_err};

/// A device as stored.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct GbDevice {
    pub id: String,
    pub transport: String,
    pub addr: String,
    pub online: bool,
    pub name: String,
    pub manufacturer: String,
    pub model: String,
    pub firmware: String,
    pub registry_status: String,
    pub offline_reason: Option<String>,
    pub first_seen: Time90k,
    pub last_seen: Time90k,
    pub channels: Vec<GbChannel>,
}

/// A channel (catalog item) as stored.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct GbChannel {
    pub id: String,
    pub name: String,
    pub manufacturer: String,
    pub model: String,
    pub civil_code: String,
    pub address: String,
    pub parent_id: String,
    pub status: String,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub code_valid: bool,
    pub registry_status: String,
}

impl Store {
    /// Records a (re-)registration: creates the device as pending, or refreshes it.
    pub async fn gb_registered(
        &self,
        id: &str,
        transport: &str,
        addr: &str,
        now: Time90k,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO gb_device (id, transport, addr, online, first_seen_90k, last_seen_90k)
             VALUES (?, ?, ?, 1, ?, ?)
             ON CONFLICT (id) DO UPDATE SET transport = excluded.transport, addr = excluded.addr,
               online = 1, offline_reason = NULL, last_seen_90k = excluded.last_seen_90k",
        )
        .bind(id)
        .bind(transport)
        .bind(addr)
        .bind(now.0)
        .bind(now.0)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving GB device", e))?;
        Ok(())
    }

    /// Online/offline transitions (keepalive timeouts, unregister, expiry).
    pub async fn gb_set_online(
        &self,
        id: &str,
        online: bool,
        reason: Option<&str>,
        now: Time90k,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE gb_device SET online = ?, offline_reason = ?, last_seen_90k = MAX(last_seen_90k, ?)
             WHERE id = ?",
        )
        .bind(online)
        .bind(reason)
        .bind(if online { now.0 } else { 0 })
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving GB device state", e))?;
        Ok(())
    }

    /// DeviceInfo answer.
    pub async fn gb_set_info(
        &self,
        id: &str,
        name: &str,
        manufacturer: &str,
        model: &str,
        firmware: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE gb_device SET name = ?, manufacturer = ?, model = ?, firmware = ? WHERE id = ?",
        )
        .bind(name)
        .bind(manufacturer)
        .bind(model)
        .bind(firmware)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving GB device info", e))?;
        Ok(())
    }

    /// Replaces a device's channel list with its latest Catalog, keeping each channel's
    /// registry status; channels with a registry decision stay even when the catalog drops
    /// them.
    pub async fn gb_set_channels(&self, device: &str, channels: &[GbChannel]) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("saving GB catalog", e))?;
        // The first statement writes: a deferred transaction that read first could not take
        // the write lock while another connection writes (SQLITE_BUSY at once, no busy wait).
        let ids: Vec<&str> = channels.iter().map(|c| c.id.as_str()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| {
            custos_core::Error::new(
                custos_core::ErrorKind::Internal,
                format!("GB catalog ids: {e}"),
            )
        })?;
        sqlx::query(
            // Only undecided rows go: an administrator's accept/reject of a channel outlives
            // the channel leaving the catalog, so a DEL then ADD cannot undo a rejection (A2).
            "DELETE FROM gb_channel WHERE device_id = ? AND registry_status = 'pending'
               AND id NOT IN (SELECT value FROM json_each(?))",
        )
        .bind(device)
        .bind(ids)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("saving GB catalog", e))?;
        for c in channels {
            sqlx::query(
                "INSERT INTO gb_channel (device_id, id, name, manufacturer, model, civil_code, address,
                   parent_id, status, longitude, latitude, code_valid)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (device_id, id) DO UPDATE SET name = excluded.name,
                   manufacturer = excluded.manufacturer, model = excluded.model,
                   civil_code = excluded.civil_code, address = excluded.address,
                   parent_id = excluded.parent_id, status = excluded.status,
                   longitude = excluded.longitude, latitude = excluded.latitude,
                   code_valid = excluded.code_valid",
            )
            .bind(device)
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.manufacturer)
            .bind(&c.model)
            .bind(&c.civil_code)
            .bind(&c.address)
            .bind(&c.parent_id)
            .bind(&c.status)
            .bind(c.longitude)
            .bind(c.latitude)
            .bind(c.code_valid)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("saving GB catalog", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("saving GB catalog", e))?;
        Ok(())
    }

    /// The administrator's registry decision (A2) for a device or one of its channels.
    pub async fn gb_set_registry_status(
        &self,
        device: &str,
        channel: Option<&str>,
        status: &str,
    ) -> Result<()> {
        if !matches!(status, "pending" | "accepted" | "rejected") {
            custos_core::bail!(
                InvalidArgument,
                "registry status {status:?}: use pending, accepted or rejected"
            );
        }
        let r = match channel {
            None => sqlx::query("UPDATE gb_device SET registry_status = ? WHERE id = ?")
                .bind(status)
                .bind(device),
            Some(c) => sqlx::query(
                "UPDATE gb_channel SET registry_status = ? WHERE device_id = ? AND id = ?",
            )
            .bind(status)
            .bind(device)
            .bind(c),
        }
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving registry status", e))?;
        if r.rows_affected() == 0 {
            custos_core::bail!(
                NotFound,
                "no GB device {device}{}",
                channel.map(|c| format!(" channel {c}")).unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Every device with its channels, by id.
    pub async fn gb_devices(&self) -> Result<Vec<GbDevice>> {
        let rows = sqlx::query(
            "SELECT id, transport, addr, online, name, manufacturer, model, firmware, registry_status,
                    offline_reason, first_seen_90k, last_seen_90k FROM gb_device ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading GB devices", e))?;
        let mut out: Vec<GbDevice> = rows
            .iter()
            .map(|r| GbDevice {
                id: r.get(0),
                transport: r.get(1),
                addr: r.get(2),
                online: r.get(3),
                name: r.get(4),
                manufacturer: r.get(5),
                model: r.get(6),
                firmware: r.get(7),
                registry_status: r.get(8),
                offline_reason: r.get(9),
                first_seen: Time90k(r.get(10)),
                last_seen: Time90k(r.get(11)),
                channels: Vec::new(),
            })
            .collect();
        let chans = sqlx::query(
            "SELECT device_id, id, name, manufacturer, model, civil_code, address, parent_id, status,
                    longitude, latitude, code_valid, registry_status FROM gb_channel ORDER BY device_id, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading GB channels", e))?;
        for r in &chans {
            let dev: String = r.get(0);
            if let Some(d) = out.iter_mut().find(|d| d.id == dev) {
                d.channels.push(GbChannel {
                    id: r.get(1),
                    name: r.get(2),
                    manufacturer: r.get(3),
                    model: r.get(4),
                    civil_code: r.get(5),
                    address: r.get(6),
                    parent_id: r.get(7),
                    status: r.get(8),
                    longitude: r.get(9),
                    latitude: r.get(10),
                    code_valid: r.get(11),
                    registry_status: r.get(12),
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I1/A2: devices persist as pending with their channels; a new catalog replaces the list
    /// but keeps each channel's registry decision; online state follows the platform.
    #[tokio::test]
    async fn i1_a2_gb_devices_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_sqlite(&dir.path().join("db.sqlite"))
            .await
            .unwrap();
        let dev = "34020000001320000001";
        s.gb_registered(dev, "UDP", "127.0.0.1:5061", Time90k(90_000))
            .await
            .unwrap();
        let ch = |id: &str, name: &str| GbChannel {
            id: id.into(),
            name: name.into(),
            status: "ON".into(),
            code_valid: true,
            ..Default::default()
        };
        s.gb_set_channels(
            dev,
            &[
                ch("34020000001310000001", "南门"),
                ch("34020000001310000002", "萳道"),
            ],
        )
        .await
        .unwrap();
        s.gb_set_registry_status(dev, Some("34020000001310000001"), "accepted")
            .await
            .unwrap();
        s.gb_set_channels(
            dev,
            &[
                ch("34020000001310000001", "南门 2"),
                ch("34020000001310000003", "x"),
            ],
        )
        .await
        .unwrap();
        s.gb_set_online(dev, false, Some("3 keepalives missed"), Time90k(180_000))
            .await
            .unwrap();
        let d = &s.gb_devices().await.unwrap()[0];
        assert_eq!(d.registry_status, "pending");
        assert!(!d.online);
        assert_eq!(d.offline_reason.as_deref(), Some("3 keepalives missed"));
        let names: Vec<(&str, &str)> = d
            .channels
            .iter()
            .map(|c| (c.name.as_str(), c.registry_status.as_str()))
            .collect();
        assert_eq!(names, vec![("南门 2", "accepted"), ("x", "pending")]);
        assert!(
            s.gb_set_registry_status("34020000001320000009", None, "accepted")
                .await
                .is_err()
        );
        assert!(s.gb_set_registry_status(dev, None, "maybe").await.is_err());
    }
}
