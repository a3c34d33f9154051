//! One seat's hub stream as an AIWolf agent sees it: the frames of the seat's stream (exactly
//! what a hub agent of that seat receives, so nothing more is known) folded into AIWolf
//! packets, and the agent's raw-text answers turned into `player_action`s.

use super::packets::{self, Info, Judge, Packet, Setting, Talk, Vote, agent_name};
use std::collections::BTreeMap;
use werewolf_schemas::{
    ActionKind, ActionRequestBody, Channel, DeathCause, Phase, ResultKind, ResultValue, Role,
    ServerMessage,
};

/// An `action_request` the agent is answering.
#[derive(Debug, Clone)]
pub struct Asked {
    /// The hub's request id.
    pub request_id: String,
    /// What is asked.
    pub action: ActionKind,
    /// The longest talk accepted.
    pub max_chars: Option<usize>,
    /// Who may be chosen (player ids).
    pub candidates: Vec<String>,
    /// An `attack` asked while at least two werewolves are alive: the pack's whisper phase
    /// ([`super::pack`]) comes first, then the `ATTACK` packet ([`SeatView::attack_packet`]);
    /// no packet is sent for the request itself.
    pub whisper: bool,
    /// The pack's whisper turn this `WHISPER` is ([`super::pack::Status::Turn`]'s serial).
    pub turn: Option<u64>,
}

/// What the seat knows, in AIWolf's terms.
#[derive(Debug)]
pub struct SeatView {
    /// The hub's game id (AIWolf's `game_id`).
    game_id: String,
    /// This seat's index.
    me: usize,
    /// Player ids by seat.
    ids: Vec<String>,
    /// Who is alive, by seat.
    alive: Vec<bool>,
    /// This seat's role, once dealt.
    role: Option<Role>,
    /// The werewolves this seat knows (itself included, if one).
    wolves: Vec<usize>,
    /// The day the agent is in (AIWolf's `day`).
    day: u32,
    /// Whether `INITIALIZE` was sent.
    initialized: bool,
    /// Whether today's `DAILY_FINISH` was sent.
    finished_today: bool,
    /// A new day's `DAILY_INITIALIZE` waits for the rest of its dawn (the night's deaths, the
    /// medium's result), as AIWolf's carries them; it goes out with the next frame that is
    /// not part of the dawn, and not at all if the game ends at that dawn (AIWolf's server
    /// sends `FINISH` then).
    daily_due: bool,
    /// Today's public talks.
    talks: Vec<Talk>,
    /// How many of them the agent has had.
    talks_sent: usize,
    /// Tonight's whispers.
    whispers: Vec<Talk>,
    /// How many of them the agent has had.
    whispers_sent: usize,
    /// Talk turns this seat took today.
    my_talks: u32,
    /// Today's public votes.
    votes_today: Vec<Vote>,
    /// Yesterday's, shown today.
    votes_shown: Vec<Vote>,
    /// Tonight's attack votes (wolves).
    attack_votes: Vec<Vote>,
    /// Last night's, shown today.
    attack_votes_shown: Vec<Vote>,
    /// Executed today.
    executed_today: Option<usize>,
    /// Executed yesterday, shown today.
    executed_shown: Option<usize>,
    /// Killed tonight.
    attacked_tonight: Option<usize>,
    /// Killed last night, shown today.
    attacked_shown: Option<usize>,
    /// The latest divination, shown from the next day.
    divine_pending: Option<Judge>,
    /// The divination shown.
    divine_shown: Option<Judge>,
    /// The latest medium result.
    medium_shown: Option<Judge>,
    /// The rules, for `setting`.
    setting: Setting,
}

impl SeatView {
    /// The view of seat `me` of a game whose seats have these player ids.
    pub fn new(game_id: String, me: usize, ids: Vec<String>, setting: Setting) -> SeatView {
        let n = ids.len();
        SeatView {
            game_id,
            me,
            ids,
            alive: vec![true; n],
            role: None,
            wolves: Vec::new(),
            day: 0,
            initialized: false,
            finished_today: false,
            daily_due: false,
            talks: Vec::new(),
            talks_sent: 0,
            whispers: Vec::new(),
            whispers_sent: 0,
            my_talks: 0,
            votes_today: Vec::new(),
            votes_shown: Vec::new(),
            attack_votes: Vec::new(),
            attack_votes_shown: Vec::new(),
            executed_today: None,
            executed_shown: None,
            attacked_tonight: None,
            attacked_shown: None,
            divine_pending: None,
            divine_shown: None,
            medium_shown: None,
            setting,
        }
    }

