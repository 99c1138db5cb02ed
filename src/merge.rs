//! Sharded runs: `oversim run --shard K/N` writes the raw per-replication results of its
//! replications (i ≡ K mod N); `oversim merge` checks that a set of shards is one complete
//! run and writes the same files, byte for byte, as the one-machine run. The merge itself
//! works on the shards' files in memory ([`ShardFiles`]), so the browser's workers merge
//! exactly as the command line does; reading and writing folders is the CLI's.
//!
//! Shard files: `shard.json` (what the shard belongs to: a [`Manifest`] with its shard and
//! points), `replications.csv` (its rows of the final file) and `stage-replications.csv`
//! (per-replication stage values). Numbers are written in Rust's shortest round-trip form,
//! so parsing them back gives the same `f64` and the merged summaries equal the
//! one-machine ones exactly.

use std::collections::BTreeMap;
#[cfg(feature = "cli")]
use std::path::Path;

use crate::experiment::{Found, Kept, Plan, PointRun, RunData, Shard};
use crate::metrics::{ClassResult, KindResult, Ledger, MetricRow, RepResult, StageResult};
use crate::montecarlo::Results;
#[cfg(feature = "cli")]
use crate::report::files::Output;
use crate::report::manifest::{Manifest, PointInfo, ShardInfo, SHARD_FORMAT};
use crate::report::rows::{self, ClassKey, KindKey, ReplicationKey, StageReplicationKey};
use crate::scenario;
use crate::staffing::{Choice, Staffed, StaffedKey};

/// The files a shard writes.
pub const SHARD_FILES: &[&str] = &[
    "replications.csv",
    "classes.csv",
    "kinds.csv",
    "stage-replications.csv",
    "cut-short.csv",
    "staffing.csv",
    "shard.json",
];

/// The files of [`RepFiles`], in order.
pub const REP_FILES: &[&str] = &[
    "replications.csv",
    "classes.csv",
    "kinds.csv",
    "stage-replications.csv",
    "cut-short.csv",
    "staffing.csv",
];

/// Every replication's results, as the files that hold them losslessly: a shard's, and an
/// interrupted run's or exploration's (read back by `--resume`).
#[derive(Debug, Clone, PartialEq)]
pub struct RepFiles {
    pub replications: Vec<u8>,
    pub classes: Vec<u8>,
    pub kinds: Vec<u8>,
    pub stage_replications: Vec<u8>,
    /// The replications that stopped at `run.max_backlog` (a flag no other file holds).
    pub cut_short: Vec<u8>,
    /// What the staffing rules chose.
    pub staffing: Vec<u8>,
}

impl RepFiles {
    pub fn of(run: &RunData) -> RepFiles {
        RepFiles {
            replications: rows::replications_csv(run),
            classes: rows::classes_csv(run),
            kinds: rows::kinds_csv(run),
            stage_replications: rows::stage_replications_csv(run),
            cut_short: rows::cut_short_csv(run),
            staffing: rows::staffing_csv(run),
        }
    }

    /// (file name, bytes), in [`REP_FILES`]' order.
    pub fn named(&self) -> Vec<(&'static str, Vec<u8>)> {
        let bytes = [
            &self.replications,
            &self.classes,
            &self.kinds,
            &self.stage_replications,
            &self.cut_short,
            &self.staffing,
        ];
        REP_FILES
            .iter()
            .zip(bytes)
            .map(|(&n, b)| (n, b.clone()))
            .collect()
    }

    /// The files by name from `get`; `origin` names where they are in messages.
    pub fn from_named(
        origin: &str,
        get: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    ) -> Result<RepFiles, String> {
        let file = |name: &str| get(name).map_err(|e| format!("{origin}/{name}: {e}"));
        Ok(RepFiles {
            replications: file("replications.csv")?,
            classes: file("classes.csv")?,
            kinds: file("kinds.csv")?,
            stage_replications: file("stage-replications.csv")?,
            cut_short: file("cut-short.csv")?,
            staffing: file("staffing.csv")?,
        })
    }
}

/// A shard's files, as text, and where they came from (for messages).
#[derive(Debug, Clone, PartialEq)]
pub struct ShardFiles {
    /// The shard's folder, or another name for it in messages.
    pub origin: String,
    pub manifest: Manifest,
    /// Its replications, and what its staffing rules chose (every shard solves them alike).
    pub data: RepFiles,
    /// Replication 0's time series, from the shard that ran it.
    pub timeseries: Option<Vec<u8>>,
}

