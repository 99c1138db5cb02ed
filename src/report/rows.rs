//! The rows of the result files, written and read through serde. Every file is the sweep's
//! dimensions (one column per swept path), then a key (which policy, replication, stage or
//! metric) and a value struct; both are serde structs, so a column is always found by its
//! name, and the header comes from the same declarations.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::experiment::{PointRun, RunData, Summaries};
use crate::input::keys_of;
use crate::metrics::{ClassResult, KindResult, MetricRow, SeriesRow, StageResult, M};
use crate::staffing::{Choice, StaffedKey};

use super::{Comparison, Comparisons};

/// Key of replications.csv and timeseries.csv.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReplicationKey {
    pub policy: String,
    pub replication: u64,
}

/// Key of summary.csv.
#[derive(Debug, Serialize, Deserialize)]
pub struct SummaryKey {
    pub policy: String,
    pub metric: String,
}

/// Key of comparison.csv.
#[derive(Debug, Serialize, Deserialize)]
pub struct ComparisonKey {
    pub policy: String,
    pub baseline: String,
    pub metric: String,
}

/// Key of stages.csv.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageKey {
    pub policy: String,
    pub stage: String,
    pub kind: String,
}

/// Key of stage-replications.csv (a shard's per-replication stage values).
#[derive(Debug, Serialize, Deserialize)]
pub struct StageReplicationKey {
    pub policy: String,
    pub replication: u64,
    pub stage: String,
}

/// Key of classes.csv.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClassKey {
    pub policy: String,
    pub replication: u64,
    pub class: String,
}

/// The key of a kinds.csv row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KindKey {
    pub policy: String,
    pub replication: u64,
    pub kind: String,
}

/// A text cell as written to a CSV file. A cell that a spreadsheet would run as a formula
/// (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a number)
/// is written with a leading `'`, as OWASP advises for CSV exports; so is one that begins
/// with `'`, so that [`from_cell`] gives back exactly the text.
pub fn to_cell(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = match text.chars().next() {
        Some('=' | '@' | '\t' | '\r' | '\'') => true,
        Some('+' | '-') => text.parse::<f64>().is_err(),
        _ => false,
    };
    if risky {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The text of a cell written by [`to_cell`].
pub fn from_cell(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// A file's rows: (values of the swept paths, key, value).
pub type Rows<K, V> = Vec<(Vec<String>, K, V)>;

/// Writes rows under the header `dims`, the key's fields, the value's fields.
pub(crate) fn write<'a, K, V>(
    dims: &[String],
    rows: impl Iterator<Item = (&'a [String], K, &'a V)>,
) -> Vec<u8>
where
    K: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned + 'a,
{
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    // The sweep's paths and values are the user's text; keys and values are names the
    // scenario validated (letters, digits, `-`) and numbers.
    let header = (dims.iter().map(|d| to_cell(d)))
        .chain(keys_of::<K>().iter().map(|k| (*k).into()))
        .chain(keys_of::<V>().iter().map(|k| (*k).into()));
    w.write_record(header.map(|c| c.into_owned()))
        .expect("writing to memory");
    for (values, key, value) in rows {
        let values: Vec<_> = values.iter().map(|v| to_cell(v)).collect();
        w.serialize((values, key, value)).expect("rows serialise");
    }
    w.into_inner().expect("flushing to memory")
}

/// Reads rows written by [`write`]: the sweep's columns are those before the key's first.
pub fn read<K: DeserializeOwned, V: DeserializeOwned>(
    bytes: &[u8],
) -> Result<(Vec<String>, Rows<K, V>), String> {
    let rows = Reader::new(bytes)?;
    let dims = rows.dims.clone();
    Ok((dims, rows.collect::<Result<_, _>>()?))
}

/// Rows written by [`write`], read one at a time from any reader (a file need not be whole
/// in memory).
pub struct Reader<R: std::io::Read, K, V> {
    rd: csv::Reader<R>,
    headers: csv::StringRecord,
    /// The swept paths: the columns before the key's first.
    pub dims: Vec<String>,
    rec: csv::StringRecord,
    row: std::marker::PhantomData<(K, V)>,
}

impl<R: std::io::Read, K: DeserializeOwned, V: DeserializeOwned> Reader<R, K, V> {
    pub fn new(from: R) -> Result<Self, String> {
        let mut rd = csv::Reader::from_reader(from);
        let headers = rd.headers().map_err(|e| e.to_string())?.clone();
        let first = keys_of::<K>()[0];
        let nd = headers
            .iter()
            .position(|h| h == first)
            .ok_or_else(|| format!("no `{first}` column"))?;
        let dims = headers
            .iter()
            .take(nd)
            .map(|h| from_cell(h).to_string())
            .collect();
        Ok(Reader {
            rd,
            headers,
            dims,
            rec: csv::StringRecord::new(),
            row: std::marker::PhantomData,
        })
    }
}

impl<R: std::io::Read, K: DeserializeOwned, V: DeserializeOwned> Iterator for Reader<R, K, V> {
    type Item = Result<(Vec<String>, K, V), String>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rd.read_record(&mut self.rec) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => return Some(Err(e.to_string())),
        }
        let rec = &self.rec;
        let line = rec.position().map_or(0, |p| p.line());
        let at = |e: csv::Error| format!("line {line}: {e}");
        let row = (|| {
            let key: K = rec.deserialize(Some(&self.headers)).map_err(at)?;
            let value: V = rec.deserialize(Some(&self.headers)).map_err(at)?;
            let values = rec
                .iter()
                .take(self.dims.len())
                .map(|c| from_cell(c).to_string())
                .collect();
            Ok((values, key, value))
        })();
        Some(row)
    }
}

