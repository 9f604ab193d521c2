//! `moa-server`: parses the command line and hands over to the library.

#[cfg(feature = "sandbox")]
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use moa_server::config::{Config, LogFormat};
use moa_server::saga::{Hooks, Step};
#[cfg(feature = "sandbox")]
use moa_server::sandbox::{self, SandboxOptions};
use moa_server::{App, Options};

#[derive(Parser)]
#[command(name = "moa-server", version, about = "The institution's Moa server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the app's API with the center, secrets and database of a config file.
    Serve {
        /// The config file.
        #[arg(long, default_value = "moa-server.toml")]
        config: PathBuf,
    },
    /// Checks a config file and reports every problem with it.
    CheckConfig {
        /// The config file.
        #[arg(long, default_value = "moa-server.toml")]
        config: PathBuf,
    },
    /// Migrates the config's database to this version's schema, then exits. `serve` migrates
    /// too; run this first when several replicas share a PostgreSQL database.
    Migrate {
        /// The config file.
        #[arg(long, default_value = "moa-server.toml")]
        config: PathBuf,
    },
    /// Prints a complete, commented example config.
    ExampleConfig,
    /// Serves a server whose center is an in-process testbed: for trying the API and for tests.
    #[cfg(feature = "sandbox")]
    Sandbox {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// The server's database file; the testbed's and the sealing key go beside it.
        #[arg(long)]
        db: Option<PathBuf>,
        /// Log as JSON lines.
        #[arg(long)]
        json: bool,
        /// Let the center serve its admin API (`/testbed/admin/…`), for test harnesses.
        #[arg(long)]
        center_admin: bool,
    },
}

/// Test hook, for the crash tests only: with `MOA_SERVER_CRASH_AT=STEP` (a saga step as
/// [`Step::as_str`] names it: `before-withdraw`, `after-withdraw`, `before-deposit`,
/// `after-deposit`, `before-refund`, `after-refund`) the `serve` and `sandbox` commands abort the
/// process the first time a transfer reaches that step — no destructor, no flush, no graceful
/// shutdown, as a power cut would. The next start must finish the transfer from its journal with
/// every leg applied once. Never set it on a server that moves real money.
const CRASH_AT: &str = "MOA_SERVER_CRASH_AT";

/// Aborts the process at one saga step: what [`CRASH_AT`] installs.
struct CrashAt(Step);

impl Hooks for CrashAt {
    fn at(&self, step: Step) {
        if step == self.0 {
            eprintln!("moa-server: {CRASH_AT}={}: aborting", step.as_str());
            std::process::abort();
        }
    }
}

/// Test hook, for the crash tests only: with `MOA_SERVER_CLOCK_OFFSET=SECONDS` the server's
/// clock reads the system's moved by that many seconds, so a test can let days pass — the
/// saga's cutoff for a call the center never saw — without waiting for them. Never set it on a
/// server that moves real money.
const CLOCK_OFFSET: &str = "MOA_SERVER_CLOCK_OFFSET";

/// The system's clock moved by a fixed offset: what [`CLOCK_OFFSET`] installs.
#[derive(Debug)]
struct OffsetClock(chrono::Duration);

impl moa_openbanking::Clock for OffsetClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.0
    }
}

/// The server's options: the defaults, with the [`CRASH_AT`] and [`CLOCK_OFFSET`] test hooks
/// when they are set.
fn server_options() -> anyhow::Result<Options> {
    let mut options = Options::default();
    if let Ok(seconds) = std::env::var(CLOCK_OFFSET) {
        let seconds: i64 = seconds
            .parse()
            .with_context(|| format!("{CLOCK_OFFSET}={seconds:?} is not a number of seconds"))?;
        tracing::warn!(
            seconds,
            "test hook {CLOCK_OFFSET} is set: the server's clock is moved"
        );
        options.clock = Arc::new(OffsetClock(chrono::Duration::seconds(seconds)));
    }
    match std::env::var(CRASH_AT) {
        Ok(name) => {
            let step = Step::parse(&name).with_context(|| {
                let steps: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "{CRASH_AT}={name:?} is not a saga step; one of {}",
                    steps.join(", ")
                )
            })?;
            tracing::warn!(
                step = step.as_str(),
                "test hook {CRASH_AT} is set: the process aborts when a transfer reaches this step"
            );
            options.hooks = Arc::new(CrashAt(step));
        }
        Err(std::env::VarError::NotPresent) => {}
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("{CRASH_AT} is not UTF-8"),
    }
    Ok(options)
}

fn logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        _ => builder.init(),
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::CheckConfig { config } => {
            let problems = match Config::load(&config) {
                Ok(config) => config.check(),
                Err(problems) => problems.0,
            };
            if problems.is_empty() {
                println!("{}: no problems", config.display());
                return Ok(());
            }
            for problem in &problems {
                println!("{problem}");
            }
            anyhow::bail!("{} problem(s) in {}", problems.len(), config.display())
        }
        Command::Migrate { config } => {
            let config = Config::load(&config).map_err(|p| anyhow::anyhow!("{p}"))?;
            logging(config.log_format());
            let settings = config.settings().map_err(|p| anyhow::anyhow!("{p}"))?;
            moa_server::store::Store::connect(&settings.database)
                .await
                .context("migrating the database")?;
            println!("the database is at this version's schema");
            Ok(())
        }
        Command::ExampleConfig => {
            print!("{}", moa_server::config::EXAMPLE);
            Ok(())
        }
        Command::Serve { config } => {
            let config = Config::load(&config).map_err(|p| anyhow::anyhow!("{p}"))?;
            logging(config.log_format());
            let settings = config.settings().map_err(|p| anyhow::anyhow!("{p}"))?;
            let app = App::open(settings, config.options(server_options()?))
                .await
                .context("opening the server")?;
            let listener = tokio::net::TcpListener::bind(config.listen())
                .await
                .with_context(|| format!("listening on {}", config.listen()))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, "serving");
            println!("listening on http://{addr}");
            moa_server::run(Arc::new(app), listener, shutdown_signal()).await?;
            Ok(())
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox {
            addr,
            db,
            json,
            center_admin,
        } => {
            logging(if json {
                LogFormat::Json
            } else {
                LogFormat::Text
            });
            let dir = match &db {
                Some(db) => db
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(".")),
                None => std::env::temp_dir().join(format!("moa-sandbox-{}", std::process::id())),
            };
            let mut options = SandboxOptions::new(dir);
            options.addr = addr;
            options.center_admin = center_admin;
            options.options = server_options()?;
            if let Some(db) = db {
                options.database = moa_server::store::Database::Sqlite(db);
            }
            let sandbox = sandbox::start(options).await?;
            println!("listening on {}", sandbox.server.base_url);
            println!("center on {}", sandbox.center.base_url);
            shutdown_signal().await;
            sandbox.shutdown().await;
            Ok(())
        }
    }
}
