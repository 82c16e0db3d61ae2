fn main() -> std::process::ExitCode {
    bottles::cli::main()
}
