//! Process entry: parse arguments, build the runtime, run, map errors to exit codes.

use clap::Parser;

fn main() {
    let cli = leakcollect::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("cannot start the async runtime");
    let code = match runtime.block_on(leakcollect::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}", leakcollect::describe(&error));
            leakcollect::exit_code(&error)
        }
    };
    std::process::exit(code);
}
