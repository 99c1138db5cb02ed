//! The command line: `oversim run`, `oversim validate`, `oversim merge`, `oversim report`.
//! Everything here is the CLI's: flags, files, threads, signals, the progress bar, the
//! clock and exit codes; what it runs and writes comes from the library below it.
//!
//! Exit codes: 0 success, 1 the run failed (e.g. a file could not be written), 2 bad input
//! (scenario errors, bad flags, results that would be overwritten), 130 interrupted.

/// What the CLI prints, to stdout (`say!`, `sayln!`) and stderr (`tell!`): every message
/// goes through [`crate::input::printable`], so the text a shared file puts in a key, a name
/// or a path is shown, not obeyed by the terminal. `println!` and its kin are forbidden in
/// the crate (clippy.toml) so that no print bypasses it.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), "{}", $crate::input::printable(&format!($($t)*)));
    }};
}
macro_rules! sayln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), "{}", $crate::input::printable(&format!($($t)*)));
    }};
}
macro_rules! tell {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "{}", $crate::input::printable(&format!($($t)*)));
    }};
}

mod explore;
mod merge;
mod pilot;
mod resume;
mod run;
mod validate;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::experiment::{self, Plan, Target};

use crate::scenario::{self, Override, SweepDim};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// A run stopped by SIGINT or SIGTERM (128 + SIGINT), after writing what it completed.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Parser, Debug)]
#[command(name = "oversim", version, about = "Monte Carlo simulation of AI oversight policies", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenarios and write CSV results (no FILE: the embedded default scenario).
    Run(RunArgs),
    /// Check scenario files (and every sweep point) and print each human stage's offered load.
    Validate(ValidateArgs),
    /// Explore the scenario's [uncertain] inputs: probability that each policy is best,
    /// sensitivity indices, decision maps.
    Explore(explore::ExploreArgs),
    /// Merge the shard folders of a sharded run (`run --shard`) into the one-machine result.
    Merge(MergeArgs),
    /// Write DIR/report.html: charts and a plain-language summary of a results folder.
    Report(ReportArgs),
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results folder written by `oversim run`, `oversim explore` or `oversim merge`.
    pub dir: PathBuf,
    /// An exploration re-read on another metric with a better direction, without running
    /// anything: writes report-METRIC.html and prints its sentences.
    #[arg(long, value_name = "METRIC")]
    pub metric: Option<String>,
}

