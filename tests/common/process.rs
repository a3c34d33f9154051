//! Real hub processes for the tests that kill, restart or limit them: the binary with its own
//! temporary data directory, started on 127.0.0.1:0, its stderr collected.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The hub binary of this package.
pub const BIN: &str = env!("CARGO_BIN_EXE_werewolf-hub");

/// A temporary data directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_nanos();
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("durable-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn store(&self) -> PathBuf {
        self.0.join("hub.sqlite3")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        make_writable(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn make_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.is_dir()
    {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
    }
}

/// The hub binary, running; killed on drop if still alive.
pub struct HubProc {
    /// The process.
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    /// Its stderr lines so far.
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl HubProc {
    /// Starts the binary with `HUB_STORE=store` on `dir` and waits for its address line.
    pub fn start(store: &str, dir: Option<&Path>) -> HubProc {
        HubProc::start_with(store, dir, None, &[])
    }

    /// Like `start`; with `file_limit`, the process may not grow any file beyond that many
    /// bytes (`RLIMIT_FSIZE`, with `SIGXFSZ` ignored so the write fails with `EFBIG`): a
    /// full disk, for this process only.
    pub fn start_with(
        store: &str,
        dir: Option<&Path>,
        file_limit: Option<u64>,
        env: &[(&str, &str)],
    ) -> HubProc {
        let mut cmd = Command::new(BIN);
        if let Some(limit) = file_limit {
            use std::os::unix::process::CommandExt;
            // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    let rl = libc::rlimit {
                        rlim_cur: limit as libc::rlim_t,
                        rlim_max: limit as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &rl) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd.env("WS_HOST", "127.0.0.1")
            .env("WS_PORT", "0")
            .env("RUST_LOG", "info")
            .env("WS_RATE_PER_SEC", "1000")
            .env("WS_RATE_BURST", "1000")
            .env("HUB_STORE", store)
            .env_remove("HUB_DATA_DIR");
        if let Some(d) = dir {
            cmd.env("HUB_DATA_DIR", d);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hub");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("werewolf-hub listening on ") {
                    let _ = tx.send(rest.trim().to_owned());
                }
                sink.lock().expect("lock").push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the hub did not print its address; stderr: {:?}",
                    lines.lock().expect("lock")
                );
            }
        };
        HubProc {
            child,
            addr,
            stderr: lines,
        }
    }

    /// SIGKILL (`Child::kill` on Unix), then reap.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self) {
        // SAFETY: plain kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill -TERM");
        let status = wait_exit(&mut self.child, Duration::from_secs(10));
        assert!(status.success(), "clean exit after SIGTERM: {status}");
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().expect("lock").clone()
    }
}

impl Drop for HubProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A real `redis-server` (Debian's package; `.ci/run` installs it) on a free loopback port,
/// with AOF on and `appendfsync always` (so a `kill -9` of Redis loses no acknowledged
/// write), its files in `dir`; killed on drop.
pub struct RedisProc {
    /// The process.
    pub child: Child,
    /// Its port.
    pub port: u16,
    /// Its data directory.
    dir: PathBuf,
}

impl RedisProc {
    /// Starts Redis on a free port with its files in `dir`, and waits until it answers.
    pub fn start(dir: &Path) -> RedisProc {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(dir, port)
    }

    /// Starts Redis on `port` (to restart one on the same port and files).
    pub fn start_on(dir: &Path, port: u16) -> RedisProc {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--dir",
            ])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server is needed (`.ci/run` installs Debian's redis-server): {e}")
            });
        let proc = RedisProc {
            child,
            port,
            dir: dir.to_owned(),
        };
        let start = std::time::Instant::now();
        while !proc.answers() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        proc
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Whether it answers PING.
    pub fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 16];
        s.write_all(b"PING\r\n").is_ok()
            && s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
    }

    /// SIGKILL, then a new server on the same port and files.
    pub fn kill9_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL redis");
        self.child.wait().expect("reap redis");
        let next = RedisProc::start_on(&self.dir, self.port);
        let old = std::mem::replace(self, next);
        std::mem::forget(old);
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
