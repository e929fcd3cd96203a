//! The `credd` binary: parse arguments, set up logging, dispatch, and turn errors into a message
//! and an exit code. Everything else lives in the library.

use std::process::ExitCode;

use credd::cli::{self, Command};
use credd::paths::{self, ProcessEnv};
use credd::profile::Loaded;
use credd::scan;

fn main() -> ExitCode {
    let command = cli::parse();
    match run(command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("credd: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::List { json } => {
            let env = ProcessEnv;
            let files = Loaded::read(
                &paths::aws_config_file(&env),
                &paths::aws_credentials_file(&env),
            )?;
            let profiles = scan::summarize(&files);
            if json {
                println!("{}", serde_json::to_string_pretty(&profiles)?);
            } else {
                print_table(&profiles);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_table(profiles: &[scan::ProfileSummary]) {
    let now = chrono::Utc::now();
    println!("{:<24} {:<13} EXPIRES", "PROFILE", "KIND");
    for p in profiles {
        let expires = match (&p.expires_at, &p.expiry_error) {
            (_, Some(err)) => err.clone(),
            (Some(at), None) if *at <= now => {
                format!("expired {}", at.format("%Y-%m-%d %H:%M UTC"))
            }
            (Some(at), None) => {
                let left = (*at - now).num_seconds().max(0) as u64;
                format!(
                    "in {} ({})",
                    humantime::format_duration(std::time::Duration::from_secs(left)),
                    at.format("%Y-%m-%d %H:%M UTC")
                )
            }
            (None, None) => "-".into(),
        };
        let kind = match p.problem {
            Some(problem) => format!("{} ({problem})", p.kind),
            None => p.kind.to_string(),
        };
        println!("{:<24} {:<13} {}", p.name, kind, expires);
    }
}