fn report_cmd(args: ReportArgs) -> i32 {
    if let Some(m) = &args.metric {
        return match crate::report::html::write_on_metric(&args.dir, m) {
            Ok((path, sentences)) => {
                for s in sentences {
                    sayln!("{s}");
                }
                sayln!("wrote {}", path.display());
                EXIT_OK
            }
            Err(e) => {
                tell!("error: {e}");
                EXIT_BAD_INPUT
            }
        };
    }
    match crate::report::html::write(&args.dir) {
        Ok(path) => {
            sayln!("wrote {}", path.display());
            EXIT_OK
        }
        Err(e) => {
            tell!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ScenarioFlags {
    /// Set any scenario key: PATH=VALUE, e.g. workload.rate=80/h or policy.tiered.review.reviewers=3
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Override>,
    /// Sweep a key over values: PATH=v1,v2,... (repeatable: the full factorial grid runs)
    #[arg(long = "sweep", value_name = "PATH=V1,V2", value_parser = experiment::parse_sweep_arg)]
    pub sweep: Vec<SweepDim>,
    /// Number of replications (same as --set run.replications=N).
    #[arg(short = 'r', long, value_name = "N")]
    pub replications: Option<u64>,
    /// Master seed (same as --set run.seed=S).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(..=crate::scenario::MAX_SEED))]
    pub seed: Option<u64>,
    /// Run only these of the scenario's policies, in this order; the first is the baseline
    /// unless --baseline says otherwise (same as --set 'run.policies=["A","B"]').
    #[arg(long, value_name = "A,B")]
    pub policies: Option<String>,
}

impl ScenarioFlags {
    fn overrides(&self) -> Vec<Override> {
        let mut v = self.set.clone();
        if let Some(p) = &self.policies {
            v.push(Override::policies(p));
        }
        if let Some(r) = self.replications {
            v.push(Override::set("run.replications", &r.to_string()));
        }
        if let Some(s) = self.seed {
            v.push(Override::set("run.seed", &s.to_string()));
        }
        v
    }
}

// Doc comments here are the `--help` text, written for a terminal, not as Markdown.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files (TOML). Without one, the embedded default scenario runs.
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub scenario: ScenarioFlags,
    /// Output folder (default results/<scenario name>; with several files, DIR/<name>).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results are identical for any value.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Policy that comparison.csv compares the others against (default: the first).
    #[arg(long, value_name = "POLICY")]
    pub baseline: Option<String>,
    /// Run replications in batches until METRIC's 95% CI half-width is within REL of its
    /// mean for every policy and point (repeatable), e.g. escape_rate=0.05; diff.METRIC=REL
    /// targets the paired difference from the baseline of every other policy, e.g.
    /// diff.harm=0.05.
    #[arg(long, value_name = "[diff.]METRIC=REL")]
    pub precision: Vec<Target>,
    /// Upper limit of replications per point with --precision.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_replications: u64,
    /// Run only replications i with i % N == K and write shard files for `oversim merge`;
    /// `auto` reads a Slurm array (SLURM_ARRAY_TASK_ID/COUNT) or Kubernetes indexed job.
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// Record time series of replication 0 of every policy (and point) in intervals of
    /// this duration, e.g. 6h, into timeseries.csv.
    #[arg(long, value_name = "STEP", value_parser = crate::units::parse_step)]
    pub timeseries: Option<f64>,
    /// Also write report.html (as `oversim report` does) at the end of the run.
    #[arg(long)]
    pub report: bool,
    /// Overwrite existing results.
    #[arg(long)]
    pub force: bool,
    /// Finish the interrupted run in the output folder: the replications it kept are taken
    /// back, the rest run, and the files are those of an uninterrupted run (a complete run
    /// there is left as it is; an empty folder starts afresh).
    #[arg(long)]
    pub resume: bool,
    /// No progress bar and no table; errors and warnings only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files (TOML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub scenario: ScenarioFlags,
    /// Also say, for every number written where a staffing rule may stand, what the
    /// project's rule (docs/staffing.md) would pick, and what the file's rules pick: this
    /// runs the replications the rules need, at the first sweep point.
    #[arg(long)]
    pub staffing: bool,
}

// Doc comments here are the `--help` text, written for a terminal, not as Markdown.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard folders written by `oversim run --shard K/N`, one per shard.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output folder (default results/<scenario name>).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite existing results.
    #[arg(long)]
    pub force: bool,
    /// No table; errors only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Writing to a closed pipe (`oversim validate ... | head`) ends the process quietly, as
/// it does for any Unix tool, instead of panicking in `println!`.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default is async-signal-safe and runs
    // before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    quiet_on_closed_pipe();
    // clap's messages drop escape sequences as styling, so an argument carrying them would
    // be quoted wrongly: refuse it here, shown escaped.
    for (i, arg) in std::env::args_os().enumerate().skip(1) {
        let arg = arg.to_string_lossy();
        if let std::borrow::Cow::Owned(shown) = crate::input::printable(&arg) {
            tell!("error: argument {i} ({shown}) holds control characters; oversim takes plain text");
            return EXIT_BAD_INPUT;
        }
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap's message quotes the user's arguments: printed as every message is.
            let text = e.render().to_string();
            if e.use_stderr() {
                tell!("{}", text.trim_end());
            } else {
                sayln!("{}", text.trim_end());
            }
            return if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::validate(args),
        Command::Explore(args) => explore::explore(args),
        Command::Merge(args) => merge::merge(args),
        Command::Report(args) => report_cmd(args),
    }
}

/// The manifest's context of a run of `src` on `pool` that started at `started` and took
/// `wall_seconds`: what the CLI knows and the core does not.
pub(crate) fn run_context(
    src: &Source,
    threads: Option<u32>,
    pool: &rayon::ThreadPool,
    started: std::time::SystemTime,
    wall_seconds: f64,
) -> crate::report::manifest::RunContext {
    crate::report::manifest::RunContext {
        path: src.path.as_ref().map(|p| p.display().to_string()),
        text: src.text.clone(),
        command_line: std::env::args().collect(),
        threads: threads.map_or(pool.current_num_threads(), |t| t as usize),
        started_at: humantime::format_rfc3339_seconds(started).to_string(),
        finished_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        wall_seconds,
    }
}

/// A run's results on the terminal: the verdict at every point, then the tables.
pub(crate) fn print_results(
    run: &crate::experiment::RunData,
    sums: &crate::experiment::Summaries,
    comps: &crate::report::Comparisons,
) {
    for (values, sentences) in crate::decision::verdicts(run) {
        let at = if values.is_empty() {
            String::new()
        } else {
            format!("at {}: ", values.join(", "))
        };
        sayln!("\n{at}{}", sentences.join("\n"));
    }
    say!("{}", crate::report::table::tables(run, sums, comps));
}

/// The machine's memory in bytes (Linux: MemTotal), which a run's results must fit in;
/// unbounded where it cannot be read.
pub(crate) fn machine_memory() -> f64 {
    let kb = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<f64>().ok()
    });
    kb.map_or(f64::INFINITY, |kb| kb * 1024.0)
}

