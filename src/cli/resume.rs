//! `--resume`: an interrupted run or exploration keeps its finished replications in its
//! output folder (the files a shard writes, beside the partial results); the same command
//! with `--resume` takes them back and runs only the rest, so the final files are the ones
//! an uninterrupted run writes, byte for byte.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::experiment::{Kept, Plan, PointRun, RunData};
use crate::merge::{read_kept, RepFiles, Text, REP_FILES};
use crate::metrics::{MetricRow, RepResult, M};
use crate::montecarlo::Results;
use crate::report::files::{verify, Output, Piece};

/// What `--resume` found in the output folder.
pub(super) enum Resume {
    /// No results there: the run starts from nothing.
    Fresh,
    /// The folder holds this plan's run, complete: nothing to do.
    Complete,
    /// What an interrupted run of this plan kept.
    Kept(Kept),
}

/// Whether `--resume` may replace what `dir` holds: a results folder is checked (under its
/// lock) by [`read`] before anything is replaced.
pub(super) fn holds_results(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
}

/// Reads what the folder `out` is replacing kept of an interrupted run of `plan`. The
/// folder is locked (`out` holds its lock), so nothing changes it meanwhile.
pub(super) fn read(out: &Output, plan: &Plan) -> Result<Resume, String> {
    let dir = out.dir();
    if !holds_results(dir) {
        return Ok(Resume::Fresh);
    }
    let m = verify(dir, "manifest.json")?;
    if m.plan_sha256 != plan.hash() {
        return Err(format!(
            "{}: holds the results of another run (its scenario, overrides, seed, replications, sweep or exploration differ); --resume continues the same command only: give --out another folder, or run without --resume and with --force to replace them",
            dir.display()
        ));
    }
    if !m.interrupted {
        return Ok(Resume::Complete);
    }
    let origin = dir.display().to_string();
    let files = RepFiles::from_texts(&origin, &|name| Text::in_folder(dir, name))?;
    read_kept(&origin, &files, plan).map(Resume::Kept)
}

/// The replications of an exploration's finished sets, written beside its results (in the
/// hidden folder they are made in) as the sets are folded, so that an interrupted
/// exploration keeps every finished set for `--resume` though it no longer holds them. A set
/// is written as its index, its replication indices and, per policy and replication, the
/// flag and the metric values as bits (what an exploration keeps of a replication; the
/// text of the kept files is made only if the exploration is interrupted). Removed when the
/// exploration completes.
pub(super) struct Spool {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    /// The first error writing, reported if the spool is needed.
    error: Option<String>,
}

impl Spool {
    pub(super) fn new(staging: &Path) -> Spool {
        Spool {
            path: staging.join(".spool"),
            out: None,
            error: None,
        }
    }