impl ShardFiles {
    /// The files of `shard` of `run`; `manifest` is the run's, made a shard's here.
    pub fn of(plan: &Plan, run: &RunData, shard: Shard, mut manifest: Manifest) -> ShardFiles {
        manifest.format = Some(SHARD_FORMAT.to_string());
        manifest.shard = Some(ShardInfo {
            count: shard.count,
            index: shard.index,
        });
        // An exploration's sets are rebuilt from its design by the merge; a sweep's are listed.
        if manifest.exploration.is_none() {
            manifest.points = Some(
                (plan.points.iter())
                    .map(|p| PointInfo {
                        resolved: p.loaded.resolved_text.clone(),
                        values: p.values.clone(),
                    })
                    .collect(),
            );
        }
        ShardFiles {
            origin: format!("shard {}/{}", shard.index, shard.count),
            manifest,
            data: RepFiles::of(run),
            timeseries: rows::timeseries_csv(run),
        }
    }

    /// (file name, bytes) of the shard's data files, without shard.json.
    pub fn data(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut v = self.data.named();
        if let Some(t) = &self.timeseries {
            v.push(("timeseries.csv", t.clone()));
        }
        v
    }

    /// (file name, bytes), as written to a shard folder; shard.json last.
    pub fn named(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut v = self.data();
        v.push(("shard.json", self.manifest.to_json().into_bytes()));
        v
    }

    /// A shard from its files by name (as [`ShardFiles::named`] gives them).
    pub fn from_named(
        origin: &str,
        get: impl Fn(&str) -> Result<Vec<u8>, String>,
    ) -> Result<ShardFiles, String> {
        let json = get("shard.json")
            .map_err(|e| format!("{origin}: not a shard folder (cannot read shard.json: {e})"))?;
        let text = String::from_utf8(json).map_err(|e| format!("{origin}/shard.json: {e}"))?;
        let manifest = Manifest::from_json(&text).map_err(|e| format!("{origin}/shard.json: {e}"))?;
        match (&manifest.format, manifest.shard) {
            (Some(f), Some(_)) if f == SHARD_FORMAT => {}
            (Some(f), Some(_)) => {
                return Err(format!("{origin}/shard.json: not an oversim shard (format {f})"))
            }
            _ => {
                return Err(format!(
                    "{origin}/shard.json: not an oversim shard (no format or shard)"
                ))
            }
        }
        Ok(ShardFiles {
            origin: origin.to_string(),
            data: RepFiles::from_named(origin, &get)?,
            timeseries: get("timeseries.csv").ok(),
            manifest,
        })
    }

    fn shard(&self) -> ShardInfo {
        self.manifest.shard.expect("checked when read")
    }
}

/// Writes a shard's files into the output folder being written, shard.json last.
#[cfg(feature = "cli")]
pub fn write_shard(
    out: &mut Output,
    plan: &Plan,
    run: &RunData,
    shard: Shard,
    manifest: Manifest,
) -> Result<(), String> {
    let mut files = ShardFiles::of(plan, run, shard, manifest);
    for (name, bytes) in files.data() {
        out.write(name, &bytes)?;
    }
    out.finish("shard.json", &mut files.manifest)
}

/// Reads the shard folder `dir`, refusing one whose files are not those its shard.json lists.
#[cfg(feature = "cli")]
pub fn read_shard(dir: &Path) -> Result<ShardFiles, String> {
    let origin = dir.display().to_string();
    if dir.join("shard.json").exists() {
        crate::report::files::verify(dir, "shard.json")?;
    }
    ShardFiles::from_named(&origin, |name| {
        std::fs::read(dir.join(name)).map_err(|e| e.to_string())
    })
}

