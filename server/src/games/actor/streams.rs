//! Delivery: each stream (seat, public, full) numbers its frames and logs them; the frames
//! reach their recipients once the turn is durable; the full view waits out the observer
//! delay.

use super::*;

/// A full-view observer and the last full-stream `seq` it has had (its snapshot's, or the
/// last frame delivered to it), so delayed frames reach it exactly once and in order.
#[derive(Debug)]
pub(super) struct FullViewer {
    /// The connection.
    pub(super) entry: Arc<ClientEntry>,
    /// The last `seq` it has had.
    pub(super) last: u64,
}

impl GameActor {
    pub(super) fn route_event(
        &mut self,
        message: ServerMessage,
        client_id: &str,
        audience: Audience,
    ) {
        let Some(game) = &self.game else { return };
        let seats: Vec<usize> = match audience {
            Audience::Everyone => (0..self.agents.len()).collect(),
            Audience::Player(s) => vec![s.index()],
            Audience::Werewolves => game.werewolf_seats().map(Seat::index).collect(),
            Audience::Spectators => Vec::new(),
        };
        let public = audience == Audience::Everyone;
        self.route(
            message,
            client_id,
            Route {
                seats: &seats,
                public,
                full: true,
            },
        );
    }

    /// Sends one message to the given streams, each with its next `seq`: serialized once,
    /// logged whether or not anyone watches (so `seq` depends only on the log), and queued
    /// for the watchers, who get it once the turn is durable.
    pub(super) fn route(
        &mut self,
        message: ServerMessage,
        client_id: &str,
        route: Route<'_>,
    ) -> Arc<SeqStamped> {
        let stamped = Arc::new(SeqStamped::new(message, client_id));
        let mut streams = Vec::with_capacity(route.seats.len() + 2);
        for &seat in route.seats {
            let Some(seq) = self.seat_seq.get_mut(seat) else {
                continue;
            };
            *seq += 1;
            let seq = *seq;
            streams.push((StreamId::Seat(seat), seq));
            if let Some(Some(agent)) = self.agents.get(seat) {
                self.outbox.push((agent.clone(), stamped.with_seq(seq)));
            }
        }
        if route.public {
            self.public_seq += 1;
            streams.push((StreamId::Public, self.public_seq));
            if !self.public.is_empty() {
                let bytes = stamped.with_seq(self.public_seq);
                for viewer in &self.public {
                    self.outbox.push((viewer.clone(), bytes.clone()));
                }
            }
        }
        if route.full {
            self.full_seq += 1;
            let seq = self.full_seq;
            streams.push((StreamId::Full, seq));
            if self.spec.observer_delay.is_zero() {
                self.release_full(seq, stamped.with_seq(seq));
            } else {
                self.delayed.push_back(Delayed {
                    due: Instant::now() + self.spec.observer_delay,
                    item: DelayedItem::Frame {
                        seq,
                        bytes: stamped.with_seq(seq),
                    },
                });
            }
        }
        self.batch.push(Op::Event(EventRecord {
            stamped: stamped.clone(),
            streams,
        }));
        stamped
    }

    /// Full-stream frame `seq` is due: to every full viewer that has not had it.
    fn release_full(&mut self, seq: u64, bytes: Utf8Bytes) {
        for viewer in &mut self.full {
            if viewer.last < seq {
                viewer.last = seq;
                self.outbox.push((viewer.entry.clone(), bytes.clone()));
            }
        }
        self.full_released = seq;
        self.shared
            .full_released
            .store(seq, std::sync::atomic::Ordering::Relaxed);
    }

    /// A full viewer's snapshot, delayed like the frames after it.
    pub(super) fn push_snapshot(&mut self, entry: &Arc<ClientEntry>, bytes: Utf8Bytes) {
        if self.spec.observer_delay.is_zero() {
            self.outbox.push((entry.clone(), bytes));
        } else {
            self.delayed.push_back(Delayed {
                due: Instant::now() + self.spec.observer_delay,
                item: DelayedItem::Snapshot {
                    conn_id: entry.conn_id,
                    bytes,
                },
            });
        }
    }

    pub(super) fn flush_delayed(&mut self) {
        let now = Instant::now();
        while self.delayed.front().is_some_and(|d| d.due <= now) {
            let Some(d) = self.delayed.pop_front() else {
                break;
            };
            match d.item {
                DelayedItem::Frame { seq, bytes } => self.release_full(seq, bytes),
                DelayedItem::Release { upto } => {
                    if upto > self.full_released {
                        self.full_released = upto;
                        self.shared
                            .full_released
                            .store(upto, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                DelayedItem::Snapshot { conn_id, bytes } => {
                    if let Some(v) = self.full.iter().find(|v| v.entry.conn_id == conn_id) {
                        self.outbox.push((v.entry.clone(), bytes));
                    }
                }
            }
        }
    }

    pub(super) fn reply_error(
        &self,
        entry: &ClientEntry,
        code: ErrorCode,
        message: String,
        related: &str,
        request_id: Option<String>,
    ) {
        entry.traffic.error_sent(code);
        let frame = ServerFrame {
            message: ServerMessage::Error(ErrorBody {
                code,
                message,
                related_message_type: Some(related.to_owned()),
                request_id,
            }),
            client_id: entry.id.to_string(),
            timestamp: now_epoch_s(),
        };
        let _ = self.manager.send_to(entry, &frame);
    }

    pub(super) fn seat_of(&self, player_id: &str) -> Option<Seat> {
        self.names
            .ids
            .iter()
            .position(|id| id == player_id)
            .map(|i| Seat(i as u8))
    }
}

/// Which streams a message goes to.
pub(super) struct Route<'a> {
    /// Seat streams.
    pub(super) seats: &'a [usize],
    /// The public stream.
    pub(super) public: bool,
    /// The full stream.
    pub(super) full: bool,
}

pub(super) fn encode(message: ServerMessage, client_id: &str) -> Utf8Bytes {
    ConnectionManager::encode(&ServerFrame {
        message,
        client_id: client_id.to_owned(),
        timestamp: now_epoch_s(),
    })
}
