//! The app's own sandbox center: its admin API, which can move money, the clock and bank
//! status, is not served unless the end-to-end harness asks for it.

mod common;

use std::sync::Arc;

use common::DataDir;
use moa_core::{MemoryVault, Moa, Options, SANDBOX_ADMIN_ENV};

#[tokio::test]
async fn the_apps_sandbox_center_serves_no_admin_api_unless_asked() {
    if std::env::var_os(SANDBOX_ADMIN_ENV).is_none() {
        let dir = DataDir::new("sandbox-admin-default");
        assert!(
            !Options::new(&dir.0).sandbox_admin,
            "the app's default keeps the admin API off"
        );
    }
    let dir = DataDir::new("sandbox-admin");
    let mut options = common::options(&dir, Arc::new(MemoryVault::new()));
    options.sandbox_admin = false;
    let moa = Moa::open(options).await.expect("Moa opens");
    let (base, manifest) = moa.sandbox().await.expect("the sandbox runs");
    let http = reqwest::Client::new();
    for path in ["/testbed/admin/ledger", "/testbed/admin/clock"] {
        let response = http
            .get(format!("{base}{path}"))
            .bearer_auth(&manifest.admin_token)
            .send()
            .await
            .expect("the center answers");
        assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND, "{path}");
    }
    moa.close().await;
}