/// Checks that `shards` are all the shards of one run; returns the shard count.
pub fn check_set(shards: &[ShardFiles]) -> Result<u64, String> {
    let first = &shards[0];
    let hash = &first.manifest.plan_sha256;
    let count = first.shard().count;
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    for s in shards {
        if &s.manifest.plan_sha256 != hash {
            return Err(format!(
                "{} and {} are shards of different runs (scenario, overrides, seed or sweep differ: plan hashes {} and {})",
                first.origin,
                s.origin,
                hash,
                s.manifest.plan_sha256
            ));
        }
        if s.shard().count != count {
            return Err(format!(
                "{} is shard of {} but {} is shard of {count}: all shards must come from one --shard K/N split",
                s.origin,
                s.shard().count,
                first.origin
            ));
        }
        let k = s.shard().index;
        if let Some(other) = seen.insert(k, &s.origin) {
            return Err(format!(
                "shard {k}/{count} appears twice: {other} and {}",
                s.origin
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

/// The plan of a sweep's shards, from the points their manifest lists.
pub fn sweep_plan(m: &Manifest) -> Result<Plan, String> {
    let label = label_of(m);
    let mut points = Vec::new();
    for p in m.points.as_deref().unwrap_or_default() {
        let loaded = scenario::load(&label, &p.resolved, &[]).map_err(|e| e.to_string())?;
        points.push(crate::experiment::Point {
            values: p.values.clone(),
            loaded,
        });
    }
    if points.is_empty() {
        return Err("shard.json has no points".into());
    }
    Ok(Plan {
        dims: m.sweep.dims.clone(),
        points,
    })
}

/// The scenario's label in messages: its path, or the embedded default's name.
pub fn label_of(m: &Manifest) -> String {
    m.scenario
        .path
        .clone()
        .unwrap_or_else(|| scenario::DEFAULT_LABEL.to_string())
}

/// Reads the replications of `files` (a shard's, or what an interrupted run kept) into
/// `found`, locating each row's point by its sweep values and its policy by name.
pub fn read_replications(
    origin: &str,
    files: &RepFiles,
    plan: &Plan,
    found: &mut Found,
) -> Result<(), String> {
    let point_of: BTreeMap<&[String], usize> = (plan.points.iter().enumerate())
        .map(|(i, p)| (&p.values[..], i))
        .collect();
    // A row's (point, policy), from its sweep values and policy name.
    let locate = |values: &[String], policy: &str| -> Result<(usize, usize), String> {
        let pt = *point_of
            .get(values)
            .ok_or_else(|| format!("unknown sweep point {values:?}"))?;
        let pol = (plan.points[pt].loaded.scenario.policies.iter())
            .position(|p| p.name == policy)
            .ok_or_else(|| format!("unknown policy `{policy}`"))?;
        Ok((pt, pol))
    };
    let at = |e: String| format!("{origin}/replications.csv: {e}");
    let (_, rows) = rows::read::<ReplicationKey, MetricRow>(&files.replications).map_err(at)?;
    for (values, key, metrics) in rows {
        let (pt, pol) = locate(&values, &key.policy).map_err(at)?;
        let sc = &plan.points[pt].loaded.scenario;
        let r = RepResult {
            metrics,
            stages: vec![StageResult::default(); sc.policies[pol].stages.len()],
            classes: vec![ClassResult::default(); sc.workload.classes.len()],
            kinds: vec![KindResult::default(); sc.workload.kinds.len()],
            ledger: Ledger::default(),
            cut_short: false,
            series: None,
        };
        if found.insert((pt, pol, key.replication), r).is_some() {
            return Err(at(format!(
                "replication {} of `{}` appears twice",
                key.replication, key.policy
            )));
        }
    }
    let at = |e: String| format!("{origin}/classes.csv: {e}");
    let (_, rows) = rows::read::<ClassKey, ClassResult>(&files.classes).map_err(at)?;
    for (values, key, class) in rows {
        let (pt, pol) = locate(&values, &key.policy).map_err(at)?;
        let k = (plan.points[pt].loaded.scenario.workload.classes.iter())
            .position(|c| c.name == key.class)
            .ok_or_else(|| at(format!("unknown class `{}`", key.class)))?;
        let r = found
            .get_mut(&(pt, pol, key.replication))
            .ok_or_else(|| at("class row without a replication row".into()))?;
        r.classes[k] = class;
    }
    let at = |e: String| format!("{origin}/kinds.csv: {e}");
    let (_, rows) = rows::read::<KindKey, KindResult>(&files.kinds).map_err(at)?;
    for (values, key, kind) in rows {
        let (pt, pol) = locate(&values, &key.policy).map_err(at)?;
        let k = (plan.points[pt].loaded.scenario.workload.kinds.iter())
            .position(|c| *c == key.kind)
            .ok_or_else(|| at(format!("unknown defect kind `{}`", key.kind)))?;
        let r = found
            .get_mut(&(pt, pol, key.replication))
            .ok_or_else(|| at("kind row without a replication row".into()))?;
        r.kinds[k] = kind;
    }
    let at = |e: String| format!("{origin}/stage-replications.csv: {e}");
    let (_, rows) = rows::read::<StageReplicationKey, StageResult>(&files.stage_replications).map_err(at)?;
    for (values, key, stage) in rows {
        let (pt, pol) = locate(&values, &key.policy).map_err(at)?;
        let st = (plan.points[pt].loaded.scenario.policies[pol].stages.iter())
            .position(|x| x.name == key.stage)
            .ok_or_else(|| at(format!("unknown stage `{}`", key.stage)))?;
        let r = found
            .get_mut(&(pt, pol, key.replication))
            .ok_or_else(|| at("stage row without a replication row".into()))?;
        r.stages[st] = stage;
    }
    let at = |e: String| format!("{origin}/cut-short.csv: {e}");
    let (_, rows) = rows::read::<ReplicationKey, rows::CutShort>(&files.cut_short).map_err(at)?;
    for (values, key, cut) in rows {
        let (pt, pol) = locate(&values, &key.policy).map_err(at)?;
        let r = found
            .get_mut(&(pt, pol, key.replication))
            .ok_or_else(|| at("a row without a replication row".into()))?;
        r.cut_short = cut.cut_short;
    }
    Ok(())
}

/// What an interrupted run or exploration of `plan` kept, from its files (`--resume`).
pub fn read_kept(origin: &str, files: &RepFiles, plan: &Plan) -> Result<Kept, String> {
    let mut found = Found::new();
    read_replications(origin, files, plan, &mut found)?;
    let staffing = read_staffing(origin, &files.staffing, plan)?;
    Ok(Kept { found, staffing })
}

/// Rebuilds the run of `plan` from shard folders.
pub fn load_run(shards: &[ShardFiles], plan: Plan) -> Result<(Plan, RunData), String> {
    let m = &shards[0].manifest;
    let baseline = (plan.base().policies.iter())
        .position(|p| p.name == m.baseline)
        .unwrap_or(0);
    let mut found = Found::new();
    for s in shards {
        read_replications(&s.origin, &s.data, &plan, &mut found)?;
    }
    let staffing = staffing_of(shards, &plan)?;
    let mut run_points = Vec::new();
    for (pt, p) in plan.points.iter().enumerate() {
        // The scenario as the shards ran it: the chosen staffing written in.
        let solved = match p.loaded.staffing.is_empty() {
            true => None,
            false => Some(crate::staffing::written(&p.loaded, &staffing[pt])?),
        };
        let sc = solved.as_ref().map_or(&p.loaded.scenario, |l| &l.scenario);
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
        staffing,
        baseline,
    };
    Ok((plan, run))
}

/// What the staffing rules chose at each point, from the shards: every shard solves them
/// on the same replications, so their staffing.csv files must be the same.
fn staffing_of(shards: &[ShardFiles], plan: &Plan) -> Result<Vec<Vec<Staffed>>, String> {
    let first = &shards[0];
    if let Some(other) = shards.iter().find(|s| s.data.staffing != first.data.staffing) {
        return Err(format!(
            "{} and {} chose different staffing (staffing.csv differs): they are not shards of one run",
            first.origin, other.origin
        ));
    }
    let chosen = read_staffing(&first.origin, &first.data.staffing, plan)?;
    (chosen.into_iter().zip(&plan.points))
        .map(|(c, p)| {
            c.ok_or_else(|| {
                format!(
                    "{}/staffing.csv: no rows for the point {:?}, whose scenario has {} rules",
                    first.origin,
                    p.values,
                    p.loaded.staffing.len()
                )
            })
        })
        .collect()
}

/// What the staffing rules chose at each point, from a staffing.csv: `None` for a point
/// whose rules were not solved (an interrupted run's), all of its rules otherwise.
pub fn read_staffing(origin: &str, bytes: &[u8], plan: &Plan) -> Result<Vec<Option<Vec<Staffed>>>, String> {
    let at = |e: String| format!("{origin}/staffing.csv: {e}");
    let (_, rows) = rows::read::<StaffedKey, Choice>(bytes).map_err(at)?;
    let mut out: Vec<Vec<Staffed>> = vec![Vec::new(); plan.points.len()];
    for (values, key, choice) in rows {
        let pt = (plan.points.iter())
            .position(|p| p.values == values)
            .ok_or_else(|| at(format!("unknown sweep point {values:?}")))?;
        out[pt].push(Staffed { key, choice });
    }
    (out.into_iter().zip(&plan.points))
        .map(|(rows, p)| match (rows.len(), p.loaded.staffing.len()) {
            (0, n) if n > 0 => Ok(None),
            (k, n) if k == n => Ok(Some(rows)),
            (k, n) => Err(at(format!(
                "{k} rules at the point {:?}, whose scenario has {n}",
                p.values
            ))),
        })
        .collect()
}

/// The manifest of the merged result: the first shard's, as a results folder's, counting
/// the replications cut short in every shard.
pub fn merged_manifest(shards: &[ShardFiles], run: &RunData, count: u64) -> Manifest {
    let mut m = shards[0].manifest.clone();
    m.format = None;
    m.shard = None;
    m.points = None;
    m.replications_done = run.points.first().map_or(0, |p| p.reps.len() as u64);
    m.replications_cut_short = run.cut_short();
    m.cut_short = m.replications_cut_short > 0;
    m.merged_from = Some(shards.iter().map(|s| s.origin.clone()).collect());
    m.files = None;
    m.shards = Some(count);
    m
}

/// The time series (of replication 0) comes from the shard that ran it.
pub fn timeseries(shards: &[ShardFiles]) -> Option<Vec<u8>> {
    shards.iter().find_map(|s| s.timeseries.clone())
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
