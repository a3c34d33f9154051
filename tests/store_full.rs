//! A disk that fills up while games run: the real binary with a file-size limit
//! (`RLIMIT_FSIZE`, SIGXFSZ ignored, so writes past it fail with EFBIG the way a full disk
//! fails them). The store's failure halts the affected game with a clear `error`
//! (`store_unavailable`) to its clients, never a panic; a restart without the limit finds
//! every game that was committed.

mod common;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_werewolf-hub");

/// Starts the hub on `dir`; with `limit`, every file it writes is capped at that many bytes.
fn spawn(dir: &Path, limit: Option<u64>) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut cmd = Command::new(BIN);
    cmd.env("WS_HOST", "127.0.0.1")
        .env("WS_PORT", "0")
        .env("RUST_LOG", "warn")
        .env("HUB_STORE", "sqlite")
        .env("HUB_DATA_DIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(bytes) = limit {
        // SAFETY: only async-signal-safe libc calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let rl = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().expect("hub starts");
    let stderr = child.stderr.take().expect("piped");
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    let addr = loop {
        line.clear();
        let n = reader.read_line(&mut line).expect("read hub log");
        assert!(n > 0, "hub exited before listening");
        if let Some(rest) = line.trim().strip_prefix("werewolf-hub listening on ") {
            break rest.to_owned();
        }
    };
    let rest = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = reader.read_to_string(&mut text);
        text
    });
    (child, addr, rest)
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "store-full-{label}-{}-{}",
        std::process::id(),
        common::PATIENCE.as_nanos()
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

async fn create(http: &reqwest::Client, addr: &str, seed: u64) -> (u16, Value) {
    let names: Vec<String> = (0..5)
        .map(|i| format!("player-{seed}-{i}-{}", "x".repeat(40)))
        .collect();
    let resp = http
        .post(format!("http://{addr}/games"))
        .json(&json!({"preset": "aiwolf5", "seed": seed, "players": names, "auto_start": false}))
        .send()
        .await
        .expect("POST /games");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_halts_the_game_with_a_clear_error_and_a_restart_recovers_what_was_committed() {
    let dir = temp_dir("efbig");
    let (mut hub, addr, log) = spawn(&dir, Some(384 * 1024));
    let http = reqwest::Client::new();

    // A game with a public viewer, created while there is room.
    let (status, game) = create(&http, &addr, 1).await;
    assert_eq!(status, 201, "{game}");
    let game_id = game["game_id"].as_str().expect("game_id").to_owned();
    let url = format!("ws://{addr}/ws/viewer?client_type=ui&game_id={game_id}");
    let (mut viewer, _) = tokio_tungstenite::connect_async(url).await.expect("viewer");
    let welcome = common::recv_json(&mut viewer).await;
    assert_eq!(welcome["message_type"], "connection", "{welcome}");

    // Fill the store until a creation is refused: 503 with the store's reason.
    let mut created = vec![game_id.clone()];
    let refusal = loop {
        let (status, body) = create(&http, &addr, created.len() as u64 + 1).await;
        match status {
            201 => created.push(body["game_id"].as_str().expect("id").to_owned()),
            _ => break (status, body),
        }
        assert!(created.len() < 5_000, "the file-size limit never bit");
    };
    eprintln!(
        "store full after {} games: {} {}",
        created.len(),
        refusal.0,
        refusal.1
    );
    assert_eq!(refusal.0, 503, "{}", refusal.1);
    let reason = refusal.1["error"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("could not be stored"), "{reason}");

    // Starting the first game needs a commit: it fails, the game halts, its viewer is told.
    let start = http
        .post(format!("http://{addr}/games/{game_id}/start"))
        .send()
        .await
        .expect("POST start");
    let start_status = start.status().as_u16();
    let start_body: Value = start.json().await.unwrap_or(Value::Null);
    eprintln!("start: {start_status} {start_body}");
    assert_eq!(
        start_status, 503,
        "a start that cannot be logged must not succeed: {start_body}"
    );
    assert!(
        start_body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("halted"),
        "{start_body}"
    );
    let error = loop {
        let frame = common::recv_json(&mut viewer).await;
        if frame["message_type"] == "error" {
            break frame;
        }
    };
    assert_eq!(error["code"], "store_unavailable", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("halted"),
        "{error}"
    );
    // The hub itself is fine.
    let health = http
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status().as_u16(), 200);

    hub.kill().expect("kill");
    let _ = hub.wait();
    let stderr = log.join().unwrap_or_default();
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Without the limit, every committed game is back; the halted start was not committed.
    let (mut hub, addr, log) = spawn(&dir, None);
    let games: Vec<Value> = http
        .get(format!("http://{addr}/games"))
        .send()
        .await
        .expect("GET /games")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = games.iter().filter_map(|g| g["game_id"].as_str()).collect();
    for id in &created {
        assert!(ids.contains(&id.as_str()), "{id} lost: {ids:?}");
    }
    let first = games
        .iter()
        .find(|g| g["game_id"] == game_id.as_str())
        .expect("first game back");
    assert_eq!(first["phase"], "lobby", "{first}");
    hub.kill().expect("kill");
    let _ = hub.wait();
    let stderr = log.join().unwrap_or_default();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
