//! Moa's desktop shell: the Tauri 2 application around `moa_core`. It opens the core, manages
//! it as state, exposes the commands of [`commands`], and runs the registration window of
//! [`auth`]. Nothing here decides anything about money.
#![deny(missing_docs)]

pub mod auth;
pub mod commands;
pub mod core;
pub mod error;
pub mod export;
pub mod ipc;
pub mod navigation;
pub mod startup;
pub mod sync;
pub mod views;

use std::path::PathBuf;

use tauri::{Manager, Runtime};

/// Every command, for the builder and for tests. Keep in step with `build.rs`.
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::app_state,
        commands::dashboard,
        commands::refresh_balances,
        commands::bank_statuses,
        commands::account_history,
        commands::sync_history,
        commands::balance_chart,
        commands::save_export,
        commands::register_accounts,
        commands::cancel_account,
        commands::sign_out,
        commands::preflight_transfer,
        commands::confirm_transfer,
        commands::transfers,
        commands::set_preferences,
        commands::use_sandbox,
        commands::use_server,
        commands::dashboard_painted,
        commands::core_ready,
    ]
}

/// Where Moa keeps its store and the sandbox's center: `MOA_DATA_DIR` when set (tests and
/// demos), else the platform's app-data folder.
fn data_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    match std::env::var_os("MOA_DATA_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(app.path().app_data_dir()?),
    }
}

/// Opens the main window as `tauri.conf.json` describes it, with the dashboard the store holds
/// handed to its page, so the page paints it without waiting for the core.
fn open_main_window<R: Runtime>(
    app: &tauri::App<R>,
    store: Option<&moa_core::Store>,
) -> Result<(), Box<dyn std::error::Error>> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .ok_or("tauri.conf.json has no main window")?
        .clone();
    // The UI's development server is an app page only in a build that loads it.
    let dev_url = match cfg!(feature = "custom-protocol") {
        true => None,
        false => app.config().build.dev_url.clone(),
    };
    let mut window = tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?
        .on_navigation(move |url| {
            let allowed = navigation::is_app_page(url, dev_url.as_ref());
            if !allowed {
                log::warn!(
                    "main window: stopped a navigation to {}",
                    navigation::logged_origin(url)
                );
            }
            allowed
        })
        .on_new_window(|url, _| {
            log::warn!(
                "main window: stopped a new window to {}",
                navigation::logged_origin(&url)
            );
            tauri::webview::NewWindowResponse::Deny
        });
    if let Some(script) = store
        .and_then(startup::stored_dashboard)
        .and_then(|d| startup::stored_dashboard_script(&d))
    {
        window = window.initialization_script(&script);
    }
    if let Some(script) = startup::no_sandbox_script() {
        window = window.initialization_script(&script);
    }
    paint_without_compositing(&window.build()?);
    Ok(())
}

/// Finishes, in the background, the transfers a previous run left open.
async fn resume_transfers<R: Runtime>(handle: &tauri::AppHandle<R>) {
    let core = handle.state::<core::Core>();
    match core.moa.resume_transfers(None).await {
        Ok(done) if !done.is_empty() => log::info!("resumed {} open transfers", done.len()),
        Ok(_) => {}
        Err(e) => log::warn!("resuming transfers: {}", e.code()),
    }
}

/// Draws the page without WebKitGTK's accelerated compositing. Moa's screens are flat text,
/// tables and one small chart; compositing gives each layer its own tiles of backing memory,
/// which cost the page about 30 MB more than the same pixels painted directly, with nothing to
/// show for it.
fn paint_without_compositing<R: Runtime>(window: &tauri::WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let set = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt as _, WebViewExt as _};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = set {
            log::warn!("the webview's rendering mode stays WebKit's default: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// Runs the app until its last window closes.
pub fn run() {
    let startup = startup::Startup::now();
    let app = tauri::Builder::default()
        .manage(startup)
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(main) = app.get_webview_window("main") {
                let _ = main.unminimize();
                let _ = main.set_focus();
            }
        }))
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(log::LevelFilter::Info)
                .build(),
        )
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_denylist(&[auth::AUTH_WINDOW])
                .build(),
        )
        .setup(|app| {
            let data_dir = data_dir(app)?;
            // Opened once: the window's page gets its dashboard, then the core takes it.
            let store = moa_core::open_store(&data_dir);
            open_main_window(app, store.as_ref().ok())?;
            // The core opens once the page painted the stored dashboard, or once a command needs
            // it; commands wait for it.
            let options = moa_core::Options::new(data_dir);
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let startup = handle.state::<startup::Startup>();
                startup.core_wanted().await;
                let opened = match store {
                    Ok(store) => moa_core::Moa::open_with_store(options, store).await,
                    Err(e) => Err(e),
                };
                match opened {
                    Ok(moa) => {
                        handle.manage(core::Core::new(moa));
                        log::info!("core open {} ms after start", startup.elapsed_ms());
                        startup.core_opened();
                        resume_transfers(&handle).await;
                    }
                    Err(e) => {
                        log::error!("the core could not open: {}", e.code());
                        startup.core_failed(error::from_core(&e));
                    }
                }
            });
            Ok(())
        })
        .invoke_handler(handler())
        .build(tauri::generate_context!())
        .expect("Moa's window could not be built");
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(core) = handle.try_state::<core::Core>()
        {
            tauri::async_runtime::block_on(core.moa.close());
        }
    });
}
