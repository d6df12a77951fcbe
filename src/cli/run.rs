//! `weir run` and `weir validate`.

use super::args::{OnErrorArg, RunArgs, ValidateArgs};
use super::preflight;
use crate::error::{Error, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE};
use crate::pipeline::spec::{Plan, SourceSpec};
use crate::runtime::stop;
use crate::runtime::{CheckpointConfig, RestoreFrom, RunConfig};
use crate::safety::limits;
use crate::source::dead_letter::OnError;
use std::path::PathBuf;
use std::time::Duration;

/// The run configuration of a plan with the command-line flags applied.
///
/// # Errors
/// Flags that contradict each other (e.g. `--restore` without a checkpoint directory).
pub fn run_config(plan: &Plan, args: &RunArgs) -> crate::Result<RunConfig> {
    let mut config = plan.run_config();
    if let Some(w) = args.workers {
        config.workers = w;
    }
    if let Some(b) = args.batch_size {
        config.batch_size = b;
    }
    if let Some(c) = args.ring_capacity {
        config.ring_capacity = c;
    }
    if let Some(e) = args.on_error {
        config.on_error = match e {
            OnErrorArg::DeadLetter => OnError::DeadLetter,
            OnErrorArg::Fail => OnError::Fail,
        };
    }
    if let Some(p) = &args.dead_letter {
        config.dead_letter_path = p.clone();
    }
    config.pin = !args.no_pin;
    super::state_flags::apply(&mut config, args.state_backend, args.state_dir.as_deref());
    let mut errors = flag_range_errors(args);
    if let Some(dir) = &args.checkpoint_dir {
        let cc = config.checkpoint.get_or_insert_with(|| CheckpointConfig {
            dir: dir.clone(),
            interval: Duration::from_secs(1),
            retain: 3,
            restore: RestoreFrom::None,
            restore_required: false,
            allow_at_least_once: false,
            lineage: None,
        });
        cc.dir = dir.clone();
    }
    if let Some(cc) = config.checkpoint.as_mut() {
        if let Some(i) = args.checkpoint_interval {
            cc.interval = i;
        }
        if let Some(r) = args.checkpoint_retain {
            cc.retain = r;
        }
        cc.restore = match args.restore.as_deref() {
            None => RestoreFrom::None,
            Some("latest") => RestoreFrom::Latest,
            Some(path) => RestoreFrom::Path(PathBuf::from(path)),
        };
        cc.restore_required = args.restore_required;
        cc.allow_at_least_once = args.allow_at_least_once;
    } else {
        for (given, flag) in [
            (args.checkpoint_interval.is_some(), "--checkpoint-interval"),
            (args.checkpoint_retain.is_some(), "--checkpoint-retain"),
            (args.restore.is_some(), "--restore"),
            (args.restore_required, "--restore-required"),
        ] {
            if given {
                errors.push(format!(
                    "{flag}: needs --checkpoint-dir (or a [checkpoint] table in the pipeline)"
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(Error::Config(errors))
    }
}

/// Range errors of the numeric flags, checked against the same table as the pipeline file's
/// fields ([`limits`]).
fn flag_range_errors(args: &RunArgs) -> Vec<String> {
    let as_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    let mut errors = Vec::new();
    for (limit, value) in [
        (limits::WORKERS, args.workers),
        (limits::BATCH_SIZE, args.batch_size),
        (limits::RING_CAPACITY, args.ring_capacity),
        (limits::CHECKPOINT_RETAIN, args.checkpoint_retain),
    ] {
        if let Some(Err(e)) = value.map(|v| limit.check_flag(as_u64(v))) {
            errors.push(e);
        }
    }
    if let Some(i) = args.checkpoint_interval {
        let flag = limits::CHECKPOINT_INTERVAL_MS.flag;
        if let Err(e) = limits::CHECKPOINT_INTERVAL_MS.check_duration(flag, i) {
            errors.push(e);
        }
    }
    errors
}

/// Runs `weir run`: prints a one-line summary to stderr at the end.
///
/// # Errors
/// Invalid pipeline or flags, missing input, unwritable sink, checkpoint and runtime failures.
pub fn run(args: &RunArgs) -> crate::Result<i32> {
    let mut plan = crate::pipeline::load(&args.pipeline, &args.sets)?;
    let mut config = run_config(&plan, args)?;
    preflight::prepare(&plan, args, &mut config)?;
    super::socket::prepare(&mut plan, &config)?;
    let progress = super::observe::start(args, &config)?;
    install_stop_handler();
    tracing::info!(pipeline = %plan.name, workers = config.workers, "starting");
    let report = super::run_fallback::run_job(&plan, &config);
    drop(progress);
    let report = report?;
    if let Some(last) = report.stopped {
        return Ok(match last {
            Some(id) => {
                eprintln!(
                    "weir: {}: stopped at checkpoint {id}; resume with --restore latest",
                    plan.name
                );
                EXIT_OK
            }
            None => {
                eprintln!(
                    "weir: {}: interrupted before any checkpoint; output is incomplete",
                    plan.name
                );
                EXIT_INTERRUPTED
            }
        });
    }
    if report.already_complete {
        eprintln!(
            "weir: {}: checkpoint {} is the final checkpoint of a completed run; nothing to do",
            plan.name,
            report.restored_from.unwrap_or(0)
        );
        return Ok(EXIT_OK);
    }
    let secs = report.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        report.records_in as f64 / secs
    } else {
        0.0
    };
    let restored = report
        .restored_from
        .map(|id| format!(" restored_from={id}"))
        .unwrap_or_default();
    let ckpt = if config.checkpoint.is_some() {
        format!(
            " checkpoints={} failed_checkpoints={}",
            report.checkpoints.len(),
            report.failed_checkpoints
        )
    } else {
        String::new()
    };
    eprintln!(
        "weir: {} in={} out={} dead_lettered={} late={} elapsed={:.3}s rate={:.0} records/s{}{}",
        plan.name,
        report.records_in,
        report.sink.records,
        report.dead_lettered,
        report.late,
        secs,
        rate,
        restored,
        ckpt
    );
    if report.dead_lettered > 0 {
        eprintln!(
            "weir: malformed records were written to {}",
            config.dead_letter_path.display()
        );
    }
    if report.late_dead_lettered > 0 {
        eprintln!(
            "weir: {} late records (no `.late` consumer) were written to {}",
            report.late_dead_lettered,
            config.dead_letter_path.display()
        );
    }
    Ok(EXIT_OK)
}

/// Ctrl-C / SIGTERM: the first asks the job to take a final checkpoint and stop; the second
/// exits at once with code 130.
fn install_stop_handler() {
    let installed = ctrlc::set_handler(|| {
        if stop::request_stop() == 1 {
            eprintln!("weir: stopping after a final checkpoint (Ctrl-C again to abort)");
        } else {
            eprintln!("weir: aborted");
            std::process::exit(EXIT_INTERRUPTED);
        }
    });
    if let Err(e) = installed {
        tracing::warn!(error = %e, "no Ctrl-C handler: a signal ends the run without a final checkpoint");
    }
}

/// Runs `weir validate`: every error with its field path on stderr, exit 2; a summary on
/// stdout and exit 0 when the pipeline is valid.
pub fn validate(args: &ValidateArgs) -> i32 {
    let plan = match crate::pipeline::load(&args.pipeline, &args.sets) {
        Ok(plan) => plan,
        Err(Error::Config(errors)) => {
            for e in &errors {
                eprintln!("{}: {e}", args.pipeline.display());
            }
            eprintln!(
                "weir: {} error(s) in {}",
                errors.len(),
                args.pipeline.display()
            );
            return EXIT_USAGE;
        }
        Err(e) => {
            eprintln!("weir: {e}");
            return EXIT_USAGE;
        }
    };
    if let SourceSpec::File { path, .. } = &plan.source {
        if !path.exists() {
            eprintln!(
                "{}: source.path: {} does not exist",
                args.pipeline.display(),
                path.display()
            );
            return EXIT_USAGE;
        }
    }
    let ops = match &plan.graph {
        Some(g) => g.ops.len(),
        None => {
            plan.pre.len()
                + plan.post.len()
                + usize::from(plan.key.is_some())
                + usize::from(plan.keyed.is_some())
        }
    };
    println!(
        "ok: pipeline {} ({} op(s); output fields: {}), fingerprint {:016x}",
        plan.name,
        ops,
        plan.output_schema.names().join(", "),
        plan.fingerprint
    );
    if args.graph {
        print!("{}", super::build::job(&plan).describe());
    }
    EXIT_OK
}