    fn seat(&self, player_id: &str) -> Option<usize> {
        self.ids.iter().position(|id| id == player_id)
    }

    fn name_of(&self, player_id: &str) -> String {
        self.seat(player_id)
            .map_or_else(|| player_id.to_owned(), agent_name)
    }

    /// The player id of an AIWolf name (`Agent[NN]`), if it is one of this game's.
    pub fn player_of(&self, name: &str) -> Option<String> {
        let n: usize = name
            .trim()
            .strip_prefix("Agent[")?
            .strip_suffix(']')?
            .parse()
            .ok()?;
        self.ids.get(n.checked_sub(1)?).cloned()
    }

    /// Folds one frame of the seat's stream in; returns the packets it calls for, and the
    /// request the last of them asks (if it asks one).
    pub fn on_frame(&mut self, message: &ServerMessage) -> (Vec<Packet>, Option<Asked>) {
        let mut out = Vec::new();
        let mut asked = None;
        let dawn_over = match message {
            ServerMessage::GameState(_)
            | ServerMessage::ActionRequest(_)
            | ServerMessage::AgentMessage(_) => true,
            ServerMessage::PhaseUpdate(u) => u.phase != Phase::Ended,
            _ => false,
        };
        if self.daily_due && dawn_over {
            self.daily_due = false;
            out.push(self.packet("DAILY_INITIALIZE", true));
        }
        match message {
            ServerMessage::GameState(state) => {
                for p in &state.players {
                    if let Some(s) = self.seat(&p.id) {
                        self.alive[s] = p.alive;
                    }
                }
                if let Some(you) = &state.you {
                    self.role = Some(you.role);
                    self.wolves = std::iter::once(self.me)
                        .filter(|_| you.role == Role::Werewolf)
                        .chain(you.teammates.iter().filter_map(|t| self.seat(t)))
                        .collect();
                }
                if !self.initialized && state.phase != Phase::Lobby && self.role.is_some() {
                    self.initialized = true;
                    // The hub's night N is the night of AIWolf's day N - 1 (its first night is
                    // AIWolf's night 0), so the next dawn starts a new day.
                    self.day = if state.phase == Phase::Night {
                        state.day.saturating_sub(1)
                    } else {
                        state.day
                    };
                    out.push(self.packet("INITIALIZE", true));
                    out.push(self.packet("DAILY_INITIALIZE", true));
                }
            }
            ServerMessage::PhaseUpdate(update) => {
                if let Some(deaths) = &update.deaths {
                    for d in deaths {
                        if let Some(s) = self.seat(&d.player_id) {
                            self.alive[s] = false;
                            if matches!(d.cause, Some(DeathCause::Night | DeathCause::Attack)) {
                                self.attacked_tonight = Some(s);
                            }
                        }
                    }
                }
                match update.phase {
                    Phase::Day if update.day > self.day && self.initialized => {
                        self.new_day(update.day);
                        self.daily_due = true;
                    }
                    Phase::Discussion if update.day > self.day && self.initialized => {
                        self.new_day(update.day);
                        out.push(self.packet("DAILY_INITIALIZE", true));
                    }
                    Phase::Vote | Phase::Night if self.initialized && !self.finished_today => {
                        self.finished_today = true;
                        let mut p = self.packet("DAILY_FINISH", false);
                        p.talk_history = Some(self.take_talks());
                        if self.role == Some(Role::Werewolf) {
                            p.whisper_history = Some(self.take_whispers());
                        }
                        out.push(p);
                    }
                    _ => {}
                }
            }
            ServerMessage::AgentMessage(m) => {
                let Some(seat) = self.seat(&m.agent_id) else {
                    return (out, None);
                };
                let whisper = m.channel == Channel::Wolves;
                let list = if whisper {
                    &mut self.whispers
                } else {
                    &mut self.talks
                };
                list.push(Talk {
                    idx: list.len(),
                    day: self.day,
                    turn: 0,
                    agent: agent_name(seat),
                    text: m.message_text.clone(),
                    skip: false,
                    over: false,
                });
            }
            ServerMessage::PlayerAction(a)
                if a.action == ActionKind::Talk && a.over == Some(true) =>
            {
                // The agent is done for the day: its pass just before was AIWolf's `Over`.
                let name = self.seat(&a.player_id).map(agent_name);
                if let Some(last) = self.talks.last_mut()
                    && last.skip
                    && Some(&last.agent) == name.as_ref()
                {
                    last.text = "Over".to_owned();
                    last.skip = false;
                    last.over = true;
                }
            }
            ServerMessage::PlayerAction(a) if a.action == ActionKind::Talk => {
                // A pass: AIWolf's `Over` when a pass ends the agent's talk (max_skip 0),
                // else its `Skip` (turned into `Over` by the `over` notice that follows when
                // the pass ended the agent's day).
                let Some(seat) = self.seat(&a.player_id) else {
                    return (out, None);
                };
                let over = self.setting.talk.max_skip == 0;
                self.talks.push(Talk {
                    idx: self.talks.len(),
                    day: self.day,
                    turn: 0,
                    agent: agent_name(seat),
                    text: if over { "Over" } else { "Skip" }.to_owned(),
                    skip: !over,
                    over,
                });
            }
            ServerMessage::PlayerAction(a) => {
                let voter = self.name_of(&a.player_id);
                let Some(target) = a.target.as_deref().map(|t| self.name_of(t)) else {
                    return (out, None);
                };
                let vote = Vote {
                    day: self.day,
                    agent: voter,
                    target,
                };
                match a.action {
                    ActionKind::Vote => self.votes_today.push(vote),
                    ActionKind::Attack => self.attack_votes.push(vote),
                    _ => {}
                }
            }
            ServerMessage::VoteResult(v) => {
                if let Some(executed) = v.executed.as_deref().and_then(|e| self.seat(e)) {
                    self.executed_today = Some(executed);
                }
                // The ballots come with the count (votes are hidden until then): the round
                // that decided is AIWolf's vote_list.
                if !v.ballots.is_empty() {
                    self.votes_today = self.ballots(&v.ballots);
                }
            }
            ServerMessage::Death(d) => {
                if let Some(s) = self.seat(&d.player_id) {
                    self.alive[s] = false;
                    // A night's deaths were taken from the dawn's `phase_update`, before the day
                    // began; taken again here, they would show on the next day too.
                    if d.cause == DeathCause::Execution {
                        self.executed_today = Some(s);
                    }
                }
            }
            ServerMessage::ActionResult(r)
                if r.result == ResultValue::PackChoice && !r.ballots.is_empty() =>
            {
                self.attack_votes = self.ballots(&r.ballots);
            }
            ServerMessage::ActionResult(r) => {
                let species = match r.result {
                    ResultValue::Werewolf => Some("WEREWOLF"),
                    ResultValue::Human => Some("HUMAN"),
                    // `seer_sees_role`: AIWolf's species of the role.
                    ResultValue::Role => r.role.map(|role| {
                        if role == werewolf_schemas::Role::Werewolf {
                            "WEREWOLF"
                        } else {
                            "HUMAN"
                        }
                    }),
                    _ => None,
                };
                if let (Some(result), Some(target)) = (species, r.target.as_deref()) {
                    // A divination is of tonight (AIWolf's day); the medium's result, read at
                    // the dawn, is of yesterday's execution.
                    let day = match r.action {
                        ResultKind::Medium => self.day.saturating_sub(1),
                        _ => self.day,
                    };
                    let judge = Judge {
                        day,
                        agent: agent_name(self.me),
                        target: self.name_of(target),
                        result,
                    };
                    match r.action {
                        ResultKind::Divine => self.divine_pending = Some(judge),
                        ResultKind::Medium => self.medium_shown = Some(judge),
                        _ => {}
                    }
                }
            }
            ServerMessage::ActionRequest(request) => {
                if let Some((packet, a)) = self.request(request) {
                    out.extend(packet);
                    asked = Some(a);
                }
            }
            ServerMessage::GameOver(over) => {
                self.daily_due = false;
                // Ended after a vote (or mid-night): AIWolf's server advances the day before
                // `FINISH`, whose `info` then shows that day's execution and votes.
                if self.finished_today && self.initialized {
                    self.new_day(self.day + 1);
                }
                let mut p = self.packet("FINISH", false);
                if let Some(info) = p.info.as_mut() {
                    info.role_map = over
                        .roles
                        .iter()
                        .map(|(id, role)| (self.name_of(id), packets::role_name(*role)))
                        .collect();
                }
                out.push(p);
            }
            _ => {}
        }
        (out, asked)
    }

