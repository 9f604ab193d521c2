//! Playing scripted faults (defined in [`crate::faults`]): what a bank's link and a fault do to a
//! call — latency, outages, refusals, timeouts, dropped connections and transfers that land late.

use std::time::Duration;

use crate::faults::{Fault, Faults, LateAnswer};
use crate::ledger::{self, Movement, Outcome};
use crate::wire::{ApiError, BankBlock};

use super::Testbed;

impl Testbed {
    /// Routes a request of `api` to bank `code`: waits for its link latency, answers `A0002`
    /// with the bank's refusal when it is in outage (`D`), not yet open (`L`) or terminated
    /// (`E`), and plays a scripted fault if one matches. Faults that strike before the bank acts
    /// come back as errors; those that strike after it (a refusal, a timeout after applying, a
    /// connection dropped after commit) are returned for the caller to play at the right moment.
    pub(crate) async fn reach_bank(
        &self,
        api: &str,
        code: &str,
        block: &BankBlock,
    ) -> Result<Option<Fault>, ApiError> {
        let Some(bank) = self.bank(code) else {
            return Err(ApiError::bank(
                block.clone().refused("499", "참가은행이 아닙니다"),
            ));
        };
        let refusal = match bank.status.as_str() {
            "Y" => None,
            "D" => Some("은행 장애로 거래할 수 없습니다"),
            "L" => Some("은행 개시 이전입니다"),
            _ => Some("은행 업무가 종료되었습니다"),
        };
        if let Some(message) = refusal {
            return Err(ApiError::bank(block.clone().refused("499", message)));
        }
        let latency = bank.latency.unwrap_or(self.inner.default_latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match self.inner.faults.take(api, code) {
            Some(Fault::UsageLimit) => Err(ApiError::new("O0009", "사용량 한도를 초과했습니다")),
            Some(Fault::Drop {
                after_commit: false,
            }) => Err(ApiError::dropped()),
            Some(Fault::Timeout {
                applied: false,
                rsp_code,
            }) => Err(timeout(&rsp_code, block)),
            other => Ok(other),
        }
    }

    /// The scripted faults.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Lands `movement` in the ledger `delay` from now, in the background, exactly as its call
    /// would have: [`ledger::apply`] runs its usual checks then, so a `bank_tran_id` used
    /// meanwhile is not applied twice, and a bank refusal is recorded as refused. The work
    /// holds the database but not the testbed, and is aborted when the testbed stops.
    pub(crate) fn land_later(&self, movement: Movement, delay: Duration) {
        let db = self.inner.db.clone();
        let mut late = self.inner.late.lock().unwrap_or_else(|e| e.into_inner());
        // Forget the ones that landed, so the set holds only what is still waiting.
        while late.try_join_next().is_some() {}
        late.spawn(async move {
            tokio::time::sleep(delay).await;
            let id = movement.bank_tran_id.clone();
            match db.write_at(move |conn, at| ledger::apply(conn, &movement, at)).await {
                Ok(Outcome::Done { .. }) => tracing::info!(bank_tran_id = %id, "late transfer applied"),
                Ok(Outcome::Refused { bank_rsp_code, .. }) => {
                    tracing::info!(bank_tran_id = %id, %bank_rsp_code, "late transfer refused by the bank")
                }
                // Refused before the bank (a reused id, a limit): like such a call, no record.
                Err(error) => {
                    tracing::info!(bank_tran_id = %id, rsp_code = error.rsp_code, "late transfer refused")
                }
            }
        });
    }

    /// How many late transfers are still waiting to land.
    pub fn late_pending(&self) -> usize {
        let mut late = self.inner.late.lock().unwrap_or_else(|e| e.into_inner());
        while late.try_join_next().is_some() {}
        late.len()
    }

    /// Aborts the testbed's background work: late transfers that have not landed never will.
    /// [`crate::run`] calls it when it stops serving.
    pub fn stop_background(&self) {
        self.inner
            .late
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .abort_all();
    }
}

/// What the caller of a transfer hit by a late fault hears at once: a timeout or a dropped
/// connection, never a verdict.
pub(crate) fn late_answer(answer: LateAnswer, block: &BankBlock) -> ApiError {
    match answer {
        LateAnswer::Timeout => timeout("A0007", block),
        LateAnswer::BankTimeout => timeout("A0017", block),
        LateAnswer::Drop => ApiError::dropped(),
    }
}

/// The center's timeout answer, `A0007` or `A0017`, carrying the bank block without a verdict.
pub(crate) fn timeout(rsp_code: &str, block: &BankBlock) -> ApiError {
    let (code, message) = if rsp_code == "A0017" {
        ("A0017", "참가기관 응답시간 초과")
    } else {
        ("A0007", "처리시간 초과")
    };
    let mut pending = block.clone();
    pending.bank_rsp_code = String::new();
    ApiError::new(code, message).with_bank(pending)
}

/// What a scripted fault leaves for a transfer to do: the bank's forced refusal, and what
/// happens to the answer after the commit.
pub(crate) fn split_fault(fault: Option<Fault>) -> (Option<String>, Option<Fault>) {
    match fault {
        Some(Fault::BankError { bank_rsp_code }) => (Some(bank_rsp_code), None),
        other => (None, other),
    }
}

/// For inquiries, which change nothing: every fault that is left becomes the answer.
pub(crate) fn inquiry_fault(fault: Option<Fault>, block: &BankBlock) -> Result<(), ApiError> {
    match fault {
        None => Ok(()),
        Some(Fault::BankError { bank_rsp_code }) => Err(ApiError::bank(
            block.clone().refused(&bank_rsp_code, "참가은행 거절"),
        )),
        Some(Fault::Timeout { rsp_code, .. }) => Err(timeout(&rsp_code, block)),
        Some(Fault::Drop { .. }) => Err(ApiError::dropped()),
        Some(Fault::UsageLimit) => Err(ApiError::new("O0009", "사용량 한도를 초과했습니다")),
        // Rules only script it for transfers; should one reach an inquiry, it is its answer.
        Some(Fault::Late { answer, .. }) => Err(late_answer(answer, block)),
    }
}

/// Plays what a fault does to the answer of a transfer that has been committed.
pub(crate) fn after_commit(fault: Option<Fault>, block: &BankBlock) -> Result<(), ApiError> {
    match fault {
        Some(Fault::Timeout { rsp_code, .. }) => Err(timeout(&rsp_code, block)),
        Some(Fault::Drop { .. }) => Err(ApiError::dropped()),
        _ => Ok(()),
    }
}
