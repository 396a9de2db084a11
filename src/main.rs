//! Process entry: parse arguments, build the runtime, run, map errors to exit codes.

use clap::Parser;
use leakcollect::exit;

fn main() {
    // A panic is a bug: say so, and exit with the code documented for it rather than
    // Rust's 101 (or 1, which a cron job reads as "leaking").
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in leakcollect (please report it): {info}");
        std::process::exit(exit::INTERNAL);
    }));
    let cli = leakcollect::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            std::process::exit(exit::INTERNAL);
        }
    };
    let code = match runtime.block_on(leakcollect::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            // A reader that closed standard output ends the run quietly (exit_code: 0).
            if !error.is::<leakcollect::output::StdoutClosed>() {
                eprintln!("{}", leakcollect::describe(&error));
            }
            leakcollect::exit_code(&error)
        }
    };
    std::process::exit(code);
}
