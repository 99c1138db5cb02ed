//! Calendars: a weekly arrival profile (168 hours, or a weekday and a weekend day), shifts
//! on some weekdays, and several shift patterns per review stage with their own head
//! counts. Time 0 is Monday 00:00; each check is against the calendar's arithmetic.

use super::common::{assert_ci, metric, run};
use oversim::metrics::M;

/// No defects and no stages but an optional review: every arrival is released, so
/// `released` counts the window's arrivals.
fn world(profile: &str, review: &str) -> String {
    format!(
        r#"name = "calendar"
[run]
replications = 20
horizon = "14d"
warmup = "7d"
seed = 3
[workload]
rate = "30/h"
{profile}
[[workload.class]]
name = "only"
share = 1.0
defect_prob = 0.0
[[policy]]
name = "p"
{review}
"#
    )
}

#[test]
fn a_weekly_profile_sets_each_hours_arrivals() {
    // Weekdays busy from 8:00 to 18:00, quiet otherwise; weekends a tenth of that.
    let mut day = [0.2; 24];
    day[8..18].fill(1.0);
    let end: Vec<f64> = day.iter().map(|x| x / 10.0).collect();
    let list = |v: &[f64]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
    let text = world(
        &format!(
            "profile = {{ weekday = [{}], weekend = [{}] }}",
            list(&day),
            list(&end)
        ),
        "",
    );
    let (_, results) = run(&text);
    // The window is two whole weeks: arrivals = rate × Σ over its hours of the profile.
    let week: f64 = 5.0 * day.iter().sum::<f64>() + 2.0 * end.iter().sum::<f64>();
    assert_ci(
        "weekly profile: arrivals in two weeks",
        &metric(&results, 0, M::released),
        30.0 * 2.0 * week,
    );
    // The same week written as 168 numbers gives the same arrivals, draw for draw.
    let hours: Vec<f64> = (0..7)
        .flat_map(|d| if d < 5 { day.to_vec() } else { end.clone() })
        .collect();
    let (_, same) = run(&world(&format!("profile = [{}]", list(&hours)), ""));
    assert_eq!(metric(&results, 0, M::released), metric(&same, 0, M::released));
    // And a week that starts on Saturday (time 0 is Monday 00:00) gives other arrivals.
    let mut shifted = hours.clone();
    shifted.rotate_right(48);
    let (_, other) = run(&world(&format!("profile = [{}]", list(&shifted)), ""));
    assert_ne!(metric(&results, 0, M::released), metric(&other, 0, M::released));
}

/// A review of one-second items at a light load: reviewers are on duty for their shifts,
/// plus at most an item's length when a shift ends mid-review.
fn on_duty_hours(shifts: &str, reviewers: &str) -> Vec<f64> {
    let review = format!(
        r#"[[policy.stage]]
kind = "human_review"
name = "review"
sample = 0.01
{reviewers}
service = {{ dist = "constant", value = "1s" }}
detect = 0.5
{shifts}
"#
    );
    let (_, results) = run(&world("", &review));
    metric(&results, 0, M::reviewer_hours)
}

/// Hours on duty as the calendar says, within one item (1 s) per reviewer per shift end.
fn assert_duty(what: &str, hours: &[f64], want: f64, shift_ends: f64) {
    for &h in hours {
        assert!(
            h >= want - 1e-9 && h <= want + shift_ends / 3600.0 + 1e-9,
            "{what}: {h} on-duty hours, the calendar says {want} (+ at most {shift_ends} s)"
        );
    }
}

