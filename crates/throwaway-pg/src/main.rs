//! `throwaway-pg`: start a disposable PostgreSQL, print its URL, and keep it until stdin closes
//! (Ctrl-D) or the process is interrupted. Handy for poking at bottles' database by hand.
//! `throwaway-pg --formation` does the same with a pg_auto_failover formation (a monitor, a
//! primary and a secondary) and prints the URL that follows the primary.

use std::io::Read;

fn main() {
    let formation = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--formation") => true,
        Some(_) => {
            eprintln!("usage: throwaway-pg [--formation]");
            std::process::exit(2);
        }
    };
    // Held until stdin closes; dropping either stops its processes and removes its files.
    let (_kept, url, roots): (Box<dyn std::any::Any>, _, _) = match formation {
        false => match throwaway_pg::LocalServer::start() {
            Ok(server) => {
                let (url, roots) = (server.url(), vec![server.root().to_path_buf()]);
                (Box::new(server), url, roots)
            }
            Err(err) => fail(err),
        },
        true => match throwaway_pg::Formation::start() {
            Ok(formation) => {
                let (url, roots) = (formation.url(), formation.roots());
                println!("MONITOR_URL={}", formation.monitor_url());
                (Box::new(formation), url, roots)
            }
            Err(err) => fail(err),
        },
    };
    println!("DATABASE_URL={url}");
    let roots: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    eprintln!("files in {}; stops on Ctrl-D or Ctrl-C", roots.join(", "));
    // Wait for EOF; the data is irrelevant.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

fn fail(err: throwaway_pg::Error) -> ! {
    eprintln!("error: {err}");
    std::process::exit(1);
}
