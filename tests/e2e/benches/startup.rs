//! Start-up time and memory of the built app, against a bare Tauri window built the same way
//! (`tests/bare-window`: the same Tauri, features and release profile, one page, nothing else).
//!
//! 1. Seeds a person with 20 accounts and 10,000 transactions: the release app is driven
//!    through WebDriver like the end-to-end tests (accounts opened at the sandbox center through
//!    its admin API, registered on its consent pages, one account's history fetched in the app),
//!    then quit.
//! 2. Launches the binaries by hand, in turns, a round at a time, each binary once a round.
//!    The start: one warm-up round and then [`PAINT_ROUNDS`] measured ones, each launch timed
//!    from spawning the process to the line it prints once its page has been drawn (for Moa the
//!    dashboard, painted from the store, before any bank answers), then stopped; the next
//!    launch waits until the machine is quiet again. The memory: [`MEMORY_ROUNDS`] more, each
//!    launch left to idle [`IDLE`] after its paint, then the proportional set size (PSS) and
//!    the resident set size (RSS) of the process and every process under it (WebKit's web and
//!    network processes) read. The bare window runs three times a round: as Tauri leaves
//!    WebKitGTK, with accelerated compositing off (as Moa draws its pages), and showing its one
//!    line in Hangul rather than Latin letters (what drawing Korean at all costs).
//!
//! Run with `./dev bench`, or, once both are built in release,
//! `scripts/headless cargo bench -p moa-e2e --bench startup`. It prints a Markdown table and
//! writes it to `<target>/e2e/startup-bench/startup.md`.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeDelta};
use moa_e2e::screens::{CENTER, card_at, cards, fetch_history, open_account, register};
use moa_e2e::{Error, HONG, MoaApp, Result, procs, wait_for};
use rusqlite::{Connection, OpenFlags};

/// Accounts the person has once seeded.
const ACCOUNTS: usize = 20;
/// Transactions appended to one account, all of which the app fetches and stores.
const HISTORY_ROWS: u32 = 10_000;
/// Banks the other added accounts are spread over.
const BANKS: [&str; 8] = ["004", "088", "020", "081", "011", "003", "023", "090"];
/// The bank of the account with the long history: none of the others is there.
const BUSY_BANK: &str = "032";
/// What each round launches: the bare window three ways, then Moa.
const SUBJECTS: usize = 4;
/// Measured rounds of the start (each launches every subject once), after one warm-up round.
/// The machine's noise is larger than the differences measured: many launches, and each
/// round's own ratio, keep the figure steady.
const PAINT_ROUNDS: usize = 31;
/// Rounds of memory, each launch idling [`IDLE`] before it is read; memory barely varies.
const MEMORY_ROUNDS: usize = 5;
/// How long each app idles after its first paint before its memory is read.
const IDLE: Duration = Duration::from_secs(10);
/// How long a launch may take to paint.
const PAINT_TIMEOUT: Duration = Duration::from_secs(60);

