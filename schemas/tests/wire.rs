//! The wire contract: committed JSON Schemas are fresh, and one example of every message is
//! pinned by an insta snapshot.

use werewolf_schemas::*;

/// Regenerates with `UPDATE_SCHEMAS=1 cargo test -p werewolf-schemas`.
#[test]
fn committed_json_schemas_match_the_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("json");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    for (file, fresh) in schema::all() {
        let path = dir.join(&file);
        if update {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, &fresh).expect("write schema");
            continue;
        }
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} missing ({e}); run UPDATE_SCHEMAS=1", path.display()));
        assert_eq!(
            committed, fresh,
            "{file} is stale; run UPDATE_SCHEMAS=1 cargo test -p werewolf-schemas"
        );
    }
}

const T: f64 = 1_706_580_000.0;

fn out(client_id: &str, message: ServerMessage) -> ServerFrame {
    ServerFrame {
        message,
        client_id: client_id.into(),
        timestamp: T,
    }
}

fn players() -> Vec<PlayerInfo> {
    vec![
        PlayerInfo {
            id: "p1".into(),
            name: "Alice".into(),
            alive: true,
            connected: Some(true),
            role: None,
            bot: false,
        },
        PlayerInfo {
            id: "p2".into(),
            name: "Bob".into(),
            alive: false,
            connected: Some(false),
            role: None,
            bot: true,
        },
    ]
}

#[test]
fn every_server_message_snapshot() {
    let candidates = vec![
        Candidate {
            player_id: "p1".into(),
            name: "Alice".into(),
        },
        Candidate {
            player_id: "p3".into(),
            name: "Carol".into(),
        },
    ];
    let frames = vec![
        out(
            "ui_1",
            ServerMessage::Connection {
                data: ConnectionData {
                    client_type: ClientType::Ui,
                    timeout_s: 300,
                    max_message_bytes: 65536,
                    game_id: None,
                    recovered: None,
                },
            },
        ),
        out(
            "agent_1",
            ServerMessage::Disconnection {
                data: DisconnectionData {
                    client_type: ClientType::Agent,
                    reason: "closed by client".into(),
                },
            },
        ),
        out(
            "ui_1",
            ServerMessage::Pong(PongBody {
                ping_timestamp: Some(T),
            }),
        ),
        out(
            "ui_1",
            ServerMessage::Error(ErrorBody {
                code: ErrorCode::UnknownMessageType,
                message: "unknown message_type `dance`".into(),
                related_message_type: Some("dance".into()),
                request_id: None,
            }),
        ),
        out(
            "server",
            ServerMessage::GameState(GameStateBody {
                game_id: Some("g1".into()),
                seq: Some(3),
                phase: Phase::Day,
                day: 2,
                current_turn: 2,
                players: players(),
                alive_count: 1,
                dead_count: 1,
                you: Some(You {
                    player_id: "p1".into(),
                    role: Role::Werewolf,
                    team: Team::Werewolves,
                    teammates: vec!["p4".into()],
                }),
                winner: None,
            }),
        ),
        out(
            "agent_alice",
            ServerMessage::AgentMessage(AgentMessageOut {
                agent_id: "agent_alice".into(),
                agent_name: "Alice".into(),
                message_text: "Je pense que Bob est le loup-garou!".into(),
                channel: Channel::Public,
                phase: Some("discussion".into()),
                game_id: None,
                seq: None,
            }),
        ),
        out(
            "p1",
            ServerMessage::PlayerAction(PlayerActionOut {
                game_id: Some("g1".into()),
                seq: Some(9),
                player_id: "p1".into(),
                action: ActionKind::Vote,
                target: Some("p2".into()),
                save: None,
                over: None,
                bid: None,
            }),
        ),
        out(
            "server",
            ServerMessage::PhaseUpdate(PhaseUpdateBody {
                game_id: Some("g1".into()),
                seq: Some(4),
                phase: Phase::Day,
                day: 2,
                deadline: Some(T + 30.0),
                deaths: Some(vec![DeathInfo {
                    player_id: "p2".into(),
                    cause: Some(DeathCause::Night),
                }]),
            }),
        ),
        out(
            "game_engine",
            ServerMessage::ActionRequest(ActionRequestBody {
                game_id: "g1".into(),
                seq: 5,
                request_id: "17".into(),
                action: ActionKind::Vote,
                candidates: candidates.clone(),
                max_message_chars: None,
                max_reasoning_chars: None,
                response_schema: answer::response_schema(&answer::AnswerSpec {
                    request_id: "17",
                    action: ActionKind::Vote,
                    candidates: &candidates,
                    may_abstain: true,
                    can_save: false,
                    max_message_chars: 500,
                }),
                deadline: T + 30.0,
            }),
        ),
        out(
            "game_engine",
            ServerMessage::ActionResult(ActionResultBody {
                game_id: "g1".into(),
                seq: 6,
                request_id: None,
                action: ResultKind::Divine,
                target: Some("p3".into()),
                result: ResultValue::Werewolf,
                can_save: None,
                has_poison: None,
                role: None,
                ballots: vec![],
                tied: vec![],
            }),
        ),
        out(
            "game_engine",
            ServerMessage::VoteResult(VoteResultBody {
                game_id: "g1".into(),
                seq: 7,
                day: 2,
                revote: false,
                counts: vec![VoteTally {
                    player_id: "p3".into(),
                    votes: 4,
                }],
                decision: VoteDecision::Executed,
                executed: Some("p3".into()),
                tied: vec![],
                ballots: vec![Ballot {
                    voter: "p1".into(),
                    target: Some("p3".into()),
                }],
            }),
        ),
        out(
            "game_engine",
            ServerMessage::Death(DeathBody {
                game_id: "g1".into(),
                seq: 8,
                player_id: "p3".into(),
                cause: DeathCause::Execution,
            }),
        ),
        out(
            "game_engine",
            ServerMessage::Presence(PresenceBody {
                game_id: "g1".into(),
                seq: 9,
                player_id: "p1".into(),
                connected: false,
                last_seen: T,
            }),
        ),
        out(
            "game_engine",
            ServerMessage::GameOver(GameOverBody {
                game_id: "g1".into(),
                seq: 10,
                winner: Winner::Villagers,
                day: 3,
                roles: [
                    ("p1".to_string(), Role::Werewolf),
                    ("p2".to_string(), Role::Seer),
                ]
                .into(),
                reason: None,
            }),
        ),
        out(
            "game_engine",
            ServerMessage::GameOver(GameOverBody {
                game_id: "g2".into(),
                seq: 4,
                winner: Winner::Aborted,
                day: 0,
                roles: Default::default(),
                reason: Some("ended by the operator: maintenance".into()),
            }),
        ),
    ];
    for frame in &frames {
        let text = frame.to_json();
        let back: ServerFrame = serde_json::from_str(&text).expect("round trip");
        assert_eq!(&back, frame, "round trip of {text}");
    }
    let json: Vec<serde_json::Value> = frames
        .iter()
        .map(|f| serde_json::from_str(&f.to_json()).expect("json"))
        .collect();
    insta::assert_json_snapshot!("server_messages", json);
}

