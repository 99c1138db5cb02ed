//! Sharded runs: `oversim run --shard K/N` writes the raw per-replication results of its
//! replications (i ≡ K mod N); `oversim merge` checks that a set of shards is one complete
//! run and writes the same files, byte for byte, as the one-machine run.
//!
//! Shard files: `shard.json` (what the shard belongs to), `replications.csv` (its rows of
//! the final file) and `stage-replications.csv` (per-replication stage values). Numbers are
//! written in Rust's shortest round-trip form, so parsing them back gives the same `f64`
//! and the merged summaries equal the one-machine ones exactly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cli::{print_tables, MergeArgs, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use crate::experiment::{Plan, Point, Shard};
use crate::metrics::{Ledger, MetricRow, RepResult, StageResult, N_METRICS, STAGE_COLUMNS};
use crate::montecarlo::Results;
use crate::report::{self, PointRun, RunData};
use crate::scenario;

/// The files a shard writes.
pub const SHARD_FILES: &[&str] = &["replications.csv", "stage-replications.csv", "shard.json"];
const FORMAT: &str = "oversim-shard-1";

/// Writes a shard's files into `dir`.
pub fn write_shard(
    dir: &Path,
    plan: &Plan,
    run: &RunData,
    shard: Shard,
    mut manifest: serde_json::Value,
) -> Result<(), String> {
    manifest["format"] = serde_json::json!(FORMAT);
    manifest["shard"] = serde_json::json!({ "index": shard.index, "count": shard.count });
    manifest["points"] = serde_json::json!(plan
        .points
        .iter()
        .map(|p| serde_json::json!({ "values": p.values, "resolved": p.loaded.resolved_text }))
        .collect::<Vec<_>>());
    let write = |name: &str, bytes: &[u8]| {
        report::write_atomic(dir, name, bytes)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    write("replications.csv", &report::replications_csv(run))?;
    write("stage-replications.csv", &report::stage_replications_csv(run))?;
    if let Some(bytes) = report::timeseries_csv(run) {
        write("timeseries.csv", &bytes)?;
    }
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serialises") + "\n";
    write("shard.json", json.as_bytes())
}

struct ShardIn {
    dir: PathBuf,
    manifest: serde_json::Value,
}

fn read_shard(dir: &Path) -> Result<ShardIn, String> {
    let path = dir.join("shard.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: not a shard folder (cannot read shard.json: {e})",
            dir.display()
        )
    })?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if manifest["format"] != FORMAT {
        return Err(format!(
            "{}: not an oversim shard (format {})",
            path.display(),
            manifest["format"]
        ));
    }
    Ok(ShardIn {
        dir: dir.to_path_buf(),
        manifest,
    })
}

fn num(v: &serde_json::Value, what: &str, dir: &Path) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("{}: shard.json has no {what}", dir.display()))
}