    /// The packet an `action_request` is (none for an attack whose whisper phase comes first).
    fn request(&mut self, request: &ActionRequestBody) -> Option<(Option<Packet>, Asked)> {
        let asked = Asked {
            request_id: request.request_id.clone(),
            action: request.action,
            max_chars: request.max_message_chars,
            candidates: request
                .candidates
                .iter()
                .map(|c| c.player_id.clone())
                .collect(),
            whisper: false,
            turn: None,
        };
        let packet = match request.action {
            ActionKind::Talk => {
                self.my_talks += 1;
                let mut p = self.packet("TALK", false);
                if let Some(info) = p.info.as_mut() {
                    let left = self.setting.talk.max_count.per_agent - i64::from(self.my_talks);
                    info.remain_count = Some(left.max(0));
                    // Without a pass limit (-1, the hub's rule) every turn left may be passed.
                    let skips = self.setting.talk.max_skip;
                    info.remain_skip = Some(if skips < 0 { left.max(0) } else { skips });
                }
                p.talk_history = Some(self.take_talks());
                p
            }
            ActionKind::Vote => self.packet("VOTE", false),
            ActionKind::Divine => self.packet("DIVINE", false),
            ActionKind::Protect => self.packet("GUARD", false),
            // With a fellow werewolf alive, AIWolf's night whisper phase comes first: the
            // adapter plays it with the pack, then asks the attack.
            ActionKind::Attack if self.living_wolves() >= 2 => {
                return Some((
                    None,
                    Asked {
                        whisper: true,
                        ..asked
                    },
                ));
            }
            ActionKind::Attack => self.attack_packet(),
            // Kinds AIWolf has no request for (the hub's witch and hunter, Arena's bids, and the
            // engine's whisper turns: the endpoint plays AIWolf's own whisper phase): not
            // asked, they time out to their defaults.
            ActionKind::Witch | ActionKind::Shoot | ActionKind::Whisper | ActionKind::Bid => {
                return None;
            }
        };
        Some((Some(packet), asked))
    }

