//! Where each window may go. The main window stays on the app's own pages. The consent window
//! stays on the open banking center's origin, and its one way out is the redirect URI, which the
//! shell takes instead of loading (RFC 8252 §8.12): everything else — a link, a redirect, a form,
//! a new window — is stopped before a request leaves. Pure functions, so the rules are tested
//! here and the windows only ask.

use url::{Host, Origin, Url};

/// The path of a loopback redirect URI that only Moa uses: a loopback callback is never served
/// (the shell takes it before it leaves), so its path is all that tells Moa's callback from
/// another local program's.
pub const MOA_CALLBACK_PATH: &str = "/moa-consent/callback";

/// Whether `url` is on this computer: `127.0.0.0/8`, `::1` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// https, or http on this computer (the sandbox's center, a loopback callback).
fn is_https_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
}

/// The host as the person should read it, the way a browser's address bar does: the host in
/// its ASCII form (a look-alike Unicode name shows as `xn--…`), with the port unless it is the
/// scheme's own. A URL without a host shows its scheme (`data:`, `about:`).
pub fn shown_host(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => format!("{}:", url.scheme()),
    }
}

/// The origin of `url` for a log line: scheme, host and port, never a path or a query (a
/// callback's query carries the authorization code).
pub fn logged_origin(url: &Url) -> String {
    match url.origin() {
        origin @ Origin::Tuple(..) => origin.ascii_serialization(),
        Origin::Opaque(_) => format!("{}:", url.scheme()),
    }
}

/// Whether the main window may load `url`: the app's own pages only — `tauri://localhost`
/// (Linux, macOS), `http(s)://tauri.localhost` (Windows), or `dev_url` when the UI is served by
/// its development server.
pub fn is_app_page(url: &Url, dev_url: Option<&Url>) -> bool {
    let host = url.host_str();
    match url.scheme() {
        "tauri" => host == Some("localhost"),
        "http" | "https" if host == Some("tauri.localhost") => url.port().is_none(),
        _ => dev_url.is_some_and(|dev| dev.origin() == url.origin()),
    }
}

/// Why the consent window does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The center's pages are neither https nor on this computer.
    CenterInsecure,
    /// The redirect URI is not https nor on this computer, has a fragment or a user, or is a
    /// loopback callback on a path that is not Moa's.
    RedirectInvalid,
}

impl Refusal {
    /// The stable code the UI gets.
    pub fn code(self) -> moa_core::Code {
        match self {
            Refusal::CenterInsecure => moa_core::Code::CenterInsecure,
            Refusal::RedirectInvalid => moa_core::Code::RedirectInvalid,
        }
    }
}

/// What the consent window does with a navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A page of the center: load it.
    Load,
    /// The redirect URI: do not load it; hand the URL to the server.
    Callback,
    /// Anywhere else: stop it before a request leaves.
    Stop,
}

/// Where the consent window may go: the center's origin, and the redirect URI.
#[derive(Debug, Clone)]
pub struct ConsentGuard {
    center: Origin,
    redirect: Url,
}

impl ConsentGuard {
    /// The guard of a registration whose consent pages start at `pages` and end at `redirect`.
    /// Both must be https, or http on this computer (the sandbox); a loopback callback must be
    /// on Moa's own path.
    pub fn new(pages: &Url, redirect: &Url) -> Result<ConsentGuard, Refusal> {
        if !is_https_or_loopback(pages) || !pages.username().is_empty() {
            return Err(Refusal::CenterInsecure);
        }
        let loopback_path_ok = |url: &Url| !is_loopback(url) || url.path() == MOA_CALLBACK_PATH;
        if !is_https_or_loopback(redirect)
            || redirect.fragment().is_some()
            || !redirect.username().is_empty()
            || redirect.password().is_some()
            || !loopback_path_ok(redirect)
        {
            return Err(Refusal::RedirectInvalid);
        }
        Ok(ConsentGuard {
            center: pages.origin(),
            redirect: redirect.clone(),
        })
    }

