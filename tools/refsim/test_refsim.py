"""Checks of refsim against closed-form values: python3 -m unittest tools/refsim/test_refsim.py

aiwolf5 with one werewolf: every day vote executes a uniformly random living agent (the votes
are exchangeable), so with h humans and the wolf alive at the start of day d >= 1,
f(h) = h/(h+1) * [after the attack]:
  reference rules, every agent model: f(4) = 8/15
  night-0 attack, valid agents (the wolf always kills): f(3) = 3/4
  night-0 attack, kit agents (the wolf names itself with chance 1/5 → no kill):
      1/5 * f(4) + 4/5 * f_kit(3) = 1/5 * 8/15 + 4/5 * 2/3 = 16/25
"""

import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refsim  # noqa: E402

N = 20000
Z = 3.29  # 99.9 %


class Aiwolf5Exact(unittest.TestCase):
    def rate(self, variant, model, seed=11):
        rng = random.Random(seed)
        agents = refsim.AiwolfAgents(model)
        k = sum(refsim.aiwolf_game(rng, "aiwolf5", variant, agents)[0] == refsim.WOLF_TEAM
                for _ in range(N))
        return refsim.wilson(k, N, Z)

    def check(self, variant, model, exact):
        lo, hi = self.rate(variant, model)
        self.assertTrue(lo <= exact <= hi, (variant, model, lo, hi, exact))

    def test_reference(self):
        for model in ("kit", "valid", "valid-noself"):
            self.check("reference", model, 8 / 15)

    def test_night0_attack(self):
        self.check("night0-attack", "valid", 3 / 4)
        self.check("night0-attack", "valid-noself", 3 / 4)
        self.check("night0-attack", "kit", 16 / 25)


class ArenaSanity(unittest.TestCase):
    def test_intended_never_aborts_and_ends(self):
        rng = random.Random(5)
        for _ in range(2000):
            w, rounds = refsim.arena_game(rng, "intended")
            self.assertIn(w, (refsim.WOLF_TEAM, refsim.VILLAGE_TEAM))
            self.assertLess(rounds, 1000)

    def test_code_variant_ends_within_six_nights(self):
        # every night one visible non-wolf leaves the option lists (killed or saved-and-hidden)
        rng = random.Random(6)
        for _ in range(2000):
            try:
                _, rounds = refsim.arena_game(rng, "code")
            except refsim.ArenaError:
                continue
            self.assertLessEqual(rounds, 6)


if __name__ == "__main__":
    unittest.main()
