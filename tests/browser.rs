//! The spectator pages (issue 10) in a real browser: Debian's headless Chromium driven through
//! chromedriver with fantoccini, against an in-process hub on 127.0.0.1, while bots play
//! games over real sockets.
//!
//! Needs `/usr/bin/chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`;
//! `.ci/run` installs them). Without them every test here fails and says how to install them:
//! a missing prerequisite is never a pass.
//!
//! Screenshots land in `target/tmp/browser/`; `UPDATE_SCREENSHOTS=1 cargo test --test browser`
//! also refreshes `docs/spectator-live.png` and `docs/spectator-replay.png`.
//!
//! The tests take one browser at a time (a lock): each Chromium wants most of a core.

mod common;

use common::hub_with;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use werewolf_client::{
    Agent, ClientError, CreatedGame, Decision, Hub, Knowledge, RandomStrategy, Strategy,
};
use werewolf_schemas::{
    ActionKind, ActionResultBody, GameOverBody, GameStateBody, ResultKind, Role, ServerMessage,
    Winner,
};
use werewolf_server::RunningHub;

/// The browser Debian installs (a wrapper script around /usr/lib/chromium/chromium).
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a page gets to show something that is already true on the server.
const PAGE_PATIENCE: Duration = Duration::from_secs(15);
/// How long a paced bot game may take.
const GAME_PATIENCE: Duration = Duration::from_secs(120);
/// Every role name. Before game over none may appear in the public page's seats, transcript,
/// votes or deaths, nor be added anywhere to what the page showed before roles were dealt
/// (its static copy and the preset's composition may name roles).
const ROLE_WORDS: &[&str] = &[
    "werewolf",
    "werewolves",
    "wolves",
    "seer",
    "doctor",
    "villager",
    "possessed",
    "medium",
    "witch",
    "hunter",
];
/// In every whisper the test's werewolves send: found on the full view, never on the public.
const WHISPER_MARKER: &str = "keep it quiet, pack";
/// In every talk line of the test's bots (which never name a role).
const TALK_MARKER: &str = "hunch";
/// In every bot answer's private `reasoning`: never on a page while the game runs, shown by
/// a finished game's replay.
const REASONING_MARKER: &str = "my private chain of thought";

/// One browser at a time.
static BROWSER_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------------

/// Records, from before any page script runs, every WebSocket the page opens and every text
/// frame it receives (installed with CDP `Page.addScriptToEvaluateOnNewDocument`).
const RECORDER: &str = r#"(() => {
  if (window.__hubTest) return;
  window.__hubTest = { sockets: [], frames: [] };
  const Native = window.WebSocket;
  window.WebSocket = new Proxy(Native, {
    construct(target, args) {
      const ws = Reflect.construct(target, args);
      window.__hubTest.sockets.push(String(args[0]));
      ws.addEventListener('message', ev => {
        if (typeof ev.data === 'string') window.__hubTest.frames.push(ev.data);
      });
      return ws;
    }
  });
})();"#;

/// What the page shows, through the data-* hooks, in one round trip.
const SNAPSHOT: &str = r#"
const SETUP = '[data-testid=setup], #setup';
const q = s => Array.from(document.querySelectorAll(s));
const one = s => document.querySelector(s);
const shown = e => !!e && e.getClientRects().length > 0 && e.textContent.trim() !== '';
const winner = one('[data-testid=winner]');
return {
  seats: q('[data-seat]').map(e => ({
    id: e.getAttribute('data-seat'),
    alive: e.getAttribute('data-alive'),
    role: e.getAttribute('data-role'),
    text: e.textContent,
  })),
  talk: q('[data-testid=transcript] [data-kind=talk]').map(e => e.textContent.trim()),
  whispers: q('[data-testid=whispers] [data-kind=whisper]').map(e => e.textContent.trim()),
  any_whisper: q('[data-kind=whisper]').length,
  tallies: q('[data-testid=votes] [data-kind=tally]').length,
  deaths: q('[data-testid=deaths] [data-kind=death]').map(e => e.textContent.trim()),
  winner: shown(winner) ? winner.textContent.trim() : null,
  view: one('[data-testid=view]') ? one('[data-testid=view]').textContent.trim() : null,
  seq: one('[data-testid=seq]') ? one('[data-testid=seq]').textContent.trim() : null,
  role_attrs: q('[data-role]').length,
  secrets: q('[data-kind=secret]').length,
  // where the game unfolds: nothing here may name a role before game over
  unfolding: q('[data-seat], [data-testid=transcript], [data-testid=votes], [data-testid=deaths], [data-testid=turn], [data-testid=phase]')
    .map(e => e.outerHTML).join('\n'),
  html: document.documentElement.outerHTML,
  // the game's public setup line ("arena8: 2 werewolves, 1 seer, …") names roles by design
  setup: q(SETUP).map(e => e.textContent).join(' '),
  html_less_setup: (() => {
    const copy = document.documentElement.cloneNode(true);
    copy.querySelectorAll(SETUP).forEach(e => e.remove());
    return copy.outerHTML;
  })(),
  body: document.body ? document.body.innerText : '',
};"#;

