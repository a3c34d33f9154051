#!/usr/bin/env python3
"""Independent reference simulations of AIWolf and Werewolf Arena with random agents.

Written from the references' rules, NOT from the hub's engine:

* AIWolf (aiwolf5, aiwolf13): aiwolfdial/aiwolf-nlp-server `logic/*.go`, `util/game_util.go`,
  `model/game_status.go`, `config/default_{5,13}.yml`; random agents as in
  aiwolfdial/aiwolf-nlp-agent `src/agent/agent.py` (see docs/aiwolf-protocol-notes.md §5 and
  tools/refsim/README.md).
* Werewolf Arena (arena8): google/werewolf_arena `werewolf/{game,model,runner,config,lm}.py`
  (see docs/arena-rules-notes.md).

Talk has no effect on random agents and is not simulated.  Every game draws from one
random.Random seeded with --seed, so a run is reproducible with the same Python version.

Usage: python3 tools/refsim/refsim.py --rules aiwolf5|aiwolf13|arena8 --games N --seed S
       [--variant ...] [--agents ...]
"""

import argparse
import math
import random
import sys
import time

WOLF_TEAM = "werewolf"
VILLAGE_TEAM = "villager"
NONE = "none"  # no winner: AIWolf max_day / Arena error abort / safety cap

# ----------------------------------------------------------------------------------------
# AIWolf
# ----------------------------------------------------------------------------------------

WEREWOLF, POSSESSED, SEER, BODYGUARD, MEDIUM, VILLAGER = (
    "WEREWOLF", "POSSESSED", "SEER", "BODYGUARD", "MEDIUM", "VILLAGER")

AIWOLF_ROLES = {
    # config/default_5.yml logic.roles.5
    "aiwolf5": {WEREWOLF: 1, POSSESSED: 1, SEER: 1, BODYGUARD: 0, VILLAGER: 2, MEDIUM: 0},
    # config/default_13.yml logic.roles.13
    "aiwolf13": {WEREWOLF: 3, POSSESSED: 1, SEER: 1, BODYGUARD: 1, VILLAGER: 6, MEDIUM: 1},
}


def aiwolf_winner(roles, alive):
    """util.CalcWinSideTeam: species count, POSSESSED is HUMAN; wolves checked first."""
    wolves = sum(1 for a in alive if roles[a] == WEREWOLF)
    humans = len(alive) - wolves
    if humans <= wolves:
        return WOLF_TEAM
    if wolves == 0:
        return VILLAGE_TEAM
    return None


def plurality(rng, votes):
    """util.GetCandidates + the random pick among a tie (util.SelectRandomAgent).
    votes: list of targets that count.  Returns None when there is no counted vote."""
    if not votes:
        return None
    counts = {}
    for t in votes:
        counts[t] = counts.get(t, 0) + 1
    top = max(counts.values())
    cands = [t for t, c in counts.items() if c == top]
    if len(cands) == 1:
        return cands[0]
    # Go map iteration order makes the candidate order random; a uniform pick among them.
    return rng.choice(sorted(cands))


def plurality_or_tie(votes):
    """The single top target, the list of tied top targets, or None without votes."""
    if not votes:
        return None
    counts = {}
    for t in votes:
        counts[t] = counts.get(t, 0) + 1
    top = max(counts.values())
    cands = sorted(t for t, c in counts.items() if c == top)
    return cands[0] if len(cands) == 1 else cands


class AiwolfAgents:
    """What a random agent answers.  Returns an agent index (possibly invalid: the server
    then drops the answer, as logic/*.go does)."""

    def __init__(self, model):
        self.model = model

    def vote(self, rng, me, alive, roles):
        if self.model == "valid-noself":
            return rng.choice([a for a in alive if a != me])
        # kit: random.choice(alive incl. self); valid: self-vote is accepted and counted
        # (vote.allow_self_vote: true), so the same set.
        return rng.choice(alive)

    def divine(self, rng, me, alive, roles):
        if self.model == "kit":
            return rng.choice(alive)  # self → dropped by conductDivination
        return rng.choice([a for a in alive if a != me])

    def guard(self, rng, me, alive, roles):
        if self.model == "kit":
            return rng.choice(alive)  # self → dropped by conductGuard
        return rng.choice([a for a in alive if a != me])

    def attack(self, rng, me, alive, roles):
        if self.model == "kit":
            return rng.choice(alive)  # self / fellow wolf → not counted by getAttackVotedCandidates
        return rng.choice([a for a in alive if roles[a] != WEREWOLF])


