//! Every class of bad input gives exit code 2 and one message naming the file, the exact
//! line and the key path, says what is allowed, and writes nothing.
//!
//! The corpus is `tests/bad/*.toml`: one file per failure class, each starting with
//! `# expect-line:` (or `none`), `# expect-path:` and `# expect-text:` lines.

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

const BASE: &str = r#"name = "base"
[run]
replications = 2
horizon = "1d"
[workload]
rate = "40/h"
[[workload.class]]
name = "routine"
share = 0.9
defect_prob = 0.03
[[workload.class]]
name = "high-impact"
share = 0.1
defect_prob = 0.08
harm = 50.0
[[policy]]
name = "tiered"
[[policy.stage]]
kind = "automated_check"
name = "tests"
detect = 0.55
false_positive = 0.05
on_flag = "escalate"
escalate_to = "review"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 2
service = { dist = "lognormal", mean = "6m", cv = 1.0 }
detect = 0.6
"#;

struct Expect {
    line: Option<usize>,
    path: String,
    text: String,
}

fn expectations(text: &str, file: &str) -> Expect {
    let get = |key: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("# {key}:")))
            .unwrap_or_else(|| panic!("{file}: no `# {key}:` line"))
            .trim()
            .to_string()
    };
    let line = get("expect-line");
    Expect {
        line: (line != "none").then(|| line.parse().unwrap_or_else(|_| panic!("{file}: bad expect-line"))),
        path: get("expect-path"),
        text: get("expect-text"),
    }
}

#[test]
fn every_bad_input_class_is_exit_2_with_line_and_key_path() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus should cover at least 40 failure classes"
    );
    // The README says how large the corpus is.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let said = format!("a corpus of {} bad files", files.len());
    assert!(readme.contains(&said), "README.md should say `{said}`");
    let tmp = TempDir::new().unwrap();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let want = expectations(&text, &name);
        std::fs::write(tmp.path().join(&name), &text).unwrap();
        // A scenario with uncertain inputs is also refused by `explore`, with the same message.
        let explore = text.contains("[uncertain]");
        let cmds: &[&str] = if explore {
            &["validate", "run", "explore"]
        } else {
            &["validate", "run"]
        };
        for &cmd in cmds {
            let args: &[&str] = match cmd {
                "run" | "explore" => &[cmd, &name, "--quiet"],
                _ => &["validate", &name],
            };
            let out = Command::cargo_bin("oversim")
                .unwrap()
                .current_dir(tmp.path())
                .args(args)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{name}: {cmd} exit code; stderr:\n{err}"
            );
            assert!(!err.contains("panicked"), "{name}: panic:\n{err}");
            let location = match want.line {
                Some(l) => format!("error: {name}:{l}:"),
                None => format!("error: {name}:"),
            };
            let first = err
                .lines()
                .find(|l| l.starts_with(&location))
                .unwrap_or_else(|| panic!("{name}: expected location `{location}` in:\n{err}"));
            if !want.path.is_empty() {
                let named = first.contains(&format!(" {}: ", want.path))
                    || first.contains(&format!(" {}.", want.path));
                assert!(named, "{name}: expected key path `{}` in:\n{first}", want.path);
            }
            assert!(
                err.contains(&want.text),
                "{name}: expected `{}` in:\n{err}",
                want.text
            );
        }
        assert!(
            !tmp.path().join("results").exists(),
            "{name}: a bad scenario created output"
        );
    }
}

#[test]
fn missing_file_and_bad_flags_are_exit_2() {
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["validate", "no-such-file.toml"])
        .assert()
        .code(2);
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["run", "--threads", "0"])
        .assert()
        .code(2);
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["run", "--set", "novalue"])
        .assert()
        .code(2);
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["frobnicate"])
        .assert()
        .code(2);
    // run.seed is a TOML integer: a seed past i64::MAX is refused by the flag, saying so,
    // not by the scenario with a message about a string.
    for cmd in ["run", "explore"] {
        Command::cargo_bin("oversim")
            .unwrap()
            .args([cmd, "--seed", "9223372036854775808"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("is not in 0..=9223372036854775807"));
    }
}

#[test]
fn several_errors_are_all_reported() {
    let tmp = TempDir::new().unwrap();
    std::fs::write(tmp.path().join("two.toml"), BASE).unwrap();
    let out = Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(tmp.path())
        .args(["validate", "two.toml"])
        .args(["--set", "policy.tiered.tests.detect=2"])
        .args(["--set", "policy.tiered.review.reviewers=0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error: two.toml:")).count(),
        2,
        "{err}"
    );
}

/// The kind of the stage named `stage` in a bad file (its `kind` line, or the kind whose
/// default name it is).
fn kind_of_stage(text: &str, stage: &str) -> Option<String> {
    text.split("[[policy.stage]]").skip(1).find_map(|block| {
        let value = |key: &str| {
            block.lines().find_map(|l| {
                let rest = l.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_string())
            })
        };
        let kind = value("kind")?;
        let name = value("name").unwrap_or_else(|| kind.replace('_', "-"));
        (name == stage).then_some(kind)
    })
}

/// Every stage kind has its section in docs/scenario-format.md with a row for each of its keys,
/// is named among the values of `kind`, and has a bad-input case about one of its own
/// stages, so a new kind fails here until it is documented and its mistakes are tried.
#[test]
fn every_stage_kind_is_documented_and_has_bad_input_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("docs/scenario-format.md")).unwrap();
    let section = |heading: &str| -> String {
        let start = docs
            .find(heading)
            .unwrap_or_else(|| panic!("docs/scenario-format.md has no `{heading}`"));
        let rest = &docs[start + heading.len()..];
        rest[..rest
            .find("\n## ")
            .into_iter()
            .chain(rest.find("\n### "))
            .min()
            .unwrap_or(rest.len())]
            .to_string()
    };
    let common = section("### `[[policy.stage]]`: keys of every stage");
    let mut bad = Vec::new();
    for entry in std::fs::read_dir(root.join("tests/bad")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let path = expectations(&text, "bad file").path;
        // policy[P].stage[S]...: the stage the message is about.
        if let Some(stage) = path.split(".stage[").nth(1).and_then(|s| s.split(']').next()) {
            bad.extend(kind_of_stage(&text, stage));
        }
    }
    for (name, tag) in oversim::stages::KindTag::ALL {
        let own = section(&format!("### `kind = \"{name}\"`"));
        for key in tag.keys() {
            // In a table of the kind's section, or of the keys of every stage.
            let quoted = format!("`{key}`");
            let in_table = |text: &str| text.lines().any(|l| l.starts_with('|') && l.contains(&quoted));
            assert!(
                in_table(&own) || in_table(&common),
                "docs/scenario-format.md has no row for `{key}` of a {name} stage"
            );
        }
        assert!(
            common.contains(&format!("`\"{name}\"`")),
            "docs/scenario-format.md: `kind` does not list \"{name}\""
        );
        assert!(
            bad.iter().any(|k| k == name),
            "tests/bad has no case about a {name} stage"
        );
    }
}
