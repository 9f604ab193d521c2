//! `moa-testbed`: runs the local open banking center. Parsing and dispatch only; the work is in
//! the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use moa_testbed::faults::FaultRule;
use moa_testbed::{Config, DbLocation, Testbed};

#[derive(Parser)]
#[command(
    name = "moa-testbed",
    version,
    about = "A local open banking center speaking KFTC's Open Banking v2.0 protocol"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the center until interrupted.
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: SocketAddr,
        /// Database file, or `:memory:`.
        #[arg(long, default_value = "moa-testbed.db")]
        db: String,
        /// Where to write the sandbox manifest (JSON with credentials and demo people).
        #[arg(long)]
        manifest_out: Option<PathBuf>,
        /// Latency of every bank, in milliseconds.
        #[arg(long, default_value_t = moa_testbed::DEFAULT_LATENCY.as_millis() as u64)]
        latency_ms: u64,
        /// Latency of one bank, as CODE=MILLISECONDS; may be repeated.
        #[arg(long = "bank-latency", value_parser = parse_bank_latency)]
        bank_latency: Vec<(String, Duration)>,
        /// Status of one bank for this run, as CODE=Y|D|L|E; may be repeated.
        #[arg(long = "bank-status", value_parser = parse_bank_status)]
        bank_status: Vec<(String, String)>,
        /// A scripted fault, as API[@BANK]=KIND[*COUNT], e.g. withdraw@004=timeout-applied*3;
        /// may be repeated. KIND: bank-error:CODE, timeout-applied, timeout-not-applied,
        /// bank-timeout-applied, bank-timeout-not-applied, drop-after-commit, drop-before-commit,
        /// usage-limit, and for withdraw and deposit late:MS, late-bank-timeout:MS, late-drop:MS
        /// (answered unknown at once, applied MS milliseconds later).
        #[arg(long = "fault", value_parser = FaultRule::parse)]
        faults: Vec<FaultRule>,
        /// Run the center's clock this many seconds ahead (negative: behind).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        clock_offset: i64,
        /// Serve the admin API (`/testbed/admin/…`: faults, bank status, the clock, the
        /// ledger), guarded by the manifest's admin token. Off by default.
        #[arg(long)]
        admin: bool,
    },
}

fn parse_bank_status(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((code, status))
            if code.len() == 3
                && code.bytes().all(|b| b.is_ascii_digit())
                && matches!(status, "Y" | "D" | "L" | "E") =>
        {
            Ok((code.to_owned(), status.to_owned()))
        }
        _ => Err("expected CODE=STATUS with STATUS one of Y, D, L, E, e.g. 004=D".into()),
    }
}

fn parse_bank_latency(value: &str) -> Result<(String, Duration), String> {
    let (code, ms) = value
        .split_once('=')
        .ok_or_else(|| "expected CODE=MILLISECONDS, e.g. 004=150".to_owned())?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bank code {code:?} is not 3 digits"));
    }
    let ms: u64 = ms
        .parse()
        .map_err(|_| format!("{ms:?} is not a number of milliseconds"))?;
    Ok((code.to_owned(), Duration::from_millis(ms)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "moa_testbed=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            addr,
            db,
            manifest_out,
            latency_ms,
            bank_latency,
            bank_status,
            faults,
            clock_offset,
            admin,
        } => {
            let config = Config {
                db: DbLocation::parse(&db),
                latency: Duration::from_millis(latency_ms),
                bank_latency,
                bank_status,
                faults,
                clock_offset: chrono::TimeDelta::seconds(clock_offset),
                admin,
            };
            serve(addr, config, manifest_out).await
        }
    }
}

async fn serve(
    addr: SocketAddr,
    config: Config,
    manifest_out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let testbed = Testbed::open(config)
        .await
        .context("opening the testbed database")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let base_url = format!("http://{}", listener.local_addr()?);
    if let Some(path) = manifest_out {
        let manifest = testbed.manifest(&base_url).await?;
        write_private(&path, &serde_json::to_vec_pretty(&manifest)?)
            .with_context(|| format!("writing the manifest to {}", path.display()))?;
    }
    #[allow(clippy::print_stdout)]
    {
        println!("listening on {base_url}");
    }
    moa_testbed::run(listener, testbed, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// Writes the manifest readable by its owner only: it holds client secrets.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(tmp, path)
}
