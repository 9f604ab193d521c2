//! The server's Prometheus metrics, kept in memory and rendered in the text exposition format
//! 0.0.4.
//!
//! The handful of series the server exports do not justify a metrics crate: a mutex around a few
//! sorted maps is enough, and sorted maps make the rendered text stable, which keeps scrapes
//! diffable and the tests exact.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the request duration histogram's buckets, in milliseconds (so observations
/// are compared exactly, not as floats). Rendered in seconds: 0.005 … 10.
const BUCKET_BOUNDS_MS: [u64; 11] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/// HTTP methods kept as they are in the `method` label; anything else is counted as `other`, so
/// a client sending made-up methods cannot grow the number of series without bound.
const KNOWN_METHODS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/// The server's metrics. Cheap to update from any thread; share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// `moa_http_requests_total`, by (route, method, status).
    requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    /// `moa_http_request_duration_seconds`, by route.
    durations: BTreeMap<&'static str, Histogram>,
    /// `moa_transfers`, by state: the last snapshot given.
    transfers: BTreeMap<String, u64>,
    /// `moa_center_answers_total`, by (api, rsp_code).
    center_answers: BTreeMap<(&'static str, String), u64>,
}

#[derive(Debug, Default)]
struct Histogram {
    /// Cumulative counts: `buckets[i]` counts observations at most `BUCKET_BOUNDS_MS[i]`.
    buckets: [u64; BUCKET_BOUNDS_MS.len()],
    /// The sum of all observations, in nanoseconds, so that summing loses nothing.
    sum_nanos: u128,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        for (bucket, bound_ms) in self.buckets.iter_mut().zip(BUCKET_BOUNDS_MS) {
            if elapsed <= Duration::from_millis(bound_ms) {
                *bucket += 1;
            }
        }
        self.sum_nanos += elapsed.as_nanos();
        self.count += 1;
    }
}

impl Metrics {
    /// A set of metrics with nothing observed yet.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one served HTTP request and its duration. `route` is the route's pattern (e.g.
    /// `/v1/transfers/{id}`), not the path requested, so ids do not become series.
    pub fn observe_request(
        &self,
        route: &'static str,
        method: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let method = KNOWN_METHODS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(method))
            .copied()
            .unwrap_or("other");
        let mut inner = self.lock();
        *inner.requests.entry((route, method, status)).or_default() += 1;
        inner.durations.entry(route).or_default().observe(elapsed);
    }

    /// Replaces the gauge of transfers by state with this snapshot. States missing from
    /// `counts` are dropped from the output, so give every state, with 0 where there are none.
    pub fn set_transfers_by_state(&self, counts: &[(&str, u64)]) {
        let snapshot = counts
            .iter()
            .map(|&(state, count)| (state.to_owned(), count))
            .collect();
        self.lock().transfers = snapshot;
    }

    /// Counts one answer from the center: which API, and the `rsp_code` it answered.
    pub fn observe_center_answer(&self, api: &'static str, rsp_code: &str) {
        *self
            .lock()
            .center_answers
            .entry((api, rsp_code.to_owned()))
            .or_default() += 1;
    }

    /// Everything observed so far, in the Prometheus text format 0.0.4, series sorted by their
    /// labels.
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();

        family(
            &mut out,
            "moa_http_requests_total",
            "counter",
            "HTTP requests served, by route, method and status.",
        );
        for ((route, method, status), count) in &inner.requests {
            let status = status.to_string();
            sample(
                &mut out,
                "moa_http_requests_total",
                &[("route", route), ("method", method), ("status", &status)],
                count,
            );
        }

        family(
            &mut out,
            "moa_http_request_duration_seconds",
            "histogram",
            "Time taken to serve an HTTP request, by route.",
        );
        for (route, histogram) in &inner.durations {
            for (count, bound_ms) in histogram.buckets.iter().zip(BUCKET_BOUNDS_MS) {
                let le = seconds(u128::from(bound_ms) * 1_000_000);
                sample(
                    &mut out,
                    "moa_http_request_duration_seconds_bucket",
                    &[("route", route), ("le", &le)],
                    count,
                );
            }
            sample(
                &mut out,
                "moa_http_request_duration_seconds_bucket",
                &[("route", route), ("le", "+Inf")],
                histogram.count,
            );
            sample(
                &mut out,
                "moa_http_request_duration_seconds_sum",
                &[("route", route)],
                seconds(histogram.sum_nanos),
            );
            sample(
                &mut out,
                "moa_http_request_duration_seconds_count",
                &[("route", route)],
                histogram.count,
            );
        }

        family(
            &mut out,
            "moa_transfers",
            "gauge",
            "Transfers in the journal, by saga state.",
        );
        for (state, count) in &inner.transfers {
            sample(&mut out, "moa_transfers", &[("state", state)], count);
        }

        family(
            &mut out,
            "moa_center_answers_total",
            "counter",
            "Answers from the open banking center, by API and rsp_code.",
        );
        for ((api, rsp_code), count) in &inner.center_answers {
            sample(
                &mut out,
                "moa_center_answers_total",
                &[("api", api), ("rsp_code", rsp_code)],
                count,
            );
        }

        out
    }

    /// The maps, even if a thread panicked while holding them: counters are still counters,
    /// and losing the metrics endpoint to one panic would hide what went wrong.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes a family's `# HELP` and `# TYPE` lines. The help texts are constants without
