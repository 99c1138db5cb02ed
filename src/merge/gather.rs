//! Reading replication rows back, a point at a time: a merge's shards and what an
//! interrupted run kept. The files hold their rows in the order of the points, as oversim
//! writes them, so a merge holds one point's replications at a time.

use std::collections::BTreeMap;

use super::{read_staffing, staffing_of, RepFiles, ShardFiles, Text};
use crate::experiment::{Found, Kept, Plan, PointRun, RunData};
use crate::metrics::{ClassResult, KindResult, Ledger, MetricRow, RepResult, StageResult};
use crate::montecarlo::Results;
use crate::report::rows::{self, ClassKey, KindKey, ReplicationKey, StageReplicationKey};

/// A row reader over one of the replication files.
type RowReader<'a, K, V> = std::iter::Peekable<rows::Reader<Box<dyn std::io::Read + 'a>, K, V>>;

/// The replication rows of one source (a shard, or what an interrupted run kept), read a
/// point at a time: the files hold their rows in the order of the points, as oversim
/// writes them, so a merge holds one point's replications at a time. Every row is met at
/// the head of its file while the points are taken in order: a row of an unknown point,
/// or of a point already taken, is refused there, so nothing is left after the last.
struct Gather<'a> {
    origin: &'a str,
    plan: &'a Plan,
    point_of: BTreeMap<&'a [String], usize>,
    replications: RowReader<'a, ReplicationKey, MetricRow>,
    classes: RowReader<'a, ClassKey, ClassResult>,
    kinds: RowReader<'a, KindKey, KindResult>,
    stages: RowReader<'a, StageReplicationKey, StageResult>,
    cut_short: RowReader<'a, ReplicationKey, rows::CutShort>,
}

/// One point's replications: (policy, replication) → result.
type AtPoint = BTreeMap<(usize, u64), RepResult>;

impl<'a> Gather<'a> {
    fn new(origin: &'a str, files: &'a RepFiles, plan: &'a Plan) -> Result<Gather<'a>, String> {
        fn open<'a, K: serde::de::DeserializeOwned, V: serde::de::DeserializeOwned>(
            origin: &str,
            name: &str,
            text: &'a Text,
        ) -> Result<RowReader<'a, K, V>, String> {
            let at = |e: String| format!("{origin}/{name}: {e}");
            Ok(rows::Reader::new(text.open().map_err(at)?)
                .map_err(at)?
                .peekable())
        }
        Ok(Gather {
            origin,
            plan,
            point_of: (plan.points.iter().enumerate())
                .map(|(i, p)| (&p.values[..], i))
                .collect(),
            replications: open(origin, "replications.csv", &files.replications)?,
            classes: open(origin, "classes.csv", &files.classes)?,
            kinds: open(origin, "kinds.csv", &files.kinds)?,
            stages: open(origin, "stage-replications.csv", &files.stage_replications)?,
            cut_short: open(origin, "cut-short.csv", &files.cut_short)?,
        })
    }

    /// Adds the rows of point `pt` to `here` (a replication seen in another source too is
    /// refused).
    fn take(&mut self, pt: usize, here: &mut AtPoint) -> Result<(), String> {
        let Gather {
            origin,
            plan,
            point_of,
            replications,
            classes,
            kinds,
            stages,
            cut_short,
        } = self;
        let (origin, plan) = (*origin, *plan);
        let sc = &plan.points[pt].loaded.scenario;
        let locate = |values: &[String], policy: &str| locate(plan, point_of, values, policy);
        let at = |file: &'static str| move |e: String| format!("{origin}/{file}: {e}");
        take_rows(
            replications,
            pt,
            &locate,
            |k| &k.policy,
            |pol, key, metrics| {
                let r = RepResult {
                    metrics,
                    stages: vec![StageResult::default(); sc.policies[pol].stages.len()],
                    classes: vec![ClassResult::default(); sc.workload.classes.len()],
                    kinds: vec![KindResult::default(); sc.workload.kinds.len()],
                    ledger: Ledger::default(),
                    cut_short: false,
                    series: None,
                };
                match here.insert((pol, key.replication), r) {
                    Some(_) => Err(format!(
                        "replication {} of `{}` appears twice",
                        key.replication, key.policy
                    )),
                    None => Ok(()),
                }
            },
        )
        .map_err(at("replications.csv"))?;
        take_rows(
            classes,
            pt,
            &locate,
            |k| &k.policy,
            |pol, key, class| {
                let k = (sc.workload.classes.iter())
                    .position(|c| c.name == key.class)
                    .ok_or_else(|| format!("unknown class `{}`", key.class))?;
                row_of(here, pol, key.replication, "class")?.classes[k] = class;
                Ok(())
            },
        )
        .map_err(at("classes.csv"))?;
        take_rows(
            kinds,
            pt,
            &locate,
            |k| &k.policy,
            |pol, key, kind| {
                let k = (sc.workload.kinds.iter())
                    .position(|c| *c == key.kind)
                    .ok_or_else(|| format!("unknown defect kind `{}`", key.kind))?;
                row_of(here, pol, key.replication, "kind")?.kinds[k] = kind;
                Ok(())
            },
        )
        .map_err(at("kinds.csv"))?;
        take_rows(
            stages,
            pt,
            &locate,
            |k| &k.policy,
            |pol, key, stage| {
                let st = (sc.policies[pol].stages.iter())
                    .position(|x| x.name == key.stage)
                    .ok_or_else(|| format!("unknown stage `{}`", key.stage))?;
                row_of(here, pol, key.replication, "stage")?.stages[st] = stage;
                Ok(())
            },
        )
        .map_err(at("stage-replications.csv"))?;
        take_rows(
            cut_short,
            pt,
            &locate,
            |k| &k.policy,
            |pol, key, cut| {
                row_of(here, pol, key.replication, "a")?.cut_short = cut.cut_short;
                Ok(())
            },
        )
        .map_err(at("cut-short.csv"))
    }
}

