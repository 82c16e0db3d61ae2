//! `throwaway-pg`: start a disposable PostgreSQL, print its URL, and keep it until stdin closes
//! (Ctrl-D) or the process is interrupted. Handy for poking at bottles' database by hand.

use std::io::Read;

fn main() {
    let server = match throwaway_pg::LocalServer::start() {
        Ok(server) => server,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    };
    println!("DATABASE_URL={}", server.url());
    eprintln!(
        "files in {}; stops on Ctrl-D or Ctrl-C",
        server.root().display()
    );
    // Wait for EOF; the data is irrelevant.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
