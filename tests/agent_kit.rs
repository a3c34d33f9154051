//! What agents get from a real hub: a strict `response_schema` and named candidates on every
//! request (real answers produced from the schema are valid and accepted; answers outside it
//! are refused), explicit abstention, refusals in the client's words, the served schemas,
//! and seats played by the hub's built-in bots.

mod common;

use common::*;
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use werewolf_schemas::answer::check_strict;
use werewolf_server::RunningHub;

/// How long a whole test game may take (a deadline, not a measure).
const GAME_PATIENCE: Duration = Duration::from_secs(60);

async fn post(hub: &RunningHub, path: &str, body: Value) -> (u16, Value) {
    let (status, _, text) = http_raw(&hub.addr().to_string(), "POST", path, Some(body), None).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn connect_seat(hub: &RunningHub, game_id: &str, seat: &Value) -> Ws {
    let url = format!(
        "ws://{}/ws/{}?client_type=agent&game_id={game_id}&token={}",
        hub.addr(),
        seat["player_id"].as_str().expect("player_id"),
        seat["token"].as_str().expect("token"),
    );
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("seat connects");
    ws
}

/// Next JSON frame, or `None` when the socket ends.
async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(GAME_PATIENCE, ws.next())
            .await
            .expect("a frame before the game deadline")?
            .ok()?;
        match msg {
            Message::Text(t) => return Some(serde_json::from_str(t.as_str()).expect("JSON")),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// A value the schema allows for one property, chosen at random among its `enum` (or, for
/// free text, a short sentence or null).
fn pick(rng: &mut StdRng, property: &Value) -> Value {
    if let Some(values) = property["enum"].as_array() {
        return values[rng.random_range(0..values.len())].clone();
    }
    match &property["type"] {
        t if t == &json!("boolean") => json!(rng.random_bool(0.5)),
        t if t.as_array().is_some_and(|a| a.contains(&json!("null"))) && rng.random_bool(0.2) => {
            Value::Null
        }
        _ => json!(format!(
            "I have a feeling, number {}.",
            rng.random_range(0..100)
        )),
    }
}

/// The answer an LLM under strict structured output could produce: every required property,
/// each from what the schema allows.
fn answer_from_schema(rng: &mut StdRng, schema: &Value) -> Value {
    let props = schema["properties"].as_object().expect("properties");
    let mut answer = serde_json::Map::new();
    for key in schema["required"].as_array().expect("required") {
        let key = key.as_str().expect("key");
        answer.insert(key.to_owned(), pick(rng, &props[key]));
    }
    Value::Object(answer)
}

/// What one seat saw while answering every request from its `response_schema`.
#[derive(Default)]
struct SeatLog {
    /// Kinds of request received.
    kinds: BTreeSet<String>,
    /// Requests answered and accepted.
    accepted: usize,
    /// Refusals of answers the schema allowed (must stay empty).
    refused: Vec<Value>,
    /// Answers outside the schema the hub accepted (must stay empty).
    outside_accepted: Vec<Value>,
    /// Candidate names that differ from the seat names of `game_state`.
    wrong_names: Vec<String>,
    /// Whether `game_over` arrived.
    over: bool,
}

/// Plays one seat: every answer is produced from the request's schema, validated by a JSON
/// Schema validator, and must be accepted. Once per game a seat also sends an answer outside
/// the schema (a target that is not a candidate), which must be refused.
async fn play_from_schema(mut ws: Ws, seed: u64, probe: bool) -> SeatLog {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut log = SeatLog::default();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut probed = !probe;
    let mut last_answer: Option<Value> = None;
    while let Some(v) = next_json(&mut ws).await {
        match v["message_type"].as_str().unwrap_or_default() {
            "game_state" => {
                for p in v["players"].as_array().into_iter().flatten() {
                    names.insert(
                        p["id"].as_str().unwrap_or_default().to_owned(),
                        p["name"].as_str().unwrap_or_default().to_owned(),
                    );
                }
            }
            "action_request" => {
                let schema = &v["response_schema"];
                check_strict(schema).unwrap_or_else(|e| panic!("not strict: {e}\n{schema:#}"));
                let validator = jsonschema::validator_for(schema).expect("a valid JSON Schema");
                log.kinds
                    .insert(v["action"].as_str().unwrap_or_default().to_owned());
                for c in v["candidates"].as_array().expect("candidates") {
                    let id = c["player_id"].as_str().expect("candidate id");
                    if names.get(id).map(String::as_str) != c["name"].as_str() {
                        log.wrong_names.push(format!("{c} vs {:?}", names.get(id)));
                    }
                }
                if v["action"] == "talk" {
                    assert!(v["max_message_chars"].as_u64().is_some(), "{v}");
                }
                if !probed && v["action"] != "talk" {
                    probed = true;
                    let candidates: BTreeSet<&str> = v["candidates"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c["player_id"].as_str())
                        .collect();
                    if let Some(outsider) =
                        names.keys().find(|id| !candidates.contains(id.as_str()))
                    {
                        let mut bad = answer_from_schema(&mut rng, schema);
                        bad["target"] = json!(outsider);
                        assert!(!validator.is_valid(&bad), "the schema allows {bad}");
                        send_json(&mut ws, bad.clone()).await;
                        // Either refused, or accepted (a bug): wait for whichever comes.
                        loop {
                            let reply = next_json(&mut ws).await.expect("a reply");
                            if reply["message_type"] == "error" {
                                let text = reply["message"].as_str().unwrap_or_default();
                                assert!(text.contains("`target`"), "{reply}");
                                assert!(text.contains(outsider.as_str()), "{reply}");
                                break;
                            }
                            if reply["message_type"] == "action_result"
                                && reply["request_id"] == v["request_id"]
                            {
                                log.outside_accepted.push(bad);
                                break;
                            }
                        }
                    }
                }
                let answer = answer_from_schema(&mut rng, schema);
                if let Err(e) = validator.validate(&answer) {
                    panic!("generated answer {answer} fails its schema: {e}");
                }
                send_json(&mut ws, answer.clone()).await;
                last_answer = Some(answer);
            }
            "action_result" if v["result"] == "accepted" => log.accepted += 1,
            "error" => log.refused.push(json!({"error": v, "answer": last_answer})),
            "game_over" => {
                log.over = true;
                break;
            }
            _ => {}
        }
    }
    log
}

/// Every kind of request, over real games: the schema is strict, names match, every answer
/// it allows is accepted and one it forbids is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_request_schema_is_strict_and_agrees_with_the_hub() {
    let hub = hub().await;
    let mut kinds = BTreeSet::new();
    for (preset, seats, seed) in [
        ("classic9", 9, 1u64),
        ("classic9", 9, 4),
        ("arena8", 8, 2),
        ("arena8", 8, 3),
    ] {
        let names: Vec<String> = (1..=seats).map(|i| format!("Player {i}")).collect();
        let (status, game) = post(
            &hub,
            "/games",
            // classic9 with whisper turns; arena8 (Werewolf Arena's rules) asks for bids.
            json!({"preset": preset, "seed": seed, "players": names, "action_timeout_ms": 20000,
                   "whisper_rounds": u64::from(preset == "classic9")}),
        )
        .await;
        assert_eq!(status, 201, "{game}");
        let gid = game["game_id"].as_str().expect("gid").to_owned();
        let mut tasks = Vec::new();
        for (i, seat) in game["players"]
            .as_array()
            .expect("players")
            .iter()
            .enumerate()
        {
            let ws = connect_seat(&hub, &gid, seat).await;
            tasks.push(tokio::spawn(play_from_schema(
                ws,
                seed * 100 + i as u64,
                i % 3 == 0,
            )));
        }
        for task in tasks {
            let log = task.await.expect("seat task");
            assert!(log.over, "{preset}/{seed}: a seat never saw game_over");
            assert!(
                log.refused.is_empty(),
                "{preset}/{seed}: refused: {:?}",
                log.refused
            );
            assert!(
                log.outside_accepted.is_empty(),
                "{preset}/{seed}: accepted outside the schema: {:?}",
                log.outside_accepted
            );
            assert!(log.wrong_names.is_empty(), "{:?}", log.wrong_names);
            assert!(log.accepted > 0 || log.kinds.is_empty());
            kinds.extend(log.kinds);
        }
    }
    let all: BTreeSet<String> = werewolf_schemas::ActionKind::ALL
        .iter()
        .map(|k| k.name().to_owned())
        .collect();
    assert_eq!(
        kinds, all,
        "these games must exercise every kind of request"
    );
}

/// Waits for this seat's first request of kind `want`, answering the others as abstentions
/// or skips; `None` if the seat dies or the game ends first.
async fn first_request(ws: &mut Ws, me: &str, want: &str) -> Option<Value> {
    loop {
        let v = next_json(ws).await?;
        match v["message_type"].as_str() {
            Some("death") if v["player_id"] == me => return None,
            Some("game_over") => return None,
            Some("action_request") => {}
            _ => continue,
        }
        if v["action"] == want {
            return Some(v);
        }
        let rid = v["request_id"].clone();
        let answer = if v["action"] == "talk" {
            json!({"message_type": "player_action", "request_id": rid, "action": "talk", "text": null})
        } else {
            json!({"message_type": "player_action", "request_id": rid, "action": v["action"], "target": null})
        };
        send_json(ws, answer).await;
    }
}

/// Reads frames until an `error`, which it returns.
async fn next_error(ws: &mut Ws) -> Value {
    loop {
        let v = next_json(ws).await.expect("socket open");
        if v["message_type"] == "error" {
            return v;
        }
    }
}

/// A move without `target` is refused naming the field; `target: null` abstains; other
/// refusals speak of the fields the client sent (`target`, `max_message_chars`, `text`).
#[tokio::test]
async fn refusals_name_the_fields_the_client_sent() {
    let hub = hub().await;
    // The free seat must live to talk and vote: the first seed where it does.
    let mut found = None;
    for seed in 1..30 {
        let (status, game) = post(
            &hub,
            "/games",
            json!({"preset": "aiwolf5", "seed": seed, "bots": 4, "max_message_chars": 40, "opening_talk": false, "self_vote": false,
                   "action_timeout_ms": 30000}),
        )
        .await;
        assert_eq!(status, 201, "{game}");
        let gid = game["game_id"].as_str().expect("gid").to_owned();
        let me = game["players"][0]["player_id"].as_str().unwrap().to_owned();
        let mut ws = connect_seat(&hub, &gid, &game["players"][0]).await;
        if let Some(talk) = first_request(&mut ws, &me, "talk").await {
            found = Some((ws, me, talk));
            break;
        }
    }
    let (mut ws, me, talk) = found.expect("a seed where the free seat talks");
    let me = me.as_str();
    let rid = talk["request_id"].clone();
    assert_eq!(talk["max_message_chars"], 40);
    let talk_without_text =
        json!({"message_type": "player_action", "request_id": rid, "action": "talk"});
    send_json(&mut ws, talk_without_text).await;
    let e = next_error(&mut ws).await;
    assert_eq!(e["code"], "invalid_message", "{e}");
    assert!(e["message"].as_str().unwrap().contains("`text`"), "{e}");
    let long = "x".repeat(41);
    send_json(
        &mut ws,
        json!({"message_type": "player_action", "request_id": rid, "action": "talk", "text": long}),
    )
    .await;
    let e = next_error(&mut ws).await;
    assert_eq!(e["code"], "invalid_action", "{e}");
    let text = e["message"].as_str().unwrap();
    assert!(
        text.contains("max_message_chars") && !text.contains("max_talk_chars"),
        "{e}"
    );
    assert!(!text.contains("seat "), "engine wording leaked: {e}");
    send_json(
        &mut ws,
        json!({"message_type": "player_action", "request_id": rid, "action": "talk", "text": "I listen."}),
    )
    .await;
    let vote = first_request(&mut ws, me, "vote")
        .await
        .expect("the seat that talked votes the same day");
    let rid = vote["request_id"].clone();
    send_json(
        &mut ws,
        json!({"message_type": "player_action", "request_id": rid, "action": "vote"}),
    )
    .await;
    let e = next_error(&mut ws).await;
    assert_eq!(e["code"], "invalid_message", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("missing field `target`"),
        "{e}"
    );
    send_json(
        &mut ws,
        json!({"message_type": "player_action", "request_id": rid, "action": "vote", "target": me}),
    )
    .await;
    let e = next_error(&mut ws).await;
    let text = e["message"].as_str().unwrap();
    assert!(
        text.contains("`target`") && text.contains(me) && text.contains("candidates"),
        "{e}"
    );
    assert!(!text.contains("seat "), "engine wording leaked: {e}");
    // The explicit abstention is accepted.
    send_json(&mut ws, json!({"message_type": "player_action", "request_id": rid, "action": "vote", "target": null})).await;
    loop {
        let v = next_json(&mut ws).await.expect("open");
        assert_ne!(v["message_type"], "error", "{v}");
        if v["message_type"] == "action_result" && v["request_id"] == rid {
            assert_eq!(v["result"], "accepted", "{v}");
            break;
        }
    }
}

/// `POST /games` with `bots`: the hub plays those seats; the answer says how to connect the
/// free ones; bots are marked in `/agents`, `game_state` and the replay; a bot seat cannot
/// be taken; the game plays to the end with one client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_fill_the_other_seats_and_are_marked_everywhere() {
    let hub = hub().await;
    let (status, game) = post(
        &hub,
        "/games",
        json!({"preset": "arena8", "bots": 7, "seed": 11, "action_timeout_ms": 20000}),
    )
    .await;
    assert_eq!(status, 201, "{game}");
    let gid = game["game_id"].as_str().expect("gid").to_owned();
    let free = game["players"].as_array().expect("players");
    assert_eq!(free.len(), 1, "{game}");
    let bots = game["bots"].as_array().expect("bots");
    assert_eq!(bots.len(), 7, "{game}");
    let seat = &free[0];
    let (pid, token) = (
        seat["player_id"].as_str().unwrap(),
        seat["token"].as_str().unwrap(),
    );
    let addr = hub.addr().to_string();
    assert_eq!(
        seat["ws_url"],
        format!("ws://{addr}/ws/{pid}?client_type=agent&game_id={gid}&token={token}")
    );
    let python = seat["commands"]["python"].as_str().expect("python command");
    assert!(
        python.contains(&format!(
            "--url http://{addr} --game {gid} --player {pid} --token {token}"
        )),
        "{python}"
    );
    assert!(
        seat["commands"]["rust"]
            .as_str()
            .unwrap()
            .contains("bot_agent"),
        "{seat}"
    );

    let agents = get_json(&hub, "/agents").await;
    let mine: Vec<&Value> = agents
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["game_id"] == gid.as_str())
        .collect();
    assert_eq!(mine.len(), 8, "{agents}");
    assert_eq!(
        mine.iter().filter(|a| a["bot"] == true).count(),
        7,
        "{agents}"
    );
    assert!(
        mine.iter()
            .filter(|a| a["bot"] == true)
            .all(|a| a["status"] == "online")
    );

    // A bot's seat is not for hire.
    let bot_id = bots[0]["player_id"].as_str().unwrap();
    let url = format!("ws://{addr}/ws/{bot_id}?client_type=agent&game_id={gid}&token={token}");
    let refused = tokio_tungstenite::connect_async(url)
        .await
        .expect_err("a bot seat");
    let tokio_tungstenite::tungstenite::Error::Http(resp) = refused else {
        panic!("expected an HTTP refusal, got {refused}")
    };
    assert_eq!(resp.status().as_u16(), 403);
    let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).to_string();
    assert!(body.contains("built-in bot"), "{body}");

    // The one client plays; the game starts when it connects and ends.
    let ws = connect_seat(&hub, &gid, seat).await;
    let play = tokio::spawn(play_from_schema(ws, 5, false));
    let log = play.await.expect("seat task");
    assert!(log.over && log.refused.is_empty(), "{:?}", log.refused);

    let replay = http_raw(
        &addr,
        "GET",
        &format!("/games/{gid}/events?view=full"),
        None,
        None,
    )
    .await;
    let frames: Vec<Value> = replay
        .2
        .lines()
        .map(|l| serde_json::from_str(l).expect("line"))
        .collect();
    let state = frames
        .iter()
        .find(|f| f["message_type"] == "game_state")
        .expect("a game_state in the replay");
    let players = state["players"].as_array().unwrap();
    assert_eq!(
        players.iter().filter(|p| p["bot"] == true).count(),
        7,
        "{state}"
    );
    assert!(players.iter().all(|p| p["connected"] == true), "{state}");
    assert!(frames.iter().any(|f| f["message_type"] == "game_over"));
}