def aiwolf_game(rng, rules, variant, agents, max_day=-1, tie="random", drop=0.0):
    """One game.  Returns (winner, last day played).

    tie and drop are NOT AIWolf rules; they exist only to take differences between bot
    models apart (see README): tie="revote-then-none" replaces AIWolf's random pick among a
    tied day vote with one revote among the tied (each living player votes for a tied player
    other than itself), then nobody; drop is the chance that any one vote/divine/guard/attack
    request goes unanswered (the server then has no answer from that agent)."""

    def answered():
        return drop <= 0.0 or rng.random() >= drop

    deck = []
    for role, n in AIWOLF_ROLES[rules].items():
        deck += [role] * n
    rng.shuffle(deck)
    roles = deck
    n = len(roles)
    alive = list(range(n))  # kept in index order
    night0_attack = variant == "night0-attack"

    day = 0
    while True:
        # ---- progressDay: DAILY_INITIALIZE, (morning whisper on day 0), talk.  No effect on
        # random agents.  shouldFinish() after each phase cannot change anything here.
        # ---- progressNight: DAILY_FINISH, then the night phases, shouldFinish() after each.
        finished = None
        # execution (except day 0)
        if day >= 1:
            votes = []
            for a in alive:  # every alive agent votes; target must be alive (it is)
                if answered():
                    votes.append(agents.vote(rng, a, alive, roles))
            if tie == "random":
                executed = plurality(rng, votes)  # vote.max_count 1: no revote
            else:
                executed = plurality_or_tie(votes)
                if isinstance(executed, list):  # tied: one revote among the tied
                    tied = executed
                    votes = []
                    for a in alive:
                        opts = [t for t in tied if t != a]
                        if opts and answered():
                            votes.append(rng.choice(opts))
                    executed = plurality_or_tie(votes)
                    if isinstance(executed, list):
                        executed = None
            if executed is not None:
                alive.remove(executed)
            finished = aiwolf_winner(roles, alive)
            if finished:
                return finished, day
        # divine (also night 0): first alive SEER; self-target dropped; no effect on outcome
        for a in alive:
            if roles[a] == SEER:
                if answered():
                    agents.divine(rng, a, alive, roles)
                break
        # (night whisper: no effect)
        if day >= 1 or night0_attack:
            # guard: first alive BODYGUARD; self-target dropped; consecutive guards allowed
            guarded = None
            for a in alive:
                if roles[a] == BODYGUARD:
                    if answered():
                        t = agents.guard(rng, a, alive, roles)
                        if t != a:
                            guarded = t
                    break
            # attack: all alive wolves vote; votes for WEREWOLF-role targets are not counted
            wolves = [a for a in alive if roles[a] == WEREWOLF]
            if wolves:
                votes = []
                for w in wolves:
                    if not answered():
                        continue
                    t = agents.attack(rng, w, alive, roles)
                    if roles[t] != WEREWOLF:
                        votes.append(t)
                attacked = plurality(rng, votes)  # allow_no_target false → random among tied
                # isGuarded: the bodyguard is alive (nothing can kill it between guard and attack)
                if attacked is not None and attacked != guarded:
                    alive.remove(attacked)
            finished = aiwolf_winner(roles, alive)
            if finished:
                return finished, day
        # ---- next day; max_day check, then shouldFinish()
        day += 1
        if max_day >= 0 and day >= max_day + 1:
            return NONE, day - 1
        finished = aiwolf_winner(roles, alive)
        if finished:
            return finished, day - 1


# ----------------------------------------------------------------------------------------
# Werewolf Arena
# ----------------------------------------------------------------------------------------