/// The replication a `what` row adds to, from the rows taken before it.
fn row_of<'h>(
    here: &'h mut AtPoint,
    pol: usize,
    replication: u64,
    what: &str,
) -> Result<&'h mut RepResult, String> {
    (here.get_mut(&(pol, replication))).ok_or_else(|| format!("{what} row without a replication row"))
}

/// A row's (point, policy), from its sweep values and policy name.
fn locate(
    plan: &Plan,
    point_of: &BTreeMap<&[String], usize>,
    values: &[String],
    policy: &str,
) -> Result<(usize, usize), String> {
    let pt = *(point_of.get(values)).ok_or_else(|| format!("unknown sweep point {values:?}"))?;
    let pol = (plan.points[pt].loaded.scenario.policies.iter())
        .position(|p| p.name == policy)
        .ok_or_else(|| format!("unknown policy `{policy}`"))?;
    Ok((pt, pol))
}

/// Finds a row's (point, policy) from its sweep values and policy name.
type Locate<'l> = dyn Fn(&[String], &str) -> Result<(usize, usize), String> + 'l;

/// Gives `each` the rows of point `pt` at the head of `rows` (with their policy's index),
/// leaving the rows of later points.
fn take_rows<K: serde::de::DeserializeOwned, V: serde::de::DeserializeOwned>(
    rows: &mut RowReader<'_, K, V>,
    pt: usize,
    locate: &Locate,
    policy: fn(&K) -> &String,
    mut each: impl FnMut(usize, K, V) -> Result<(), String>,
) -> Result<(), String> {
    loop {
        let (at, pol) = match rows.peek() {
            None => return Ok(()),
            Some(Err(_)) => return Err(rows.next().and_then(Result::err).unwrap_or_default()),
            Some(Ok((values, key, _))) => locate(values, policy(key))?,
        };
        if at > pt {
            return Ok(());
        }
        let Some(Ok((_, key, value))) = rows.next() else {
            unreachable!("peeked a row")
        };
        if at < pt {
            return Err(format!(
                "a row of point {at} after those of point {pt} (rows must be in the order oversim writes them)"
            ));
        }
        each(pol, key, value)?;
    }
}

/// Reads the replications of `files` (what an interrupted run kept) into `found`, locating
/// each row's point by its sweep values and its policy by name.
pub fn read_replications(
    origin: &str,
    files: &RepFiles,
    plan: &Plan,
    found: &mut Found,
) -> Result<(), String> {
    let mut gather = Gather::new(origin, files, plan)?;
    for pt in 0..plan.points.len() {
        let mut here = AtPoint::new();
        gather.take(pt, &mut here)?;
        found.extend(here.into_iter().map(|((pol, r), x)| ((pt, pol, r), x)));
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

/// The baseline policy of merged `shards` of `plan` (the first if none is named).
pub fn merged_baseline(shards: &[ShardFiles], plan: &Plan) -> usize {
    (plan.base().policies.iter())
        .position(|p| p.name == shards[0].manifest.baseline)
        .unwrap_or(0)
}

/// A merged run, and how many of its replications were cut short.
pub struct Merged {
    pub run: RunData,
    pub cut_short: u64,
}

/// Rebuilds the run of `plan` from shards, a point at a time; with `sink`, each point is
/// handed over as it is rebuilt (the run keeps its scenario, replication indices and
/// staffing, not its results), so that a merge holds one point's replications at a time.
pub fn load_run(
    shards: &[ShardFiles],
    plan: &Plan,
    mut sink: Option<crate::experiment::Sink>,
) -> Result<Merged, String> {
    let baseline = merged_baseline(shards, plan);
    let staffing = staffing_of(shards, plan)?;
    let mut gathers = (shards.iter())
        .map(|s| Gather::new(&s.origin, &s.data, plan))
        .collect::<Result<Vec<_>, _>>()?;
    let mut run_points = Vec::new();
    let mut cut_short = 0;
    for (pt, p) in plan.points.iter().enumerate() {
        let mut here = AtPoint::new();
        for g in &mut gathers {
            g.take(pt, &mut here)?;
        }
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
                v.push(here.remove(&(pol, r)).ok_or_else(|| {
                    format!(
                        "replication {r} of policy `{}` at the point {:?} is in no shard (a merge reads the shards' rows point by point, in the order oversim writes them: a file reordered by hand reads as missing rows)",
                        sc.policies[pol].name, p.values
                    )
                })?);
            }
            per_policy.push(v);
        }
        if let Some(((_, r), _)) = here.into_iter().next() {
            return Err(format!("replication {r} is beyond the run's replications"));
        }
        cut_short += per_policy.iter().flatten().filter(|r| r.cut_short).count() as u64;
        let point = PointRun {
            values: p.values.clone(),
            scenario: sc.clone(),
            reps,
            results: Results { per_policy },
        };
        match sink.as_mut() {
            None => run_points.push(point),
            Some(sink) => {
                let empty = Results {
                    per_policy: vec![Vec::new(); sc.policies.len()],
                };
                run_points.push(PointRun {
                    values: point.values.clone(),
                    scenario: point.scenario.clone(),
                    reps: point.reps.clone(),
                    results: empty,
                });
                sink(pt, point);
            }
        }
    }
    let run = RunData {
        dims: plan.dims.clone(),
        points: run_points,
        staffing,
        baseline,
    };
    Ok(Merged { run, cut_short })
}
