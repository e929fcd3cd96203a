//! The command line: clap definitions, mapped onto credd's own [`Command`] so the rest of the
//! program never depends on clap's types. The completion scripts and the man pages are generated
//! here too, from the same definitions (`completions`, `man`, `man_pages`); the only clap-family
//! type that leaves this file is the shell name `Command::Completions` hands back to `completions`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

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
    /// The daemon's control socket [default: $XDG_RUNTIME_DIR/credd/credd.sock]
    #[arg(long, global = true, env = "CREDD_SOCKET", value_name = "PATH")]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// Run the daemon in the foreground: keep managed sessions fresh, track the rest.
    Daemon,
    /// Ask the daemon what is fresh, what is expiring and why. Exit 0 all fresh, 1 something
    /// needs attention, 2 usage error, 3 no daemon.
    Status {
        /// Print the documented JSON schema.
        #[arg(long, conflicts_with = "prompt")]
        json: bool,
        /// One short line for shell prompts (`dev 42m`, `dev MFA!`); nothing when all is well.
        #[arg(long)]
        prompt: bool,
    },
    /// Refresh a managed session now (through the daemon when one runs) and print the result.
    Refresh {
        /// The session (its profile name in the credentials file).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Refresh every managed session.
        #[arg(long)]
        all: bool,
        /// A one-time MFA code, for sessions that need one.
        #[arg(long, value_name = "CODE", conflicts_with = "all")]
        code: Option<String>,
    },
    /// Hand the daemon a one-time MFA code for a session that needs one.
    Mfa { name: String, code: String },
    /// Make the daemon re-read its config and the AWS files.
    Reload,
    /// Print a session's current credentials (refreshing first if needed), like
    /// `aws configure export-credentials`. Also sets CREDD_SESSION for the shell hook.
    Export {
        name: String,
        #[arg(long, value_enum, default_value = "env")]
        format: crate::cli::export::Format,
        /// Refresh first unless the session has at least this long left (`2h`, `90m`); fail if
        /// it cannot.
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        min_ttl: Option<Duration>,
    },
    /// Print credential_process JSON: `credential_process = credd credential-process NAME`.
    CredentialProcess {
        name: String,
        /// As for `export`.
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        min_ttl: Option<Duration>,
    },
    /// Make sure a session outlives a long job: refresh now if less than DURATION is left, print
    /// what is left, and exit 1 (saying why) if it cannot be enough.
    Ensure {
        name: String,
        /// How long the session must still be valid (`2h`, `90m`, `1h30m`).
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        min_ttl: Duration,
    },
    /// Run a command whose AWS SDKs get NAME's credentials, kept fresh, from a loopback
    /// endpoint (the SDKs' container-credentials provider): `credd exec dev -- terraform apply`.
    Exec {
        name: String,
        /// Refresh the session before serving it when less than this is left (`15m` is when
        /// botocore starts refreshing).
        #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "15m")]
        min_ttl: Duration,
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
        command: Vec<std::ffi::OsString>,
    },
    /// Open the AWS console signed in as a session, or as a profile's IAM user, through the
    /// federation endpoint: `credd console dev --service ec2 --region eu-west-1`.
    Console {
        name: String,
        /// Print the sign-in URL instead of opening it (for 15 minutes it signs anyone in).
        #[arg(long)]
        print: bool,
        /// Land on this service's console page (ec2, s3, cloudwatch).
        #[arg(long, value_name = "SERVICE")]
        service: Option<String>,
        /// Land in this region; its partition picks the console (us-gov-*, cn-*).
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// How long the console session lasts: 15m to 12h for a role, 15m to 36h for an IAM
        /// user's federation token [default: set by AWS for a role; 1h for a federation token]
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        duration: Option<Duration>,
    },
    /// Print a shell completion script: `credd completions bash > ~/.local/share/bash-completion/completions/credd`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write it and one page per command into a directory:
    /// `credd man --dir ~/.local/share/man/man1`.
    Man {
        /// Write credd.1 and one page per command here (created if missing), instead of
        /// printing credd.1: `credd man --dir ~/.local/share/man/man1`.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the prompt hook for a shell: `eval "$(credd hook bash)"`, `credd hook fish | source`.
    Hook {
        #[arg(value_enum)]
        shell: crate::hooks::Shell,
    },
    /// (Used by the shell hook.) Tell the daemon this shell holds a session.
    #[command(hide = true)]
    RegisterShell {
        #[arg(long)]
        pid: u32,
        #[arg(long)]
        key_id: String,
        #[arg(long)]
        expires: String,
        #[arg(long)]
        tty: Option<String>,
        #[arg(long)]
        session: Option<String>,
    },
    /// Name the real cause behind InvalidClientTokenId and its cousins.
    Doctor {
        /// Examine only this profile (and treat it as selected).
        #[arg(long)]
        profile: Option<String>,
        /// Print `{findings, identities}` as JSON.
        #[arg(long)]
        json: bool,
        /// Skip the live STS checks.
        #[arg(long)]
        offline: bool,
    },
    /// Install credd as a systemd user service (Linux) or launchd agent (macOS), and start it.
    InstallService {
        /// Show what would be written and run; change nothing.
        #[arg(long)]
        print: bool,
        /// Which service manager [default: this OS's]
        #[arg(long, value_enum)]
        kind: Option<ServiceKindArg>,
    },
    /// Stop the service and remove its unit file. Config and credentials stay.
    UninstallService {
        /// Show what would be removed and run; change nothing.
        #[arg(long)]
        print: bool,
        /// Which service manager [default: this OS's]
        #[arg(long, value_enum)]
        kind: Option<ServiceKindArg>,
    },
    /// Work with credd's config file.
    Config {
        #[command(subcommand)]
        action: ConfigSub,
    },
    /// Keep long-term keys in the OS keyring instead of the credentials file.
    Keyring {
        #[command(subcommand)]
        action: KeyringSub,
    },
    /// List every profile in the AWS files with its kind of credentials and its expiry.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ServiceKindArg {
    Systemd,
    Launchd,
}