/// Checks that `shards` are all the shards of one run; returns the shard count.
fn check_set(shards: &[ShardIn]) -> Result<u64, String> {
    let first = &shards[0];
    let hash = &first.manifest["plan_sha256"];
    let count = num(&first.manifest["shard"]["count"], "shard count", &first.dir)?;
    let mut seen: BTreeMap<u64, &Path> = BTreeMap::new();
    for s in shards {
        if &s.manifest["plan_sha256"] != hash {
            return Err(format!(
                "{} and {} are shards of different runs (scenario, overrides, seed or sweep differ: plan hashes {} and {})",
                first.dir.display(),
                s.dir.display(),
                hash,
                s.manifest["plan_sha256"]
            ));
        }
        let n = num(&s.manifest["shard"]["count"], "shard count", &s.dir)?;
        if n != count {
            return Err(format!(
                "{} is shard of {n} but {} is shard of {count}: all shards must come from one --shard K/N split",
                s.dir.display(),
                first.dir.display()
            ));
        }
        let k = num(&s.manifest["shard"]["index"], "shard index", &s.dir)?;
        if let Some(other) = seen.insert(k, &s.dir) {
            return Err(format!(
                "shard {k}/{count} appears twice: {} and {}",
                other.display(),
                s.dir.display()
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing shards: {} (have {} of {count})",
            missing.join(", "),
            seen.len()
        ));
    }
    Ok(count)
}

fn parse_field(s: &str) -> Result<f64, String> {
    if s.is_empty() {
        Ok(f64::NAN)
    } else {
        s.parse::<f64>().map_err(|_| format!("`{s}` is not a number"))
    }
}

/// Rebuilds the run from shard folders.
fn load_run(shards: &[ShardIn]) -> Result<(Plan, RunData), String> {
    let m = &shards[0].manifest;
    let label = m["scenario"]["path"]
        .as_str()
        .unwrap_or(scenario::DEFAULT_LABEL)
        .to_string();
    let dims: Vec<String> = serde_json::from_value(m["sweep"]["dims"].clone()).map_err(|e| e.to_string())?;
    let mut points = Vec::new();
    for p in m["points"].as_array().ok_or("shard.json has no points")? {
        let values: Vec<String> = serde_json::from_value(p["values"].clone()).map_err(|e| e.to_string())?;
        let resolved = p["resolved"].as_str().ok_or("shard.json point has no scenario")?;
        let loaded = scenario::load(&label, resolved, &[]).map_err(|e| e.to_string())?;
        points.push(Point { values, loaded });
    }
    let plan = Plan { dims, points };
    let baseline_name = m["baseline"].as_str().unwrap_or_default();
    let baseline = plan
        .base()
        .policies
        .iter()
        .position(|p| p.name == baseline_name)
        .unwrap_or(0);
    let nd = plan.dims.len();
    // (point, policy, replication) → result.
    let point_of: BTreeMap<Vec<String>, usize> = plan
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.values.clone(), i))
        .collect();
    // A row's (point, policy, replication), from its leading columns.
    let locate = |rec: &csv::StringRecord| -> Result<(usize, usize, u64), String> {
        let key: Vec<String> = rec.iter().take(nd).map(str::to_string).collect();
        let pt = *point_of
            .get(&key)
            .ok_or_else(|| format!("unknown sweep point {key:?}"))?;
        let pol = plan.points[pt]
            .loaded
            .scenario
            .policies
            .iter()
            .position(|p| p.name == rec[nd])
            .ok_or_else(|| format!("unknown policy `{}`", &rec[nd]))?;
        let rep = rec[nd + 1]
            .parse()
            .map_err(|_| format!("bad replication index `{}`", &rec[nd + 1]))?;
        Ok((pt, pol, rep))
    };
    let mut found: BTreeMap<(usize, usize, u64), RepResult> = BTreeMap::new();
    for s in shards {
        let path = s.dir.join("replications.csv");
        let mut rd = csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for rec in rd.records() {
            let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
            let (pt, pol, rep) = locate(&rec).map_err(|e| format!("{}: {e}", path.display()))?;
            let sc = &plan.points[pt].loaded.scenario;
            let mut metrics = MetricRow([0.0; N_METRICS]);
            for (k, v) in rec.iter().skip(nd + 2).enumerate().take(N_METRICS) {
                metrics.0[k] = parse_field(v).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            let stages = vec![StageResult::default(); sc.policies[pol].stages.len()];
            // Whether a shard's replication was cut short is in its manifest, not here.
            let r = RepResult {
                metrics,
                stages,
                ledger: Ledger::default(),
                cut_short: false,
                series: None,
            };
            if found.insert((pt, pol, rep), r).is_some() {
                return Err(format!(
                    "{}: replication {rep} of `{}` appears twice",
                    path.display(),
                    &rec[nd]
                ));
            }
        }
        let path = s.dir.join("stage-replications.csv");
        let mut rd = csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for rec in rd.records() {
            let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
            let (pt, pol, rep) = locate(&rec).map_err(|e| format!("{}: {e}", path.display()))?;
            let sc = &plan.points[pt].loaded.scenario;
            let st = sc.policies[pol]
                .stages
                .iter()
                .position(|x| x.name == rec[nd + 2])
                .ok_or("unknown stage")?;
            let v: Vec<f64> = rec
                .iter()
                .skip(nd + 3)
                .map(parse_field)
                .collect::<Result<_, _>>()?;
            if v.len() != STAGE_COLUMNS.len() {
                return Err(format!("{}: wrong number of stage columns", path.display()));
            }
            let r = found
                .get_mut(&(pt, pol, rep))
                .ok_or_else(|| format!("{}: stage row without a replication row", path.display()))?;
            r.stages[st] = StageResult {
                entered: v[0],
                passed: v[1],
                flagged: v[2],
                caught: v[3],
                timeouts: v[4],
                utilization: v[5],
                mean_queue: v[6],
                mean_wait_min: v[7],
            };
        }
    }
    let mut run_points = Vec::new();
    for (pt, p) in plan.points.iter().enumerate() {
        let sc = &p.loaded.scenario;
        let reps: Vec<u64> = (0..sc.run.replications).collect();
        let mut per_policy = Vec::new();
        for pol in 0..sc.policies.len() {
            let mut v = Vec::with_capacity(reps.len());
            for &r in &reps {
                v.push(found.remove(&(pt, pol, r)).ok_or_else(|| {
                    format!(
                        "replication {r} of policy `{}` is in no shard",
                        sc.policies[pol].name
                    )
                })?);
            }
            per_policy.push(v);
        }
        run_points.push(PointRun {
            values: p.values.clone(),
            scenario: sc.clone(),
            reps,
            results: Results { per_policy },
        });
    }
    if let Some(((_, _, r), _)) = found.into_iter().next() {
        return Err(format!("replication {r} is beyond the run's replications"));
    }
    let run = RunData {
        dims: plan.dims.clone(),
        points: run_points,
        baseline,
    };
    Ok((plan, run))
}

