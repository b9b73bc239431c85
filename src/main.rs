use std::process::ExitCode;

use clap::Parser as _;
use postmark_access_review::cli::{self, Cli};

// Rendering a page allocates many small, short-lived values from every worker thread; under
// `bench load` glibc's malloc took about a third of the server's CPU (perf), most of it in
// consolidating free chunks. mimalloc's per-thread heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