#[derive(Subcommand, Debug)]
enum KeyringSub {
    /// Move a profile's long-term keys from the credentials file into the OS keyring, and point
    /// its config profile at `credd credential-process` so SDKs get short-lived sessions.
    Import {
        profile: String,
        /// Leave ~/.aws/config as it is.
        #[arg(long)]
        no_credential_process: bool,
    },
    /// The profiles the keyring holds, with their key IDs (never secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Put a profile's keys back into the credentials file (the keyring keeps its copy).
    Export { profile: String },
    /// Delete a profile's keys from the keyring; refused while it holds the only copy.
    Remove {
        profile: String,
        /// Delete even when the credentials file does not hold the same key.
        #[arg(long)]
        force: bool,
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
    Status {
        format: StatusFormat,
    },
    /// `name: None` is `--all`.
    Refresh {
        name: Option<String>,
        code: Option<String>,
    },
    Mfa {
        name: String,
        code: String,
    },
    Reload,
    ConfigCheck,
    List {
        json: bool,
    },
    Keyring(crate::cli::keyring::Action),
    InstallService {
        print: bool,
        kind: Option<crate::service::Kind>,
    },
    Doctor {
        profile: Option<String>,
        json: bool,
        offline: bool,
    },
    Export {
        name: String,
        format: crate::cli::export::Format,
        min_ttl: Option<Duration>,
    },
    Ensure {
        name: String,
        min_ttl: Duration,
    },
    /// `command` is never empty.
    Exec {
        name: String,
        min_ttl: Duration,
        command: Vec<std::ffi::OsString>,
    },
    Console(crate::cli::console::Options),
    Completions(clap_complete::Shell),
    /// `dir: None` prints credd.1; `Some` writes every page there.
    Man {
        dir: Option<PathBuf>,
    },
    Hook {
        shell: crate::hooks::Shell,
    },
    RegisterShell(crate::protocol::ShellSession),
    UninstallService {
        print: bool,
        kind: Option<crate::service::Kind>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFormat {
    Table,
    Json,
    Prompt,
}

impl From<ServiceKindArg> for crate::service::Kind {
    fn from(k: ServiceKindArg) -> Self {
        match k {
            ServiceKindArg::Systemd => crate::service::Kind::Systemd,
            ServiceKindArg::Launchd => crate::service::Kind::Launchd,
        }
    }
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `--config` or `CREDD_CONFIG`, when given: the file must then exist.
    pub config: Option<PathBuf>,
    /// `--socket` or `CREDD_SOCKET`, when given.
    pub socket: Option<PathBuf>,
    pub command: Command,
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write it like 2h, 90m or 1h30m)"))
}

/// Writes the completion script for `shell`, generated from the same definition as the parser.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut Args::command(), "credd", out);
}

/// The definition the man pages are generated from: `help` is left out, as it has nothing a
/// page could add to `credd --help`.
fn man_command() -> clap::Command {
    let mut cmd = Args::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Writes credd.1 (roff), generated from the same definition as the parser. It stands alone:
/// its COMMANDS section describes each command by name, where clap_mangen's own section would
/// point at a `credd-status(1)` and its siblings, pages this does not write (`man_pages` does).
pub fn man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    main_page(&man_command(), &[], out)
}

/// Writes credd.1 and one page per command (recursively: `credd-keyring-import.1`) into `dir`,
/// creating it if needed, and returns the file names written. Every page another one refers to
/// is among them: clap_mangen's per-command pages point at their subcommands' pages, and
/// credd.1's SEE ALSO lists exactly the pages written here.
pub fn man_pages(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    fn each(cmd: &clap::Command, dir: &std::path::Path, names: &mut Vec<String>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let page = clap_mangen::Man::new(sub.clone());
            page.generate_to(dir)?;
            names.push(page.get_filename());
            each(sub, dir, names)?;
        }
        Ok(())
    }
    std::fs::create_dir_all(dir)?;
    let cmd = man_command();
    let mut names = Vec::new();
    each(&cmd, dir, &mut names)?;
    let main = clap_mangen::Man::new(cmd.clone()).get_filename();
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join(&main))?);
    main_page(&cmd, &names, &mut file)?;
    std::io::Write::flush(&mut file)?;
    names.insert(0, main);
    Ok(names)
}

