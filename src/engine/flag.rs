//! Stages that flag (automated checks, LLM judges): an attempt is flagged (defect caught or
//! false positive) or passes; a flag rejects it or escalates it to a later human review.

use super::Sim;
use crate::stages::{OnFlag, Role};

impl<'a> Sim<'a> {
    /// Decides a flagging stage and continues routing after its delay.
    pub(super) fn decide_flag(&mut self, id: u32, i: usize) {
        if self.flag_outcome(id, i) {
            self.route(id, i + 1);
        }
    }

    /// Applies flagging stage `i` to attempt `id`; true if the attempt goes on to the next
    /// stage.
    pub(super) fn flag_outcome(&mut self, id: u32, i: usize) -> bool {
        let Role::Flag(chk) = self.wiring.roles[i] else {
            unreachable!("stage {i} does not flag")
        };
        let a = self.actions[id as usize];
        let flagged = if a.defective {
            self.detects(
                i,
                a.entity(),
                chk.detect.of(a.defect_kind as usize, a.class as usize),
                a.z,
            )
        } else {
            self.false_flags(i, a.entity(), chk.false_positive)
        };
        self.decided(i, a.entity(), a.defective, flagged);
        if flagged && a.defective {
            self.learn(i, a.class as usize, a.entity());
        }
        let measuring = self.measuring();
        if !flagged {
            if measuring {
                self.measures.counts[i].passed += 1;
            }
            self.actions[id as usize].auto_passed = true;
            return true;
        }
        if measuring {
            self.measures.counts[i].flagged += 1;
            if a.defective {
                self.measures.counts[i].caught += 1;
            }
        }
        self.actions[id as usize].flagged = true;
        self.count_false_flag(id);
        match chk.on_flag {
            OnFlag::Reject => {
                self.reject(id);
                false
            }
            OnFlag::Escalate(j) => {
                self.actions[id as usize].escalated |= 1 << j;
                true
            }
        }
    }
}
