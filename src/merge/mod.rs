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

mod gather;

use std::collections::BTreeMap;
#[cfg(feature = "native")]
use std::path::Path;

use crate::experiment::{Plan, RunData, Shard};
#[cfg(feature = "native")]
use crate::report::files::Output;
use crate::report::manifest::{Manifest, PointInfo, ShardInfo, SHARD_FORMAT};
use crate::report::rows;
use crate::scenario;
use crate::staffing::{Choice, Staffed, StaffedKey};

pub use gather::{load_run, merged_baseline, read_kept, read_replications, Merged};

/// The files of [`RepFiles`], in order: with shard.json (and a time series, if asked for),
/// what a shard writes.
pub const REP_FILES: &[&str] = &[
    "replications.csv",
    "classes.csv",
    "kinds.csv",
    "stage-replications.csv",
    "cut-short.csv",
    "staffing.csv",
];

/// A file of replication rows: its text, or (a shard folder the command line reads) where
/// it is, read as a merge goes so that it is never whole in memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Held(Vec<u8>),
    #[cfg(feature = "native")]
    File(std::path::PathBuf),
}

impl Text {
    /// The file `name` of the folder `dir`, to be read when needed.
    #[cfg(feature = "native")]
    pub fn in_folder(dir: &Path, name: &str) -> Result<Text, String> {
        let path = dir.join(name);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Text::File(path)),
            Ok(_) => Err("not a file".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Its rows from the start.
    fn open(&self) -> Result<Box<dyn std::io::Read + '_>, String> {
        match self {
            Text::Held(bytes) => Ok(Box::new(&bytes[..])),
            #[cfg(feature = "native")]
            Text::File(path) => (std::fs::File::open(path))
                .map(|f| Box::new(std::io::BufReader::new(f)) as Box<dyn std::io::Read>)
                .map_err(|e| e.to_string()),
        }
    }

    /// The whole text.
    pub fn bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>, String> {
        match self {
            Text::Held(bytes) => Ok(std::borrow::Cow::Borrowed(bytes)),
            #[cfg(feature = "native")]
            Text::File(path) => std::fs::read(path)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| e.to_string()),
        }
    }
}

/// Every replication's results, as the files that hold them losslessly: a shard's, and an
/// interrupted run's or exploration's (read back by `--resume`).
#[derive(Debug, Clone, PartialEq)]
pub struct RepFiles {
    pub replications: Text,
    pub classes: Text,
    pub kinds: Text,
    pub stage_replications: Text,
    /// The replications that stopped at `run.max_backlog` (a flag no other file holds).
    pub cut_short: Text,
    /// What the staffing rules chose.
    pub staffing: Vec<u8>,
}

impl RepFiles {
    pub fn of(run: &RunData) -> RepFiles {
        RepFiles {
            replications: Text::Held(rows::replications_csv(run)),
            classes: Text::Held(rows::classes_csv(run)),
            kinds: Text::Held(rows::kinds_csv(run)),
            stage_replications: Text::Held(rows::stage_replications_csv(run)),
            cut_short: Text::Held(rows::cut_short_csv(run)),
            staffing: rows::staffing_csv(run),
        }
    }

    /// (file name, bytes), in [`REP_FILES`]' order (a file is read whole).
    pub fn named(&self) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
        let texts = [
            &self.replications,
            &self.classes,
            &self.kinds,
            &self.stage_replications,
            &self.cut_short,
        ];
        let mut out = Vec::with_capacity(REP_FILES.len());
        for (&name, text) in REP_FILES.iter().zip(texts) {
            out.push((name, text.bytes()?.into_owned()));
        }
        out.push(("staffing.csv", self.staffing.clone()));
        Ok(out)
    }

    /// The files by name from `text`; `origin` names where they are in messages.
    pub fn from_texts(origin: &str, text: &dyn Fn(&str) -> Result<Text, String>) -> Result<RepFiles, String> {
        let file = |name: &str| text(name).map_err(|e| format!("{origin}/{name}: {e}"));
        let staffing = file("staffing.csv")?;
        Ok(RepFiles {
            replications: file("replications.csv")?,
            classes: file("classes.csv")?,
            kinds: file("kinds.csv")?,
            stage_replications: file("stage-replications.csv")?,
            cut_short: file("cut-short.csv")?,
            staffing: (staffing.bytes())
                .map_err(|e| format!("{origin}/staffing.csv: {e}"))?
                .into_owned(),
        })
    }
}