/// What Moa logs once its dashboard is drawn from the store.
const MOA_PAINTED: &str = "dashboard painted from the store";
/// What the bare window prints once its page is drawn.
const BARE_PAINTED: &str = "page painted";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("startup benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let release = moa_e2e::app::target_dir()?.join("release");
    let moa = built(release.join("moa"))?;
    let bare = built(release.join("moa-bare-window"))?;

    println!(
        "seeding {ACCOUNTS} accounts and {HISTORY_ROWS} transactions (release app, WebDriver)"
    );
    let app = MoaApp::with_binary("startup-bench", moa.clone())?;
    let stored = seed(&app)?;
    println!(
        "  stored: {} accounts, {} transactions",
        stored.accounts, stored.transactions
    );
    let out_dir = app.out_dir().to_owned();
    let moa_env = app.env().to_vec();
    // The driver and its WebKitWebDriver go, so the measured launches share the machine with
    // nothing of the harness's.
    drop(app);

    let bare_xdg = out_dir.join("bare-xdg");
    let bare_env = vec![
        ("XDG_DATA_HOME", OsString::from(bare_xdg.join("data"))),
        ("XDG_CONFIG_HOME", OsString::from(bare_xdg.join("config"))),
        ("XDG_CACHE_HOME", OsString::from(bare_xdg.join("cache"))),
    ];
    // Moa paints without WebKitGTK's accelerated compositing; the bare window is measured as
    // Tauri leaves it and, for a like-for-like figure, with compositing off as well.
    let mut flat_env = bare_env.clone();
    flat_env.push(("WEBKIT_DISABLE_COMPOSITING_MODE", OsString::from("1")));
    let mut hangul_env = bare_env.clone();
    hangul_env.push(("MOA_BARE_PAGE", OsString::from("hangul")));
    let subjects = [
        Subject {
            name: "bare Tauri window",
            binary: bare.clone(),
            env: bare_env,
            painted: BARE_PAINTED,
        },
        Subject {
            name: "bare, no compositing",
            binary: bare.clone(),
            env: flat_env,
            painted: BARE_PAINTED,
        },
        Subject {
            name: "bare, Hangul line",
            binary: bare,
            env: hangul_env,
            painted: BARE_PAINTED,
        },
        Subject {
            name: "Moa",
            binary: moa,
            env: moa_env,
            painted: MOA_PAINTED,
        },
    ];

    let mut paints: [Vec<Duration>; SUBJECTS] = Default::default();
    for round in 0..=PAINT_ROUNDS {
        for (subject, taken) in subjects.iter().zip(paints.iter_mut()) {
            let sample = subject.launch(None)?;
            let label = match round {
                0 => "warm-up".to_owned(),
                _ => format!("round {round}"),
            };
            println!(
                "  {label:>8}  {:<20} painted after {:>5} ms",
                subject.name,
                sample.painted.as_millis()
            );
            if round > 0 {
                taken.push(sample.painted);
            }
        }
    }
    let mut memories: [Vec<Memory>; SUBJECTS] = Default::default();
    for round in 1..=MEMORY_ROUNDS {
        for (subject, taken) in subjects.iter().zip(memories.iter_mut()) {
            let memory = subject
                .launch(Some(IDLE))?
                .memory
                .ok_or_else(|| Error::Check(format!("{}: no memory read", subject.name)))?;
            println!(
                "  memory {round}  {:<20} after {} s idle {} processes, PSS {:.1} MB, RSS {:.1} MB",
                subject.name,
                IDLE.as_secs(),
                memory.processes,
                mb(memory.pss_kb),
                mb(memory.rss_kb)
            );
            taken.push(memory);
        }
    }

    let report = report(&subjects, &paints, &memories, &stored);
    println!("\n{report}");
    let path = out_dir.join("startup.md");
    std::fs::write(&path, &report)
        .map_err(|e| Error::Setup(format!("cannot write {}: {e}", path.display())))?;
    println!("written to {}", path.display());
    Ok(())
}

/// What the store holds once seeded.
struct Stored {
    accounts: i64,
    transactions: i64,
}

/// Opens accounts for 홍길동 until he has [`ACCOUNTS`], registers them all in the app, appends
/// [`HISTORY_ROWS`] rows to one of them and has the app fetch its history, then quits the app.
fn seed(app: &MoaApp) -> Result<Stored> {
    let window = app.launch()?;
    let center = app.center()?;
    let has = center.ledger()?.accounts_of(HONG.name).len();
    // The busy account is his only one at its bank, so its card is found by the bank.
    let busy = center.open_account(HONG.cell_no, BUSY_BANK, 1_000_000)?;
    for i in has + 1..ACCOUNTS {
        center.open_account(HONG.cell_no, BANKS[i % BANKS.len()], 1_000_000)?;
    }
    let today = NaiveDate::parse_from_str(&center.today()?, "%Y%m%d")
        .map_err(|e| Error::Check(format!("the center's today: {e}")))?;
    let from = (today - TimeDelta::days(300)).format("%Y%m%d").to_string();
    center.append_history(BUSY_BANK, &busy.account_num, HISTORY_ROWS, &from)?;

    register(&window, HONG)?;
    // Several of his accounts share a bank now, which the ledger check of the end-to-end tests
    // does not expect: every card with a fresh balance is enough here.
    let cards = wait_for(
        "the dashboard to show every account, fresh",
        CENTER,
        |last| {
            let shown = cards(&window)?;
            *last = format!("{shown:?}");
            let fresh =
                shown.len() == ACCOUNTS && shown.iter().all(|c| c.balance.is_some() && !c.stale);
            Ok(fresh.then_some(shown))
        },
    )?;
    let id = card_at(&cards, BUSY_BANK)?;
    open_account(&window, &id)?;
    fetch_history(&window)?;
    let store = app.data_dir().join("moa.db");
    let of_busy = format!("SELECT count(*) FROM transactions WHERE account_id = {id}");
    wait_for(
        "the app to store the account's history",
        Duration::from_secs(180),
        |last| {
            let rows = count(&store, &of_busy)?;
            *last = format!("{rows} rows");
            Ok((rows >= i64::from(HISTORY_ROWS)).then_some(()))
        },
    )?;
    window.quit()?;
    Ok(Stored {
        accounts: count(&store, "SELECT count(*) FROM accounts")?,
        transactions: count(&store, "SELECT count(*) FROM transactions")?,
    })
}

