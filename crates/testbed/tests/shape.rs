//! The shape of the workspace, as docs/architecture.md draws it, kept by tests: nothing below
//! the shell reaches Tauri; the testbed depends on nothing of ours, so that it stays an
//! independent reading of the protocol; the code cites the protocol and the architecture in
//! `docs/`, which travel with it; the saga's state table in the docs is the one in the code; and
//! the app built without its `sandbox` feature holds no testbed.
//!
//! These read `cargo metadata`, `cargo tree` and the files of the checkout; they start no server
//! and compile nothing.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The crates below the shell: none may know that Tauri exists.
const BELOW_THE_SHELL: [&str; 4] = ["moa-openbanking", "moa-testbed", "moa-server", "moa-core"];

/// What code and docs must not cite: documents that live outside the repository. Split so this
/// file does not cite them itself.
const FOREIGN_CITATIONS: [&str; 3] = [
    concat!("kftc-openbanking", "-v2.md"),
    concat!("../", "shared/"),
    concat!("ARCHITECTURE", ".md"),
];

/// Folders that hold what was built or fetched, not what was written.
const NOT_SOURCES: [&str; 3] = ["target", "node_modules", ".git"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// The host's target triple: metadata filtered to it resolves offline from what a build of the
/// workspace has fetched, where the unfiltered graph would also want other platforms' crates.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .trim()
        .to_owned()
}

