//! `oversim report DIR` and `run --report`: one self-contained HTML file whose numbers come
//! from the CSV files in DIR.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

fn oversim(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("oversim").unwrap();
    c.current_dir(dir);
    c
}

fn summary_mean(dir: &Path, policy: &str, metric: &str) -> String {
    let text = fs::read_to_string(dir.join("summary.csv")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{policy},{metric},")))
        .unwrap();
    line.split(',').nth(3).unwrap().to_string()
}

#[test]
fn report_is_self_contained_and_drawn_from_the_csvs() {
    let t = TempDir::new().unwrap();
    let d = t.path();
    oversim(d)
        .args([
            "run",
            "-r",
            "6",
            "-q",
            "-o",
            "out",
            "--timeseries",
            "1d",
            "--report",
        ])
        .assert()
        .success();
    let html = fs::read_to_string(d.join("out/report.html")).unwrap();
    // Self-contained: inline SVG, no scripts, no external resources.
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.matches("<svg").count() >= 9,
        "trade-off, load and time-series charts"
    );
    for bad in ["<script", "src=", "href=", "https://", "<link"] {
        assert!(!html.contains(bad), "report contains {bad}");
    }
    assert!(html.contains("Over time"), "time series section");
    // Every chart has a text alternative: a name for screen readers and, under it, the
    // numbers it draws as a table (the policies' means with intervals; a row per day).
    let charts = html.matches("<svg").count();
    assert_eq!(html.matches("<svg role=\"img\" aria-label=\"").count(), charts);
    assert_eq!(html.matches("<figure class=\"chart\">").count(), charts);
    assert_eq!(html.matches("</summary><table>").count(), charts);
    let tiered_harm = summary_mean(&d.join("out"), "tiered", "harm")
        .parse::<f64>()
        .unwrap();
    assert!(
        html.contains(&format!(
            "</td><td>{} (",
            oversim::report::table::sig3(tiered_harm)
        )),
        "the trade-off table lacks tiered's harm"
    );
    assert!(html.contains("Review queue length (attempts waiting): the numbers</summary><table><tr><th>day</th><th>by-hand</th><th>per-action</th><th>tiered</th><th>split</th></tr><tr><td>2</td>"));
    // Every chart of several policies has a legend naming each (drawn by oversim, not
    // plotters: report/html/svg.rs), and the findings are the report's middle: two
    // scatters', two distributions' and four time series' legends (the Pareto chart's
    // legend may add "(dominated)"), and the bar charts' axis labels.
    let legends = |name: &str| html.matches(&format!(">\n{name}\n</text>")).count();
    for p in ["by-hand", "per-action", "tiered", "split"] {
        assert!(legends(p) >= 2 + 2 + 4, "{p}: {}", legends(p));
        assert!(
            html.contains(&format!(">\n{p}\n</text>"))
                || html.contains(&format!(">\n{p} (dominated)\n</text>")),
            "{p} in the Pareto chart"
        );
    }
    // The new views: the Pareto front, the bad months and harm by class, each with its
    // numbers; the table says whose wait is which.
    for title in [
        "Oversight cost and harm: the Pareto front",
        "Net value over replications",
        "Harm over replications",
        "Harm by class",
        "<h2>By class</h2>",
        "mean latency (min): an action's arrival to release",
    ] {
        assert!(html.contains(title), "{title}");
    }
    let results = oversim::report::html::Results::load(&d.join("out")).unwrap();
    assert!(html.contains(&oversim::report::html::sections(&results)));
    // The table shows the summary's numbers.
    let mean: f64 = summary_mean(&d.join("out"), "tiered", "escapes_per_1k")
        .parse()
        .unwrap();
    assert!(
        html.contains(&oversim::report::table::sig3(mean)),
        "escapes/1k {mean} not in the report"
    );

    // Change a number in summary.csv and the comparison: the report follows the files.
    let path = d.join("out/summary.csv");
    let text = fs::read_to_string(&path).unwrap();
    let old = summary_mean(&d.join("out"), "tiered", "throughput_per_hour");
    let patched = text.replace(
        &format!("tiered,throughput_per_hour,6,{old},"),
        "tiered,throughput_per_hour,6,123.456,",
    );
    assert_ne!(patched, text);
    fs::write(&path, patched).unwrap();
    let cmp = d.join("out/comparison.csv");
    let ctext = fs::read_to_string(&cmp).unwrap();
    let line = ctext
        .lines()
        .find(|l| l.starts_with("tiered,by-hand,harm,"))
        .unwrap()
        .to_string();
    let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
    let header: Vec<&str> = ctext.lines().next().unwrap().split(',').collect();
    let rel = header.iter().position(|h| *h == "relative_change").unwrap();
    f[rel] = "-0.4321".into();
    fs::write(&cmp, ctext.replace(&line, &f.join(","))).unwrap();
    // Edited files no longer match the manifest: `report` refuses the folder as not one
    // run's, and draws it once the manifest lists the edited files.
    oversim(d)
        .args(["report", "out"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "comparison.csv is not the file its manifest.json lists",
        ));
    let mpath = d.join("out/manifest.json");
    let mut manifest =
        oversim::report::manifest::Manifest::from_json(&fs::read_to_string(&mpath).unwrap()).unwrap();
    for name in ["summary.csv", "comparison.csv"] {
        let hash = oversim::report::manifest::sha256_hex(&fs::read(d.join("out").join(name)).unwrap());
        manifest.files.as_mut().unwrap().insert(name.to_string(), hash);
    }
    fs::write(&mpath, manifest.to_json()).unwrap();
    oversim(d).args(["report", "out"]).assert().success();
    let html = fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(
        html.contains("releases 123 actions per hour"),
        "summary sentence from summary.csv"
    );
    assert!(
        html.contains("43% less harm"),
        "relative change from comparison.csv"
    );
}

