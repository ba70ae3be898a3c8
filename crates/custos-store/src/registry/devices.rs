//! Devices with their latest health (A2, I4, D1), paged reads for the rule scan, synthetic devices for benchmarks.

use super::*;

impl Store {
    /// Creates or replaces devices in one transaction (an import batch). Health columns of an
    /// existing device are kept.
    pub async fn upsert_devices(&self, devices: &[DeviceRow]) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning device import", e))?;
        for d in devices {
            sqlx::query(
                "INSERT INTO reg_device (code, system_id, kind, name, vendor, model, certification,
                    lon, lat, height_m, bearing_deg, fov, place_id, public_area, signage,
                    fixed_range, activated, privacy_mask, stream_main, stream_sub, retention,
                    camera_name, online, offline_since_90k, completeness, health_90k)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (code) DO UPDATE SET system_id = excluded.system_id,
                    kind = excluded.kind, name = excluded.name, vendor = excluded.vendor,
                    model = excluded.model, certification = excluded.certification,
                    lon = excluded.lon, lat = excluded.lat, height_m = excluded.height_m,
                    bearing_deg = excluded.bearing_deg, fov = excluded.fov,
                    place_id = excluded.place_id, public_area = excluded.public_area,
                    signage = excluded.signage, fixed_range = excluded.fixed_range,
                    activated = excluded.activated, privacy_mask = excluded.privacy_mask,
                    stream_main = excluded.stream_main, stream_sub = excluded.stream_sub,
                    retention = excluded.retention, camera_name = excluded.camera_name",
            )
            .bind(&d.code)
            .bind(&d.system_id)
            .bind(&d.kind)
            .bind(&d.name)
            .bind(&d.vendor)
            .bind(&d.model)
            .bind(&d.certification)
            .bind(d.lon)
            .bind(d.lat)
            .bind(d.height_m)
            .bind(d.bearing_deg)
            .bind(&d.fov)
            .bind(&d.place_id)
            .bind(d.public_area)
            .bind(d.signage)
            .bind(d.fixed_range)
            .bind(d.activated)
            .bind(d.privacy_mask)
            .bind(&d.stream_main)
            .bind(&d.stream_sub)
            .bind(&d.retention)
            .bind(&d.camera_name)
            .bind(d.online)
            .bind(d.offline_since.map(|t| t.0))
            .bind(d.completeness)
            .bind(d.health_at.map(|t| t.0))
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err(&format!("saving device {}", d.code), e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing device import", e))?;
        Ok(())
    }

