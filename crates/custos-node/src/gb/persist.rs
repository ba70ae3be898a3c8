//! What the GB/T 28181 platform learns, made durable: registrations, online state, device
//! info and catalogs become rows (`gb_device`, `gb_channel`), alarms become ledger entries and
//! active alarms (I4), and every new video channel is handed to the node to record.

use custos_core::compliance::DeviceCode;
use custos_gb28181::{Platform, PlatformEvent};
use custos_store::{GbChannel, Store};
use tokio::sync::mpsc;

use crate::runtime::now;

/// Writes what the platform learns to the store and asks for new video channels to record.
pub async fn persist(
    p: Platform,
    store: Store,
    journal: custos_footage::Journal,
    new_channels: mpsc::UnboundedSender<(String, String)>,
) {
    let mut ev = p.subscribe();
    loop {
        let e = match ev.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "GB events lagged; state will catch up");
                continue;
            }
            Err(_) => return,
        };
        let r: custos_core::Result<()> = async {
            match &e {
                PlatformEvent::Registered { device, addr } => {
                    let t = p.device(device).map(|d| d.transport).unwrap_or("UDP");
                    store.gb_registered(device, t, addr, now()).await?;
                    // An IP camera registering on its own is its own video channel.
                    if DeviceCode::parse(device).is_ok_and(|c| c.is_camera()) {
                        let _ = new_channels.send((device.clone(), device.clone()));
                    }
                }
                PlatformEvent::Online { device } => {
                    store.gb_set_online(device, true, None, now()).await?
                }
                PlatformEvent::Offline { device, reason } => {
                    store
                        .gb_set_online(device, false, Some(reason), now())
                        .await?
                }
                PlatformEvent::Unregistered { device } => {
                    store
                        .gb_set_online(device, false, Some("unregistered"), now())
                        .await?
                }
                PlatformEvent::DeviceInfo { device } => {
                    if let Some(d) = p.device(device) {
                        store
                            .gb_set_info(device, &d.name, &d.manufacturer, &d.model, &d.firmware)
                            .await?;
                    }
                }
                PlatformEvent::Catalog { device, items } => {
                    // Bounded (finding: a device's catalog of any size): the rest is ignored.
                    if items.len() > super::MAX_CHANNELS_PER_DEVICE {
                        tracing::warn!(
                            device,
                            listed = items.len(),
                            kept = super::MAX_CHANNELS_PER_DEVICE,
                            "GB catalog longer than the per-device limit; the rest is ignored"
                        );
                    }
                    let items = &items[..items.len().min(super::MAX_CHANNELS_PER_DEVICE)];
                    let rows: Vec<GbChannel> = items
                        .iter()
                        .map(|i| GbChannel {
                            id: i.device_id.clone(),
                            name: i.name.clone(),
                            manufacturer: i.manufacturer.clone(),
                            model: i.model.clone(),
                            civil_code: i.civil_code.clone(),
                            address: i.address.clone(),
                            parent_id: i.parent_id.clone(),
                            status: i.status.clone(),
                            longitude: i.longitude,
                            latitude: i.latitude,
                            code_valid: DeviceCode::parse(&i.device_id).is_ok(),
                            registry_status: "pending".into(),
                        })
                        .collect();
                    store.gb_set_channels(device, &rows).await?;
                    for i in items {
                        if i.device_id != *device
                            && DeviceCode::parse(&i.device_id).is_ok_and(|c| c.is_camera())
                        {
                            let _ = new_channels.send((device.clone(), i.device_id.clone()));
                        }
                    }
                }
                PlatformEvent::Alarm { device, fields } => {
                    // I4: alarm events enter the same timeline and audit as footage.
                    let j = journal.clone();
                    let entry = custos_ledger::NewEntry::new(
                        format!("gb28181 device {device}"),
                        custos_ledger::Action::Other("alarm".into()),
                        format!("gb28181/{device}"),
                    )
                    .details(serde_json::json!({
                        "source": "GB/T 28181 Notify Alarm",
                        "fields": fields.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                    }));
                    match tokio::task::spawn_blocking(move || j.record(entry)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "could not record GB alarm in the ledger")
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "could not record GB alarm in the ledger")
                        }
                    }
                    let desc: Vec<String> =
                        fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    store
                        .raise_alarm(
                            &format!("gb28181 alarm {device}"),
                            None,
                            &format!("GB/T 28181 alarm from {device}: {}", desc.join(", ")),
                            now(),
                        )
                        .await?;
                }
                _ => {}
            }
            Ok(())
        }
        .await;
        if let Err(err) = r {
            tracing::warn!(error = %err, event = ?e, "could not save GB state");
        }
    }
}