/// credd.1: clap_mangen's sections, with our own COMMANDS section, and a SEE ALSO naming
/// `see_also` (page file names such as `credd-status.1`), the pages written beside it.
fn main_page(cmd: &clap::Command, see_also: &[String], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    writeln!(out, ".SH COMMANDS")?;
    commands_section(cmd, "credd", out)?;
    writeln!(out, ".PP")?;
    writeln!(out, "{}", roff_text("Each command's options: credd COMMAND --help."))?;
    if !see_also.is_empty() {
        writeln!(out, ".SH \"SEE ALSO\"")?;
        let refs: Vec<String> = see_also
            .iter()
            .filter_map(|f| f.rsplit_once('.'))
            .map(|(name, section)| format!("\\fB{}\\fR({section})", roff_text(name)))
            .collect();
        writeln!(out, "{}", refs.join(",\n"))?;
    }
    man.render_version_section(out)
}

/// One `.TP` entry per visible command, nested commands by their full name (`credd keyring import`).
fn commands_section(cmd: &clap::Command, prefix: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("{prefix} {}", sub.get_name());
        writeln!(out, ".TP")?;
        writeln!(out, "\\fB{}\\fR", roff_text(&name))?;
        if let Some(about) = sub.get_about().or_else(|| sub.get_long_about()) {
            for line in about.to_string().lines() {
                writeln!(out, "{}", roff_text(line))?;
            }
        }
        commands_section(sub, &name, out)?;
    }
    Ok(())
}

/// `text` as a line of roff: backslashes and hyphens escaped, and a leading `.` or `'` kept from
/// reading as a request.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) { format!("\\&{escaped}") } else { escaped }
}

/// Parses `std::env::args`; exits with clap's message and code 2 on a usage error.
pub fn parse() -> Invocation {
    from_args(Args::parse())
}

