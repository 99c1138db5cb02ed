//! `oversim._oversim`: the simulation core called from Python. The Python layer
//! (`oversim/__init__.py`) turns arguments into a [`Request`] (scenario text, `--set`
//! overrides, seed and replications) and results into `Result` and `Exploration`; this
//! crate runs the core, as the command line does, on a thread pool of its own with the GIL
//! released, and keeps the files it made.
//!
//! The engine runs on a thread of its own while the calling thread waits with the GIL
//! released, waking every [`POLL`] to tell the progress callback and to let Python handle
//! signals: Ctrl-C sets this call's cancellation token (no state is shared between calls)
//! and `KeyboardInterrupt` is raised at once, with nothing kept; the engine's thread stops
//! at its next look at the token.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, SystemTime};

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use oversim::api::explore::{Asks, Whole};
use oversim::api::{self, Failure, Request};
use oversim::experiment::{self, Stop};
use oversim::explore::design::DesignKind;
use oversim::explore::{MapSpec, Others, Spec};
use oversim::input::ScenarioError as Problems;
use oversim::montecarlo::Workers;
use oversim::report::files::Output;
use oversim::report::manifest::{sha256_hex, Manifest, RunContext};
use oversim::scenario::Override;

create_exception!(
    _oversim,
    ScenarioError,
    PyValueError,
    "A scenario (with its overrides) that does not load: the command line's message, one problem a line, with `file` and `problems` (each with `line`, `path` and `message`)."
);
create_exception!(
    _oversim,
    OversimError,
    PyException,
    "A run that cannot be made or written: the command line's message."
);

/// How often the waiting thread wakes to tell progress and handle signals.
const POLL: Duration = Duration::from_millis(50);

/// The files a run or an exploration made, as `oversim run` and `oversim explore` write
/// them, with the manifest and what the command line says beside them.
#[pyclass(frozen, module = "oversim._oversim")]
struct Files {
    /// Every file but the manifest, in the order the command line writes them.
    named: Vec<(String, Vec<u8>)>,
    manifest: Manifest,
    /// Each point's swept values and its verdict's sentences (a run), or the exploration's
    /// sentences with no values.
    verdicts: Vec<(Vec<String>, Vec<String>)>,
    warnings: Vec<String>,
    /// The terminal's tables (a run's summary, an exploration's choice).
    table: String,
}

#[pymethods]
impl Files {
    /// The files' names, in the order the command line writes them (the manifest last).
    fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = self.named.iter().map(|(n, _)| n.clone()).collect();
        out.push("manifest.json".into());
        out
    }

    /// The text of file `name` (`summary.csv`, `manifest.json`, …), or `None`.
    fn text(&self, name: &str) -> Option<String> {
        if name == "manifest.json" {
            return Some(self.manifest.to_json());
        }
        (self.named.iter().find(|(n, _)| n == name)).map(|(_, t)| String::from_utf8_lossy(t).into_owned())
    }

    /// The manifest as JSON text.
    fn manifest_json(&self) -> String {
        self.manifest.to_json()
    }

    fn verdicts(&self) -> Vec<(Vec<String>, Vec<String>)> {
        self.verdicts.clone()
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn table(&self) -> String {
        self.table.clone()
    }

    /// Writes the files into `folder` as the command line does: into a new folder beside it,
    /// swapped in whole once every file is written; a folder that holds results is
    /// replaced only with `force`. With `report`, report.html too (`--report`).
    #[pyo3(signature = (folder, force = false, report = false))]
    fn write(&self, py: Python<'_>, folder: std::path::PathBuf, force: bool, report: bool) -> PyResult<()> {
        py.detach(|| {
            let mut out = Output::begin(&folder, force)?;
            for (name, bytes) in &self.named {
                out.write(name, bytes)?;
            }
            let mut manifest = self.manifest.clone();
            out.finish("manifest.json", &mut manifest)?;
            if report {
                let html = oversim::report::html::render_folder(out.staging())?;
                out.write("report.html", html.as_bytes())?;
            }
            out.commit()
        })
        .map_err(|e| OversimError::new_err(format!("error: {e}")))
    }
}