    /// A `WHISPER` packet of the pack's phase, with the whispers since the agent's last packet
    /// that had them.
    pub fn whisper_packet(&mut self, remain_count: i64, remain_skip: i64) -> Packet {
        let mut p = self.packet("WHISPER", false);
        if let Some(info) = p.info.as_mut() {
            info.remain_count = Some(remain_count.max(0));
            info.remain_skip = Some(remain_skip.max(0));
        }
        p.whisper_history = Some(self.take_whispers());
        p
    }

    /// A whisper of the pack's phase (said, `Skip` or `Over`), heard through the pack.
    pub fn add_whisper(&mut self, w: &super::pack::Whisper) {
        self.whispers.push(Talk {
            idx: self.whispers.len(),
            day: self.day,
            turn: w.turn,
            agent: agent_name(w.seat),
            text: w.text.clone(),
            skip: w.skip,
            over: w.over,
        });
    }

    /// The AIWolf day the agent is in.
    pub fn day(&self) -> u32 {
        self.day
    }

    /// The seat a player id is.
    pub fn seat_of(&self, player_id: &str) -> Option<usize> {
        self.seat(player_id)
    }

    /// The living werewolves this seat knows of (itself included, if one).
    pub fn living_wolf_seats(&self) -> Vec<usize> {
        self.wolves
            .iter()
            .copied()
            .filter(|&w| self.alive[w])
            .collect()
    }