/// A table of bots only starts by itself and plays to the end with nobody connected;
/// `bot_seats` picks the seats; the bots' game is a pure function of the seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_of_bots_plays_by_itself_and_replays_identically() {
    let hub = hub().await;
    let mut replays = Vec::new();
    for _ in 0..2 {
        let (status, game) = post(
            &hub,
            "/games",
            json!({"preset": "classic9", "bot_seats": [1,2,3,4,5,6,7,8,9], "seed": 77}),
        )
        .await;
        assert_eq!(status, 201, "{game}");
        assert_eq!(game["players"], json!([]), "{game}");
        let gid = game["game_id"].as_str().unwrap().to_owned();
        let deadline = tokio::time::Instant::now() + GAME_PATIENCE;
        loop {
            let shown = get_json(&hub, &format!("/games/{gid}")).await;
            if shown["winner"].is_string() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never ended: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The summary can show the winner a turn before that turn is in the log.
        let body = loop {
            let (_, _, body) = http_raw(
                &hub.addr().to_string(),
                "GET",
                &format!("/games/{gid}/events?view=full"),
                None,
                None,
            )
            .await;
            if body.contains("\"message_type\":\"game_over\"") {
                break body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no game_over in the log"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // Ids and times differ between the two games; the play must not.
        let play: Vec<Value> = body
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).expect("line");
                strip(&mut v, &gid);
                v
            })
            .collect();
        assert!(play.iter().any(|f| f["message_type"] == "game_over"));
        replays.push(play);
    }
    assert_eq!(replays[0], replays[1], "same seed, same bots, same game");
}

