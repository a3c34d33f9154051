//! Delivery: each stream (seat, public, full) numbers its frames; the full view waits out
//! the observer delay.

use super::*;

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

    /// Sends one message to the given streams, each with its next `seq`. The message is
    /// serialized once, and only if someone watches one of the streams; a stream's `seq`
    /// advances whether or not anyone watches it.
    pub(super) fn route(&mut self, message: ServerMessage, client_id: &str, route: Route<'_>) {
        let seats_watched = route
            .seats
            .iter()
            .any(|&s| self.agents.get(s).is_some_and(Option::is_some));
        let public_watched = route.public && !self.public.is_empty();
        let full_watched = route.full && !self.full.is_empty();
        let stamped = (seats_watched || public_watched || full_watched)
            .then(|| SeqStamped::new(message, client_id));
        for &seat in route.seats {
            let Some(seq) = self.seat_seq.get_mut(seat) else {
                continue;
            };
            *seq += 1;
            if let (Some(Some(agent)), Some(stamped)) = (self.agents.get(seat), &stamped) {
                let _ = self
                    .manager
                    .deliver(agent, Message::Text(stamped.with_seq(*seq)));
            }
        }
        if route.public {
            self.public_seq += 1;
        }
        if route.full {
            self.full_seq += 1;
        }
        let Some(stamped) = stamped else { return };
        if public_watched {
            let bytes = stamped.with_seq(self.public_seq);
            for viewer in &self.public {
                let _ = self.manager.deliver(viewer, Message::Text(bytes.clone()));
            }
        }
        if full_watched {
            let bytes = stamped.with_seq(self.full_seq);
            if self.spec.observer_delay.is_zero() {
                self.deliver_full(&self.full, &bytes);
            } else {
                self.push_full(self.full.clone(), bytes);
            }
        }
    }

    pub(super) fn send_seat(&mut self, seat: usize, mut message: ServerMessage, client_id: &str) {
        let Some(seq) = self.seat_seq.get_mut(seat) else {
            return;
        };
        *seq += 1;
        wire::set_seq(&mut message, *seq);
        if let Some(agent) = &self.agents[seat] {
            let _ = self
                .manager
                .deliver(agent, Message::Text(encode(message, client_id)));
        }
    }

    pub(super) fn send_one(&self, entry: &ClientEntry, message: ServerMessage, client_id: &str) {
        let _ = self
            .manager
            .deliver(entry, Message::Text(encode(message, client_id)));
    }

    pub(super) fn push_full(&mut self, to: Vec<Arc<ClientEntry>>, bytes: Utf8Bytes) {
        if self.spec.observer_delay.is_zero() {
            self.deliver_full(&to, &bytes);
        } else {
            self.delayed.push_back(Delayed {
                due: Instant::now() + self.spec.observer_delay,
                to,
                bytes,
            });
        }
    }

    pub(super) fn flush_delayed(&mut self) {
        let now = Instant::now();
        while self.delayed.front().is_some_and(|d| d.due <= now) {
            if let Some(d) = self.delayed.pop_front() {
                self.deliver_full(&d.to, &d.bytes);
            }
        }
    }

    pub(super) fn deliver_full(&self, to: &[Arc<ClientEntry>], bytes: &Utf8Bytes) {
        for viewer in to {
            let _ = self.manager.deliver(viewer, Message::Text(bytes.clone()));
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
        entry.traffic.error_sent();
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
