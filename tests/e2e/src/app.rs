//! The built app under test: one data folder and one `tauri-driver` per test, and each launch
//! a WebDriver session whose window is the app's main window. Quitting closes that window like
//! a person would and waits for the process to end, so the next launch really starts cold.

use std::ffi::OsString;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::center::SandboxCenter;
use crate::driver::TauriDriver;
use crate::webdriver::{Error, Result, Session, wait_for};

/// How long a launch may take: WebKitWebDriver starts the app, which starts its sandbox center
/// (seeding its database on the first launch) before the window loads.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the app gets to exit once its window is closed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);

/// One test's app: where its data and output live, and the driver that launches it.
#[derive(Debug)]
pub struct MoaApp {
    name: String,
    binary: PathBuf,
    out_dir: PathBuf,
    data_dir: PathBuf,
    env: Vec<(&'static str, OsString)>,
    driver: TauriDriver,
}

impl MoaApp {
    /// Prepares a fresh output folder for test `name` (under the target folder's `e2e/`),
    /// with an empty data folder inside it, and starts a `tauri-driver` whose app will use it.
    /// Fails when the app is not built: an end-to-end test never passes without the app.
    pub fn new(name: &str) -> Result<MoaApp> {
        MoaApp::with_binary(name, app_binary()?)
    }

    /// Like [`MoaApp::new`], for the app built at `binary` (a release build, say).
    pub fn with_binary(name: &str, binary: PathBuf) -> Result<MoaApp> {
        let out_dir = target_dir()?.join("e2e").join(name);
        if out_dir.exists() {
            std::fs::remove_dir_all(&out_dir)
                .map_err(|e| Error::Setup(format!("cannot empty {}: {e}", out_dir.display())))?;
        }
        let data_dir = out_dir.join("data");
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| Error::Setup(format!("cannot create {}: {e}", data_dir.display())))?;
        // WebKit keeps the page's storage (the UI's language and theme) and Tauri its logs in
        // the XDG folders, not in MOA_DATA_DIR: give the app its own, so no test sees the
        // person's real profile or another test's.
        let xdg = out_dir.join("xdg");
        let env = [
            ("MOA_DATA_DIR", OsString::from(&data_dir)),
            ("XDG_DATA_HOME", OsString::from(xdg.join("data"))),
            ("XDG_CONFIG_HOME", OsString::from(xdg.join("config"))),
            ("XDG_CACHE_HOME", OsString::from(xdg.join("cache"))),
            // Logs of the app (and its center) in the test's output, at a useful level.
            ("RUST_LOG", OsString::from("info")),
            // The tests read the sandbox center's ledger and set banks down through its admin
            // API, which the app serves only when asked (moa_core::SANDBOX_ADMIN_ENV).
            ("MOA_SANDBOX_ADMIN", OsString::from("1")),
        ];
        let driver = TauriDriver::start(&env, &out_dir.join("driver.log"))?;
        Ok(MoaApp {
            name: name.to_owned(),
            binary,
            out_dir,
            data_dir,
            env: env.into(),
            driver,
        })
    }

