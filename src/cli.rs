//! The command line: clap definitions, mapped onto credd's own [`Command`] so the rest of the
//! program never depends on clap's types.

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "credd",
    version,
    about = "Keeps AWS credentials fresh, and says plainly what is wrong when it cannot."
)]
struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// List every profile in the AWS files with its kind of credentials and its expiry.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    List { json: bool },
}

/// Parses `std::env::args`; exits with clap's message and code 2 on a usage error.
pub fn parse() -> Command {
    from_args(Args::parse())
}

fn from_args(args: Args) -> Command {
    match args.command {
        Sub::List { json } => Command::List { json },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_map_onto_commands() {
        let a = Args::try_parse_from(["credd", "list", "--json"]).unwrap();
        assert_eq!(from_args(a), Command::List { json: true });
        assert!(Args::try_parse_from(["credd", "bogus"]).is_err());
    }
}