    /// Appends set `k`, whose replications have all finished.
    pub(super) fn add(&mut self, k: usize, point: &PointRun) {
        if self.error.is_some() {
            return;
        }
        let written = (|| -> io::Result<()> {
            let out = match &mut self.out {
                Some(out) => out,
                None => self.out.insert(BufWriter::new(File::create(&self.path)?)),
            };
            let word = |x: u64| x.to_le_bytes();
            out.write_all(&word(k as u64))?;
            out.write_all(&word(point.reps.len() as u64))?;
            for &r in &point.reps {
                out.write_all(&word(r))?;
            }
            for reps in &point.results.per_policy {
                for r in reps {
                    out.write_all(&[u8::from(r.cut_short)])?;
                    for &m in M::ALL {
                        out.write_all(&word(r.metrics[m].to_bits()))?;
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = written {
            self.error = Some(format!(
                "cannot keep the finished sets in {}: {e}",
                self.path.display()
            ));
        }
    }

    /// Writes to `output` the files an interrupted exploration keeps: the spooled sets'
    /// replications, then those of `run`'s unfinished sets, and `run`'s staffing rows, a
    /// set at a time. The spool is removed.
    pub(super) fn keep(mut self, output: &mut Output, run: &RunData) -> Result<(), String> {
        let kept = self.write_kept(output, run);
        self.discard();
        kept
    }

    fn write_kept(&mut self, output: &mut Output, run: &RunData) -> Result<(), String> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let fail = |e: io::Error| {
            format!(
                "cannot read back the finished sets from {}: {e}",
                self.path.display()
            )
        };
        if let Some(out) = self.out.take() {
            out.into_inner().map_err(|e| fail(e.into_error()))?;
        }
        let mut rows = RowFiles::create(output, &run.dims, run.baseline)?;
        if self.path.exists() {
            let mut input = BufReader::new(File::open(&self.path).map_err(fail)?);
            while let Some(k) = read_word(&mut input).map_err(fail)? {
                let point = &run.points[k as usize];
                let n = read_word(&mut input).map_err(fail)?.unwrap_or(0);
                let reps = (0..n)
                    .map(|_| read_word(&mut input).map(Option::unwrap_or_default))
                    .collect::<io::Result<Vec<u64>>>()
                    .map_err(fail)?;
                let mut per_policy = Vec::new();
                for _ in &point.scenario.policies {
                    let mut v = Vec::with_capacity(reps.len());
                    for _ in &reps {
                        v.push(read_replication(&mut input).map_err(fail)?);
                    }
                    per_policy.push(v);
                }
                rows.add(&PointRun {
                    reps,
                    results: Results { per_policy },
                    ..point.clone()
                })?;
            }
        }
        rows.finish(output, run)
    }

    /// Removes the spool (the exploration completed, or its files were written).
    pub(super) fn discard(self) {
        drop(self.out);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The files that hold replications losslessly ([`RepFiles`]: a shard's, or what an
/// interrupted exploration keeps), written a set at a time, so that they are never whole in
/// memory.
pub(super) struct RowFiles {
    /// The run's swept columns and baseline, for each set's rows.
    dims: Vec<String>,
    baseline: usize,
    pieces: Vec<Piece>,
    /// Whether a set was written (the files have their header lines).
    started: bool,
}

impl RowFiles {
    /// Starts the files in `output` of a run with the swept columns `dims` and `baseline`.
    pub(super) fn create(output: &Output, dims: &[String], baseline: usize) -> Result<RowFiles, String> {
        Ok(RowFiles {
            dims: dims.to_vec(),
            baseline,
            pieces: REP_FILES
                .iter()
                .map(|name| output.create(name))
                .collect::<Result<_, _>>()?,
            started: false,
        })
    }

    /// Appends the replications of `point`, whose replications have finished (the run
    /// that ends the files will not hold them).
    pub(super) fn add(&mut self, point: &PointRun) -> Result<(), String> {
        let one = RunData {
            dims: self.dims.clone(),
            points: vec![point.clone()],
            staffing: vec![Vec::new()],
            baseline: self.baseline,
        };
        self.append(RepFiles::of(&one), false)
    }

    /// Appends the replications `run` holds and its staffing rows, and closes the files.
    pub(super) fn finish(mut self, output: &mut Output, run: &RunData) -> Result<(), String> {
        let files = RepFiles::of(run);
        self.append(files.clone(), false)?;
        self.append(files, true)?;
        self.pieces.into_iter().try_for_each(|p| output.close(p))
    }

    /// Appends the rows of `files` (a header only to an empty file): those of staffing.csv
    /// alone with `staffing`, else all others.
    fn append(&mut self, files: RepFiles, staffing: bool) -> Result<(), String> {
        for ((name, bytes), piece) in files.named()?.into_iter().zip(self.pieces.iter_mut()) {
            if (name == STAFFING) != staffing {
                continue;
            }
            piece.add(if self.started && !staffing {
                rows_of(&bytes)
            } else {
                &bytes
            })?;
        }
        self.started |= !staffing;
        Ok(())
    }
}

const STAFFING: &str = "staffing.csv";

/// A CSV file's rows: its text after the header line.
fn rows_of(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(&[], |i| &bytes[i + 1..])
}

/// The next little-endian word, `None` at the end of the spool.
fn read_word(input: &mut impl Read) -> io::Result<Option<u64>> {
    let mut b = [0u8; 8];
    match input.read_exact(&mut b) {
        Ok(()) => Ok(Some(u64::from_le_bytes(b))),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// One replication as [`Spool::add`] wrote it: what an exploration keeps of it.
fn read_replication(input: &mut impl Read) -> io::Result<RepResult> {
    let mut flag = [0u8; 1];
    input.read_exact(&mut flag)?;
    let mut metrics = MetricRow::default();
    let mut b = [0u8; 8];
    for &m in M::ALL {
        input.read_exact(&mut b)?;
        metrics[m] = f64::from_bits(u64::from_le_bytes(b));
    }
    Ok(RepResult {
        metrics,
        stages: Vec::new(),
        classes: Vec::new(),
        kinds: Vec::new(),
        ledger: Default::default(),
        cut_short: flag[0] == 1,
        series: None,
    })
}

/// Where an exploration's finished sets go besides their folds: a whole exploration spools
/// them (for `--resume`); a shard writes them to its files as they finish.
pub(super) enum Aside {
    Spool(Spool),
    Shard {
        rows: RowFiles,
        /// The first error writing them, reported at the end.
        error: Option<String>,
    },
}

impl Aside {
    /// Sees set `k`, whose replications have finished.
    pub(super) fn add(&mut self, k: usize, point: &PointRun) {
        match self {
            Aside::Spool(spool) => spool.add(k, point),
            Aside::Shard { rows, error } => {
                if error.is_none() {
                    *error = rows.add(point).err();
                }
            }
        }
    }

    /// Writes to `output` the replications files of the finished sets and of those `run`
    /// holds (an interrupted exploration's, or a shard's).
    pub(super) fn write(self, output: &mut Output, run: &RunData) -> Result<(), String> {
        match self {
            Aside::Spool(spool) => spool.keep(output, run),
            Aside::Shard { error: Some(e), .. } => Err(e),
            Aside::Shard { rows, error: None } => rows.finish(output, run),
        }
    }

    /// Drops what was set aside (a whole exploration that finished writes its own files).
    pub(super) fn discard(self) {
        match self {
            Aside::Spool(spool) => spool.discard(),
            // The pieces are in the hidden folder the run is written to, which goes with it.
            Aside::Shard { .. } => {}
        }
    }
}