/// chromedriver (in a process group of its own, with the Chromium it starts) and one session.
struct Browser {
    client: Option<Client>,
    /// chromedriver's base URL.
    driver_url: String,
    session: String,
    driver: Child,
    profile: PathBuf,
}

/// Where this test binary keeps screenshots and logs.
fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).expect("create target/tmp/browser");
    dir
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("addr")
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium of `width`×`height`.
    async fn start(width: u32, height: u32) -> Browser {
        let chromedriver = find_in_path("chromedriver");
        if !Path::new(CHROMIUM).is_file() || chromedriver.is_none() {
            panic!(
                "the browser tests need Debian's Chromium and chromedriver ({CHROMIUM} found: {}, \
                 chromedriver on PATH: {}). Install them with \
                 `sudo apt-get install chromium chromium-driver` (.ci/run does it in CI); \
                 these tests fail rather than skip without them",
                Path::new(CHROMIUM).is_file(),
                chromedriver.is_some(),
            );
        }
        let port = free_port();
        // one log per test (the test harness names the thread after the test)
        let test = std::thread::current()
            .name()
            .unwrap_or("browser")
            .replace("::", "-");
        let log = std::fs::File::create(out_dir().join(format!("chromedriver-{test}.log")))
            .expect("chromedriver log file");
        let driver = Command::new(chromedriver.expect("checked"))
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            // Its own process group: Drop kills chromedriver and its Chromium together.
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let driver_url = format!("http://127.0.0.1:{port}");
        let profile = std::env::temp_dir().join(format!(
            "werewolf-hub-chromium-{}-{port}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("profile dir");
        let mut browser = Browser {
            client: None,
            driver_url,
            session: String::new(),
            driver,
            profile,
        };

        let http = reqwest::Client::new();
        let deadline = Instant::now() + PAGE_PATIENCE;
        loop {
            let ready = http
                .get(format!("{}/status", browser.driver_url))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if ready.is_some() {
                break;
            }
            if let Ok(Some(status)) = browser.driver.try_wait() {
                panic!("chromedriver exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "chromedriver never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", browser.profile.display()),
                    format!("--window-size={width},{height}"),
                ],
            },
            // Console messages and failed loads, read back through chromedriver's log endpoint.
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&browser.driver_url)
            .await
            .expect("a Chromium session through chromedriver");
        browser.session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        browser.client = Some(client);
        browser.resize(width, height).await;
        // the exact viewport (the window size includes chrome); a phone width emulates a
        // mobile device, so the page's `<meta name=viewport>` applies
        browser
            .chromium_command(
                "goog/cdp/execute",
                json!({"cmd": "Emulation.setDeviceMetricsOverride",
                       "params": {"width": width, "height": height, "deviceScaleFactor": 1,
                                  "mobile": width < 600}}),
            )
            .await;
        browser
            .chromium_command(
                "goog/cdp/execute",
                json!({"cmd": "Page.addScriptToEvaluateOnNewDocument",
                       "params": {"source": RECORDER}}),
            )
            .await;
        browser
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("session open")
    }

    /// A chromedriver command fantoccini has no method for (`POST /session/{id}/{path}`).
    async fn chromium_command(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.driver_url, self.session);
        let resp = reqwest::Client::new()
            .post(&url)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = resp.status();
        let v: Value = resp.json().await.expect("chromedriver answers JSON");
        assert!(status.is_success(), "POST {url}: {status} {v}");
        v["value"].clone()
    }

    async fn resize(&self, width: u32, height: u32) {
        self.c()
            .set_window_size(width, height)
            .await
            .expect("set window size");
    }

    async fn goto(&self, url: &str) {
        self.c()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    async fn js(&self, script: &str) -> Value {
        self.c()
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    async fn snapshot(&self) -> Snapshot {
        serde_json::from_value(self.js(SNAPSHOT).await).expect("snapshot shape")
    }

    /// Polls the page until `pred` holds; panics with `what` and the page's text otherwise.
    async fn wait_for(&self, what: &str, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
        let deadline = Instant::now() + PAGE_PATIENCE;
        loop {
            let snap = self.snapshot().await;
            if pred(&snap) {
                return snap;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                panic!(
                    "the page never showed {what} within {PAGE_PATIENCE:?} \
                     (screenshot: target/tmp/browser/timeout.png); its text:\n{}",
                    clip(&snap.body, 3000)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `css` matches an element.
    async fn wait_for_css(&self, css: &str, what: &str) {
        let deadline = Instant::now() + PAGE_PATIENCE;
        let script = format!("return document.querySelectorAll({}).length", json!(css));
        loop {
            if self.js(&script).await.as_u64().unwrap_or(0) > 0 {
                return;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                panic!(
                    "the page never showed {what} ({css}) within {PAGE_PATIENCE:?}; its text:\n{}",
                    clip(&self.snapshot().await.body, 3000)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click_css(&self, css: &str) {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn click(&self, testid: &str) {
        self.click_css(&format!("[data-testid={testid}]")).await;
    }

    /// Saves a PNG under target/tmp/browser/ (and under docs/ with UPDATE_SCREENSHOTS).
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.c().screenshot().await.expect("screenshot");
        let path = out_dir().join(format!("{name}.png"));
        std::fs::write(&path, &png).expect("write screenshot");
        path
    }

    async fn publish_screenshot(&self, name: &str, docs_name: &str) {
        let path = self.screenshot(name).await;
        if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
            let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
            std::fs::create_dir_all(&docs).expect("docs/");
            std::fs::copy(&path, docs.join(docs_name)).expect("copy screenshot to docs/");
        }
    }

    /// What the browser fetched (resource timing: scripts, styles, fetch/XHR) and the
    /// WebSocket URLs the page opened.
    async fn fetched(&self) -> (Vec<String>, Vec<String>) {
        let v = self
            .js(
                "return {resources: performance.getEntriesByType('resource').map(e => e.name),
                         sockets: (window.__hubTest || {sockets: []}).sockets};",
            )
            .await;
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .expect("array")
                .iter()
                .map(|s| s.as_str().expect("url").to_owned())
                .collect()
        };
        (strings(&v["resources"]), strings(&v["sockets"]))
    }

    /// The WebSocket text frames the current page received, in order.
    async fn frames(&self) -> Vec<Value> {
        let v = self
            .js("return (window.__hubTest || {frames: []}).frames;")
            .await;
        v.as_array()
            .expect("frames")
            .iter()
            .map(|f| serde_json::from_str(f.as_str().expect("text")).expect("frames are JSON"))
            .collect()
    }

    /// Console errors, uncaught exceptions and failed loads since the last call (Chromium's
    /// log through chromedriver; SEVERE entries).
    async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .chromium_command("se/log", json!({"type": "browser"}))
            .await;
        entries
            .as_array()
            .expect("log entries")
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Asserts a clean console, then ends the session and chromedriver.
    async fn finish(mut self) {
        let errors = self.console_errors().await;
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
        assert!(
            errors.is_empty(),
            "the browser console has errors: {errors:#?}"
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and every Chromium process it started share the group we made.
        // SAFETY: kill(2) on a process group this test created; no memory is involved.
        unsafe {
            libc::kill(-(self.driver.id() as i32), libc::SIGKILL);
        }
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

#[derive(Debug, serde::Deserialize)]
struct Seat {
    id: Option<String>,
    alive: Option<String>,
    role: Option<String>,
    text: String,
}

#[derive(Debug, serde::Deserialize)]
struct Snapshot {
    seats: Vec<Seat>,
    talk: Vec<String>,
    whispers: Vec<String>,
    any_whisper: usize,
    tallies: usize,
    deaths: Vec<String>,
    winner: Option<String>,
    view: Option<String>,
    seq: Option<String>,
    role_attrs: usize,
    secrets: usize,
    unfolding: String,
    html: String,
    setup: String,
    html_less_setup: String,
    body: String,
}

impl Snapshot {
    fn seat_ids(&self) -> BTreeSet<String> {
        self.seats.iter().filter_map(|s| s.id.clone()).collect()
    }

    /// The first number in `[data-testid=seq]`.
    fn seq_number(&self) -> Option<u64> {
        let text = self.seq.as_deref()?;
        let digits: String = text
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// How often each role name occurs in `html` (the product's own name aside).
fn role_word_counts(html: &str) -> BTreeMap<&'static str, usize> {
    let lower = html.to_lowercase().replace("werewolf-hub", "");
    ROLE_WORDS
        .iter()
        .map(|w| (*w, lower.matches(w).count()))
        .collect()
}

/// Role names in `text`.
fn role_words_in(text: &str) -> Vec<&'static str> {
    role_word_counts(text)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(w, _)| w)
        .collect()
}

/// A few characters around the first occurrence of `word` (for failure messages).
fn around(html: &str, word: &str) -> String {
    let lower = html.to_lowercase().replace("werewolf-hub", "           ");
    match lower.find(word) {
        Some(i) => {
            let start = lower[..i]
                .char_indices()
                .rev()
                .nth(120)
                .map_or(0, |(j, _)| j);
            let end = lower[i..]
                .char_indices()
                .nth(120)
                .map_or(lower.len(), |(j, _)| i + j);
            lower[start..end].to_owned()
        }
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Games
// ---------------------------------------------------------------------------------------------

fn http_base(hub: &RunningHub) -> String {
    format!("http://{}", hub.addr())
}

async fn create(hub: &RunningHub, preset: &str, seed: u64, action_timeout_ms: u64) -> CreatedGame {
    let seats = match preset {
        "classic9" => 9,
        "arena8" => 8,
        "aiwolf5" => 5,
        other => panic!("no seat count for {other}"),
    };
    let names: Vec<String> = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy"]
        .iter()
        .take(seats)
        .map(|s| s.to_string())
        .collect();
    Hub::new(&http_base(hub))
        .expect("valid hub URL")
        .create_game(&json!({
            "preset": preset,
            "seed": seed,
            "players": names,
            "talk_rounds": 1,
            "action_timeout_ms": action_timeout_ms,
        }))
        .await
        .expect("create a game")
}

/// A bot that waits `pace` before each answer (so a page can watch the game unfold), talks
/// without naming any role, and as a werewolf whispers to the pack before attacking.
async fn paced_bot(
    mut agent: Agent,
    seed: u64,
    pace: Duration,
    over_flag: Arc<AtomicBool>,
) -> Result<GameOverBody, ClientError> {
    let mut strategy = RandomStrategy::new(seed);
    let mut state: Option<GameStateBody> = None;
    let mut last_result: Option<ActionResultBody> = None;
    loop {
        let (_, frame) = agent.recv().await?;
        match frame.message {
            ServerMessage::GameState(s) => state = Some(s),
            ServerMessage::ActionResult(r)
                if matches!(
                    r.action,
                    ResultKind::Divine | ResultKind::Medium | ResultKind::Witch
                ) =>
            {
                last_result = Some(r)
            }
            ServerMessage::ActionRequest(request) => {
                tokio::time::sleep(pace).await;
                if request.action == ActionKind::Attack {
                    let target = request
                        .candidates
                        .first()
                        .map(|c| c.player_id.clone())
                        .unwrap_or_default();
                    let text = format!("{target} tonight? And {WHISPER_MARKER}.");
                    agent
                        .send(json!({"message_type": "agent_message", "channel": "wolves",
                                     "message_text": text}))
                        .await?;
                }
                let decision = match request.action {
                    ActionKind::Talk => {
                        let others: Vec<&str> = state
                            .iter()
                            .flat_map(|s| &s.players)
                            .filter(|p| p.alive && p.id != agent.player_id)
                            .map(|p| p.id.as_str())
                            .collect();
                        let day = state.as_ref().map_or(0, |s| s.day as usize);
                        let other = others
                            .get((seed as usize + day) % others.len().max(1))
                            .copied()
                            .unwrap_or("someone");
                        Decision::Talk(match seed % 3 {
                            0 => format!("I have a {TALK_MARKER} about {other}."),
                            1 => format!("{other} has been too quiet. Just a {TALK_MARKER}."),
                            _ => format!("No proof, but my {TALK_MARKER} says {other}."),
                        })
                    }
                    _ => strategy.decide(
                        &request,
                        &Knowledge {
                            state: state.as_ref(),
                            last_result: last_result.as_ref(),
                        },
                    ),
                };
                let mut reply = decision.reply_to(&request);
                reply["reasoning"] = json!(format!("{REASONING_MARKER}, seat {seed}"));
                agent.send(reply).await?;
            }
            ServerMessage::GameOver(over) => {
                over_flag.store(true, Ordering::SeqCst);
                return Ok(over);
            }
            _ => {}
        }
    }
}

/// Seats a paced bot on every seat; the game starts once all are connected.
struct Bots {
    tasks: Vec<tokio::task::JoinHandle<Result<GameOverBody, ClientError>>>,
    over: Arc<AtomicBool>,
}

impl Bots {
    async fn seat(hub: &RunningHub, game: &CreatedGame, pace: Duration) -> Bots {
        let client = Hub::new(&http_base(hub)).expect("valid hub URL");
        let over = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for (i, s) in game.players.iter().enumerate() {
            let agent = client
                .connect_agent(&game.game_id, &s.player_id, &s.token)
                .await
                .expect("agent connects");
            tasks.push(tokio::spawn(paced_bot(agent, i as u64, pace, over.clone())));
        }
        Bots { tasks, over }
    }

    fn over(&self) -> bool {
        self.over.load(Ordering::SeqCst)
    }

    async fn finish(self) -> GameOverBody {
        let mut result = None;
        for t in self.tasks {
            let over = tokio::time::timeout(GAME_PATIENCE, t)
                .await
                .expect("the game ends in time")
                .expect("bot task")
                .expect("bot plays to the end");
            result = Some(over);
        }
        result.expect("at least one bot")
    }
}

/// Plays a game to its end at full speed, no page open.
async fn play_finished_game(
    hub: &RunningHub,
    preset: &str,
    seed: u64,
) -> (CreatedGame, GameOverBody) {
    let game = create(hub, preset, seed, 2_000).await;
    let over = Bots::seat(hub, &game, Duration::ZERO).await.finish().await;
    (game, over)
}

fn winner_word(w: &Winner) -> &'static str {
    match w {
        Winner::Villagers => "villager",
        Winner::Werewolves => "wol",
        Winner::Draw => "draw",
        _ => "",
    }
}

fn role_name(r: &Role) -> String {
    serde_json::to_value(r)
        .expect("role")
        .as_str()
        .expect("a role is a string")
        .to_owned()
}

/// `GET /games/{id}/events?view=…` as JSON lines.
async fn events(hub: &RunningHub, game_id: &str, view: &str) -> Vec<Value> {
    let text = reqwest::get(format!(
        "{}/games/{game_id}/events?view={view}",
        http_base(hub)
    ))
    .await
    .expect("events")
    .text()
    .await
    .expect("body");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Runs a test body with the browser lock held.
async fn one_browser_at_a_time<F: Future<Output = ()>>(body: F) {
    let _turn = BROWSER_LOCK.lock().await;
    body.await;
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// A seeded classic9 game played by bots over real sockets while the public table is open:
/// the page shows every seat, talk, a vote tally, deaths, the winner, and at the end every
/// role (matching the engine's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_table_follows_a_bot_game_to_its_end() {
    one_browser_at_a_time(async {
        let hub = hub_with(&[]).await;
        let game = create(&hub, "classic9", 4, 5_000).await;
        let b = Browser::start(1200, 900).await;
        b.goto(&format!("{}/games/{}", http_base(&hub), game.game_id))
            .await;
        let ids: BTreeSet<String> = game.players.iter().map(|p| p.player_id.clone()).collect();
        let before = b
            .wait_for("a seat for every player before the game starts", |s| {
                s.seat_ids() == ids
            })
            .await;
        for p in &game.players {
            let seat = before
                .seats
                .iter()
                .find(|s| s.id.as_deref() == Some(p.player_id.as_str()))
                .expect("seat");
            assert!(
                seat.text.contains(&p.name),
                "seat {} does not show the name {}: {:?}",
                p.player_id,
                p.name,
                seat.text
            );
        }

        let bots = Bots::seat(&hub, &game, Duration::from_millis(120)).await;
        let mut mid_game_shot = false;
        let deadline = Instant::now() + GAME_PATIENCE;
        let snap = loop {
            let snap = b.snapshot().await;
            if !mid_game_shot && snap.tallies > 0 && snap.winner.is_none() {
                b.screenshot("live-public-mid-game").await;
                mid_game_shot = true;
            }
            if snap.winner.is_some() {
                break snap;
            }
            assert!(
                Instant::now() < deadline,
                "no winner shown in time; page text:\n{}",
                clip(&snap.body, 3000)
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        };
        let over = bots.finish().await;

        assert_eq!(snap.seat_ids(), ids, "one seat per player_id");
        assert!(!snap.talk.is_empty(), "no talk line in the transcript");
        assert!(
            snap.talk.iter().any(|t| t.contains(TALK_MARKER)),
            "the transcript does not show what the bots said: {:?}",
            snap.talk
        );
        assert!(snap.tallies > 0, "no vote tally shown");
        assert!(!snap.deaths.is_empty(), "no death shown");
        let winner = snap.winner.clone().expect("winner shown").to_lowercase();
        assert!(
            winner.contains(winner_word(&over.winner)),
            "winner banner `{winner}` does not say {:?}",
            over.winner
        );
        // the last frames may land a moment after the winner banner
        let snap = b
            .wait_for("a data-role on every seat at game over", |s| {
                s.seats.iter().all(|seat| seat.role.is_some())
            })
            .await;
        b.screenshot("live-public-game-over").await;
        let truth: BTreeMap<String, String> = over
            .roles
            .iter()
            .map(|(p, r)| (p.clone(), role_name(r)))
            .collect();
        let shown: BTreeMap<String, String> = snap
            .seats
            .iter()
            .map(|s| {
                (
                    s.id.clone().unwrap_or_default(),
                    s.role.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(shown, truth, "roles revealed at game over");
        // who is dead on the page is who is dead in the game
        let state: Value = common::get_json(&hub, &format!("/games/{}", game.game_id)).await;
        for p in state["players"].as_array().expect("players") {
            let id = p["id"].as_str().expect("id");
            let seat = snap
                .seats
                .iter()
                .find(|s| s.id.as_deref() == Some(id))
                .expect("seat");
            assert_eq!(
                seat.alive.as_deref(),
                Some(if p["alive"] == true { "true" } else { "false" }),
                "data-alive of {id}"
            );
        }
        b.finish().await;
    })
    .await;
}

/// The contract: the public page never holds, in its DOM or in what it fetched, anything the
/// public may not know — no role (attribute or name), no whisper — until the game is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_page_holds_no_secret_before_game_over() {
    one_browser_at_a_time(async {
        let hub = hub_with(&[]).await;
        // arena8: no hunter or witch, so no public death cause names a role
        let game = create(&hub, "arena8", 7, 5_000).await;
        let b = Browser::start(1200, 900).await;
        b.goto(&format!("{}/games/{}", http_base(&hub), game.game_id))
            .await;
        b.wait_for("the seats and the setup line", |s| {
            s.seats.len() == game.players.len() && !s.setup.trim().is_empty()
        })
        .await;
        // Static copy may name roles ("what every villager knows"): what the page shows
        // before any role is dealt is the baseline, and no role name may be added to it.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let first = b.snapshot().await;
        assert!(
            first.view.as_deref().is_some_and(|v| v.contains("public")),
            "[data-testid=view] does not say public: {:?}",
            first.view
        );
        let baseline = role_word_counts(&first.html_less_setup);
        let bots = Bots::seat(&hub, &game, Duration::from_millis(100)).await;

        let mut checked = 0;
        let mut saw_talk = false;
        let deadline = Instant::now() + GAME_PATIENCE;
        loop {
            let over_before = bots.over();
            let snap = b.snapshot().await;
            if snap.winner.is_some() || over_before {
                break;
            }
            checked += 1;
            saw_talk |= !snap.talk.is_empty();
            assert_eq!(
                snap.role_attrs, 0,
                "a data-role attribute on the public page before game over"
            );
            for seat in &snap.seats {
                assert!(
                    seat.role.is_none(),
                    "seat {:?} shows a role before game over",
                    seat.id
                );
            }
            // role names only in the setup line (the preset's composition, public), which
            // names no player
            let words = role_words_in(&snap.unfolding);
            assert!(
                words.is_empty(),
                "role names {words:?} in the seats, transcript, votes or deaths before game \
                 over, e.g. …{}…",
                around(&snap.unfolding, words[0])
            );
            let now = role_word_counts(&snap.html_less_setup);
            let added: Vec<_> = now
                .iter()
                .filter(|(w, n)| **n > baseline[*w])
                .map(|(w, _)| *w)
                .collect();
            assert!(
                added.is_empty(),
                "role names {added:?} appeared in the public DOM during the game, e.g. …{}…",
                around(&snap.html_less_setup, added[0])
            );
            for p in &game.players {
                assert!(
                    !snap.setup.contains(&p.player_id) && !snap.setup.contains(&p.name),
                    "the setup line names a player: {}",
                    snap.setup
                );
            }
            assert_eq!(snap.any_whisper, 0, "a whisper element on the public page");
            assert_eq!(snap.secrets, 0, "a night action on the public page");
            assert!(
                !snap.html.contains(WHISPER_MARKER),
                "a wolf whisper's text is in the public DOM"
            );
            assert!(
                !snap.html.contains(REASONING_MARKER),
                "private reasoning is in the public DOM while the game runs"
            );
            assert!(Instant::now() < deadline, "the game did not end in time");
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        bots.finish().await;
        assert!(
            checked >= 10,
            "only {checked} DOM snapshots before game over: the check proves little"
        );
        assert!(
            saw_talk,
            "the game's talk never showed while the DOM was checked"
        );

        let (resources, sockets) = b.fetched().await;
        assert!(!sockets.is_empty(), "the page opened no WebSocket");
        assert!(
            resources.iter().any(|u| u.contains("/assets/game.js")),
            "resource timing lists no /assets/game.js: {resources:?}"
        );
        for url in resources.iter().chain(&sockets) {
            let lower = url.to_lowercase();
            for secret in ["token=", "view=full", "view=seat", "client_type=agent"] {
                assert!(
                    !lower.contains(secret),
                    "the public page fetched a token-gated URL: {url}"
                );
            }
        }
        // every frame the page received before game_over is free of roles and whispers
        let frames = b.frames().await;
        assert!(!frames.is_empty(), "the page's socket received nothing");
        for f in frames
            .iter()
            .take_while(|f| f["message_type"] != "game_over")
        {
            let text = f.to_string();
            assert!(
                !text.contains("\"role\":\"")
                    && !text.contains("\"you\"")
                    && !text.contains("\"wolves\""),
                "the public page received a secret before game over: {text}"
            );
        }
        b.finish().await;
    })
    .await;
}

/// With the observer token the page shows the full view: roles from the start and the
/// werewolves' whispers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_view_shows_roles_and_a_wolf_whisper() {
    one_browser_at_a_time(async {
        let hub = hub_with(&[]).await;
        let game = create(&hub, "classic9", 4, 5_000).await;
        let b = Browser::start(1200, 900).await;
        b.goto(&format!(
            "{}/games/{}?token={}",
            http_base(&hub),
            game.game_id,
            game.observer_token
        ))
        .await;
        b.wait_for("the seats", |s| s.seats.len() == game.players.len())
            .await;
        let bots = Bots::seat(&hub, &game, Duration::from_millis(150)).await;

        let snap = b
            .wait_for("a wolf whisper in [data-testid=whispers]", |s| {
                s.whispers.iter().any(|w| w.contains(WHISPER_MARKER))
            })
            .await;
        assert!(
            snap.view.as_deref().is_some_and(|v| v.contains("full")),
            "[data-testid=view] does not say full: {:?}",
            snap.view
        );
        let roles_before_end = snap
            .seats
            .iter()
            .map(|s| (s.id.clone().unwrap_or_default(), s.role.clone()))
            .collect::<BTreeMap<_, _>>();
        let over_when_seen = bots.over();
        // a frame later, mid-game, for the docs
        b.wait_for("a talk line in the full view", |s| !s.talk.is_empty())
            .await;
        if !bots.over() {
            b.publish_screenshot("live-full-mid-game", "spectator-live.png")
                .await;
        }
        let over = bots.finish().await;
        assert!(
            !over_when_seen,
            "the whisper only showed after the game ended"
        );
        for (player, role) in &over.roles {
            assert_eq!(
                roles_before_end.get(player).cloned().flatten(),
                Some(role_name(role)),
                "the full view's data-role of {player} before game over"
            );
        }
        b.wait_for("the winner", |s| s.winner.is_some()).await;
        b.finish().await;
    })
    .await;
}

/// A finished game's replay opens at `?seq=N` and steps forward and back one frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_steps_to_a_given_seq() {
    one_browser_at_a_time(async {
        let hub = hub_with(&[]).await;
        let (game, _) = play_finished_game(&hub, "classic9", 4).await;
        let b = Browser::start(1200, 900).await;
        let base = format!("{}/games/{}", http_base(&hub), game.game_id);

        // the page says which stream it replays; N and N+1 are seqs of that stream
        b.goto(&format!("{base}?seq=1")).await;
        let first = b
            .wait_for("[data-testid=view] and [data-testid=seq]", |s| {
                s.view.is_some() && s.seq_number().is_some()
            })
            .await;
        let view = if first.view.as_deref().is_some_and(|v| v.contains("full")) {
            "full"
        } else {
            "public"
        };
        let lines = events(&hub, &game.game_id, view).await;
        let seqs: Vec<u64> = lines.iter().filter_map(|l| l["seq"].as_u64()).collect();
        assert!(seqs.len() > 20, "a short game: {} frames", seqs.len());
        let n = seqs[seqs.len() / 2];
        let next = *seqs.iter().find(|&&s| s > n).expect("a later frame");
        let talks_up_to = |seq: u64| {
            lines
                .iter()
                .filter(|l| {
                    l["message_type"] == "agent_message"
                        && l["channel"] != "wolves"
                        && l["seq"].as_u64().is_some_and(|s| s <= seq)
                })
                .count()
        };

        b.goto(&format!("{base}?seq={n}")).await;
        let at_n = b
            .wait_for(&format!("seq {n}"), |s| s.seq_number() == Some(n))
            .await;
        assert_eq!(
            at_n.talk.len(),
            talks_up_to(n),
            "talk lines shown at seq {n} ({view} view)"
        );
        assert!(
            at_n.winner.is_none(),
            "the winner is shown mid-replay at seq {n}"
        );
        b.publish_screenshot("replay", "spectator-replay.png").await;

        b.click("step-forward").await;
        b.wait_for(&format!("seq {next} after step-forward"), |s| {
            s.seq_number() == Some(next)
        })
        .await;
        let url = b.c().current_url().await.expect("url");
        assert!(
            url.query()
                .unwrap_or_default()
                .contains(&format!("seq={next}")),
            "the shareable URL does not follow the replay: {url}"
        );
        b.click("step-back").await;
        b.wait_for(&format!("seq {n} after step-back"), |s| {
            s.seq_number() == Some(n)
        })
        .await;

        // the other controls are there; play moves on by itself
        // jump: the select's options are seqs of phase changes
        let jump_to = b
            .js(
                "const o = Array.from(document.querySelectorAll('[data-testid=jump] option'))
                   .map(o => o.value).filter(v => /^[0-9]+$/.test(v));
                 return o.length ? o[Math.floor(o.length / 3)] : null;",
            )
            .await;
        let jump_to = jump_to
            .as_str()
            .expect("[data-testid=jump] has seq options")
            .to_owned();
        b.c()
            .find(Locator::Css("[data-testid=jump]"))
            .await
            .expect("jump select")
            .select_by_value(&jump_to)
            .await
            .expect("select a jump target");
        let jump_seq: u64 = jump_to.parse().expect("a seq");
        b.wait_for(&format!("seq {jump_seq} after a jump"), |s| {
            s.seq_number() == Some(jump_seq)
        })
        .await;
        b.goto(&format!("{base}?seq={n}")).await;
        b.wait_for(&format!("seq {n}"), |s| s.seq_number() == Some(n))
            .await;

        for control in ["play", "speed", "jump"] {
            b.c()
                .find(Locator::Css(&format!("[data-testid={control}]")))
                .await
                .unwrap_or_else(|_| panic!("no replay control [data-testid={control}]"));
        }
        b.click("play").await;
        b.wait_for("play to advance the replay", |s| {
            s.seq_number().is_some_and(|s| s > n)
        })
        .await;
        b.click("play").await;

        // At the end, the players' private reasoning is part of the replay, labelled.
        let last = *seqs.last().expect("frames");
        b.goto(&format!("{base}?seq={last}")).await;
        let end = b
            .wait_for("the reasoning lines at the end of the replay", |s| {
                s.seq_number() == Some(last) && s.html.contains(REASONING_MARKER)
            })
            .await;
        assert!(
            end.html.contains("reasoning (private during the game)"),
            "reasoning lines are labelled as private"
        );
        let stored = events(&hub, &game.game_id, "reasoning").await;
        assert!(
            stored.iter().all(|l| l["text"]
                .as_str()
                .is_some_and(|t| t.starts_with(REASONING_MARKER))),
            "the reasoning view holds the bots' reasoning"
        );
        assert!(!stored.is_empty(), "the bots' reasoning was stored");
        b.finish().await;
    })
    .await;
}

/// The lobby lists a waiting game under "running" and a finished one (with its winner) under
/// "finished", and links to the table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lobby_lists_games_and_links_to_them() {
    one_browser_at_a_time(async {
        let hub = hub_with(&[]).await;
        let (finished, over) = play_finished_game(&hub, "aiwolf5", 3).await;
        let waiting = create(&hub, "arena8", 1, 5_000).await;
        let b = Browser::start(1200, 900).await;
        b.goto(&format!("{}/", http_base(&hub))).await;
        let row = |id: &str| format!("[data-game=\"{id}\"]");

        b.wait_for_css(&row(&waiting.game_id), "the waiting game's row")
            .await;
        let phase = b
            .js(&format!(
                "return document.querySelector('{}').getAttribute('data-phase')",
                row(&waiting.game_id)
            ))
            .await;
        assert_eq!(phase, "lobby", "the waiting game's data-phase");

        b.click_css("[data-filter=finished]").await;
        b.wait_for_css(&row(&finished.game_id), "the finished game's row")
            .await;
        let winner = b
            .js(&format!(
                "return document.querySelector('{}').getAttribute('data-winner')",
                row(&finished.game_id)
            ))
            .await;
        assert_eq!(
            winner,
            serde_json::to_value(over.winner).expect("winner"),
            "the finished game's data-winner"
        );
        b.click_css("[data-filter=all]").await;
        b.wait_for_css(&row(&waiting.game_id), "every game under `all`")
            .await;
        b.wait_for_css(&row(&finished.game_id), "every game under `all`")
            .await;
        b.screenshot("lobby").await;

        b.click_css(&format!("{} a[href]", row(&finished.game_id)))
            .await;
        let deadline = Instant::now() + PAGE_PATIENCE;
        loop {
            let url = b.c().current_url().await.expect("url");
            if url.path() == format!("/games/{}", finished.game_id) {
                break;
            }
            assert!(Instant::now() < deadline, "the link led to {url}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        b.wait_for("the finished game's winner", |s| s.winner.is_some())
            .await;
        b.finish().await;
    })
    .await;
}

/// On a phone-width screen the table fits: no sideways scrolling, every seat on screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_fits_a_phone_screen() {
    one_browser_at_a_time(async {
        let hub = hub_with(&[]).await;
        let (game, _) = play_finished_game(&hub, "classic9", 4).await;
        let b = Browser::start(390, 844).await;
        b.goto(&format!("{}/games/{}", http_base(&hub), game.game_id))
            .await;
        b.wait_for("every seat and the winner", |s| {
            s.seats.len() == game.players.len() && s.winner.is_some()
        })
        .await;
        let fit = b
            .js("const w = document.documentElement.clientWidth;
                 return {w, scroll: document.documentElement.scrollWidth,
                         off: Array.from(document.querySelectorAll('[data-seat]'))
                           .map(e => e.getBoundingClientRect())
                           .filter(r => r.left < -1 || r.right > w + 1).length};")
            .await;
        b.screenshot("phone-table").await;
        assert!(
            fit["w"].as_u64().is_some_and(|w| w <= 400),
            "the viewport is not phone-width: {fit}"
        );
        assert!(
            fit["scroll"].as_u64().unwrap_or(u64::MAX) <= fit["w"].as_u64().unwrap_or(0),
            "the table scrolls sideways on a phone: {fit}"
        );
        assert_eq!(fit["off"], 0, "seats off screen on a phone: {fit}");
        b.finish().await;
    })
    .await;
}