impl Files {
    /// `named` with `manifest`, its hashes filled in as a written folder's are.
    fn new(
        named: Vec<(String, Vec<u8>)>,
        mut manifest: Manifest,
        verdicts: Vec<(Vec<String>, Vec<String>)>,
        warnings: Vec<String>,
        table: String,
    ) -> Files {
        manifest.files = Some(named.iter().map(|(n, t)| (n.clone(), sha256_hex(t))).collect());
        Files {
            named,
            manifest,
            verdicts,
            warnings,
            table,
        }
    }
}

/// A failure of the core raised in Python: a scenario's problems as `ScenarioError`,
/// anything else as `OversimError`.
fn raise(py: Python<'_>, f: Failure) -> PyErr {
    match f {
        Failure::Message(m) => OversimError::new_err(m),
        Failure::Scenario(p) => scenario_error(py, &p),
    }
}

/// A `ScenarioError` with the command line's text and its problems as fields.
fn scenario_error(py: Python<'_>, p: &Problems) -> PyErr {
    let err = ScenarioError::new_err(p.to_string());
    let fields = || -> PyResult<()> {
        let value = err.value(py);
        value.setattr("file", &p.file)?;
        let problems = PyList::empty(py);
        for d in &p.diagnostics {
            let one = PyDict::new(py);
            one.set_item("line", d.line)?;
            one.set_item("path", &d.path)?;
            one.set_item("message", &d.message)?;
            problems.append(one)?;
        }
        value.setattr("problems", problems)
    };
    match fields() {
        Ok(()) => err,
        Err(e) => e,
    }
}

/// What the Python layer passes for every call: the scenario and the command line's
/// additions, as text.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Call {
    /// How the scenario is named in messages (its path, or `<default scenario>`).
    label: String,
    text: String,
    /// The scenario file's path, for the manifest.
    path: Option<String>,
    /// `--set` overrides as (path, value text), in order (seed and replications included).
    overrides: Vec<(String, String)>,
    /// `--sweep PATH=V1,V2` arguments.
    sweep: Vec<String>,
    /// How the call reads, for the manifest's command line.
    command: Vec<String>,
    threads: Option<usize>,
}

