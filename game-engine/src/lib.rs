//! Werewolf rules as a pure, deterministic state machine.
//!
//! Skeleton: the rules land with the game-engine issue. This crate does no I/O, reads no clock
//! and takes its randomness from a seed in the game configuration.