    /// What to do with a navigation to `url`.
    pub fn decide(&self, url: &Url) -> Decision {
        if is_callback(url, &self.redirect) {
            Decision::Callback
        } else if url.origin() == self.center && url.username().is_empty() {
            Decision::Load
        } else {
            Decision::Stop
        }
    }

    /// The center's origin, as `https://host[:port]`.
    pub fn center(&self) -> String {
        self.center.ascii_serialization()
    }
}

/// Whether `url` is the redirect URI (same scheme, host, port and path, no user), whatever its
/// query.
pub fn is_callback(url: &Url, redirect: &Url) -> bool {
    url.scheme() == redirect.scheme()
        && url.host() == redirect.host()
        && url.port_or_known_default() == redirect.port_or_known_default()
        && url.path() == redirect.path()
        && url.username().is_empty()
        && url.password().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn sandbox() -> ConsentGuard {
        ConsentGuard::new(
            &url("http://127.0.0.1:53127/oauth/2.0/authorize?client_id=x"),
            &url("http://127.0.0.1/moa-consent/callback"),
        )
        .unwrap()
    }

    #[test]
    fn only_the_redirect_uri_itself_ends_the_registration() {
        let redirect = url("http://127.0.0.1/moa-consent/callback");
        let yes = |s: &str| is_callback(&url(s), &redirect);
        assert!(yes("http://127.0.0.1/moa-consent/callback?code=x&state=y"));
        assert!(yes(
            "http://127.0.0.1:80/moa-consent/callback?error=access_denied"
        ));
        assert!(!yes("http://127.0.0.1/moa-consent/callback/more"));
        assert!(!yes("http://127.0.0.1:8080/moa-consent/callback"));
        assert!(!yes("https://127.0.0.1/moa-consent/callback"));
        assert!(!yes("http://localhost/moa-consent/callback"));
        assert!(!yes("http://127.0.0.1.evil.example/moa-consent/callback"));
        assert!(!yes("http://user@127.0.0.1/moa-consent/callback"));
        assert!(!yes("http://localhost:53127/oauth/2.0/authorize"));
    }

    #[test]
    fn the_consent_window_loads_the_centers_pages_and_stops_everything_else() {
        let guard = sandbox();
        let decide = |s: &str| guard.decide(&url(s));
        assert_eq!(
            decide("http://127.0.0.1:53127/oauth/2.0/authorize/otp"),
            Decision::Load
        );
        assert_eq!(decide("http://127.0.0.1:53127/"), Decision::Load);
        assert_eq!(
            decide("http://127.0.0.1/moa-consent/callback?code=c&state=s"),
            Decision::Callback
        );
        for elsewhere in [
            // Another port, scheme or host of the same machine is another origin.
            "http://127.0.0.1:53128/oauth/2.0/authorize",
            "https://127.0.0.1:53127/oauth/2.0/authorize",
            "http://localhost:53127/oauth/2.0/authorize",
            "http://127.0.0.1.nip.io:53127/",
            "http://user@127.0.0.1:53127/",
            "https://evil.example/",
            // A callback on another path, port or host is not the callback.
            "http://127.0.0.1/moa-consent/callback/elsewhere?code=c",
            "http://127.0.0.1/callback?code=c",
            "http://127.0.0.1:8080/moa-consent/callback?code=c",
            "http://localhost/moa-consent/callback?code=c",
            // Nothing that is not a page of the center.
            "about:blank",
            "data:text/html,hi",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "tauri://localhost/",
            "ipc://localhost/dashboard",
        ] {
            assert_eq!(decide(elsewhere), Decision::Stop, "{elsewhere}");
        }
    }

    #[test]
    fn the_center_must_be_https_unless_it_is_the_sandbox_on_this_computer() {
        let redirect = url("https://moa.example/callback");
        let open = |pages: &str| ConsentGuard::new(&url(pages), &redirect).map(|g| g.center());
        assert_eq!(
            open("https://openapi.openbanking.or.kr/oauth/2.0/authorize"),
            Ok("https://openapi.openbanking.or.kr".to_owned())
        );
        assert!(open("http://127.0.0.1:53127/oauth/2.0/authorize").is_ok());
        assert!(open("http://[::1]:53127/oauth/2.0/authorize").is_ok());
        for insecure in [
            "http://openapi.openbanking.or.kr/oauth/2.0/authorize",
            "http://10.0.0.5:8080/oauth/2.0/authorize",
            "http://127.0.0.1.evil.example/oauth/2.0/authorize",
            "ftp://127.0.0.1/",
            "https://user@openapi.openbanking.or.kr/",
        ] {
            assert_eq!(open(insecure), Err(Refusal::CenterInsecure), "{insecure}");
        }
    }

    #[test]
    fn a_loopback_callback_must_be_on_moas_own_path() {
        let pages = url("http://127.0.0.1:53127/oauth/2.0/authorize");
        let open = |redirect: &str| ConsentGuard::new(&pages, &url(redirect)).map(drop);
        assert!(open("http://127.0.0.1/moa-consent/callback").is_ok());
        assert!(open("http://[::1]:8400/moa-consent/callback").is_ok());
        // An institution's https callback is its own business.
        assert!(open("https://moa.example/oauth/cb").is_ok());
        for invalid in [
            // The path every other local program listens on, too.
            "http://127.0.0.1/callback",
            "http://127.0.0.1/oauth/callback",
            "http://127.0.0.1/moa-consent/callback#x",
            "http://moa.example/callback",
            "https://user:pw@moa.example/callback",
            "moa://callback",
        ] {
            assert_eq!(open(invalid), Err(Refusal::RedirectInvalid), "{invalid}");
        }
    }

    #[test]
    fn the_main_window_stays_on_the_apps_own_pages() {
        let dev = url("http://localhost:5173");
        let shipped = |s: &str| is_app_page(&url(s), None);
        assert!(shipped("tauri://localhost/"));
        assert!(shipped("tauri://localhost/index.html#/transfers"));
        assert!(shipped("http://tauri.localhost/"));
        assert!(shipped("https://tauri.localhost/index.html"));
        for elsewhere in [
            "http://localhost:5173/",
            "tauri://evil.example/",
            "http://tauri.localhost:8080/",
            "http://127.0.0.1/callback?code=c",
            "https://evil.example/",
            "about:blank",
            "data:text/html,hi",
            "file:///etc/passwd",
        ] {
            assert!(!shipped(elsewhere), "{elsewhere}");
        }
        assert!(is_app_page(
            &url("http://localhost:5173/index.html"),
            Some(&dev)
        ));
        assert!(!is_app_page(&url("http://localhost:5174/"), Some(&dev)));
    }

    #[test]
    fn hosts_show_like_an_address_bar_and_logs_get_only_the_origin() {
        assert_eq!(
            shown_host(&url("https://openapi.openbanking.or.kr/x")),
            "openapi.openbanking.or.kr"
        );
        assert_eq!(
            shown_host(&url("http://127.0.0.1:53127/x")),
            "127.0.0.1:53127"
        );
        assert_eq!(
            shown_host(&url("https://bank.example:8443/")),
            "bank.example:8443"
        );
        // A look-alike Unicode host shows in its ASCII form.
        assert_eq!(
            shown_host(&url("https://오픈뱅킹.example/")),
            "xn--oi3bn4piyi9ne.example"
        );
        assert_eq!(shown_host(&url("data:text/html,hi")), "data:");
        assert_eq!(
            logged_origin(&url("http://127.0.0.1/callback?code=secret&state=s")),
            "http://127.0.0.1"
        );
        assert_eq!(logged_origin(&url("about:blank")), "about:");
    }
}
