//! `oversim merge DIR...`: the shards of a sharded run into the one-machine result.

use super::{MergeArgs, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use crate::merge::{check_set, read_shard};
use crate::report;
use crate::report::files::Output;

pub(super) fn merge(args: MergeArgs) -> i32 {
    let bad = |e: String| {
        tell!("error: {e}");
        EXIT_BAD_INPUT
    };
    let shards = match args
        .dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let count = match check_set(&shards) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    if shards[0].manifest.exploration.is_some() {
        return super::explore::merge(&args, &shards);
    }
    // The merge itself is the core's, as in the browser.
    let (run, files, manifest) = match crate::api::merge(&shards) {
        Ok(x) => x,
        Err(e) => return bad(e),
    };
    let base = &run.points[0].scenario;
    let dir = report::output_dir(args.out.as_deref(), base, false);
    let mut out = match Output::begin(&dir, args.force) {
        Ok(o) => o,
        Err(e) => return bad(e),
    };
    let mut manifest = manifest;
    let written = (files.named().into_iter())
        .try_for_each(|(name, bytes)| out.write(name, bytes))
        .and_then(|()| out.finish("manifest.json", &mut manifest))
        .and_then(|()| out.commit());
    if let Err(e) = written {
        tell!("error: {e}");
        return EXIT_FAILURE;
    }
    if !args.quiet {
        sayln!("merged {count} shards of `{}` → {}", base.name, dir.display());
        let (sums, comps) = (run.summaries(), report::comparisons(&run));
        super::print_results(&run, &sums, &comps);
    }
    EXIT_OK
}