/// `oversim merge DIR...`.
pub fn main(args: MergeArgs) -> i32 {
    let mut shards = Vec::new();
    for d in &args.dirs {
        match read_shard(d) {
            Ok(s) => shards.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let count = match check_set(&shards) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (plan, run) = match load_run(&shards) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let dir = report::output_dir(args.out.as_deref(), plan.base(), false);
    if let Err(e) = report::prepare_output(&dir, report::FILES, args.force) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let sums = run.summaries();
    let comps = report::comparisons(&run);
    let mut manifest = shards[0].manifest.clone();
    if let Some(m) = manifest.as_object_mut() {
        for k in ["format", "shard", "points"] {
            m.remove(k);
        }
    }
    manifest["replications_done"] = serde_json::json!(plan.base().run.replications);
    manifest["merged_from"] = serde_json::json!(shards
        .iter()
        .map(|s| s.dir.display().to_string())
        .collect::<Vec<_>>());
    manifest["shards"] = serde_json::json!(count);
    let files: [(&str, Vec<u8>); 6] = [
        ("replications.csv", report::replications_csv(&run)),
        ("summary.csv", report::summary_csv(&run, &sums)),
        ("comparison.csv", report::comparison_csv(&run, &comps)),
        ("stages.csv", report::stages_csv(&run)),
        // The time series (of replication 0) comes from the shard that ran it.
        (
            "timeseries.csv",
            shards
                .iter()
                .find_map(|s| std::fs::read(s.dir.join("timeseries.csv")).ok())
                .unwrap_or_default(),
        ),
        (
            "manifest.json",
            (serde_json::to_string_pretty(&manifest).expect("serialises") + "\n").into_bytes(),
        ),
    ];
    for (name, bytes) in files {
        if name == "timeseries.csv" && bytes.is_empty() {
            continue;
        }
        if let Err(e) = report::write_atomic(&dir, name, &bytes) {
            eprintln!("error: cannot write {}: {e}", dir.join(name).display());
            return EXIT_FAILURE;
        }
    }
    if !args.quiet {
        println!(
            "merged {count} shards of `{}` → {}",
            plan.base().name,
            dir.display()
        );
        print_tables(&run, &sums, &comps);
    }
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs() {
        let none = |_: &str| None;
        assert_eq!(Shard::parse("1/4", none).unwrap(), Shard { index: 1, count: 4 });
        assert!(Shard::parse("4/4", none).is_err());
        assert!(Shard::parse("0/0", none).is_err());
        assert!(Shard::parse("auto", none).is_err());
        let slurm = |k: &str| match k {
            "SLURM_ARRAY_TASK_ID" => Some("2".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("3".to_string()),
            _ => None,
        };
        assert_eq!(Shard::parse("auto", slurm).unwrap(), Shard { index: 2, count: 3 });
        let k8s = |k: &str| match k {
            "JOB_COMPLETION_INDEX" => Some("0".to_string()),
            "JOB_COMPLETIONS" => Some("5".to_string()),
            _ => None,
        };
        assert_eq!(Shard::parse("auto", k8s).unwrap(), Shard { index: 0, count: 5 });
        assert!(Shard { index: 1, count: 3 }.owns(4));
        assert!(!Shard { index: 1, count: 3 }.owns(5));
    }
}
