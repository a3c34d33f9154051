//! The cluster-wide lobby: lobby broadcasts made on one node reach the lobby clients of
//! every node, through one Redis pub/sub channel (`{prefix}:lobby`).
//!
//! Delivery is at most once, like the lobby relay itself: a message published while a node's
//! subscription is reconnecting is not seen there. Games never depend on it (their streams
//! are relayed from the owner and resumable by `seq`).

use crate::connection_manager::{ConnectionManager, LobbyOutlet, LobbyScope};
use crate::store::StoreError;
use crate::store::redis::RedisStore;
use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::mpsc::{TrySendError, sync_channel};
use std::time::Duration;
use tracing::warn;

/// Lobby broadcasts waiting for the publisher before new ones are dropped.
const BACKLOG: usize = 4096;

/// One lobby broadcast on the channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LobbyCast {
    /// The node it was made on (which delivered it locally already).
    pub from: String,
    /// Who gets it.
    pub scope: LobbyScope,
    /// The frame, serialized.
    pub frame: String,
}

/// Starts the publisher and the subscriber, and hooks the manager's lobby broadcasts.
pub fn start(store: &Arc<RedisStore>, manager: ConnectionManager) -> Result<(), StoreError> {
    let channel = format!("{}:lobby", store.prefix());
    let node = store.node_id().to_owned();
    let (tx, rx) = sync_channel::<LobbyCast>(BACKLOG);

    let client = store.client().clone();
    let publish_to = channel.clone();
    std::thread::Builder::new()
        .name("cluster-lobby-pub".into())
        .spawn(move || {
            let mut connection: Option<redis::Connection> = None;
            while let Ok(cast) = rx.recv() {
                let Ok(json) = serde_json::to_string(&cast) else {
                    continue;
                };
                for _attempt in 0..2 {
                    if connection.is_none() {
                        connection = client
                            .get_connection_with_timeout(Duration::from_secs(1))
                            .ok();
                    }
                    let Some(c) = connection.as_mut() else { break };
                    let sent: redis::RedisResult<i64> =
                        redis::cmd("PUBLISH").arg(&publish_to).arg(&json).query(c);
                    match sent {
                        Ok(_) => break,
                        Err(_) => connection = None,
                    }
                }
            }
        })
        .map_err(|e| StoreError::Io(e.to_string()))?;

    let client = store.client().clone();
    let local = manager.clone();
    let me = node.clone();
    std::thread::Builder::new()
        .name("cluster-lobby-sub".into())
        .spawn(move || {
            loop {
                if let Err(e) = subscribe(&client, &channel, &me, &local) {
                    warn!(error = %e, "lobby channel lost; resubscribing");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
        .map_err(|e| StoreError::Io(e.to_string()))?;

    let queue = tx;
    manager.set_lobby_outlet(LobbyOutlet(Arc::new(move |scope, bytes: &Utf8Bytes| {
        let cast = LobbyCast {
            from: node.clone(),
            scope,
            frame: bytes.as_str().to_owned(),
        };
        if let Err(TrySendError::Full(_)) = queue.try_send(cast) {
            warn!("lobby relay to the other nodes is behind; a broadcast was dropped");
        }
    })));
    Ok(())
}

/// Delivers the channel's broadcasts from other nodes until the subscription fails.
fn subscribe(
    client: &redis::Client,
    channel: &str,
    me: &str,
    manager: &ConnectionManager,
) -> redis::RedisResult<()> {
    let mut connection = client.get_connection_with_timeout(Duration::from_secs(2))?;
    let mut pubsub = connection.as_pubsub();
    pubsub.subscribe(channel)?;
    loop {
        let message = pubsub.get_message()?;
        let Ok(payload) = message.get_payload::<String>() else {
            continue;
        };
        let Ok(cast) = serde_json::from_str::<LobbyCast>(&payload) else {
            continue;
        };
        if cast.from != me {
            manager.broadcast_lobby_local(&Utf8Bytes::from(cast.frame), &cast.scope);
        }
    }
}
