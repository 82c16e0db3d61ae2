//! The `sh` watchdog each throwaway process runs under: it starts the program as the owner,
//! stops it when our end of its stdin closes (however this process ends), and removes the
//! program's directory.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};

use crate::{Error, Owner, io_error};

/// Lines on stdin: `stop` stops the program and keeps its files, `start` starts it again,
/// `restart` does both. `$1` is the directory to remove, `$2` the log file, `$3` the signal
/// that stops the program, the rest its command line.
const WATCHDOG: &str = r#"root=$1; log=$2; signal=$3; shift 3
"$@" >>"$log" 2>&1 &
server=$!
while read -r command; do
  case $command in
    stop|restart) kill -"$signal" "$server" 2>/dev/null; wait "$server"; server= ;;
  esac
  case $command in
    start|restart) [ -z "$server" ] && { "$@" >>"$log" 2>&1 & server=$!; } ;;
  esac
done
[ -n "$server" ] && { kill -"$signal" "$server" 2>/dev/null; wait "$server"; }
rm -rf "$root"
"#;

/// Starts `program args` as `owner` under the watchdog, logging to `root/log_name`, stopped
/// with `stop_signal` (`INT` is PostgreSQL's fast shutdown). Returns the watchdog and our end
/// of its stdin, the lifeline.
pub(crate) fn spawn(
    owner: Owner,
    root: &Path,
    log_name: &str,
    stop_signal: &str,
    program: &Path,
    args: &[String],
) -> Result<(Child, ChildStdin), Error> {
    let mut command = owner.command("/bin/sh");
    command
        .current_dir(root)
        .args(["-c", WATCHDOG, "throwaway-pg"])
        .arg(root)
        .arg(root.join(log_name))
        .arg(stop_signal)
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a terminal's Ctrl-C reaches us, and we shut it down in order.
        .process_group(0);
    let mut watchdog = command
        .spawn()
        .map_err(io_error(format!("could not start {}", program.display())))?;
    let lifeline = watchdog.stdin.take().expect("stdin is piped");
    Ok((watchdog, lifeline))
}
