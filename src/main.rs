//! The `weir` command: parses arguments and hands over to [`weir::cli`].

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() {
    std::process::exit(weir::cli::main());
}