/// Rows of (point, policy index, policy name) in output order.
fn policies(run: &RunData) -> impl Iterator<Item = (&PointRun, usize, &str)> {
    run.points.iter().flat_map(|pt| {
        (pt.scenario.policies.iter().enumerate()).map(move |(p, pol)| (pt, p, pol.name.as_str()))
    })
}

/// replications.csv: one row per (point, policy, replication).
pub fn replications_csv(run: &RunData) -> Vec<u8> {
    let rows = policies(run).flat_map(|(pt, p, name)| {
        pt.reps.iter().zip(&pt.results.per_policy[p]).map(move |(&i, r)| {
            let key = ReplicationKey {
                policy: name.to_string(),
                replication: i,
            };
            (&pt.values[..], key, &r.metrics)
        })
    });
    write::<ReplicationKey, MetricRow>(&run.dims, rows)
}

/// classes.csv: one row per (point, policy, replication, workload class); over the classes
/// the rows add up to the replication's totals.
pub fn classes_csv(run: &RunData) -> Vec<u8> {
    let rows = policies(run).flat_map(|(pt, p, name)| {
        pt.reps
            .iter()
            .zip(&pt.results.per_policy[p])
            .flat_map(move |(&i, r)| {
                pt.scenario
                    .workload
                    .classes
                    .iter()
                    .zip(&r.classes)
                    .map(move |(c, v)| {
                        let key = ClassKey {
                            policy: name.to_string(),
                            replication: i,
                            class: c.name.clone(),
                        };
                        (&pt.values[..], key, v)
                    })
            })
    });
    write::<ClassKey, ClassResult>(&run.dims, rows)
}

/// kinds.csv: one row per (point, policy, replication, defect kind); over the kinds the
/// rows add up to the replication's defects, escapes, late catches and harm.
pub fn kinds_csv(run: &RunData) -> Vec<u8> {
    let rows = policies(run).flat_map(|(pt, p, name)| {
        pt.reps
            .iter()
            .zip(&pt.results.per_policy[p])
            .flat_map(move |(&i, r)| {
                pt.scenario
                    .workload
                    .kinds
                    .iter()
                    .zip(&r.kinds)
                    .map(move |(k, v)| {
                        let key = KindKey {
                            policy: name.to_string(),
                            replication: i,
                            kind: k.clone(),
                        };
                        (&pt.values[..], key, v)
                    })
            })
    });
    write::<KindKey, KindResult>(&run.dims, rows)
}

/// The per-replication stage values a shard hands to `oversim merge`.
pub fn stage_replications_csv(run: &RunData) -> Vec<u8> {
    let rows = policies(run).flat_map(|(pt, p, name)| {
        pt.reps
            .iter()
            .zip(&pt.results.per_policy[p])
            .flat_map(move |(&i, r)| {
                pt.scenario.policies[p]
                    .stages
                    .iter()
                    .zip(&r.stages)
                    .map(move |(st, v)| {
                        let key = StageReplicationKey {
                            policy: name.to_string(),
                            replication: i,
                            stage: st.name.clone(),
                        };
                        (&pt.values[..], key, v)
                    })
            })
    });
    write::<StageReplicationKey, StageResult>(&run.dims, rows)
}

/// Value of cut-short.csv.
#[derive(Debug, Serialize, Deserialize)]
pub struct CutShort {
    pub cut_short: bool,
}

/// cut-short.csv (a shard's, or an interrupted run's): one row per replication that
/// stopped at `run.max_backlog`.
pub fn cut_short_csv(run: &RunData) -> Vec<u8> {
    const CUT: CutShort = CutShort { cut_short: true };
    let rows = policies(run).flat_map(|(pt, p, name)| {
        (pt.reps.iter().zip(&pt.results.per_policy[p]))
            .filter(|(_, r)| r.cut_short)
            .map(move |(&i, _)| {
                let key = ReplicationKey {
                    policy: name.to_string(),
                    replication: i,
                };
                (&pt.values[..], key, &CUT)
            })
    });
    write::<ReplicationKey, CutShort>(&run.dims, rows)
}

