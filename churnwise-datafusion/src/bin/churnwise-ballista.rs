//! A Ballista scheduler or executor with churnwise's codecs (and,
//! optionally, a bundle of churnwise functions registered by name).
//!
//! ```text
//! churnwise-ballista scheduler [--bind-host H] [--port P] [--functions bundle.json]
//! churnwise-ballista executor  [--bind-host H] [--external-host H] [--port P] [--grpc-port P]
//!                              [--scheduler-host H] [--scheduler-port P]
//!                              [--work-dir DIR] [--concurrency N] [--functions bundle.json]
//! ```
//!
//! churnwise's functions reach the executors inside each plan through the
//! codecs; `--functions` also registers a saved `ChurnwiseFunctions` bundle
//! by name, for plans written by clients that do not use the codecs.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use churnwise_datafusion::ballista::{ChurnwiseLogicalCodec, ChurnwisePhysicalCodec};
use datafusion::execution::SessionState;
use datafusion::execution::registry::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionConfig;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;

const USAGE: &str = "\
usage:
  churnwise-ballista scheduler [--bind-host H] [--port P] [--functions bundle.json]
  churnwise-ballista executor  [--bind-host H] [--external-host H] [--port P] [--grpc-port P]
                               [--scheduler-host H] [--scheduler-port P]
                               [--work-dir DIR] [--concurrency N] [--functions bundle.json]

defaults: --bind-host 127.0.0.1; scheduler --port 50050; executor --port 50051,
--grpc-port 50052, --scheduler-host localhost, --scheduler-port 50050,
--concurrency = available cores, --work-dir = a temporary directory";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Scheduler(SchedulerArgs),
    Executor(ExecutorArgs),
    Help,
}

#[derive(Debug, PartialEq)]
struct SchedulerArgs {
    bind_host: String,
    port: u16,
    functions: Option<String>,
}

#[derive(Debug, PartialEq)]
struct ExecutorArgs {
    bind_host: String,
    external_host: Option<String>,
    port: u16,
    grpc_port: u16,
    scheduler_host: String,
    scheduler_port: u16,
    work_dir: Option<String>,
    concurrency: Option<usize>,
    functions: Option<String>,
}

fn parse(args: &[String]) -> Result<Command, String> {
    let Some((sub, rest)) = args.split_first() else {
        return Err("missing subcommand: `scheduler` or `executor`".into());
    };
    let mut options = Options::new(rest)?;
    let command = match sub.as_str() {
        "-h" | "--help" | "help" => return Ok(Command::Help),
        "scheduler" => Command::Scheduler(SchedulerArgs {
            bind_host: options.take("--bind-host")?.unwrap_or("127.0.0.1".into()),
            port: options.number("--port")?.unwrap_or(50050),
            functions: options.take("--functions")?,
        }),
        "executor" => Command::Executor(ExecutorArgs {
            bind_host: options.take("--bind-host")?.unwrap_or("127.0.0.1".into()),
            external_host: options.take("--external-host")?,
            port: options.number("--port")?.unwrap_or(50051),
            grpc_port: options.number("--grpc-port")?.unwrap_or(50052),
            scheduler_host: options
                .take("--scheduler-host")?
                .unwrap_or("localhost".into()),
            scheduler_port: options.number("--scheduler-port")?.unwrap_or(50050),
            work_dir: options.take("--work-dir")?,
            concurrency: match options.number::<usize>("--concurrency")? {
                Some(0) => return Err("--concurrency must be at least 1, got 0".into()),
                n => n,
            },
            functions: options.take("--functions")?,
        }),
        other => {
            return Err(format!(
                "unknown subcommand `{other}`: expected `scheduler` or `executor`"
            ));
        }
    };
    options.finish()?;
    Ok(command)
}

/// `--name value` pairs, each name at most once.
struct Options(Vec<(String, String)>);

impl Options {
    fn new(args: &[String]) -> Result<Self, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut it = args.iter();
        while let Some(name) = it.next() {
            if name == "-h" || name == "--help" {
                return Err("help".into());
            }
            if !name.starts_with("--") {
                return Err(format!("unexpected argument `{name}`"));
            }
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_owned(), v.to_owned()),
                None => match it.next() {
                    Some(v) => (name.clone(), v.clone()),
                    None => return Err(format!("`{name}` needs a value")),
                },
            };
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(format!("`{name}` given twice"));
            }
            pairs.push((name, value));
        }
        Ok(Self(pairs))
    }

    fn take(&mut self, name: &str) -> Result<Option<String>, String> {
        match self.0.iter().position(|(n, _)| n == name) {
            Some(i) => {
                let (_, value) = self.0.remove(i);
                if value.is_empty() {
                    return Err(format!("`{name}` needs a non-empty value"));
                }
                Ok(Some(value))
            }
            None => Ok(None),
        }
    }

    fn number<T: std::str::FromStr>(&mut self, name: &str) -> Result<Option<T>, String> {
        match self.take(name)? {
            Some(v) => v.parse().map(Some).map_err(|_| {
                format!("`{name}` must be a non-negative integer in range, got `{v}`")
            }),
            None => Ok(None),
        }
    }

    fn finish(self) -> Result<(), String> {
        match self.0.first() {
            Some((name, _)) => Err(format!("unknown option `{name}` for this subcommand")),
            None => Ok(()),
        }
    }
}

