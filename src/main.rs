fn main() {
    std::process::exit(oversim::cli::main());
}
