//! What `custos demo` sets up beyond a node: its two logins, kept in `DATA/demo-logins.toml`
//! (mode 0600) so a second demo run on the same data directory prints them again, and its
//! watch operator. Only the demo does this; `serve` prints a generated administrator password
//! once and keeps nothing.

use custos_core::{Error, ErrorKind, Result};

use crate::runtime::Runtime;

/// The demo's administrator and watch operator passwords.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DemoLogins {
    pub admin: String,
    pub operator: String,
}

fn demo_password() -> Result<String> {
    let mut raw = [0u8; 9];
    getrandom::fill(&mut raw)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("random source: {e}")))?;
    Ok(format!("demo-{}", hex::encode(raw)))
}

/// The logins kept in `data`, or new ones (saved); `true` when new.
fn demo_logins(data: &std::path::Path) -> Result<(DemoLogins, bool)> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data.join("demo-logins.toml");
    if let Ok(t) = std::fs::read_to_string(&path)
        && let Ok(l) = toml::from_str::<DemoLogins>(&t)
    {
        return Ok((l, false));
    }
    let l = DemoLogins {
        admin: demo_password()?,
        operator: demo_password()?,
    };
    let write = |e: std::io::Error| Error::io(format!("writing {}", path.display()), e);
    std::fs::create_dir_all(data).map_err(write)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(write)?;
    let text = toml::to_string(&l)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("demo logins: {e}")))?;
    f.write_all(text.as_bytes()).map_err(write)?;
    Ok((l, true))
}

/// The demo's watch operator: may watch and play back every camera, on shift from the start.
/// Its password is the one printed to whoever runs the demo on this machine, so it need not be
/// changed at first login.
async fn demo_operator(accounts: &custos_auth::Accounts, password: &str) -> Result<()> {
    let name = "operator";
    if accounts.user(name).await.is_err() {
        accounts
            .add_user_local(
                "demo",
                custos_auth::NewUser::new(
                    name,
                    vec![custos_core::access::RoleGrant::new(
                        custos_core::access::Role::WatchOperator,
                        custos_core::access::Scope::organisation("local"),
                    )],
                    password,
                ),
            )
            .await?;
    }
    accounts.start_shift(name, chrono::Utc::now()).await?;
    Ok(())
}

/// Opens the accounts of a demo node: the administrator with the demo's password, the watch
/// operator created (or put on shift again). Returns them with the logins to print.
pub async fn demo_accounts(rt: &Runtime) -> Result<(custos_auth::Accounts, DemoLogins)> {
    let (logins, fresh) = demo_logins(rt.data.root())?;
    let (accounts, _) = crate::server::open_accounts(rt, Some(&logins.admin)).await?;
    if fresh || accounts.user("operator").await.is_err() {
        demo_operator(&accounts, &logins.operator).await?;
    } else {
        accounts.start_shift("operator", chrono::Utc::now()).await?;
    }
    Ok((accounts, logins))
}
