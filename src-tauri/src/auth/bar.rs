//! What the consent window's origin bar says: the host the person is talking to and how, and
//! what the shell stopped — in the person's language. The bar is the app's, not the page's: a
//! page can set its own title and draw its own lock, but not this. Pure, so the words are tested
//! here; `webkit` draws them.

use url::Url;

use crate::ipc::Language;
use crate::navigation::{is_loopback, shown_host};

/// How the shown page was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// https with a certificate the webview accepted: the lock.
    Secure,
    /// http on this computer: the sandbox's own center.
    ThisComputer,
    /// Anything else (an https page whose certificate had errors, say).
    NotSecure,
}

impl Connection {
    /// How `url` was reached, given whether its TLS certificate had errors.
    pub fn of(url: &Url, tls_errors: bool) -> Connection {
        match url.scheme() {
            "https" if !tls_errors => Connection::Secure,
            "http" if is_loopback(url) => Connection::ThisComputer,
            _ => Connection::NotSecure,
        }
    }

    /// The symbolic icon of the freedesktop icon theme that goes before the host.
    pub fn icon(self) -> &'static str {
        match self {
            Connection::Secure => "channel-secure-symbolic",
            Connection::ThisComputer => "computer-symbolic",
            Connection::NotSecure => "channel-insecure-symbolic",
        }
    }
}

/// What the shell stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// A link, redirect or form leading away from the center.
    Navigation,
    /// A new window (`target=_blank`, `window.open`).
    NewWindow,
    /// A download.
    Download,
}

impl Stopped {
    /// What it was, for a log line.
    pub fn what(self) -> &'static str {
        match self {
            Stopped::Navigation => "a navigation",
            Stopped::NewWindow => "a new window",
            Stopped::Download => "a download",
        }
    }
}

/// What the bar shows now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// The host of the page shown (or of the center before the first page).
    pub host: String,
    /// How it was reached.
    pub connection: Connection,
    /// What the shell last stopped, and where it led, until the next page shows.
    pub stopped: Option<(Stopped, String)>,
}

impl Bar {
    /// The bar of a window about to load `url`.
    pub fn new(url: &Url) -> Bar {
        Bar {
            host: shown_host(url),
            connection: Connection::of(url, false),
            stopped: None,
        }
    }

    /// A page of `url` is now shown: its host, and no stop message.
    pub fn shown(&mut self, url: &Url, tls_errors: bool) {
        self.host = shown_host(url);
        self.connection = Connection::of(url, tls_errors);
        self.stopped = None;
    }

    /// The shell stopped `what`, which led to `url`.
    pub fn stop(&mut self, what: Stopped, url: &Url) {
        self.stopped = Some((what, shown_host(url)));
    }

    /// The words beside the host.
    pub fn note(&self, language: Language) -> &'static str {
        match (self.connection, language) {
            (Connection::Secure, Language::Ko) => "보안 연결",
            (Connection::Secure, Language::En) => "Secure connection",
            (Connection::ThisComputer, Language::Ko) => "이 컴퓨터의 테스트 센터(샌드박스)",
            (Connection::ThisComputer, Language::En) => "Test center on this computer (sandbox)",
            (Connection::NotSecure, Language::Ko) => "안전하지 않은 연결",
            (Connection::NotSecure, Language::En) => "Not secure",
        }
    }

    /// The stop message, while there is one.
    pub fn message(&self, language: Language) -> Option<String> {
        let (what, to) = self.stopped.as_ref()?;
        Some(match (what, language) {
            (Stopped::Navigation, Language::Ko) => format!(
                "모아가 오픈뱅킹 센터 밖({to})으로 가는 이동을 막았어요. 이 창에서는 센터의 페이지만 열려요."
            ),
            (Stopped::Navigation, Language::En) => format!(
                "Moa stopped this window from leaving the open banking center for {to}. Only the center's pages open here."
            ),
            (Stopped::NewWindow, Language::Ko) => {
                format!("모아가 새 창({to}) 열기를 막았어요. 계좌 연결은 이 창에서만 할 수 있어요.")
            }
            (Stopped::NewWindow, Language::En) => format!(
                "Moa stopped a new window ({to}). Connecting accounts happens in this window only."
            ),
            (Stopped::Download, Language::Ko) => {
                format!("모아가 {to}에서 파일을 받지 못하게 막았어요.")
            }
            (Stopped::Download, Language::En) => format!("Moa stopped a download from {to}."),
        })
    }

    /// The window's title: the host first, as the task switcher shows it, then what the window
    /// is for, or the stop message while there is one. Set by the shell only; the page's own
    /// `<title>` never reaches it.
    pub fn title(&self, language: Language) -> String {
        let purpose = match language {
            Language::Ko => "계좌 연결 · 오픈뱅킹".to_owned(),
            Language::En => "Connect accounts · Open Banking".to_owned(),
        };
        format!(
            "{} — {}",
            self.host,
            self.message(language).unwrap_or(purpose)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_bar_names_the_host_and_how_it_is_reached() {
        let mut bar = Bar::new(&url(
            "https://openapi.openbanking.or.kr/oauth/2.0/authorize",
        ));
        assert_eq!(bar.host, "openapi.openbanking.or.kr");
        assert_eq!(bar.connection, Connection::Secure);
        assert_eq!(bar.note(Language::Ko), "보안 연결");
        bar.shown(&url("https://openapi.openbanking.or.kr/x"), true);
        assert_eq!(bar.connection, Connection::NotSecure);
        assert_eq!(bar.note(Language::En), "Not secure");

        let sandbox = Bar::new(&url("http://127.0.0.1:53127/oauth/2.0/authorize"));
        assert_eq!(sandbox.host, "127.0.0.1:53127");
        assert_eq!(sandbox.connection, Connection::ThisComputer);
        assert_eq!(sandbox.connection.icon(), "computer-symbolic");
        assert_eq!(
            sandbox.title(Language::Ko),
            "127.0.0.1:53127 — 계좌 연결 · 오픈뱅킹"
        );
        assert_eq!(
            Connection::of(&url("http://bank.example/"), false),
            Connection::NotSecure
        );
    }

    #[test]
    fn a_stop_is_said_in_the_persons_language_until_the_next_page_shows() {
        let mut bar = Bar::new(&url("http://127.0.0.1:53127/oauth/2.0/authorize"));
        assert_eq!(bar.message(Language::Ko), None);
        bar.stop(
            Stopped::Navigation,
            &url("http://localhost:53127/phish?x=1"),
        );
        let ko = bar.message(Language::Ko).unwrap();
        assert!(
            ko.contains("localhost:53127") && ko.contains("막았어요"),
            "{ko}"
        );
        assert!(!ko.contains("phish"), "only the host is shown: {ko}");
        let en = bar.title(Language::En);
        assert!(
            en.starts_with("127.0.0.1:53127 — Moa stopped this window from leaving"),
            "{en}"
        );
        bar.stop(Stopped::NewWindow, &url("https://evil.example/"));
        assert!(
            bar.message(Language::En)
                .unwrap()
                .contains("new window (evil.example)")
        );
        bar.stop(Stopped::Download, &url("https://evil.example/x.exe"));
        assert_eq!(
            bar.message(Language::Ko).unwrap(),
            "모아가 evil.example에서 파일을 받지 못하게 막았어요."
        );
        bar.shown(
            &url("http://127.0.0.1:53127/oauth/2.0/authorize/otp"),
            false,
        );
        assert_eq!(bar.message(Language::En), None);
    }
}