#[test]
fn shifts_on_weekdays_and_several_patterns_keep_their_calendars() {
    // 3 reviewers 9:00-17:00, Monday to Friday: 3 × 5 × 8 = 120 hours a week.
    let weekdays = on_duty_hours(
        r#"shifts = { on = "8h", start = "9h", days = ["mon", "tue", "wed", "thu", "fri"] }"#,
        "reviewers = 3",
    );
    assert_duty("weekdays", &weekdays, 240.0, 3.0 * 10.0);
    // 5 by day (8:00-20:00) and 2 by night (20:00-8:00), every day: 84 hours a day.
    let day_and_night = on_duty_hours(
        r#"shifts = [
    { on = "12h", period = "24h", start = "8h", reviewers = 5 },
    { on = "12h", period = "24h", start = "20h", reviewers = 2 },
]"#,
        "",
    );
    assert_duty("day and night", &day_and_night, 14.0 * 84.0, 7.0 * 14.0);
    // A weekend crew of 1 on top of the weekday team: 120 + 1 × 2 × 24 a week.
    let with_weekend = on_duty_hours(
        r#"shifts = [
    { on = "8h", start = "9h", days = ["mon", "tue", "wed", "thu", "fri"], reviewers = 3 },
    { on = "24h", days = ["sat", "sun"], reviewers = 1 },
]"#,
        "",
    );
    assert_duty(
        "with a weekend crew",
        &with_weekend,
        2.0 * (120.0 + 48.0),
        3.0 * 10.0 + 4.0,
    );
    // One pattern written as a table and as an array of one give the same run.
    let one = on_duty_hours(
        r#"shifts = { on = "8h", period = "24h", start = "9h" }"#,
        "reviewers = 4",
    );
    let array = on_duty_hours(
        r#"shifts = [{ on = "8h", period = "24h", start = "9h", reviewers = 4 }]"#,
        "",
    );
    assert_eq!(one, array);
    assert_duty("daily", &one, 14.0 * 4.0 * 8.0, 4.0 * 14.0);
}

/// Patterns may split the stage's head count by `share`, so a staffing rule can set it:
/// the rule's choice is split by largest remainder and each part keeps its calendar.
#[test]
fn a_staffing_rule_staffs_patterns_split_by_share() {
    // Ten reviewers, 80% by day (8:00-20:00) and 20% by night: 8 × 12 + 2 × 12 a day.
    let fixed = on_duty_hours(
        r#"shifts = [
    { on = "12h", period = "24h", start = "8h", share = 0.8 },
    { on = "12h", period = "24h", start = "20h", share = 0.2 },
]"#,
        "reviewers = 10",
    );
    assert_duty("by share", &fixed, 14.0 * 120.0, 10.0 * 14.0);
    // A rule picks the head count; the split follows it (CLI: rules are solved per run).
    let tmp = tempfile::TempDir::new().unwrap();
    let text = world(
        "",
        r#"[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = { rule = "p95_wait", max = "15m" }
service = { dist = "exponential", mean = "10m" }
detect = 0.5
shifts = [
    { on = "12h", start = "8h", days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], share = 0.75 },
    { on = "12h", period = "24h", start = "20h", share = 0.25 },
]
"#,
    )
    .replace("replications = 20", "replications = 5");
    let file = tmp.path().join("rule.toml");
    std::fs::write(&file, text).unwrap();
    let out = assert_cmd::Command::cargo_bin("oversim")
        .unwrap()
        .args(["run", file.to_str().unwrap(), "-q", "-o"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut staffing = csv::Reader::from_path(tmp.path().join("out/staffing.csv")).unwrap();
    let row: std::collections::BTreeMap<String, String> = staffing.deserialize().next().unwrap().unwrap();
    let n: u32 = row["chosen"].parse().unwrap();
    assert!(row["settled"] == "yes" && n >= 4, "{row:?}");
    let parts = oversim::stages::split(n, &[0.75, 0.25]);
    // Two weeks: the day group every day (by `days`), the night group every night.
    let want = (parts[0] + parts[1]) as f64 * 14.0 * 12.0;
    let mut reps = csv::Reader::from_path(tmp.path().join("out/replications.csv")).unwrap();
    for r in reps.deserialize::<std::collections::BTreeMap<String, String>>() {
        let hours: f64 = r.unwrap()["reviewer_hours"].parse().unwrap();
        // Exponential items: a reviewer may overrun a shift's end by a long item.
        assert!(
            hours >= want - 1e-9 && hours < want * 1.02,
            "{hours} against {want} ({parts:?})"
        );
    }
}