/// backslashes or newlines, so they need no escaping.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one sample line: `name{label="value",…} value`.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(label);
            out.push_str("=\"");
            escape_label_value(out, value);
            out.push('"');
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Escapes a label value as the exposition format requires: backslash, double quote and line
/// feed.
fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Nanoseconds as decimal seconds, with no trailing zeros: `0.005`, `1`, `2.5`.
fn seconds(nanos: u128) -> String {
    let whole = nanos / 1_000_000_000;
    let fraction = nanos % 1_000_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn metrics_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Metrics>();
    }

    #[test]
    fn nothing_observed_renders_only_help_and_type_lines() {
        let text = Metrics::new().render();
        assert!(text.lines().all(|l| l.starts_with("# ")), "{text}");
        assert_eq!(text.lines().filter(|l| l.starts_with("# TYPE")).count(), 4);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn render_after_a_few_observations_has_the_expected_lines() {
        let m = Metrics::new();
        m.observe_request("/v1/balances", "GET", 200, Duration::from_millis(20));
        m.observe_request("/v1/balances", "get", 200, Duration::from_millis(300));
        m.observe_request("/v1/transfers", "POST", 409, Duration::from_millis(3));
        m.set_transfers_by_state(&[("completed", 12), ("withdrawing", 1), ("failed", 0)]);
        m.observe_center_answer("transfer/withdraw", "A0000");
        m.observe_center_answer("transfer/withdraw", "A0000");
        m.observe_center_answer("transfer/withdraw", "A0007");

        let text = m.render();
        let expected = "\
# HELP moa_http_requests_total HTTP requests served, by route, method and status.
# TYPE moa_http_requests_total counter
moa_http_requests_total{route=\"/v1/balances\",method=\"GET\",status=\"200\"} 2
moa_http_requests_total{route=\"/v1/transfers\",method=\"POST\",status=\"409\"} 1
# HELP moa_http_request_duration_seconds Time taken to serve an HTTP request, by route.
# TYPE moa_http_request_duration_seconds histogram
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"0.005\"} 0
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"0.01\"} 0
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"0.025\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"0.05\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"0.1\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"0.25\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"0.5\"} 2
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"1\"} 2
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"2.5\"} 2
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"5\"} 2
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"10\"} 2
moa_http_request_duration_seconds_bucket{route=\"/v1/balances\",le=\"+Inf\"} 2
moa_http_request_duration_seconds_sum{route=\"/v1/balances\"} 0.32
moa_http_request_duration_seconds_count{route=\"/v1/balances\"} 2
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"0.005\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"0.01\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"0.025\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"0.05\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"0.1\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"0.25\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"0.5\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"1\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"2.5\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"5\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"10\"} 1
moa_http_request_duration_seconds_bucket{route=\"/v1/transfers\",le=\"+Inf\"} 1
moa_http_request_duration_seconds_sum{route=\"/v1/transfers\"} 0.003
moa_http_request_duration_seconds_count{route=\"/v1/transfers\"} 1
# HELP moa_transfers Transfers in the journal, by saga state.
# TYPE moa_transfers gauge
moa_transfers{state=\"completed\"} 12
moa_transfers{state=\"failed\"} 0
moa_transfers{state=\"withdrawing\"} 1
# HELP moa_center_answers_total Answers from the open banking center, by API and rsp_code.
# TYPE moa_center_answers_total counter
moa_center_answers_total{api=\"transfer/withdraw\",rsp_code=\"A0000\"} 2
moa_center_answers_total{api=\"transfer/withdraw\",rsp_code=\"A0007\"} 1
";
        assert_eq!(lines(&text), lines(expected));
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new();
        for ms in [1, 7, 7, 40, 600, 3_000, 20_000] {
            m.observe_request("/r", "GET", 200, Duration::from_millis(ms));
        }
        let text = m.render();
        let counts: Vec<u64> = text
            .lines()
            .filter(|l| l.starts_with("moa_http_request_duration_seconds_bucket"))
            .map(|l| {
                l.rsplit(' ')
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("a count at the end of the line")
            })
            .collect();
        assert_eq!(counts, [1, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 7]);
        assert!(counts.windows(2).all(|w| w[0] <= w[1]));
        assert!(text.contains("moa_http_request_duration_seconds_count{route=\"/r\"} 7\n"));
        assert!(text.contains("moa_http_request_duration_seconds_sum{route=\"/r\"} 23.655\n"));
    }

    #[test]
    fn an_observation_on_a_bucket_bound_falls_in_that_bucket() {
        let m = Metrics::new();
        m.observe_request("/r", "GET", 200, Duration::from_millis(100));
        let text = m.render();
        assert!(
            text.contains("_bucket{route=\"/r\",le=\"0.05\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{route=\"/r\",le=\"0.1\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.observe_center_answer("api", "a\\b\"c\nd");
        let text = m.render();
        assert!(
            text.contains("moa_center_answers_total{api=\"api\",rsp_code=\"a\\\\b\\\"c\\nd\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn unknown_methods_are_counted_as_other() {
        let m = Metrics::new();
        m.observe_request("/r", "BREW", 405, Duration::ZERO);
        m.observe_request("/r", "WHEN", 405, Duration::ZERO);
        let text = m.render();
        assert!(
            text.contains(
                "moa_http_requests_total{route=\"/r\",method=\"other\",status=\"405\"} 2\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_new_transfer_snapshot_replaces_the_old_one() {
        let m = Metrics::new();
        m.set_transfers_by_state(&[("completed", 1), ("refunding", 2)]);
        m.set_transfers_by_state(&[("completed", 3)]);
        let text = m.render();
        assert!(text.contains("moa_transfers{state=\"completed\"} 3\n"));
        assert!(!text.contains("refunding"));
    }

    #[test]
    fn seconds_are_written_without_trailing_zeros() {
        assert_eq!(seconds(5_000_000), "0.005");
        assert_eq!(seconds(1_000_000_000), "1");
        assert_eq!(seconds(2_500_000_000), "2.5");
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(1), "0.000000001");
    }
}