#[test]
fn every_client_message_snapshot() {
    let texts = [
        r#"{"message_type":"ping","client_id":"ui_client_1","timestamp":1706580000.0}"#,
        r#"{"message_type":"pong","client_id":"ui_client_1"}"#,
        r#"{"message_type":"agent_message","client_id":"agent_alice","timestamp":1706580000.0,"agent_id":"agent_1","agent_name":"Alice","message_text":"Je pense que Bob est le loup-garou!","phase":"discussion"}"#,
        r#"{"message_type":"player_action","request_id":"r7","action":"vote","target":"p2"}"#,
        r#"{"message_type":"player_action","request_id":"r8","action":"witch","target":null,"save":true}"#,
    ];
    let parsed: Vec<ClientFrame> = texts
        .iter()
        .map(|t| parse_client_frame(t).expect(t))
        .collect();
    insta::assert_json_snapshot!("client_messages", parsed);
}

/// The `reasoning` message (read from a finished game's `reasoning` view, never sent live)
/// and answers carrying `reasoning`; pinned apart from the other messages.
#[test]
fn reasoning_snapshot() {
    let frames = [
        out(
            "p1",
            ServerMessage::Reasoning(ReasoningBody {
                game_id: "g1".into(),
                seq: 3,
                player_id: "p1".into(),
                request_id: Some("4".into()),
                action: Some(ActionKind::Vote),
                whisper: false,
                day: 2,
                phase: Phase::Vote,
                text: "p3 defended p2 too eagerly.".into(),
                after_seq: 41,
            }),
        ),
        out(
            "p2",
            ServerMessage::Reasoning(ReasoningBody {
                game_id: "g1".into(),
                seq: 4,
                player_id: "p2".into(),
                request_id: None,
                action: None,
                whisper: true,
                day: 2,
                phase: Phase::Night,
                text: "Steer the pack away from the seer claim.".into(),
                after_seq: 50,
            }),
        ),
    ];
    for frame in &frames {
        let back: ServerFrame = serde_json::from_str(&frame.to_json()).expect("round trip");
        assert_eq!(&back, frame);
    }
    let answers: Vec<ClientFrame> = [
        r#"{"message_type":"player_action","request_id":"4","action":"vote","target":"p3","reasoning":"p3 defended p2 too eagerly."}"#,
        r#"{"message_type":"agent_message","request_id":"5","message_text":"I trust p4.","reasoning":"p4 is my best bet."}"#,
    ]
    .iter()
    .map(|t| parse_client_frame(t).expect(t))
    .collect();
    let json: Vec<serde_json::Value> = frames
        .iter()
        .map(|f| serde_json::from_str(&f.to_json()).expect("json"))
        .collect();
    insta::assert_json_snapshot!("reasoning", (json, answers));
}