    /// The `ATTACK` packet, with the whispers since the agent's last packet that had them.
    pub fn attack_packet(&mut self) -> Packet {
        let mut p = self.packet("ATTACK", false);
        p.whisper_history = Some(self.take_whispers());
        p
    }

    /// The longest talk or whisper the game accepts, in chars.
    pub fn max_talk_chars(&self) -> usize {
        usize::try_from(self.setting.talk.max_length.per_talk).unwrap_or(usize::MAX)
    }

    /// Living werewolves this seat knows of.
    fn living_wolves(&self) -> usize {
        self.wolves.iter().filter(|&&w| self.alive[w]).count()
    }

    fn take_talks(&mut self) -> Vec<Talk> {
        let new = self.talks[self.talks_sent.min(self.talks.len())..].to_vec();
        self.talks_sent = self.talks.len();
        new
    }

    fn take_whispers(&mut self) -> Vec<Talk> {
        let new = self.whispers[self.whispers_sent.min(self.whispers.len())..].to_vec();
        self.whispers_sent = self.whispers.len();
        new
    }

    /// Ballots published with a count, as AIWolf's vote list (abstentions are not listed).
    fn ballots(&self, ballots: &[werewolf_schemas::Ballot]) -> Vec<Vote> {
        ballots
            .iter()
            .filter_map(|b| {
                Some(Vote {
                    day: self.day,
                    agent: self.name_of(&b.voter),
                    target: self.name_of(b.target.as_deref()?),
                })
            })
            .collect()
    }

    /// A new day: yesterday's facts become what `info` shows; today's lists start empty.
    fn new_day(&mut self, day: u32) {
        self.day = day;
        self.finished_today = false;
        self.talks.clear();
        self.talks_sent = 0;
        self.whispers.clear();
        self.whispers_sent = 0;
        self.my_talks = 0;
        self.votes_shown = std::mem::take(&mut self.votes_today);
        self.attack_votes_shown = std::mem::take(&mut self.attack_votes);
        self.executed_shown = self.executed_today.take();
        self.attacked_shown = self.attacked_tonight.take();
        // AIWolf shows only last night's divination and yesterday's execution's reading
        // (`gameStatuses[day-1]`): none if there was none.
        self.divine_shown = self.divine_pending.take();
        self.medium_shown = None;
    }

    /// A packet of `request` with the current `info` (and the `setting` if asked).
    fn packet(&self, request: &'static str, setting: bool) -> Packet {
        let status_map = (0..self.ids.len())
            .map(|s| {
                let status = if self.alive[s] { "ALIVE" } else { "DEAD" };
                (agent_name(s), status)
            })
            .collect();
        let mut role_map = BTreeMap::new();
        if let Some(role) = self.role {
            role_map.insert(agent_name(self.me), packets::role_name(role));
        }
        for &w in &self.wolves {
            role_map.insert(agent_name(w), "WEREWOLF");
        }
        let wolf = self.role == Some(Role::Werewolf);
        let info = Info {
            game_id: self.game_id.clone(),
            day: self.day,
            agent: agent_name(self.me),
            medium_result: self
                .medium_shown
                .clone()
                .filter(|_| self.role == Some(Role::Medium)),
            divine_result: self
                .divine_shown
                .clone()
                .filter(|_| self.role == Some(Role::Seer)),
            executed_agent: self.executed_shown.map(agent_name),
            attacked_agent: self.attacked_shown.map(agent_name),
            vote_list: (!self.votes_shown.is_empty() && self.setting.vote_visibility)
                .then(|| self.votes_shown.clone()),
            attack_vote_list: (wolf && !self.attack_votes_shown.is_empty())
                .then(|| self.attack_votes_shown.clone()),
            remain_count: None,
            remain_skip: None,
            status_map,
            role_map,
        };
        Packet {
            request,
            info: Some(info),
            setting: setting.then(|| self.setting.clone()),
            talk_history: None,
            whisper_history: None,
        }
    }
}
