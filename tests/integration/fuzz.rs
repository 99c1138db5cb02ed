//! Fuzzing the front end and a short simulation: arbitrary bytes and mutated valid
//! scenarios must give a scenario or a located error, never a panic or a hang.
//!
//! Proptest drives it (no nightly toolchain needed); CI runs a bounded number of cases,
//! `PROPTEST_CASES=100000 cargo test --release --test fuzz` runs a longer campaign.

use oversim::engine::simulate;
use oversim::scenario;
use proptest::prelude::*;

const SEEDS: &[&str] = &[
    scenario::DEFAULT_SCENARIO,
    include_str!("../../scenarios/drifting-agent.toml"),
    include_str!("../../scenarios/rubber-stamping.toml"),
    include_str!("../../scenarios/layered-defence-correlated.toml"),
];

/// Parses and validates `text`; if valid, simulates one short replication of each policy.
fn exercise(text: &str) {
    match scenario::load("fuzz.toml", text, &[]) {
        Err(e) => {
            // Every error names the file, and the message is not empty.
            let s = e.to_string();
            assert!(s.starts_with("error: fuzz.toml"), "{s}");
            assert!(!e.diagnostics.is_empty());
        }
        Ok(l) => {
            let mut sc = l.scenario;
            // Keep the simulation short: at most ~20,000 arrivals.
            let hours = (20_000.0 / sc.workload.mean_rate().max(1e-9)).min(200.0);
            sc.run.warmup = sc.run.warmup.min(hours / 4.0);
            sc.run.horizon = sc.run.horizon.min(hours);
            for p in 0..sc.policies.len() {
                let r = simulate(&sc, p, 0);
                assert!(r.ledger.conserved(), "{:?}", r.ledger);
            }
        }
    }
}

/// A mutation of a valid scenario: replace a number or string value, delete, duplicate or
/// truncate lines, or splice in garbage.
fn mutated() -> impl Strategy<Value = String> {
    let values = prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("\"\"".to_string()),
        Just("\"0s\"".to_string()),
        Just("\"1e9/h\"".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("99999999999999999999".to_string()),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        any::<i64>().prop_map(|x| x.to_string()),
        "[a-z0-9/._-]{0,8}".prop_map(|s| format!("\"{s}\"")),
    ];
    (
        0..SEEDS.len(),
        any::<prop::sample::Index>(),
        0u8..5,
        values,
        "[ -~]{0,12}",
    )
        .prop_map(|(seed, at, op, value, garbage)| {
            let lines: Vec<&str> = SEEDS[seed].lines().collect();
            let i = at.index(lines.len());
            let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            match op {
                0 => {
                    if let Some((k, _)) = out[i].split_once(" = ") {
                        out[i] = format!("{k} = {value}");
                    }
                }
                1 => {
                    out.remove(i);
                }
                2 => out.insert(i, out[i].clone()),
                3 => out.truncate(i),
                _ => out[i].push_str(&garbage),
            }
            out.join("\n")
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        exercise(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_scenarios_never_panic(text in mutated()) {
        exercise(&text);
    }
}

/// Found by the fuzzer: an absurd rate once made the engine pre-size its event heap from
/// the rate (a 64 GB allocation). It must simply run (briefly).
#[test]
fn an_absurd_rate_does_not_allocate_up_front() {
    let set = [scenario::Override::set("workload.rate", "\"1e9/h\"")];
    let loaded = scenario::load("fuzz.toml", scenario::DEFAULT_SCENARIO, &set).unwrap();
    assert_eq!(loaded.scenario.workload.rate, 1e9);
    exercise(&loaded.resolved_text);
}