fn count(store: &Path, sql: &str) -> Result<i64> {
    read_only(store)?
        .query_row(sql, [], |r| r.get(0))
        .map_err(|e| Error::Setup(format!("{}: {e}", store.display())))
}

fn read_only(store: &Path) -> Result<Connection> {
    Connection::open_with_flags(store, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::Setup(format!("cannot open {}: {e}", store.display())))
}

/// One of the two binaries measured.
struct Subject {
    name: &'static str,
    binary: PathBuf,
    env: Vec<(&'static str, OsString)>,
    painted: &'static str,
}

/// One launch's figures.
struct Sample {
    painted: Duration,
    /// Read when the launch idled before it stopped.
    memory: Option<Memory>,
}

/// The memory of a launch's processes.
struct Memory {
    pss_kb: u64,
    rss_kb: u64,
    processes: usize,
}

impl Subject {
    /// Starts the binary and waits for its paint line; with `idle`, lets it idle that long and
    /// reads its memory; then stops it.
    fn launch(&self, idle: Option<Duration>) -> Result<Sample> {
        let mut command = Command::new(&self.binary);
        command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0);
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| Error::Setup(format!("cannot start {}: {e}", self.binary.display())))?;
        let pid = child.id();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::Setup("no standard output".into()))?;
        let (seen, painted) = mpsc::channel();
        let marker = self.painted;
        // Reads to the end, so the app never blocks on a full pipe.
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains(marker) {
                    let _ = seen.send(Instant::now());
                }
            }
        });
        let result = painted
            .recv_timeout(PAINT_TIMEOUT)
            .map_err(|_| {
                Error::Check(format!(
                    "{} printed no {marker:?} within {PAINT_TIMEOUT:?}",
                    self.name
                ))
            })
            .map(|at| at - started)
            .map(|painted| Sample {
                painted,
                memory: idle.map(|idle| {
                    std::thread::sleep(idle);
                    tree_memory(pid)
                }),
            });
        stop_group(pid);
        let _ = child.wait();
        let _ = reader.join();
        wait_for(
            &format!("{}'s processes to end", self.name),
            Duration::from_secs(20),
            |last| {
                let left = tree(pid);
                *last = format!("{left:?}");
                Ok(left.is_empty().then_some(()))
            },
        )?;
        // A process's end leaves work behind (its memory freed, its windows gone from the X
        // server); the next launch starts on a quiet machine.
        settle();
        result
    }
}

/// Waits until the machine has been quiet (the CPUs at least 90 % idle) for two readings in
/// a row, a quarter of a second each, or five seconds at most.
fn settle() {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut quiet = 0;
    let mut last = cpu_times();
    while quiet < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        let now = cpu_times();
        let (busy, idle) = (now.0 - last.0, now.1 - last.1);
        quiet = if idle * 10 >= (busy + idle) * 9 {
            quiet + 1
        } else {
            0
        };
        last = now;
    }
}

/// The machine's CPU time so far, busy and idle, in clock ticks (`/proc/stat`'s `cpu` line).
fn cpu_times() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...: idle and iowait are idle time.
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (ticks.iter().sum::<u64>() - idle, idle)
}

/// Asks the process group to end, then makes it.
fn stop_group(pgid: u32) {
    procs::signal_group(pgid, "TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !tree(pgid).is_empty() {
        std::thread::sleep(Duration::from_millis(50));
    }
    procs::signal_group(pgid, "KILL");
}