/// Removes what differs between two runs of the same game: times, ids.
fn strip(v: &mut Value, gid: &str) {
    match v {
        Value::Object(map) => {
            map.remove("timestamp");
            map.remove("deadline");
            map.remove("last_seen");
            let entries = std::mem::take(map);
            for (k, mut x) in entries {
                strip(&mut x, gid);
                map.insert(k.replace(gid, "G"), x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| strip(x, gid)),
        Value::String(s) => *s = s.replace(gid, "G"),
        _ => {}
    }
}

/// `GET /schemas` lists the wire's schemas, each served byte for byte as committed.
#[tokio::test]
async fn the_committed_schemas_are_served() {
    let hub = hub().await;
    let index = get_json(&hub, "/schemas").await;
    let files = index["schemas"].as_array().expect("list");
    assert!(files.len() >= 11, "{index}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/json");
    for f in files {
        let path = f.as_str().unwrap();
        let (status, ctype, body) =
            http_raw(&hub.addr().to_string(), "GET", path, None, None).await;
        assert_eq!(status, 200, "{path}");
        assert!(ctype.contains("json"), "{ctype}");
        let committed = std::fs::read_to_string(dir.join(path.trim_start_matches("/schemas/")))
            .expect("committed file");
        assert_eq!(body, committed, "{path}");
    }
    for kind in [
        "talk", "vote", "attack", "divine", "protect", "witch", "shoot",
    ] {
        let path = format!("/schemas/answers/{kind}.schema.json");
        assert!(files.contains(&json!(path)), "{path} not listed");
    }
    let (status, _, body) = http_raw(
        &hub.addr().to_string(),
        "GET",
        "/schemas/nope.json",
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert!(body.contains("error"), "{body}");
}