/// `manifest`, a run's, made the manifest of its shard `shard` (shard.json).
pub fn shard_manifest(plan: &Plan, shard: Shard, mut manifest: Manifest) -> Manifest {
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
    manifest
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
    pub fn of(plan: &Plan, run: &RunData, shard: Shard, manifest: Manifest) -> ShardFiles {
        let manifest = shard_manifest(plan, shard, manifest);
        ShardFiles {
            origin: format!("shard {}/{}", shard.index, shard.count),
            manifest,
            data: RepFiles::of(run),
            timeseries: rows::timeseries_csv(run),
        }
    }

    /// (file name, bytes) of the shard's data files, without shard.json.
    pub fn data(&self) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
        let mut v = self.data.named()?;
        if let Some(t) = &self.timeseries {
            v.push(("timeseries.csv", t.clone()));
        }
        Ok(v)
    }

    /// (file name, bytes), as written to a shard folder; shard.json last.
    pub fn named(&self) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
        let mut v = self.data()?;
        v.push(("shard.json", self.manifest.to_json().into_bytes()));
        Ok(v)
    }

    /// A shard from its files by name (as [`ShardFiles::named`] gives them).
    pub fn from_named(
        origin: &str,
        get: impl Fn(&str) -> Result<Vec<u8>, String>,
    ) -> Result<ShardFiles, String> {
        ShardFiles::from_texts(origin, &get, &|name| get(name).map(Text::Held))
    }

    /// A shard from its files by name: `get` gives shard.json and timeseries.csv, `text`
    /// the replication files (a folder's, to be read as the merge goes).
    pub fn from_texts(
        origin: &str,
        get: &dyn Fn(&str) -> Result<Vec<u8>, String>,
        text: &dyn Fn(&str) -> Result<Text, String>,
    ) -> Result<ShardFiles, String> {
        let json = get("shard.json")
            .map_err(|e| format!("{origin}: not a shard folder (cannot read shard.json: {e})"))?;
        let json = String::from_utf8(json).map_err(|e| format!("{origin}/shard.json: {e}"))?;
        let manifest = Manifest::from_json(&json).map_err(|e| format!("{origin}/shard.json: {e}"))?;
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
            data: RepFiles::from_texts(origin, text)?,
            timeseries: get("timeseries.csv").ok(),
            manifest,
        })
    }

    fn shard(&self) -> ShardInfo {
        self.manifest.shard.expect("checked when read")
    }
}

/// Writes a shard's files into the output folder being written, shard.json last.
#[cfg(feature = "native")]
pub fn write_shard(
    out: &mut Output,
    plan: &Plan,
    run: &RunData,
    shard: Shard,
    manifest: Manifest,
) -> Result<(), String> {
    let mut files = ShardFiles::of(plan, run, shard, manifest);
    for (name, bytes) in files.data()? {
        out.write(name, &bytes)?;
    }
    out.finish("shard.json", &mut files.manifest)
}

/// Reads the shard folder `dir`, refusing one whose files are not those its shard.json lists.
#[cfg(feature = "native")]
pub fn read_shard(dir: &Path) -> Result<ShardFiles, String> {
    let origin = dir.display().to_string();
    if dir.join("shard.json").exists() {
        crate::report::files::verify(dir, "shard.json")?;
    }
    ShardFiles::from_texts(
        &origin,
        &|name| std::fs::read(dir.join(name)).map_err(|e| e.to_string()),
        &|name| Text::in_folder(dir, name),
    )
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
        hash: None,
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
pub fn merged_manifest(shards: &[ShardFiles], run: &RunData, count: u64, cut_short: u64) -> Manifest {
    let mut m = shards[0].manifest.clone();
    m.format = None;
    m.shard = None;
    m.points = None;
    m.replications_done = run.points.first().map_or(0, |p| p.reps.len() as u64);
    m.replications_cut_short = cut_short;
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
