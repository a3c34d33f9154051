//! Processes the binaries start (`loadgen`, `failover`): hub nodes and a Redis server.
//!
//! The hub binary is found the same way by both ([`hub_bin`]); a hub is started on
//! 127.0.0.1 with an ephemeral port and its address read from its `werewolf-hub listening on
//! ADDR` line. Every child gets `PR_SET_PDEATHSIG` (SIGKILL), so it does not outlive a load
//! generator that is killed, and is SIGKILLed when its handle is dropped without being
//! stopped (an error or a panic on the way): no run leaves a hub or a Redis behind.
//! Start children from a thread that lives as long as they should (the main thread):
//! the death signal follows the thread that forked, not the process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a child may take to come up.
const START_PATIENCE: Duration = Duration::from_secs(20);

/// The hub binary: `explicit` (`--hub-bin`), else `werewolf-hub` beside this executable (the
/// same cargo target directory and profile), else `target/release/werewolf-hub`.
pub fn hub_bin(explicit: Option<&Path>) -> PathBuf {
    if let Some(bin) = explicit {
        return bin.to_path_buf();
    }
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("werewolf-hub")))
        .filter(|p| p.is_file());
    sibling.unwrap_or_else(|| PathBuf::from("target/release/werewolf-hub"))
}

/// Makes the child die with the thread that started it.
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A hub process this run started; SIGKILLed on drop if still running.
pub struct HubProcess {
    /// The child process.
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl HubProcess {
    /// Starts `bin` with `WS_HOST=127.0.0.1 WS_PORT=0` plus `env` (in order, later entries
    /// win) and waits for its address line. Lines the hub prints before it are shown on our
    /// stderr prefixed with `[{label}]`; later ones too with `forward_log`, else dropped (the
    /// pipe is always drained so the hub never blocks on it).
    pub fn spawn(
        bin: &Path,
        env: &[(String, String)],
        label: &str,
        forward_log: bool,
    ) -> std::io::Result<HubProcess> {
        let mut cmd = Command::new(bin);
        cmd.env("WS_HOST", "127.0.0.1").env("WS_PORT", "0");
        for (k, v) in env {
            cmd.env(k, v);
        }
        die_with_parent(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().expect("stderr was piped");
        let (tx, rx) = mpsc::channel::<Result<SocketAddr, String>>();
        let label = label.to_owned();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines();
            let mut listening = false;
            for line in lines.by_ref().map_while(Result::ok) {
                if !listening {
                    if let Some(rest) = line.strip_prefix("werewolf-hub listening on ") {
                        listening = true;
                        let parsed = rest
                            .trim()
                            .parse()
                            .map_err(|e| format!("address `{rest}`: {e}"));
                        let _ = tx.send(parsed);
                        continue;
                    }
                    eprintln!("[{label}] {line}");
                } else if forward_log {
                    eprintln!("[{label}] {line}");
                }
            }
            if !listening {
                let _ = tx.send(Err("its stderr ended before it listened".into()));
            }
        });
        let mut hub = HubProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        match rx.recv_timeout(START_PATIENCE) {
            Ok(Ok(addr)) => {
                hub.addr = addr;
                Ok(hub)
            }
            Ok(Err(why)) => {
                let status = hub.kill9().ok().flatten();
                Err(std::io::Error::other(match status {
                    Some(s) => format!("exited ({s}) before listening: {why}"),
                    None => why,
                }))
            }
            Err(_) => {
                let _ = hub.kill9();
                Err(std::io::Error::other(format!(
                    "no address line within {START_PATIENCE:?}"
                )))
            }
        }
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then reap; the exit status (`None` if it had already been reaped).
    pub fn kill9(&mut self) -> std::io::Result<Option<std::process::ExitStatus>> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(Some(status));
        }
        self.child.kill()?;
        self.child.wait().map(Some)
    }

    /// Sends SIGTERM (the hub drains: clients get 1001, or 1012 in a cluster).
    pub fn terminate(&self) {
        // SAFETY: kill(2) on our own child's PID.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
    }

    /// Waits up to `patience` for it to exit, then SIGKILLs it.
    pub fn wait_or_kill(&mut self, patience: Duration) {
        let start = Instant::now();
        while start.elapsed() < patience {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.kill9();
    }

    /// SIGTERM, then SIGKILL if it has not exited within 5 s.
    pub fn stop(mut self) {
        self.terminate();
        self.wait_or_kill(Duration::from_secs(5));
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}

/// A directory under the system's temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `{tmp}/werewolf-{label}-{pid}-{nanos}`.
    pub fn new(label: &str) -> std::io::Result<TempDir> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("werewolf-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nobody listens on now (bound and released; another process could take it before
/// it is used, which a local benchmark can live with).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A `redis-server` this run started, on 127.0.0.1; SIGKILLed on drop.
pub struct RedisProcess {
    /// The child process.
    child: Child,
    /// Its port.
    pub port: u16,
}

impl RedisProcess {
    /// Starts `bin` (e.g. `redis-server`) on a free port with its files in `dir`, append-only
    /// file fsynced every second and no snapshots (`--appendonly yes --appendfsync everysec
    /// --save ''`), and waits until it answers `PING`.
    pub fn start(bin: &Path, dir: &Path) -> std::io::Result<RedisProcess> {
        let port = free_port()?;
        let mut cmd = Command::new(bin);
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(dir)
            .arg("--appendonly")
            .arg("yes")
            .arg("--appendfsync")
            .arg("everysec")
            .arg("--save")
            .arg("")
            .arg("--daemonize")
            .arg("no");
        die_with_parent(&mut cmd);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let mut redis = RedisProcess { child, port };
        let start = Instant::now();
        loop {
            if redis.ping() {
                return Ok(redis);
            }
            if let Some(status) = redis.child.try_wait()? {
                return Err(std::io::Error::other(format!(
                    "redis-server exited ({status}) before answering"
                )));
            }
            if start.elapsed() > START_PATIENCE {
                let _ = redis.child.kill();
                let _ = redis.child.wait();
                return Err(std::io::Error::other("redis-server did not answer PING"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Whether it answers `PING` with `+PONG`.
    fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        if stream.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 7];
        stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