    /// Starts the app and answers its main window once the page has loaded.
    pub fn launch(&self) -> Result<Window<'_>> {
        if !self.driver.processes("moa").is_empty() {
            return Err(Error::Setup(
                "the app from the previous launch is still running".into(),
            ));
        }
        let capabilities = json!({
            "tauri:options": { "application": self.binary },
        });
        let session = Session::start(self.driver.url(), capabilities, LAUNCH_TIMEOUT)
            .map_err(|e| self.with_log(e))?;
        // The app must be seen among the driver's processes, or `quit` could not tell that it
        // really ended.
        wait_for("the app's process", LAUNCH_TIMEOUT, |last| {
            let running = self.driver.processes("moa");
            *last = format!("moa processes {running:?}");
            Ok((!running.is_empty()).then_some(()))
        })?;
        let main = session.window()?;
        let window = Window {
            app: self,
            session: Some(session),
            main,
        };
        // The page is up once the frame has rendered its header.
        window.wait("header h1", LAUNCH_TIMEOUT)?;
        Ok(window)
    }

    /// The sandbox center this app started (read from its data folder). The app opens its
    /// core, and with it the sandbox, once the page has painted or asked for it; this waits
    /// until the address it wrote answers (an address left by an earlier launch does not).
    pub fn center(&self) -> Result<SandboxCenter> {
        wait_for(
            "the sandbox center to answer",
            LAUNCH_TIMEOUT,
            |last| match SandboxCenter::of(&self.data_dir) {
                Ok(center) if center.today().is_ok() => Ok(Some(center)),
                Ok(center) => {
                    *last = format!("{} does not answer", center.base_url());
                    Ok(None)
                }
                Err(e) => {
                    *last = e.to_string();
                    Ok(None)
                }
            },
        )
    }

    /// The app's data folder (`MOA_DATA_DIR`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The test's output folder: screenshots, the driver's and the app's log.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// The app's folder in its own XDG data folder (`xdg/data/kr.moa.app/`): the webview's
    /// data (the page's local storage) and Tauri's log folder.
    pub fn webview_data_dir(&self) -> PathBuf {
        self.out_dir.join("xdg/data/kr.moa.app")
    }

    /// The app's log files: Tauri's log folder in the app's own XDG data folder
    /// (`xdg/data/kr.moa.app/logs/`) and `driver.log`, where the app's standard output and
    /// error end up along with the driver's.
    pub fn log_files(&self) -> Vec<PathBuf> {
        let mut files = self.app_logs();
        files.push(self.out_dir.join("driver.log"));
        files
    }

    /// The files of Tauri's log folder in the app's own XDG data folder, by name.
    fn app_logs(&self) -> Vec<PathBuf> {
        let folder = self.webview_data_dir().join("logs");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .into_iter()
            .flatten()
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    }

    /// The lines of the app's own log (Tauri's log folder, not `driver.log`, which repeats
    /// them) that contain `text`, oldest first.
    pub fn log_lines(&self, text: &str) -> Vec<String> {
        self.app_logs()
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .flat_map(|log| {
                log.lines()
                    .filter(|l| l.contains(text))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// What the app's environment holds besides the test's own: its data and XDG folders and
    /// its log level. Launching the binary by hand with these starts the same app.
    pub fn env(&self) -> &[(&'static str, OsString)] {
        &self.env
    }

    /// The app's binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `error` with the last lines of the app's log, which usually say why.
    pub fn with_log(&self, error: Error) -> Error {
        Error::Setup(format!(
            "{error}\n--- last lines of {}/driver.log ---\n{}",
            self.out_dir.display(),
            self.driver.log_tail()
        ))
    }
}

/// A launched app, driven through its main window.
#[derive(Debug)]
pub struct Window<'a> {
    app: &'a MoaApp,
    session: Option<Session>,
    main: String,
}

impl Deref for Window<'_> {
    type Target = Session;

    fn deref(&self) -> &Session {
        // Only `quit` takes the session, and it consumes the window.
        self.session.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Window<'_> {
    /// The handle of the app's main window.
    pub fn main_handle(&self) -> &str {
        &self.main
    }

    /// Makes the main window current again (after working in another window).
    pub fn back_to_main(&self) -> Result<()> {
        self.switch_to(&self.main)
    }

    /// Waits for a window other than the main one to open and makes it current.
    pub fn switch_to_new_window(&self, timeout: Duration) -> Result<String> {
        let handle = wait_for("a second window to open", timeout, |last| {
            let handles = self.windows()?;
            *last = format!("windows {handles:?}");
            Ok(handles.into_iter().find(|h| *h != self.main))
        })?;
        self.switch_to(&handle)?;
        Ok(handle)
    }

    /// Waits until the window `handle` has closed.
    pub fn wait_closed(&self, handle: &str, timeout: Duration) -> Result<()> {
        wait_for(&format!("window {handle} to close"), timeout, |last| {
            let handles = self.windows()?;
            *last = format!("windows {handles:?}");
            Ok((!handles.iter().any(|h| h == handle)).then_some(()))
        })
    }

    /// Saves the app's main window, as the display shows it, as `{name}.png` in the test's
    /// output folder. The shot is the X server's (ImageMagick's `import`), not WebDriver's:
    /// Moa paints without WebKit's accelerated compositing, and WebKitWebDriver cannot take a
    /// screenshot of such a page.
    pub fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let path = self.app.out_dir.join(format!("{name}.png"));
        capture_main_window(&path)?;
        Ok(path)
    }

    /// Saves the top-level window whose native title starts with `title` as `{name}.png` in the
    /// test's output folder, like [`Window::screenshot`] does the main window.
    pub fn screenshot_titled(&self, title: &str, name: &str) -> Result<PathBuf> {
        let path = self.app.out_dir.join(format!("{name}.png"));
        capture_window(|t| t.starts_with(title), &path)?;
        Ok(path)
    }

    /// Quits the app as a person does, by closing its main window, and waits until the
    /// process has ended (the app stops its sandbox center and closes its store on the way).
    pub fn quit(mut self) -> Result<()> {
        let app = self.app;
        let session = self.session.take().unwrap_or_else(|| unreachable!());
        session.switch_to(&self.main)?;
        session.close_window()?;
        wait_for(
            "the app to exit after its window closed",
            EXIT_TIMEOUT,
            |last| {
                let left = app.driver.processes("moa");
                *last = format!("moa processes {left:?}");
                Ok(left.is_empty().then_some(()))
            },
        )
        .map_err(|e| app.with_log(e))?;
        // The browser is gone; the driver may or may not still know the session.
        let _ = session.end();
        Ok(())
    }
}

impl Drop for Window<'_> {
    fn drop(&mut self) {
        // A window dropped without `quit` belongs to a test that failed: keep what it showed.
        if let Some(session) = &self.session {
            let _ = capture_main_window(&self.app.out_dir.join("failure.png"));
            if let Ok(html) = session.source() {
                let _ = std::fs::write(self.app.out_dir.join("failure.html"), html);
            }
        }
    }
}

