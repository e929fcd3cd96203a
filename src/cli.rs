//! The command line: clap definitions, mapped onto credd's own [`Command`] so the rest of the
//! program never depends on clap's types.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "credd",
    version,
    about = "Keeps AWS credentials fresh, and says plainly what is wrong when it cannot."
)]
struct Args {
    /// credd's config file [default: $XDG_CONFIG_HOME/credd/config.toml]
    #[arg(long, global = true, env = "CREDD_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// Run the daemon in the foreground: keep managed sessions fresh, track the rest.
    Daemon,
    /// Refresh one managed session now and print the result.
    Refresh {
        /// The session (its profile name in the credentials file).
        name: String,
        /// A one-time MFA code, for sessions that need one.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
    },
    /// Work with credd's config file.
    Config {
        #[command(subcommand)]
        action: ConfigSub,
    },
    /// List every profile in the AWS files with its kind of credentials and its expiry.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigSub {
    /// Check the config file and the sessions it defines; exit non-zero on any error.
    Check,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Daemon,
    Refresh { name: String, code: Option<String> },
    ConfigCheck,
    List { json: bool },
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `--config` or `CREDD_CONFIG`, when given: the file must then exist.
    pub config: Option<PathBuf>,
    pub command: Command,
}

/// Parses `std::env::args`; exits with clap's message and code 2 on a usage error.
pub fn parse() -> Invocation {
    from_args(Args::parse())
}

fn from_args(args: Args) -> Invocation {
    let command = match args.command {
        Sub::Daemon => Command::Daemon,
        Sub::Refresh { name, code } => Command::Refresh { name, code },
        Sub::Config {
            action: ConfigSub::Check,
        } => Command::ConfigCheck,
        Sub::List { json } => Command::List { json },
    };
    Invocation {
        config: args.config,
        command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Invocation {
        from_args(Args::try_parse_from(args).unwrap())
    }

    #[test]
    fn verbs_map_onto_commands() {
        assert_eq!(
            parse(&["credd", "list", "--json"]).command,
            Command::List { json: true }
        );
        assert_eq!(parse(&["credd", "daemon"]).command, Command::Daemon);
        assert_eq!(
            parse(&["credd", "config", "check"]).command,
            Command::ConfigCheck
        );
        let i = parse(&[
            "credd", "refresh", "dev", "--code", "123456", "--config", "/c.toml",
        ]);
        assert_eq!(
            i.command,
            Command::Refresh {
                name: "dev".into(),
                code: Some("123456".into())
            }
        );
        assert_eq!(i.config, Some(PathBuf::from("/c.toml")));
        assert!(Args::try_parse_from(["credd", "bogus"]).is_err());
    }
}
