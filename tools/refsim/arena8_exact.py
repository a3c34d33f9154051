#!/usr/bin/env python3
# Exact werewolf win probability of arena8 under Werewolf Arena's intended rules with agents
# choosing uniformly: a random wolf kills a uniform non-wolf; the doctor (if alive) protects a
# uniform living player (itself included); the seer is irrelevant; each living player votes
# uniformly among the others; exile on a strict majority of the living (the exiled is then
# uniform over the living by symmetry). No round limit.
from fractions import Fraction as F
from functools import lru_cache
from math import comb

def p_majority(n):
    # Majority events for two players are disjoint; votes for one player ~ Bin(n-1, 1/(n-1)).
    m = n - 1
    p = F(1, m)
    one = sum(comb(m, k) * p**k * (1 - p)**(m - k) for k in range(m + 1) if 2 * k > n)
    return n * one

def after_exile(w, o, d):
    # Expected value of the exile outcomes, given an exile happens, at day state (w, o, d).
    n = w + o
    total = F(0)
    # a wolf
    if w - 1 == 0:
        total += F(w, n) * 0
    elif w - 1 >= o:
        total += F(w, n) * 1
    else:
        total += F(w, n) * night(w - 1, o, d)
    # a non-wolf: the doctor with chance d/n, another with (o-d)/n
    for dd, share in ((0, F(d, n)), (d, F(o - d, n))):
        if share == 0:
            continue
        total += share * (1 if w >= o - 1 else night(w, o - 1, dd))
    return total

@lru_cache(None)
def day(w, o, d):
    pm = p_majority(w + o)
    return pm * after_exile(w, o, d) + (1 - pm) * night(w, o, d)

@lru_cache(None)
def night(w, o, d):
    n = w + o
    s = F(d, n)  # the doctor protects the victim
    pm = p_majority(n)
    # killed: the doctor is the victim with chance d/o
    killed = F(0)
    for dd, share in ((0, F(d, o)), (d, F(o - d, o))):
        if share == 0:
            continue
        killed += share * (1 if w >= o - 1 else day(w, o - 1, dd))
    # saved: a day at the same state; with no exile, the same night again (solve the loop)
    rest = (1 - s) * killed + s * pm * after_exile(w, o, d)
    return rest / (1 - s * (1 - pm))

# 2 wolves, 6 others of whom 1 doctor, at nightfall of night 1.
v = night(2, 6, 1)
print(v, float(v))