/// The native title of the app's main window.
pub const MAIN_WINDOW_TITLE: &str = "모아 Moa";

/// Saves the app's main window as the X display shows it to `path` (a PNG).
fn capture_main_window(path: &Path) -> Result<()> {
    capture_window(|title| title == MAIN_WINDOW_TITLE, path)
}

/// Saves the first top-level window whose title `matches` as the X display shows it to `path`.
fn capture_window(matches: impl Fn(&str) -> bool, path: &Path) -> Result<()> {
    let windows = top_level_windows()?;
    let id = windows
        .iter()
        .find(|(_, title)| matches(title))
        .map(|(id, _)| id.clone())
        .ok_or_else(|| {
            let titles: Vec<&str> = windows.iter().map(|(_, t)| t.as_str()).collect();
            Error::Check(format!("no window with such a title among {titles:?}"))
        })?;
    let out = std::process::Command::new("import")
        .args(["-window", &id])
        .arg(format!("png:{}", path.display()))
        .output()
        .map_err(|e| {
            Error::Setup(format!(
                "import could not run ({e}): install Debian's imagemagick (./dev test does)"
            ))
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Setup(format!(
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

/// The titles of the top-level windows on the display (`xwininfo`, from Debian's x11-utils):
/// the native title bar's text, which WebDriver's title (the page's) does not show.
pub fn native_window_titles() -> Result<Vec<String>> {
    Ok(top_level_windows()?
        .into_iter()
        .map(|(_, title)| title)
        .collect())
}

/// The top-level windows on the display: their X ids and titles.
fn top_level_windows() -> Result<Vec<(String, String)>> {
    let out = std::process::Command::new("xwininfo")
        .args(["-root", "-children"])
        .output()
        .map_err(|e| {
            Error::Setup(format!(
                "xwininfo could not run ({e}): install Debian's x11-utils (./dev test does)"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Setup(format!(
            "xwininfo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    // Lines look like `     0x200003 "모아 Moa": ("moa" "Moa")  1180x800+110+50  +110+50`.
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (id, rest) = line.trim_start().split_once(" \"")?;
            let (title, _) = rest.split_once("\":")?;
            Some((id.to_owned(), title.to_owned()))
        })
        .collect())
}

/// The app's binary: `$MOA_APP`, else `moa` in the target folder these tests were built into
/// (`cargo build -p moa` puts it there).
fn app_binary() -> Result<PathBuf> {
    let binary = match std::env::var_os("MOA_APP") {
        Some(path) => PathBuf::from(path),
        None => target_dir()?.join("debug").join("moa"),
    };
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(Error::Setup(format!(
            "the app is not built: {} is missing. Build it with `cargo build --locked -p moa` \
             (./dev test does) or point MOA_APP at it.",
            binary.display()
        )))
    }
}

/// The Cargo target folder holding the running test or bench binary
/// (`<target>/<profile>/deps/<binary>`): the same `$CARGO_TARGET_DIR` the app was built into,
/// however it was given.
pub fn target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Setup(format!("cannot find the test binary: {e}")))?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::Setup(format!("{} is not in a target folder", exe.display())))
}