/// `cargo metadata` of the workspace, read once for every test here.
fn metadata() -> &'static Value {
    static METADATA: OnceLock<Value> = OnceLock::new();
    METADATA.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--offline"])
            .args(["--filter-platform", &host_triple()])
            .arg("--manifest-path")
            .arg(workspace_root().join("Cargo.toml"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
    })
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// Every package, by its id.
fn packages() -> HashMap<&'static str, &'static Value> {
    metadata()["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (str_of(p, "id"), p))
        .collect()
}

/// The package named `name` among the workspace's members.
fn member(name: &str) -> &'static Value {
    let packages = packages();
    metadata()["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(|id| packages.get(id.as_str()?))
        .find(|p| str_of(p, "name") == name)
        .unwrap_or_else(|| panic!("{name} is a member of the workspace"))
}

fn member_names() -> BTreeSet<&'static str> {
    let packages = packages();
    metadata()["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(|id| packages.get(id.as_str()?))
        .map(|p| str_of(p, "name"))
        .collect()
}

/// A resolved dependency edge: the package it leads to, and whether it counts at build or run
/// time (a normal or build dependency) rather than only for the package's own tests.
fn edges(node: &'static Value) -> impl Iterator<Item = (&'static str, bool)> {
    node["deps"].as_array().into_iter().flatten().map(|dep| {
        let shipped = dep["dep_kinds"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|k| k["kind"].as_str() != Some("dev"));
        (str_of(dep, "pkg"), shipped)
    })
}

/// Every package `root` reaches, each with the chain of names that leads to it. The root's own
/// dev-dependencies count (its tests are its own); further down only what those crates ship.
fn reached_from(root_id: &str) -> Vec<(String, Vec<&'static str>)> {
    let packages = packages();
    let nodes: HashMap<&str, &Value> = metadata()["resolve"]["nodes"]
        .as_array()
        .expect("the resolved graph")
        .iter()
        .map(|n| (str_of(n, "id"), n))
        .collect();
    let name = |id: &str| packages.get(id).map(|p| str_of(p, "name")).unwrap_or("?");
    let mut seen = BTreeSet::from([root_id.to_owned()]);
    let mut queue = VecDeque::from([(root_id.to_owned(), vec![name(root_id)])]);
    let mut reached = Vec::new();
    while let Some((id, chain)) = queue.pop_front() {
        let Some(node) = nodes.get(id.as_str()) else {
            continue;
        };
        for (dep, shipped) in edges(node) {
            if (shipped || id == root_id) && seen.insert(dep.to_owned()) {
                let mut next = chain.clone();
                next.push(name(dep));
                reached.push((dep.to_owned(), next.clone()));
                queue.push_back((dep.to_owned(), next));
            }
        }
    }
    reached
}

/// The dependencies a package declares, of every kind and for every platform.
fn declared(package: &'static Value) -> impl Iterator<Item = &'static Value> {
    package["dependencies"].as_array().into_iter().flatten()
}

fn is_tauri(name: &str) -> bool {
    name == "tauri" || name.starts_with("tauri-") || name.starts_with("tauri_")
}

#[test]
fn no_crate_below_the_shell_depends_on_tauri() {
    let packages = packages();
    let mut found = Vec::new();
    for crate_name in BELOW_THE_SHELL {
        let package = member(crate_name);
        for dep in declared(package).filter(|d| is_tauri(str_of(d, "name"))) {
            found.push(format!(
                "{crate_name} declares {} ({})",
                str_of(dep, "name"),
                dep["target"].as_str().unwrap_or("every platform")
            ));
        }
        for (id, chain) in reached_from(str_of(package, "id")) {
            let name = packages.get(id.as_str()).map(|p| str_of(p, "name"));
            if name.is_some_and(is_tauri) {
                found.push(chain.join(" → "));
            }
        }
    }
    assert!(
        found.is_empty(),
        "crates below the shell reach Tauri:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_testbed_depends_on_no_crate_of_this_workspace() {
    let ours = member_names();
    let testbed = member("moa-testbed");
    let mut found: Vec<String> = declared(testbed)
        .filter(|d| ours.contains(str_of(d, "name")) || d["path"].is_string())
        .map(|d| {
            format!(
                "declares {} ({} dependency)",
                str_of(d, "name"),
                d["kind"].as_str().unwrap_or("normal")
            )
        })
        .collect();
    let members: BTreeSet<&str> = metadata()["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    found.extend(
        reached_from(str_of(testbed, "id"))
            .into_iter()
            .filter(|(id, _)| members.contains(id.as_str()))
            .map(|(_, chain)| chain.join(" → ")),
    );
    assert!(
        found.is_empty(),
        "moa-testbed must stay an independent reading of the protocol, yet it reaches our own \
         crates:\n{}",
        found.join("\n")
    );
}

/// The packages `cargo tree` says the app (`moa`) is built from with `features`, normal
/// dependencies only: it resolves features from the lock file and compiles nothing.
fn app_packages(features: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "moa", "-e", "normal", "--prefix", "none"])
        .args(["--locked", "--offline", "--target", &host_triple()])
        .args(features)
        .arg("--manifest-path")
        .arg(workspace_root().join("Cargo.toml"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_app_without_its_sandbox_feature_holds_no_testbed() {
    let default = app_packages(&[]);
    assert!(
        default.contains("moa-testbed"),
        "the default app has its sandbox center"
    );
    assert!(default.contains("moa-server"), "and its sandbox server");
    let bare = app_packages(&["--no-default-features", "--features", "custom-protocol"]);
    assert!(bare.contains("moa-core"), "{bare:?}");
    assert!(
        !bare.contains("moa-testbed"),
        "an app built without the sandbox feature must not contain the testbed center"
    );
}

/// Every file of the checkout that someone wrote: all but [`NOT_SOURCES`], without following
/// links.
fn source_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let kind = entry.file_type().expect("a file type");
        let path = entry.path();
        if kind.is_dir() {
            if !NOT_SOURCES.iter().any(|n| entry.file_name() == *n) {
                source_files(&path, files);
            }
        } else if kind.is_file() {
            files.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn code_and_docs_cite_the_protocol_and_architecture_in_docs_only() {
    let root = workspace_root();
    let mut files = Vec::new();
    source_files(&root, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("docs/protocol.md")),
        "docs/protocol.md is there to be cited"
    );
    let mut found = Vec::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        for needle in FOREIGN_CITATIONS.iter().filter(|n| contains(&bytes, n)) {
            let shown = file.strip_prefix(&root).unwrap_or(file);
            found.push(format!("{} cites {needle}", shown.display()));
        }
    }
    assert!(
        found.is_empty(),
        "cite docs/protocol.md or docs/architecture.md instead:\n{}",
        found.join("\n")
    );
}

/// The rows of the markdown table whose header is `state | event | next`, each as its trimmed
/// cells, without the header and the rule under it. Exactly one such table is expected.
fn saga_table(text: &str, source: &str) -> Vec<Vec<String>> {
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let headers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with('|') && cells(l) == ["state", "event", "next"])
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        headers.len(),
        1,
        "{source} has one `state | event | next` table"
    );
    lines[headers[0] + 1..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .map(|l| cells(l))
        .filter(|row| {
            !row.iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
        })
        .collect()
}

#[test]
fn the_saga_table_in_the_architecture_doc_is_the_one_in_saga_rs() {
    let root = workspace_root();
    let saga = std::fs::read_to_string(root.join("crates/server/src/saga.rs")).expect("saga.rs");
    let module_docs: String = saga
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).expect("the doc");

    let in_code = saga_table(&module_docs, "saga.rs's module docs");
    let in_doc = saga_table(&doc, "docs/architecture.md");
    assert!(
        in_code.len() >= 10,
        "the saga's table has its rows: {in_code:?}"
    );
    let show = |rows: &[Vec<String>]| {
        rows.iter()
            .map(|r| r.join(" | "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        show(&in_doc),
        show(&in_code),
        "docs/architecture.md's saga table differs from crates/server/src/saga.rs's"
    );
}

/// Every test harness of the workspace — each crate's `tests/common` and the end-to-end
/// suite's center — audits the money through the one checker, `moa_testbed::harness`
/// (`assert_invariants`, or `check` on ledgers it read itself).
#[test]
fn every_harness_calls_the_invariant_checker() {
    let root = workspace_root();
    let mut harnesses: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("the crates folder")
        .map(|entry| entry.expect("a crate").path().join("tests/common/mod.rs"))
        .filter(|common| common.is_file())
        .collect();
    harnesses.sort();
    assert!(
        harnesses.len() >= 4,
        "the crates' harnesses are found: {harnesses:?}"
    );
    harnesses.push(root.join("tests/e2e/src/center.rs"));
    for harness in harnesses {
        let code: String = std::fs::read_to_string(&harness)
            .unwrap_or_else(|e| panic!("{}: {e}", harness.display()))
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            code.contains("assert_invariants(") || code.contains("harness::check("),
            "{} never calls the invariant checker",
            harness.display()
        );
    }
}