    /// Saves the latest health of a device (D1).
    pub async fn set_device_health(
        &self,
        code: &str,
        online: bool,
        offline_since: Option<Time90k>,
        completeness: Option<f64>,
        at: Time90k,
    ) -> Result<()> {
        let r = sqlx::query(
            "UPDATE reg_device SET online = ?, offline_since_90k = ?, completeness = ?, health_90k = ?
             WHERE code = ?",
        )
        .bind(online)
        .bind(offline_since.map(|t| t.0))
        .bind(completeness)
        .bind(at.0)
        .bind(code)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("saving device health", e))?;
        if r.rows_affected() == 0 {
            return Err(not_found(format!("no device {code}")));
        }
        Ok(())
    }

    pub async fn device(&self, code: &str) -> Result<DeviceRow> {
        let r = sqlx::query(&format!("{DEVICE_COLS} WHERE code = ?"))
            .bind(code)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading device", e))?;
        r.as_ref()
            .map(device_from_row)
            .ok_or_else(|| not_found(format!("no device {code}; see `custos registry export`")))
    }

    /// The registry devices recorded as the recorder's camera `name` (usually one).
    pub async fn devices_of_camera(&self, name: &str) -> Result<Vec<DeviceRow>> {
        let rows = sqlx::query(&format!(
            "{DEVICE_COLS} WHERE camera_name = ? ORDER BY code"
        ))
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading devices of camera", e))?;
        Ok(rows.iter().map(device_from_row).collect())
    }

    /// Devices of one system (or all with `None`), ordered by code.
    pub async fn devices(&self, system_id: Option<&str>) -> Result<Vec<DeviceRow>> {
        let rows = match system_id {
            Some(s) => {
                sqlx::query(&format!("{DEVICE_COLS} WHERE system_id = ? ORDER BY code"))
                    .bind(s)
                    .fetch_all(&self.pool)
                    .await
            }
            None => {
                sqlx::query(&format!("{DEVICE_COLS} ORDER BY code"))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(|e| db_err("listing devices", e))?;
        Ok(rows.iter().map(device_from_row).collect())
    }

    pub async fn device_count(&self) -> Result<i64> {
        sqlx::query("SELECT count(*) FROM reg_device")
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
            .map_err(|e| db_err("counting devices", e))
    }

    /// Streams every device to `f` without holding them all in memory.
    pub async fn for_each_device(&self, f: impl FnMut(DeviceRow)) -> Result<u64> {
        self.paged(DEVICE_PAGE_SQL, f).await
    }

    /// Streams every device's rule columns to `f` (the rule scan; see [`DeviceRuleRow`]).
    pub async fn for_each_device_for_rules(&self, f: impl FnMut(DeviceRuleRow)) -> Result<u64> {
        self.paged(DEVICE_RULE_PAGE_SQL, f).await
    }

    /// Pages through `sql` (rows after a rowid, packed by SQLite into one JSON array per page
    /// of [`DEVICE_PAGE`]), so the driver's per-row cost is paid once per page. The next page is
    /// requested before `f` runs over the current one: SQLite (on its own thread) builds page
    /// k+1 while this thread decodes and checks page k.
    async fn paged<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        mut f: impl FnMut(T),
    ) -> Result<u64> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_err("scanning devices", e))?;
        let mut page = device_page(&mut conn, sql, i64::MIN).await?;
        let mut n = 0u64;
        while let (Some(last), json) = page {
            let work = async {
                let rows: Vec<T> = serde_json::from_str(&json).map_err(|e| {
                    Error::new(
                        ErrorKind::DataLoss,
                        format!("database: a device row does not decode: {e}"),
                    )
                })?;
                n += rows.len() as u64;
                rows.into_iter().for_each(&mut f);
                Ok::<(), Error>(())
            };
            let (next, done) = futures::join!(device_page(&mut conn, sql, last), work);
            done?;
            page = next?;
        }
        Ok(n)
    }

    /// The baseline of the compliance benchmark: the same query, rows and columns as
    /// [`Store::for_each_device`], each row decoded, with no rule applied. Returns (rows, a
    /// checksum so the work cannot be skipped).
    pub async fn plain_device_scan(&self) -> Result<(u64, u64)> {
        let mut sum = 0u64;
        let n = self
            .for_each_device_for_rules(|d| {
                sum = sum.wrapping_add(d.code.len() as u64 + d.online as u64);
            })
            .await?;
        Ok((n, sum))
    }

    /// Benchmark fixture: `n` synthetic devices (numbers `first..first + n`) spread over `systems` systems and `places`
    /// places, generated inside SQLite (seconds for a million rows). Health: about 1% offline,
    /// 2% below full recording completeness, 3% without signage. Codes are valid GB/T 28181
    /// (division 3201xxxx, type 132).
    pub async fn generate_synthetic_devices(
        &self,
        first: u64,
        n: u64,
        systems: u64,
        places: u64,
        now: Time90k,
    ) -> Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("beginning generation", e))?;
        sqlx::query(
            "INSERT INTO reg_device (code, system_id, kind, name, lon, lat, height_m, bearing_deg,
                fov, place_id, public_area, signage, fixed_range, activated, privacy_mask,
                stream_main, retention, online, offline_since_90k, completeness, health_90k)
             WITH RECURSIVE seq(i) AS (SELECT ?5 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?5 + ?1)
             SELECT printf('3201%04d%02d132%d%06d', i / 1000000 % 10000, 0, 1, i % 1000000),
                    printf('sys%05d', i % ?2), 'camera', printf('cam %d', i),
                    118.70 + (i % 1000) * 0.0004, 31.90 + (i / 1000 % 1000) * 0.0004, 6.0,
                    (i * 37) % 360,
                    printf('[[%f,%f],[%f,%f],[%f,%f]]',
                        118.70 + (i % 1000) * 0.0004, 31.90 + (i / 1000 % 1000) * 0.0004,
                        118.70 + (i % 1000) * 0.0004 + 0.0003, 31.90 + (i / 1000 % 1000) * 0.0004 + 0.0001,
                        118.70 + (i % 1000) * 0.0004 + 0.0001, 31.90 + (i / 1000 % 1000) * 0.0004 + 0.0003),
                    printf('place%06d', i % ?3), 1, (i % 33) != 7, 1, 1, 0,
                    printf('rtsp://10.%d.%d.%d/main', i / 65536 % 256, i / 256 % 256, i % 256),
                    '30d', (i % 100) != 3,
                    CASE WHEN (i % 100) = 3 THEN ?4 - 90000 * 3600 ELSE NULL END,
                    CASE WHEN (i % 50) = 11 THEN 0.9 ELSE 1.0 END, ?4
             FROM seq",
        )
        .bind(n as i64)
        .bind(systems.max(1) as i64)
        .bind(places.max(1) as i64)
        .bind(now.0)
        .bind(first as i64)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("generating devices", e))?;
        tx.commit()
            .await
            .map_err(|e| db_err("committing generation", e))?;
        Ok(())
    }
}