A_WOLF, A_SEER, A_DOCTOR, A_VILLAGER = "Werewolf", "Seer", "Doctor", "Villager"


class ArenaError(Exception):
    """The reference would raise ValueError (no valid answer possible) and abort the game."""


def arena_game(rng, variant, max_rounds=1000):
    """One game of Werewolf Arena (NUM_PLAYERS = 8, runner.initialize_players).

    variant "code": as the code runs.  GameMaster.resolve_night_phase calls
      gamestate.remove_player(eliminated) for every living player even when the doctor saved
      the target, so a saved player vanishes from every player's `current_players` (the option
      lists) while staying in `this_round.players` (alive, votes, counts for the majority and
      the win check).  An action whose option list is empty gets no allowed answer and the
      game aborts with ValueError (winner "").
    variant "no-ghost": only that bug fixed: a saved player stays targetable (a seer with
      nobody left to unmask still aborts the game, as the code does).
    variant "intended": no-ghost, and a seer with nobody left to unmask skips the night
      instead of aborting.

    Returns (winner, rounds played)."""
    deck = [A_SEER, A_DOCTOR, A_WOLF, A_WOLF] + [A_VILLAGER] * 4
    rng.shuffle(deck)
    roles = deck
    n = len(roles)
    alive = list(range(n))   # this_round.players
    visible = list(range(n))  # every living player's gamestate.current_players (identical)
    wolves = [i for i in range(n) if roles[i] == A_WOLF]
    seer = roles.index(A_SEER)
    doctor = roles.index(A_DOCTOR)
    unmasked = set()
    code = variant == "code"
    seer_aborts = variant in ("code", "no-ghost")

    def winner():
        # GameMaster.get_winner: wolves >= non-wolves (in this_round.players) first
        w = sum(1 for a in alive if roles[a] == A_WOLF)
        if w >= len(alive) - w:
            return WOLF_TEAM
        return VILLAGE_TEAM if w == 0 else None

    def pick(options):
        if not options:
            raise ArenaError()
        return rng.choice(options)

    for rnd in range(max_rounds):
        # eliminate: ONE random living werewolf chooses (Werewolf.eliminate)
        wolf = rng.choice([w for w in wolves if w in alive])
        other = [w for w in wolves if w != wolf][0]
        eliminated = pick([p for p in visible if p != wolf and p != other])
        # protect: doctor if alive; options = current_players (self allowed, repeats allowed)
        protected = None
        if doctor in alive:
            protected = pick(list(visible))
        # unmask: seer if alive; options exclude self and previously unmasked players
        if seer in alive:
            opts = [p for p in visible if p != seer and p not in unmasked]
            if opts or seer_aborts:
                unmasked.add(pick(opts))
        # resolve_night_phase
        if eliminated != protected:
            alive.remove(eliminated)
            visible.remove(eliminated)
        elif code:
            visible.remove(eliminated)  # the saved player drops out of every view
        w = winner()
        if w:
            return w, rnd + 1
        # day: MAX_DEBATE_TURNS = 8 debate turns, RUN_SYNTHETIC_VOTES = True → a full vote after
        # every turn; only the last vote (this_round.votes[-1]) decides.  Bids and talk have no
        # effect on random agents, and the earlier votes are discarded, so only the last is drawn.
        counts = {}
        for a in alive:
            t = pick([p for p in visible if p != a])
            counts[t] = counts.get(t, 0) + 1
        top = max(counts.values())
        if top > len(alive) / 2:  # strict majority of the living; else nobody is exiled
            exiled = [t for t, c in counts.items() if c == top][0]
            alive.remove(exiled)
            visible.remove(exiled)
        w = winner()
        if w:
            return w, rnd + 1
    return NONE, max_rounds


# ----------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------