fn from_args(args: Args) -> Invocation {
    let command = match args.command {
        Sub::Daemon => Command::Daemon,
        Sub::Status { json, prompt } => Command::Status {
            format: match (json, prompt) {
                (true, _) => StatusFormat::Json,
                (_, true) => StatusFormat::Prompt,
                _ => StatusFormat::Table,
            },
        },
        Sub::Refresh { name, all: _, code } => Command::Refresh { name, code },
        Sub::Mfa { name, code } => Command::Mfa { name, code },
        Sub::Reload => Command::Reload,
        Sub::Config { action: ConfigSub::Check } => Command::ConfigCheck,
        Sub::List { json } => Command::List { json },
        Sub::Keyring { action } => Command::Keyring(match action {
            KeyringSub::Import { profile, no_credential_process } => {
                crate::cli::keyring::Action::Import { profile, credential_process: !no_credential_process }
            }
            KeyringSub::List { json } => crate::cli::keyring::Action::List { json },
            KeyringSub::Export { profile } => crate::cli::keyring::Action::Export { profile },
            KeyringSub::Remove { profile, force } => crate::cli::keyring::Action::Remove { profile, force },
        }),
        Sub::Doctor { profile, json, offline } => Command::Doctor { profile, json, offline },
        Sub::Export { name, format, min_ttl } => Command::Export { name, format, min_ttl },
        Sub::CredentialProcess { name, min_ttl } => {
            Command::Export { name, format: crate::cli::export::Format::CredentialProcess, min_ttl }
        }
        Sub::Ensure { name, min_ttl } => Command::Ensure { name, min_ttl },
        Sub::Exec { name, min_ttl, command } => Command::Exec { name, min_ttl, command },
        Sub::Console { name, print, service, region, duration } => {
            Command::Console(crate::cli::console::Options { name, print, service, region, duration })
        }
        Sub::Completions { shell } => Command::Completions(shell),
        Sub::Man { dir } => Command::Man { dir },
        Sub::Hook { shell } => Command::Hook { shell },
        Sub::RegisterShell { pid, key_id, expires, tty, session } => {
            Command::RegisterShell(crate::protocol::ShellSession {
                pid,
                tty: tty.filter(|t| !t.is_empty() && t != "not a tty"),
                key_id,
                // An unreadable expiry registers as already expired, which status then shows.
                expires_at: crate::profile::meta::parse_timestamp(&expires, false).unwrap_or_default(),
                session: session.filter(|s| !s.is_empty()),
            })
        }
        Sub::InstallService { print, kind } => Command::InstallService { print, kind: kind.map(Into::into) },
        Sub::UninstallService { print, kind } => {
            Command::UninstallService { print, kind: kind.map(Into::into) }
        }
    };
    Invocation { config: args.config, socket: args.socket, command }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Invocation {
        from_args(Args::try_parse_from(args).unwrap())
    }

    #[test]
    fn verbs_map_onto_commands() {
        assert_eq!(parse(&["credd", "list", "--json"]).command, Command::List { json: true });
        assert_eq!(parse(&["credd", "daemon"]).command, Command::Daemon);
        assert_eq!(parse(&["credd", "config", "check"]).command, Command::ConfigCheck);
        let i = parse(&["credd", "refresh", "dev", "--code", "123456", "--config", "/c.toml"]);
        let want = Command::Refresh { name: Some("dev".into()), code: Some("123456".into()) };
        assert_eq!(i.command, want);
        assert_eq!(i.config, Some(PathBuf::from("/c.toml")));
        let all = Command::Refresh { name: None, code: None };
        assert_eq!(parse(&["credd", "refresh", "--all"]).command, all);
        assert!(Args::try_parse_from(["credd", "refresh"]).is_err());
        assert!(Args::try_parse_from(["credd", "refresh", "dev", "--all"]).is_err());
        let prompt = Command::Status { format: StatusFormat::Prompt };
        assert_eq!(parse(&["credd", "status", "--prompt"]).command, prompt);
        assert!(Args::try_parse_from(["credd", "status", "--json", "--prompt"]).is_err());
        let mfa = Command::Mfa { name: "dev".into(), code: "123456".into() };
        assert_eq!(parse(&["credd", "mfa", "dev", "123456"]).command, mfa);
        let i = parse(&["credd", "status", "--socket", "/s.sock"]);
        assert_eq!(i.socket, Some(PathBuf::from("/s.sock")));
        assert!(Args::try_parse_from(["credd", "bogus"]).is_err());
        let ensure = Command::Ensure { name: "dev".into(), min_ttl: Duration::from_secs(5400) };
        assert_eq!(parse(&["credd", "ensure", "dev", "--min-ttl", "1h30m"]).command, ensure);
        assert!(Args::try_parse_from(["credd", "ensure", "dev"]).is_err(), "--min-ttl is required");
        assert!(Args::try_parse_from(["credd", "ensure", "dev", "--min-ttl", "soon"]).is_err());
        let cp = Command::Export {
            name: "dev".into(),
            format: crate::cli::export::Format::CredentialProcess,
            min_ttl: Some(Duration::from_secs(7200)),
        };
        assert_eq!(parse(&["credd", "credential-process", "dev", "--min-ttl", "2h"]).command, cp);
        assert_eq!(parse(&["credd", "man"]).command, Command::Man { dir: None });
        let exec = |min: u64, cmd: &[&str]| Command::Exec {
            name: "dev".into(),
            min_ttl: Duration::from_secs(min),
            command: cmd.iter().map(Into::into).collect(),
        };
        assert_eq!(
            parse(&["credd", "exec", "dev", "--", "aws", "s3", "ls"]).command,
            exec(900, &["aws", "s3", "ls"])
        );
        let i =
            parse(&["credd", "exec", "dev", "--min-ttl", "1h", "aws", "--profile", "x", "--min-ttl", "2h"]);
        assert_eq!(i.command, exec(3600, &["aws", "--profile", "x", "--min-ttl", "2h"]));
        assert!(Args::try_parse_from(["credd", "exec", "dev"]).is_err(), "a command is required");
        let console = |print, service: Option<&str>, region: Option<&str>, duration| {
            Command::Console(crate::cli::console::Options {
                name: "dev".into(),
                print,
                service: service.map(Into::into),
                region: region.map(Into::into),
                duration,
            })
        };
        assert_eq!(parse(&["credd", "console", "dev"]).command, console(false, None, None, None));
        let i = parse(&[
            "credd",
            "console",
            "dev",
            "--print",
            "--service",
            "ec2",
            "--region",
            "eu-west-1",
            "--duration",
            "2h",
        ]);
        assert_eq!(i.command, console(true, Some("ec2"), Some("eu-west-1"), Some(Duration::from_secs(7200))));
        assert!(Args::try_parse_from(["credd", "console"]).is_err(), "a name is required");
        let man = Command::Man { dir: Some(PathBuf::from("/m")) };
        assert_eq!(parse(&["credd", "man", "--dir", "/m"]).command, man);
    }
}