impl Call {
    fn request(&self) -> Result<Request, Failure> {
        let mut req = Request::new(&self.label, &self.text);
        req.overrides = (self.overrides.iter())
            .map(|(p, v)| Override::set(p, v))
            .collect();
        req.sweep = (self.sweep.iter())
            .map(|s| {
                experiment::parse_sweep_arg(s).map_err(|e| Failure::Message(format!("error: sweep {s}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(req)
    }

    fn context(&self, threads: usize, started: SystemTime) -> RunContext {
        let stamp = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
        RunContext {
            path: self.path.clone(),
            text: self.text.clone(),
            command_line: self.command.clone(),
            threads,
            started_at: stamp(started),
            finished_at: stamp(SystemTime::now()),
            wall_seconds: started.elapsed().map_or(0.0, |d| d.as_secs_f64()),
        }
    }
}

/// How the engine tells the waiting thread what it has done, and is told to stop.
#[derive(Default)]
struct Counts {
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

/// Runs `work` on a thread of its own, the GIL released, while this thread tells
/// `progress` of `(done, total)` and handles signals. A signal's exception (Ctrl-C's
/// `KeyboardInterrupt`) sets the work's token and is raised at once: the work's thread
/// stops at its next look at the token (planning thousands of sets finishes first) and
/// its results are dropped.
fn drive<T: Send + 'static>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&Counts) -> Result<Option<T>, Failure> + Send + 'static,
) -> PyResult<T> {
    let counts = Arc::new(Counts::default());
    let told = |last: &mut (u64, u64), end: bool| -> PyResult<()> {
        let Some(f) = progress else { return Ok(()) };
        let done = counts.done.load(Ordering::SeqCst);
        // Staffing rules and break-even searches add work nobody counts in advance: the
        // total grows to hold it, and the last call is (total, total).
        let total = counts.total.load(Ordering::SeqCst).max(done);
        let now = if end { (total, total) } else { (done, total) };
        if now != *last && now.1 > 0 {
            *last = now;
            f.call1(now)?;
        }
        Ok(())
    };
    let (tx, rx) = mpsc::channel();
    let theirs = Arc::clone(&counts);
    let engine = std::thread::Builder::new()
        .name("oversim".into())
        .spawn(move || {
            let _ = tx.send(work(&theirs));
        })
        .map_err(|e| OversimError::new_err(format!("error: cannot start the engine's thread: {e}")))?;
    let mut last = (u64::MAX, 0);
    // A receiver is not shared between threads, so it goes with the wait and comes back.
    let mut rx = rx;
    loop {
        let (got, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        match got {
            Ok(Ok(Some(out))) => {
                let _ = engine.join();
                told(&mut last, true)?;
                return Ok(out);
            }
            // Only a cancelled run stops short, and only a signal below cancels it.
            Ok(Ok(None)) => return Err(PyRuntimeError::new_err("the run was interrupted")),
            Ok(Err(f)) => return Err(raise(py, f)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = py.detach(|| engine.join());
                return Err(PyRuntimeError::new_err(
                    "internal error: the engine stopped; please report this",
                ));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals().and_then(|()| told(&mut last, false)) {
                    counts.cancel.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            }
        }
    }
}

/// The thread pool of a call: `threads`, or every core.
fn pool(threads: Option<usize>) -> Result<oversim::montecarlo::Pool, Failure> {
    oversim::montecarlo::pool(threads)
        .map_err(|e| Failure::Message(format!("error: cannot start worker threads: {e}")))
}

/// Runs a scenario as `oversim run` does.
#[pyfunction]
#[pyo3(signature = (call, timeseries = None, progress = None))]
fn run(
    py: Python<'_>,
    call: Call,
    timeseries: Option<String>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Files> {
    let started = SystemTime::now();
    drive(py, progress.as_ref(), move |counts| {
        let mut req = call.request()?;
        req.series = (timeseries.as_deref())
            .map(|s| oversim::units::parse_step(s).map_err(|e| format!("error: timeseries: {e}")))
            .transpose()?;
        let plan = experiment::plan(&req.label, &req.text, &req.overrides, &req.sweep)?;
        counts
            .total
            .store(api::replications(&plan, None), Ordering::SeqCst);
        let pool = pool(call.threads)?;
        let workers = Workers::new(&pool).cancelled_by(&counts.cancel);
        let threads = pool.current_num_threads();
        let out = api::run_plan(&plan, &req, workers, &|| call.context(threads, started), &|n| {
            counts.done.fetch_add(n, Ordering::SeqCst);
        })?;
        if out.stop == Stop::Interrupted {
            return Ok(None);
        }
        let mut warnings = out.warnings;
        warnings.extend(oversim::report::cut_short_warnings(&req.label, &out.run));
        warnings.extend(oversim::report::rare_event_warnings(&out.run, &out.sums));
        let named = (out.files.named().into_iter())
            .map(|(n, t)| (n.to_string(), t.to_vec()))
            .collect();
        let table = oversim::report::table::tables(&out.run, &out.sums, &out.comps);
        let verdicts = oversim::decision::verdicts(&out.run);
        Ok(Some(Files::new(named, out.manifest, verdicts, warnings, table)))
    })
}

/// The exploration's own arguments, as the Python layer passes them (`None`: the command
/// line's default).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Exploring {
    design: Option<String>,
    points: Option<usize>,
    metric: Option<String>,
    bootstrap: Option<usize>,
    map: Option<Vec<String>>,
    grid: Option<usize>,
    others: Option<String>,
    baseline: Option<String>,
    /// Whether a pilot chooses the replications, and the noise share it aims at.
    pilot: bool,
    noise_share: Option<f64>,
    /// The break-even search, if asked: for the pair named, or the best and the runner-up.
    breakeven_asked: bool,
    breakeven: Option<(String, String)>,
}

/// One of `all`'s names, or the command line's message.
fn choose<T: Copy>(what: &str, s: &str, all: &[(&str, T)]) -> Result<T, Failure> {
    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
    (all.iter().find(|(n, _)| *n == s).map(|(_, t)| *t)).ok_or_else(|| {
        Failure::Message(oversim::input::unknown(
            format!("error: {what}: `{s}` is not allowed"),
            s,
            &names,
            Some("allowed"),
        ))
    })
}

impl Exploring {
    fn spec(&self) -> Result<Spec, Failure> {
        use oversim::explore as x;
        let spec = Spec {
            design: choose(
                "design",
                self.design.as_deref().unwrap_or("sobol"),
                DesignKind::ALL,
            )?,
            points: self.points.unwrap_or(x::DEFAULT_POINTS as usize),
            metric: self
                .metric
                .clone()
                .unwrap_or_else(|| x::DEFAULT_METRIC.to_string()),
            bootstrap: self.bootstrap.unwrap_or(x::DEFAULT_BOOTSTRAP as usize),
            map: match &self.map {
                None => None,
                Some(paths) => Some(MapSpec {
                    paths: paths.clone(),
                    grid: self.grid.unwrap_or(x::DEFAULT_GRID),
                    others: choose("others", self.others.as_deref().unwrap_or("base"), Others::ALL)?,
                }),
            },
        };
        spec.check_sizes().map_err(|e| format!("error: {e}"))?;
        Ok(spec)
    }

    fn asks(&self) -> Result<Asks, Failure> {
        use oversim::explore::pilot::{DEFAULT_NOISE_SHARE, NOISE_SHARES};
        let share = self.noise_share.unwrap_or(DEFAULT_NOISE_SHARE);
        if !NOISE_SHARES.contains(&share) {
            return Err(Failure::Message(format!(
                "error: noise_share must be from {} to {} (not {share})",
                NOISE_SHARES.start(),
                NOISE_SHARES.end()
            )));
        }
        Ok(Asks {
            baseline: self.baseline.clone(),
            pilot: self.pilot.then_some(share),
            breakeven: self.breakeven_asked.then(|| self.breakeven.clone()),
        })
    }
}

/// Runs an exploration as `oversim explore` does on one machine.
#[pyfunction]
#[pyo3(signature = (call, exploring, progress = None))]
fn explore(
    py: Python<'_>,
    call: Call,
    exploring: Exploring,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Files> {
    let started = SystemTime::now();
    drive(py, progress.as_ref(), move |counts| {
        let req = call.request()?;
        let spec = exploring.spec()?;
        let asks = exploring.asks()?;
        let pool = pool(call.threads)?;
        let workers = Workers::new(&pool).cancelled_by(&counts.cancel);
        let threads = pool.current_num_threads();
        let whole = api::explore::whole(
            &req,
            &spec,
            &asks,
            workers,
            &|| call.context(threads, started),
            &|total| counts.total.store(total, Ordering::SeqCst),
            &|n| {
                counts.done.fetch_add(n, Ordering::SeqCst);
            },
        )?;
        let Some(whole) = whole else { return Ok(None) };
        Ok(Some(explored(whole)))
    })
}

/// An exploration's files, sentences and table.
fn explored(whole: Whole) -> Files {
    let named = (whole.named().into_iter())
        .map(|(n, t)| (n.to_string(), t.to_vec()))
        .collect();
    let Whole {
        explored, warnings, ..
    } = whole;
    let table = match &explored.analysis {
        Some(a) => {
            oversim::report::explore::table(&explored.exploration.policies(), a, explored.exploration.metric)
        }
        None => String::new(),
    };
    let verdicts = vec![(Vec::new(), explored.sentences.clone())];
    Files::new(named, explored.manifest, verdicts, warnings, table)
}

/// Checks a scenario as `oversim validate` does; raises `ScenarioError` with every problem.
#[pyfunction]
fn validate(py: Python<'_>, call: Call) -> PyResult<()> {
    let req = call.request().map_err(|f| raise(py, f))?;
    api::validate(&req)
        .map(|_| ())
        .map_err(|p| scenario_error(py, &p))
}

/// The embedded default scenario's text and its label.
#[pyfunction]
fn default_scenario() -> (String, String) {
    (
        oversim::scenario::DEFAULT_LABEL.to_string(),
        oversim::scenario::DEFAULT_SCENARIO.to_string(),
    )
}

#[pymodule]
fn _oversim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Files>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(explore, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(default_scenario, m)?)?;
    m.add("ScenarioError", m.py().get_type::<ScenarioError>())?;
    m.add("OversimError", m.py().get_type::<OversimError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
