fn main() -> std::process::ExitCode {
    uslugi::cli::main()
}