/// The functions of a saved `ChurnwiseFunctions` bundle (JSON).
fn load_functions(path: Option<&str>) -> Result<(Vec<ScalarUDF>, Vec<AggregateUDF>), String> {
    let Some(path) = path else {
        return Ok((Vec::new(), Vec::new()));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the functions bundle `{path}`: {e}"))?;
    let functions: churnwise_datafusion::ChurnwiseFunctions =
        serde_json::from_str(&text).map_err(|e| {
            format!("the functions bundle `{path}` is not a ChurnwiseFunctions JSON: {e}")
        })?;
    let invalid = |e: &dyn std::fmt::Display| format!("the functions bundle `{path}`: {e}");
    functions.validate().map_err(|e| invalid(&e))?;
    let scalar = functions.scalar_udfs().map_err(|e| invalid(&e))?;
    let aggregate = functions.aggregate_udfs().map_err(|e| invalid(&e))?;
    Ok((scalar, aggregate))
}

fn codecs() -> (
    Arc<dyn LogicalExtensionCodec>,
    Arc<dyn PhysicalExtensionCodec>,
) {
    (
        Arc::new(ChurnwiseLogicalCodec::new()),
        Arc::new(ChurnwisePhysicalCodec::new()),
    )
}

/// Ballista's default session with the functions registered.
fn session(
    config: SessionConfig,
    scalar: &[ScalarUDF],
    aggregate: &[AggregateUDF],
) -> datafusion::error::Result<SessionState> {
    let mut state = default_session_builder(config)?;
    for f in scalar {
        state.register_udf(Arc::new(f.clone()))?;
    }
    for f in aggregate {
        state.register_udaf(Arc::new(f.clone()))?;
    }
    Ok(state)
}

async fn scheduler(args: SchedulerArgs) -> Result<(), String> {
    let addr: SocketAddr = format!("{}:{}", args.bind_host, args.port)
        .parse()
        .map_err(|e| {
            format!(
                "bad --bind-host/--port `{}:{}`: {e}",
                args.bind_host, args.port
            )
        })?;
    let (scalar, aggregate) = load_functions(args.functions.as_deref())?;
    let (logical, physical) = codecs();
    let config = SchedulerConfig {
        bind_host: args.bind_host,
        bind_port: args.port,
        override_session_builder: Some(Arc::new(move |config| {
            session(config, &scalar, &aggregate)
        })),
        override_logical_codec: Some(logical),
        override_physical_codec: Some(physical),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| format!("scheduler: {e}"))?;
    eprintln!("churnwise-ballista scheduler listening on {addr}");
    start_server(cluster, addr, Arc::new(config))
        .await
        .map_err(|e| format!("scheduler: {e}"))
}

async fn executor(args: ExecutorArgs) -> Result<(), String> {
    let (scalar, aggregate) = load_functions(args.functions.as_deref())?;
    let state = session(SessionConfig::default(), &scalar, &aggregate)
        .map_err(|e| format!("executor: {e}"))?;
    if let Some(dir) = &args.work_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the work directory `{dir}`: {e}"))?;
    }
    let (logical, physical) = codecs();
    let mut config = ExecutorProcessConfig {
        bind_host: args.bind_host,
        external_host: args.external_host,
        port: args.port,
        grpc_port: args.grpc_port,
        scheduler_host: args.scheduler_host,
        scheduler_port: args.scheduler_port,
        work_dir: args.work_dir,
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&state))),
        override_logical_codec: Some(logical),
        override_physical_codec: Some(physical),
        ..ExecutorProcessConfig::default()
    };
    if let Some(n) = args.concurrency {
        config.vcores = n;
    }
    eprintln!(
        "churnwise-ballista executor on {}:{} (flight) / {} (grpc), {} task slots, scheduler {}:{}",
        config.bind_host,
        config.port,
        config.grpc_port,
        config.vcores,
        config.scheduler_host,
        config.scheduler_port
    );
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| format!("executor: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) if e == "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(command) => command,
        Err(e) => {
            eprintln!("churnwise-ballista: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // DataFusion plans recurse deeply: give the workers room (as Ballista's
    // own binaries do).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("churnwise-ballista: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Scheduler(args) => scheduler(args).await,
            Command::Executor(args) => executor(args).await,
            Command::Help => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("churnwise-ballista: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_an_executor_line() {
        let parsed = parse(&args(
            "executor --port 50061 --grpc-port=50062 --scheduler-port 50060 --work-dir /tmp/e1 --concurrency 1",
        ));
        assert_eq!(
            parsed,
            Ok(Command::Executor(ExecutorArgs {
                bind_host: "127.0.0.1".into(),
                external_host: None,
                port: 50061,
                grpc_port: 50062,
                scheduler_host: "localhost".into(),
                scheduler_port: 50060,
                work_dir: Some("/tmp/e1".into()),
                concurrency: Some(1),
                functions: None,
            }))
        );
    }

    #[test]
    fn scheduler_defaults() {
        assert_eq!(
            parse(&args("scheduler")),
            Ok(Command::Scheduler(SchedulerArgs {
                bind_host: "127.0.0.1".into(),
                port: 50050,
                functions: None
            }))
        );
    }

    #[test]
    fn bad_arguments_are_explained() {
        for (line, expected) in [
            ("", "missing subcommand"),
            ("worker", "unknown subcommand `worker`"),
            ("executor --port", "`--port` needs a value"),
            ("executor --port 70000", "`--port` must be"),
            (
                "executor --concurrency 0",
                "--concurrency must be at least 1",
            ),
            ("scheduler --grpc-port 1", "unknown option `--grpc-port`"),
            ("scheduler --port 1 --port 2", "given twice"),
            ("scheduler stray", "unexpected argument `stray`"),
        ] {
            let error = parse(&args(line)).expect_err(line);
            assert!(error.contains(expected), "{line}: {error}");
        }
    }
}
