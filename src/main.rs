//! The `credd` binary: parse the arguments and run the verb. Everything else, exit codes
//! included, lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    credd::cli::run(credd::cli::parse())
}
