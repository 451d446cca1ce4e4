use std::process::ExitCode;

use clap::Parser;
use sala::args::{Args, Mode};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = match args.mode() {
        Mode::Send(send) => sala::script::send(&args.settings(), send).await,
        Mode::Tail(tail) => sala::script::tail(&args.settings(), tail).await,
        Mode::Interactive => sala::tui::run(&args.settings()).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("sala: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
