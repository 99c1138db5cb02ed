//! Numbers in the docs that come from a run are checked against the committed results
//! (`results/examples/`): quoted report text, the width ratios of paired intervals, and
//! the automation-bias lesson's figures.

use std::path::Path;

use oversim::report::rows::{self, ComparisonKey, SummaryKey};
use oversim::report::Comparison;
use oversim::stats::Summary;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Text without markup (a list item or paragraph ends with a space), entities decoded,
/// whitespace collapsed.
fn plain(text: &str) -> String {
    let text = text.replace("</li>", " ").replace("</p>", " ");
    let mut out = String::new();
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every `<!-- quote: FILE -->` block of README.md and docs/ stands, word for word, in FILE.
#[test]
fn quoted_report_text_is_in_the_committed_report() {
    let mut files = vec!["README.md".to_string()];
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".md") {
            files.push(format!("docs/{name}"));
        }
    }
    let mut quotes = 0;
    for f in &files {
        let text = read(f);
        for block in text.split("<!-- quote: ").skip(1) {
            let (source, rest) = block.split_once(" -->").expect("a quote names its file");
            let (quote, _) = rest.split_once("<!-- /quote -->").expect("a quote ends");
            let quote: String = quote
                .lines()
                .map(|l| l.trim_start_matches('>').trim())
                .collect::<Vec<_>>()
                .join(" ")
                .replace("**", "");
            let quote = quote.split_whitespace().collect::<Vec<_>>().join(" ");
            let committed = plain(&read(source));
            assert!(
                committed.contains(&quote),
                "{f}: the quote is not in {source} (regenerate with scripts/teaching-results.sh and quote it again):\n{quote}"
            );
            quotes += 1;
        }
    }
    assert!(quotes >= 1, "README.md quotes the default report");
}

/// A committed example's summaries and comparisons (without a sweep).
type Example = (Vec<(SummaryKey, Summary)>, Vec<(ComparisonKey, Comparison)>);

fn example(name: &str) -> Example {
    let s = std::fs::read(root().join(format!("results/examples/{name}/summary.csv"))).unwrap();
    let c = std::fs::read(root().join(format!("results/examples/{name}/comparison.csv"))).unwrap();
    let (_, s) = rows::read::<SummaryKey, Summary>(&s).unwrap();
    let (_, c) = rows::read::<ComparisonKey, Comparison>(&c).unwrap();
    (
        s.into_iter()
            .filter(|(v, _, _)| v.is_empty())
            .map(|(_, k, v)| (k, v))
            .collect(),
        c.into_iter()
            .filter(|(v, _, _)| v.is_empty())
            .map(|(_, k, v)| (k, v))
            .collect(),
    )
}

/// How many times narrower each paired interval is than the interval of the difference of
/// two independent means, √(hw_a² + hw_b²) / hw_paired, for `metrics`.
fn width_ratios(name: &str, metrics: &[&str]) -> Vec<f64> {
    let (sums, comps) = example(name);
    let hw = |p: &str, m: &str| {
        let s = &sums
            .iter()
            .find(|(k, _)| k.policy == p && k.metric == m)
            .unwrap()
            .1;
        s.half_width()
    };
    comps
        .iter()
        .filter(|(k, _)| metrics.contains(&k.metric.as_str()))
        .filter_map(|(k, c)| {
            let paired = (c.ci_high - c.ci_low) / 2.0;
            let unpaired = hw(&k.policy, &k.metric).hypot(hw(&k.baseline, &k.metric));
            (paired > 0.0 && unpaired.is_finite()).then(|| unpaired / paired)
        })
        .collect()
}

fn range(v: &[f64]) -> (f64, f64) {
    v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    })
}

#[test]
fn paired_interval_ratios_in_the_readme_hold() {
    let readme = read("README.md");
    let examples = [
        "default",
        "drifting-agent",
        "rubber-stamping",
        "fatigue-and-breaks",
        "automation-bias",
        "layered-defence",
        "layered-defence-correlated",
        "governance-b12",
    ];
    let all =
        |metrics: &[&str]| -> Vec<f64> { examples.iter().flat_map(|e| width_ratios(e, metrics)).collect() };
    let (lo, hi) = range(&all(&["throughput_per_hour"]));
    let stated = format!("{lo:.1}–{hi:.0}× narrower");
    assert!(readme.contains(&stated), "README should say {stated}");
    let outcomes = ["escapes_per_1k", "harm", "cost_per_release"];
    let (lo, hi) = range(&all(&outcomes));
    let stated = format!("only {lo:.1}–{hi:.1}× narrower");
    assert!(readme.contains(&stated), "README should say {stated}");
    let (lo, hi) = range(&width_ratios("default", &outcomes));
    let stated = format!("({lo:.2}–{hi:.2}×)");
    assert!(readme.contains(&stated), "README should say {stated}");
}

#[test]
fn the_automation_bias_lesson_quotes_its_results() {
    let lesson = read("docs/teaching.md");
    let (sums, _) = example("automation-bias");
    let escape = |p: &str| {
        sums.iter()
            .find(|(k, _)| k.policy == p && k.metric == "escape_rate")
            .unwrap()
            .1
            .mean
    };
    let (human, checks) = (escape("human-only"), escape("checks-only"));
    let (ideal, biased) = (escape("ideal-layers"), escape("checks-then-human"));
    for x in [human, checks, ideal, biased] {
        let stated = format!("{:.1}%", 100.0 * x);
        assert!(lesson.contains(&stated), "teaching.md should give {stated}");
    }
    // The share of the second layer's value that automation bias takes back.
    for first in [checks, human] {
        let taken = (biased - ideal) / (first - ideal);
        let stated = format!("{:.0}% of what", 100.0 * taken);
        assert!(lesson.contains(&stated), "teaching.md should say {stated}");
    }
}