/// Worker threads a run uses: `--threads`, or every core.
pub(crate) fn threads_used(threads: Option<u32>) -> usize {
    threads.map_or_else(rayon::current_num_threads, |t| t as usize)
}

/// Checks that the run of `plan` fits in this machine, and says how large it is when it is
/// long (even with --quiet: a long run is worth a line in a batch job's log); `Err` is the
/// exit code.
pub(crate) fn check_work(
    label: &str,
    work: crate::estimate::Work,
    series: Option<f64>,
    threads: Option<u32>,
) -> Result<(), i32> {
    if let Err(e) = work.check(machine_memory(), series) {
        tell!("error: {label}: {e}");
        return Err(EXIT_BAD_INPUT);
    }
    let threads = threads_used(threads);
    if work.seconds(threads) > crate::estimate::LONG_SECONDS {
        tell!("note: {label}: {}", work.describe(threads));
    }
    Ok(())
}

/// A scenario source: a file, or the embedded default.
pub struct Source {
    pub label: String,
    pub path: Option<PathBuf>,
    pub text: String,
}

pub(crate) fn read_sources(files: &[PathBuf]) -> Result<Vec<Source>, String> {
    if files.is_empty() {
        return Ok(vec![Source {
            label: scenario::DEFAULT_LABEL.into(),
            path: None,
            text: scenario::DEFAULT_SCENARIO.into(),
        }]);
    }
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("error: {}: cannot read: {e}", p.display()))?;
            Ok(Source {
                label: p.display().to_string(),
                path: Some(p.clone()),
                text,
            })
        })
        .collect()
}

/// Plans every source; prints all errors and returns exit code 2 if any.
pub(crate) fn plan_all(sources: &[Source], flags: &ScenarioFlags) -> Result<Vec<Plan>, i32> {
    let overrides = flags.overrides();
    let mut plans = Vec::new();
    let mut failed = false;
    for s in sources {
        let planned = experiment::plan(&s.label, &s.text, &overrides, &flags.sweep).and_then(|p| {
            crate::explore::check_inputs(&s.label, &s.text, &overrides, &p.base().uncertain)?;
            Ok(p)
        });
        match planned {
            Ok(p) => plans.push(p),
            Err(e) => {
                tell!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        Err(EXIT_BAD_INPUT)
    } else {
        Ok(plans)
    }
}

fn point_label(plan: &Plan, k: usize) -> String {
    plan.dims
        .iter()
        .zip(&plan.points[k].values)
        .map(|(d, v)| format!(" at {d}={v}"))
        .collect()
}

/// Whether the people of stage `st` (`work` for the work) of policy `p` are set by a
/// staffing rule at this point (their offered load is then the rule's to keep).
pub(crate) fn by_rule(pt: &crate::experiment::Point, p: &str, st: &str) -> bool {
    (pt.loaded.staffing.iter()).any(|s| {
        s.policy == p && s.stage.as_deref().unwrap_or("work") == st && s.key != scenario::staffing::Key::H
    })
}

pub(crate) fn load_warnings(label: &str, plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for (k, pt) in plan.points.iter().enumerate() {
        for (p, st, rho) in pt.loaded.scenario.offered_loads() {
            if rho >= 1.0 && !by_rule(pt, &p, &st) {
                out.push(format!(
                    "warning: {label}: policy `{p}`, stage `{st}`{}: offered load {rho:.2} ≥ 1: reviewers cannot keep up, so the queue grows until pressure, timeouts or the end of the run stop it (the run goes on; see backlog_end, timeouts and max_queue)",
                    point_label(plan, k)
                ));
            }
        }
    }
    out
}
