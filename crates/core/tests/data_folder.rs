//! The app's data folder as someone else on the machine, or someone who edits it, sees it:
//! private to the person's account, and nothing written in it can point the app at another
//! center or at a server without https.

#![allow(clippy::unwrap_used)] // Helpers here fail the test that calls them.

mod common;

use std::sync::Arc;

use common::DataDir;
use moa_core::store::{EnvironmentRecord, settings};
use moa_core::{EnvironmentKind, MemoryVault, Moa, SANDBOX_CENTER_URL};
use tokio::io::AsyncReadExt;

/// Every file and folder under `dir` with its mode, links excepted.
#[cfg(unix)]
fn modes(dir: &std::path::Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() {
            out.push((format!("{name}/"), mode));
            out.extend(
                modes(&entry.path())
                    .into_iter()
                    .map(|(inner, mode)| (format!("{name}/{inner}"), mode)),
            );
        } else if kind.is_file() {
            out.push((name, mode));
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_is_0700_and_every_file_the_app_and_its_sandbox_write_is_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = DataDir::new("private");
    // As a folder made with the process's default mode, holding the shell's log as the log
    // plugin writes it.
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(dir.0.join("logs")).unwrap();
    std::fs::write(dir.0.join("logs/Moa.log"), "started\n").unwrap();
    std::fs::set_permissions(
        dir.0.join("logs/Moa.log"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();

    let (moa, _) = common::open(&dir).await;
    common::register(&moa, 0, &[0, 1]).await;
    moa.refresh_balances(None).await.unwrap();
    let check = |when: &str| {
        let folder = std::fs::metadata(&dir.0).unwrap().permissions().mode() & 0o777;
        assert_eq!(folder, 0o700, "{when}: the data folder");
        let found = modes(&dir.0);
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        for expected in [
            "moa.db",
            "moa.db-wal",
            "moa.db-shm",
            "moa-server.db",
            "sandbox-center.db",
            "sealing.key",
            "logs/Moa.log",
        ] {
            assert!(
                names.contains(&expected),
                "{when}: no {expected} in {names:?}"
            );
        }
        for (name, mode) in &found {
            let private = if name.ends_with('/') { 0o700 } else { 0o600 };
            assert_eq!(*mode, private, "{when}: {name} is {mode:o}");
        }
    };
    check("while running");
    moa.close().await;
    drop(moa);
    // Opened again, with the files an earlier run left.
    let (moa, _) = common::open(&dir).await;
    moa.refresh_balances(None).await.unwrap();
    check("after a restart");
    moa.close().await;
}

#[cfg(unix)]
#[tokio::test]
async fn files_an_older_version_left_readable_are_made_private_when_the_store_opens() {
    use std::os::unix::fs::PermissionsExt;
    let dir = DataDir::new("older");
    drop(moa_core::open_store(&dir.0).unwrap());
    for name in ["moa.db", "moa.db-wal", "moa.db-shm"] {
        let path = dir.0.join(name);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = moa_core::open_store(&dir.0).unwrap();
    store.set_setting(settings::THEME, "dark").unwrap();
    assert_eq!(
        std::fs::metadata(&dir.0).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for (name, mode) in modes(&dir.0) {
        assert_eq!(mode, 0o600, "{name}");
    }
}

#[tokio::test]
async fn a_center_address_edited_into_the_store_is_never_used() {
    let dir = DataDir::new("edited-center");
    let (moa, vault) = common::open(&dir).await;
    moa.close().await;
    drop(moa);

    let elsewhere = "http://203.0.113.9:8420";
    let store = moa_core::open_store(&dir.0).unwrap();
    store.set_setting(SANDBOX_CENTER_URL, elsewhere).unwrap();
    store
        .save_environment(
            &EnvironmentRecord {
                id: 0,
                kind: EnvironmentKind::Sandbox,
                base_url: elsewhere.into(),
                user_name: None,
            },
            chrono::Utc::now(),
        )
        .unwrap();
    drop(store);

    let moa = Moa::open(common::options(&dir, vault)).await.unwrap();
    let (center, _) = moa.sandbox().await.expect("the sandbox runs");
    assert!(center.starts_with("http://127.0.0.1:"), "{center}");
    let server = moa.server().await.unwrap();
    assert_eq!(
        server.base_url().host_str(),
        Some("127.0.0.1"),
        "{}",
        server.base_url()
    );
    // The consent pages are the sandbox's own center's.
    let start = moa
        .begin_registration(false, moa_openbanking::Lang::Ko)
        .await
        .unwrap();
    assert!(start.url.starts_with(&center), "{}", start.url);
    // The store says where the center is now, for the tools that read it.
    assert_eq!(
        moa.store().setting(SANDBOX_CENTER_URL).unwrap().as_deref(),
        Some(center.as_str())
    );
    moa.close().await;
}

/// A listener on this machine that records every connection made to it.
async fn recorder() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0; 4096];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    (port, rx)
}

#[tokio::test]
async fn a_server_address_edited_into_the_store_without_https_is_not_connected_to() {
    // 0.0.0.0 reaches this machine's listeners, yet is not a loopback address: http to it
    // would cross no network here, but the rule cannot know that of an address in general.
    let (port, mut arrived) = recorder().await;
    let dir = DataDir::new("edited-server");
    let store = moa_core::open_store(&dir.0).unwrap();
    store
        .save_environment(
            &EnvironmentRecord {
                id: 0,
                kind: EnvironmentKind::Server,
                base_url: format!("http://0.0.0.0:{port}/"),
                user_name: None,
            },
            chrono::Utc::now(),
        )
        .unwrap();
    store
        .set_setting(settings::ACTIVE_ENVIRONMENT, "server")
        .unwrap();
    drop(store);

    let vault = Arc::new(MemoryVault::new());
    let moa = Moa::open(common::options(&dir, vault)).await.unwrap();
    // It fell back to the sandbox, and said nothing to the address in the store.
    assert_eq!(
        moa.environment().await.unwrap().kind,
        EnvironmentKind::Sandbox
    );
    assert!(
        arrived.try_recv().is_err(),
        "a request went to the edited address"
    );
    let typed = moa.use_server(&format!("http://0.0.0.0:{port}")).await;
    assert_eq!(typed.unwrap_err().code(), "server_url_insecure");
    assert!(arrived.try_recv().is_err());
    moa.close().await;
}

#[tokio::test]
async fn a_sandbox_that_cannot_start_says_so_in_fixed_words() {
    let dir = DataDir::new("no-sandbox");
    // A folder where the sandbox center's database goes: it cannot open.
    std::fs::create_dir_all(dir.0.join("sandbox-center.db")).unwrap();
    let vault = Arc::new(MemoryVault::new());
    let error = Moa::open(common::options(&dir, vault)).await.unwrap_err();
    assert_eq!(error.code(), "sandbox");
    let shown = format!("{error} {error:?}");
    assert_eq!(
        error.to_string(),
        "the sandbox could not start: its center did not start"
    );
    assert!(!shown.contains(&*dir.0.to_string_lossy()), "{shown}");
}