/// `pid` and every living process under it, or in its process group.
fn tree(pid: u32) -> Vec<u32> {
    let all = procs::all();
    let mut found: Vec<u32> = all
        .iter()
        .filter(|p| p.pid == pid || p.pgrp == pid)
        .map(|p| p.pid)
        .collect();
    let mut at = 0;
    while at < found.len() {
        let parent = found[at];
        for p in &all {
            if p.ppid == parent && !found.contains(&p.pid) {
                found.push(p.pid);
            }
        }
        at += 1;
    }
    found
}

/// PSS and RSS summed over `pid`'s tree, and how many processes it has.
fn tree_memory(pid: u32) -> Memory {
    let processes = tree(pid);
    let (mut pss, mut rss) = (0, 0);
    for p in &processes {
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")) else {
            continue;
        };
        for line in rollup.lines() {
            let kb = || -> u64 {
                line.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("Pss:") {
                pss += kb();
            } else if line.starts_with("Rss:") {
                rss += kb();
            }
        }
    }
    Memory {
        pss_kb: pss,
        rss_kb: rss,
        processes: processes.len(),
    }
}

fn median(values: Vec<f64>) -> f64 {
    quantile(values, 0.5)
}

/// The `q` quantile of `values` (0.5 the median), interpolated between the two nearest.
fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let at = q * (values.len().saturating_sub(1)) as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    match (values.get(low), values.get(high)) {
        (Some(l), Some(h)) => l + (h - l) * (at - low as f64),
        _ => f64::NAN,
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn report(
    subjects: &[Subject; SUBJECTS],
    paints: &[Vec<Duration>; SUBJECTS],
    memories: &[Vec<Memory>; SUBJECTS],
    stored: &Stored,
) -> String {
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let figures: Vec<(f64, f64, f64)> = paints
        .iter()
        .zip(memories)
        .map(|(p, m)| {
            (
                median(p.iter().map(ms).collect()),
                median(m.iter().map(|x| mb(x.pss_kb)).collect()),
                median(m.iter().map(|x| mb(x.rss_kb)).collect()),
            )
        })
        .collect();
    let (bare, flat, hangul, moa) = (figures[0], figures[1], figures[2], figures[3]);
    let mut out = format!(
        "First paint: medians of {PAINT_ROUNDS} launches each, in turns, after one warm-up \
         round. Memory: medians of {MEMORY_ROUNDS} more launches each, after {} s idle. Moa \
         with {} accounts and {} transactions stored.\n\n\
         | | first paint | PSS after {} s idle | RSS after {} s idle |\n|---|---:|---:|---:|\n",
        IDLE.as_secs(),
        stored.accounts,
        stored.transactions,
        IDLE.as_secs(),
        IDLE.as_secs()
    );
    for (subject, (ms, pss, rss)) in subjects.iter().zip(&figures) {
        out += &format!(
            "| {} | {ms:.0} ms | {pss:.1} MB | {rss:.1} MB |\n",
            subject.name
        );
    }
    for (against, (ms, pss, rss)) in [
        ("bare", bare),
        ("bare, no compositing", flat),
        ("bare, Hangul line", hangul),
    ] {
        out += &format!(
            "| Moa vs {against} | {:.2}× | {:+.1} MB | {:+.1} MB |\n",
            moa.0 / ms,
            moa.1 - pss,
            moa.2 - rss
        );
    }
    // The machine wanders between rounds: each round's own ratio, launched back to back, is
    // steadier than a ratio of medians taken across rounds; its middle half says how steady.
    for (index, against) in [
        (0, "bare"),
        (1, "bare, no compositing"),
        (2, "bare, Hangul line"),
    ] {
        let ratios: Vec<f64> = paints[3]
            .iter()
            .zip(&paints[index])
            .map(|(m, b)| m.as_secs_f64() / b.as_secs_f64().max(1e-9))
            .collect();
        out += &format!(
            "\nFirst paint, Moa vs {against}, each round's own ratio: median {:.2}×, middle half \
             {:.2}×–{:.2}×, all {:.2}×–{:.2}×",
            median(ratios.clone()),
            quantile(ratios.clone(), 0.25),
            quantile(ratios.clone(), 0.75),
            quantile(ratios.clone(), 0.0),
            quantile(ratios, 1.0),
        );
    }
    out.push('\n');
    out
}

fn built(binary: PathBuf) -> Result<PathBuf> {
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(Error::Setup(format!(
            "{} is missing: build it with `cargo build --release -p moa -p moa-bare-window` \
             (./dev bench does)",
            binary.display()
        )))
    }
}