def wilson(k, n, z=1.959963984540054):
    if n == 0:
        return 0.0, 0.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return centre - half, centre + half


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", required=True, choices=["aiwolf5", "aiwolf13", "arena8"])
    ap.add_argument("--games", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variant", default=None,
                    help="aiwolf*: 'reference' (default) or 'night0-attack' (the hub's former "
                         "rule: the wolves attack, and the bodyguard guards, on night 0 too); "
                         "arena8: 'code' (default, as the reference code runs), 'no-ghost' (a "
                         "saved player stays targetable) or 'intended' (no-ghost, and a seer "
                         "with nobody left to unmask skips instead of aborting)")
    ap.add_argument("--agents", default="kit", choices=["kit", "valid", "valid-noself"],
                    help="aiwolf* only. kit (default): exactly aiwolf-nlp-agent's random agent, "
                         "random.choice over all alive agents incl. itself for every vote/divine/"
                         "guard/attack (invalid answers dropped by the server); valid: uniform "
                         "over the targets the server accepts and counts (vote: alive incl. self; "
                         "divine/guard: alive others; attack: alive non-werewolves); "
                         "valid-noself: as valid but votes only for alive others")
    ap.add_argument("--max-day", type=int, default=-1,
                    help="aiwolf*: game.max_day (default -1, unlimited, as the default configs)")
    ap.add_argument("--tie", default="random", choices=["random", "revote-then-none"],
                    help="aiwolf*, NOT an AIWolf rule unless 'random' (default, AIWolf's): "
                         "a knob to take bot/engine differences apart")
    ap.add_argument("--drop", type=float, default=0.0,
                    help="aiwolf*, NOT an AIWolf rule: chance that a vote/divine/guard/attack "
                         "request goes unanswered (default 0)")
    args = ap.parse_args(argv)

    if args.rules == "arena8":
        variant = args.variant or "code"
        if variant not in ("code", "no-ghost", "intended"):
            ap.error("arena8 variants: code, no-ghost, intended")
        play = lambda rng: arena_game(rng, variant)  # noqa: E731
        desc = f"rules=arena8 variant={variant} agents=uniform-over-options"
    else:
        variant = args.variant or "reference"
        if variant not in ("reference", "night0-attack"):
            ap.error("aiwolf variants: reference, night0-attack")
        agents = AiwolfAgents(args.agents)
        play = lambda rng: aiwolf_game(rng, args.rules, variant, agents, args.max_day,  # noqa: E731
                                       args.tie, args.drop)
        desc = f"rules={args.rules} variant={variant} agents={args.agents} max_day={args.max_day}"
        if args.tie != "random" or args.drop:
            desc += f" tie={args.tie} drop={args.drop} (non-reference knobs)"

    rng = random.Random(args.seed)
    wins = {WOLF_TEAM: 0, VILLAGE_TEAM: 0, NONE: 0}
    errors = 0
    length = 0
    t0 = time.perf_counter()
    for _ in range(args.games):
        try:
            w, d = play(rng)
        except ArenaError:
            w, d = NONE, 0
            errors += 1
        wins[w] += 1
        length += d
    dt = time.perf_counter() - t0
    n = args.games
    k = wins[WOLF_TEAM]
    lo, hi = wilson(k, n)
    decided = n - wins[NONE]
    print(desc + f" games={n} seed={args.seed}")
    print(f"werewolf-team win rate: {k / n:.4f}  95% CI (Wilson) [{lo:.4f}, {hi:.4f}]"
          f"  ({k} of {n})")
    print(f"villager-team win rate: {wins[VILLAGE_TEAM] / n:.4f}  ({wins[VILLAGE_TEAM]} of {n})")
    none_note = " (the reference aborts with an error)" if errors else ""
    print(f"draw/none share: {wins[NONE] / n:.4f}  ({wins[NONE]} of {n}){none_note}")
    if decided and wins[NONE]:
        lo2, hi2 = wilson(k, decided)
        print(f"werewolf-team win rate among decided games: {k / decided:.4f}"
              f"  95% CI [{lo2:.4f}, {hi2:.4f}]  ({k} of {decided})")
    unit = "rounds" if args.rules == "arena8" else "days (last day played)"
    print(f"mean game length: {length / n:.3f} {unit}")
    print(f"speed: {n / dt:.0f} games/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