#[test]
fn sweep_reports_draw_each_metric_against_the_swept_value() {
    let t = TempDir::new().unwrap();
    let d = t.path();
    oversim(d)
        .args([
            "run",
            "-r",
            "4",
            "-q",
            "-o",
            "out",
            "--sweep",
            "workload.rate=20/h,30/h,40/h",
            "--report",
        ])
        .assert()
        .success();
    let html = fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("Across the sweep"));
    assert!(html.contains("workload.rate = 20/h") && html.contains("workload.rate = 40/h"));
    // A verdict and a summary at every point, not only the ends.
    for v in ["20/h", "30/h", "40/h"] {
        assert!(
            html.contains(&format!("<h2>Decision at workload.rate = {v}</h2>")),
            "{v}"
        );
        assert!(
            html.contains(&format!("<h2>Summary at workload.rate = {v}</h2>")),
            "{v}"
        );
    }
    // A folder that is not a results folder is an error.
    oversim(d).args(["report", "nowhere"]).assert().code(2);
}

/// A policy with no severe escape in any replication gets the rule of three beside its
/// exact interval: none in n replications puts the chance under 3/n (one-sided 95%).
#[test]
fn no_severe_escape_is_read_by_the_rule_of_three() {
    let t = TempDir::new().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/catastrophic-tail.toml");
    oversim(t.path())
        .arg("run")
        .arg(&scenario)
        .args(["-r", "40", "-q", "--report", "-o", "out"])
        .assert()
        .success();
    let html = fs::read_to_string(t.path().join("out/report.html")).unwrap();
    let reps = fs::read_to_string(t.path().join("out/replications.csv")).unwrap();
    let header: Vec<&str> = reps.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "any_severe").unwrap();
    let none = |p: &str| {
        (reps.lines().skip(1))
            .filter(|l| l.starts_with(&format!("{p},")))
            .all(|l| l.split(',').nth(col) == Some("0"))
    };
    assert!(
        none("by-hand"),
        "the test wants a policy with no severe escape in 40"
    );
    assert!(html.contains("0% [0%, 9%] (none in 40: under 8% by the rule of three)"));
}