/// staffing.csv: one row per (point, staffing rule): what each rule chose there. A run
/// without rules writes the header alone.
pub fn staffing_csv(run: &RunData) -> Vec<u8> {
    let rows = (run.points.iter().zip(&run.staffing)).flat_map(|(pt, rules)| {
        rules
            .iter()
            .map(move |s| (&pt.values[..], s.key.clone(), &s.choice))
    });
    write::<StaffedKey, Choice>(&run.dims, rows)
}

/// summary.csv: long format, one row per (point, policy, metric).
pub fn summary_csv(run: &RunData, sums: &Summaries) -> Vec<u8> {
    let rows = run.points.iter().zip(sums).flat_map(|(pt, ps)| {
        pt.scenario.policies.iter().zip(ps).flat_map(move |(pol, ms)| {
            M::ALL.iter().zip(ms).map(move |(m, s)| {
                let key = SummaryKey {
                    policy: pol.name.clone(),
                    metric: m.name().to_string(),
                };
                (&pt.values[..], key, s)
            })
        })
    });
    write(&run.dims, rows)
}

/// comparison.csv: per (point, policy other than the baseline, metric).
pub fn comparison_csv(run: &RunData, comps: &Comparisons) -> Vec<u8> {
    let rows = run.points.iter().zip(comps).flat_map(|(pt, ps)| {
        let base = &pt.scenario.policies[run.baseline].name;
        (pt.scenario.policies.iter().zip(ps).enumerate())
            .filter(|(p, _)| *p != run.baseline)
            .flat_map(move |(_, (pol, ms))| {
                M::ALL.iter().zip(ms).map(move |(m, c)| {
                    let key = ComparisonKey {
                        policy: pol.name.clone(),
                        baseline: base.clone(),
                        metric: m.name().to_string(),
                    };
                    (&pt.values[..], key, c)
                })
            })
    });
    write::<ComparisonKey, Comparison>(&run.dims, rows)
}

/// timeseries.csv: the time series of replication 0 of every (point, policy), if recorded.
pub fn timeseries_csv(run: &RunData) -> Option<Vec<u8>> {
    let any = run
        .points
        .iter()
        .any(|pt| (pt.results.per_policy.iter()).any(|r| r.first().is_some_and(|x| x.series.is_some())));
    if !any {
        return None;
    }
    let rows = policies(run).flat_map(|(pt, p, name)| {
        let first = pt.reps.first().copied().zip(pt.results.per_policy[p].first());
        first
            .and_then(|(i, r)| r.series.as_ref().map(|s| (i, s)))
            .into_iter()
            .flat_map(move |(i, series)| {
                series.iter().map(move |row| {
                    let key = ReplicationKey {
                        policy: name.to_string(),
                        replication: i,
                    };
                    (&pt.values[..], key, row)
                })
            })
    });
    Some(write::<ReplicationKey, SeriesRow>(&run.dims, rows))
}

/// stages.csv: per (point, policy, stage), the mean over replications of each stage value.
pub fn stages_csv(run: &RunData) -> Vec<u8> {
    let means: Vec<(&[String], StageKey, StageResult)> = policies(run)
        .flat_map(|(pt, p, name)| {
            let reps = &pt.results.per_policy[p];
            pt.scenario.policies[p]
                .stages
                .iter()
                .enumerate()
                .map(move |(i, s)| {
                    let key = StageKey {
                        policy: name.to_string(),
                        stage: s.name.clone(),
                        kind: s.kind.label().to_string(),
                    };
                    (
                        &pt.values[..],
                        key,
                        StageResult::mean_of(reps.iter().map(|r| &r.stages[i])),
                    )
                })
        })
        .collect();
    write(&run.dims, means.iter().map(|(v, k, r)| (*v, k.clone(), r)))
}

/// decision.csv: one row per (point, policy): its rank among the policies that meet every
/// constraint, the decision metric with its interval, and paired differences to the best
/// and to the status quo (see [`crate::decision`]).
pub fn decision_csv(run: &RunData) -> Vec<u8> {
    let all = crate::decision::decisions(run);
    let rows = (run.points.iter().zip(&all)).flat_map(|(pt, rows)| {
        (pt.scenario.policies.iter().zip(rows)).map(move |(pol, row)| {
            let key = crate::decision::DecisionKey {
                policy: pol.name.clone(),
            };
            (&pt.values[..], key, row)
        })
    });
    write::<crate::decision::DecisionKey, crate::decision::DecisionRow>(&run.dims, rows)
}
