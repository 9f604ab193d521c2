//! Transfers, asked of the server: it runs the saga (withdraw into the institution's collection
//! account, deposit from its payout account, refund when the deposit fails for good) and
//! journals every call; the app checks a transfer first, journals the idempotency key it will
//! send, asks once, and follows the transfer's progress to its end. A request whose answer was
//! lost is found again by that key, never sent twice.

use std::time::Duration;

use moa_server::api;
use tokio::sync::mpsc;

use crate::Moa;
use crate::error::{Code, Error, Result};
use crate::journal::{NewTransfer, TransferRecord, TransferState};
use crate::store::AccountRecord;

pub mod rules;

pub use rules::{MEMO_MAX, check_account_number, check_memo};

/// Where the money goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// One of the person's registered accounts.
    Own {
        /// Its row id.
        account_id: i64,
    },
    /// Any account, by bank and number.
    External {
        /// Bank code: 3 digits.
        bank_code: String,
        /// Account number: 1 to 16 digits, nothing else ([`rules::check_account_number`]).
        account_num: String,
    },
}

/// What the person asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    /// Source account row id.
    pub from_account: i64,
    /// Target.
    pub to: Recipient,
    /// Whole won.
    pub amount: i64,
    /// Memo shown on both statements.
    pub memo: String,
}

/// What the confirmation screen shows, checked by the server against the center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// The request, as checked.
    pub request: TransferRequest,
    /// The source account.
    pub from: AccountRecord,
    /// The recipient's name, as the receive check (수취조회) gave it.
    pub recipient_name: String,
    /// The recipient's bank code.
    pub recipient_bank_code: String,
    /// The recipient's bank name.
    pub recipient_bank_name: String,
    /// The recipient's masked account number.
    pub recipient_account_masked: String,
    /// What the source account can pay now.
    pub available: i64,
    /// What may still be transferred today.
    pub remaining_limit: i64,
}

/// A transfer's progress, streamed to the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferEvent {
    /// The transfer's local id.
    pub id: String,
    /// Where it stands now.
    pub state: TransferState,
}

/// How long the app follows a transfer before it leaves it to a later look.
const FOLLOW_FOR: Duration = Duration::from_secs(120);

impl Moa {
    fn active_account(&self, env_id: i64, id: i64) -> Result<AccountRecord> {
        self.store()
            .account(id)?
            .filter(|a| a.environment_id == env_id && a.state == "active")
            .ok_or(Error::NoSuchAccount(id))
    }

    fn wire_request(&self, env_id: i64, request: &TransferRequest) -> Result<api::TransferRequest> {
        let from = self.active_account(env_id, request.from_account)?;
        let to = match &request.to {
            Recipient::Own { account_id } => api::Recipient::Own {
                fintech_use_num: self
                    .active_account(env_id, *account_id)?
                    .details
                    .fintech_use_num,
            },
            Recipient::External {
                bank_code,
                account_num,
            } => api::Recipient::External {
                bank_code: bank_code.clone(),
                account_num: account_num.clone(),
            },
        };
        Ok(api::TransferRequest {
            from: from.details.fintech_use_num,
            to,
            amount: request.amount,
            memo: rules::memo_as_sent(&request.memo).to_owned(),
        })
    }

    /// Checks a transfer before the person confirms it: the server checks consent, the limits
    /// and the balance, and asks the recipient's name (수취조회). Moves nothing.
    pub async fn preflight_transfer(&self, request: &TransferRequest) -> Result<Preflight> {
        let env = self.environment().await?;
        rules::check(request)?;
        let wire = self.wire_request(env.id, request)?;
        let from = self.active_account(env.id, request.from_account)?;
        let check: api::TransferCheck = self
            .server()
            .await?
            .post("/v1/transfers/check", &wire)
            .await?;
        Ok(Preflight {
            request: request.clone(),
            from,
            recipient_name: check.recipient_name,
            recipient_bank_code: check.recipient_bank_code,
            recipient_bank_name: check.recipient_bank_name,
            recipient_account_masked: check.recipient_account_masked,
            available: check.available,
            remaining_limit: check.remaining_limit,
        })
    }

    /// Journals a confirmed transfer's idempotency key, asks the server once, and follows the
    /// transfer to its end (or leaves it, still running on the server, after a while).
    /// Progress goes to `events`.
    pub async fn transfer(
        &self,
        confirmed: &Preflight,
        events: Option<mpsc::Sender<TransferEvent>>,
    ) -> Result<TransferRecord> {
        let env = self.environment().await?;
        let request = &confirmed.request;
        // Checked again: the journal takes only an amount above zero.
        rules::check(request)?;
        let wire = self.wire_request(env.id, request)?;
        let key = uuid::Uuid::new_v4().simple().to_string();
        let (to_account, to_account_num) = match &request.to {
            Recipient::Own { account_id } => (Some(*account_id), String::new()),
            Recipient::External { account_num, .. } => (None, api::mask_account(account_num)),
        };
        let now = self.clock().now();
        let record = self.store().create_transfer(
            &NewTransfer {
                id: key.clone(),
                environment_id: env.id,
                from_account: request.from_account,
                to_account,
                to_bank_code: confirmed.recipient_bank_code.clone(),
                to_account_num,
                to_holder_name: confirmed.recipient_name.clone(),
                amount: request.amount,
                memo: rules::memo_as_sent(&request.memo).to_owned(),
            },
            now,
        )?;
        self.store().audit(
            "transfer",
            &record.transfer.id,
            &format!("asked: {} won", record.transfer.amount),
            now,
        )?;
        let server = self.server().await?;
        let made: api::Transfer = match server.post_once("/v1/transfers", &wire, &key).await {
            Ok(made) => made,
            Err(Error::Server(code)) => {
                // Refused: nothing moved, and this key is never sent again.
                self.store().set_transfer_state(
                    &key,
                    None,
                    TransferState::Failed,
                    Some((Code::of_server(code), None)),
                    self.clock().now(),
                )?;
                return Err(Error::Server(code));
            }
            // No answer: the server may or may not have it. The next look finds it by its
            // key, or marks it never sent.
            Err(e) => return Err(e),
        };
        self.follow(&key, &made, events).await
    }

    /// Follows a transfer the server knows until it is final, or for a while.
    async fn follow(
        &self,
        key: &str,
        first: &api::Transfer,
        events: Option<mpsc::Sender<TransferEvent>>,
    ) -> Result<TransferRecord> {
        let mut record = self.apply(key, first, &events).await?;
        let server = self.server().await?;
        let deadline = tokio::time::Instant::now() + FOLLOW_FOR;
        while !record.state.is_final() && tokio::time::Instant::now() < deadline {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let path = format!("/v1/transfers/{}/events", first.id);
            let streamed = {
                let server = server.clone();
                tokio::spawn(async move {
                    server
                        .stream(reqwest::Method::GET, &path, |line: api::Transfer| {
                            let _ = tx.send(line);
                        })
                        .await
                })
            };
            while let Some(view) = rx.recv().await {
                record = self.apply(key, &view, &events).await?;
            }
            if !matches!(streamed.await, Ok(Ok(()))) {
                // The stream broke: wait a moment before asking again.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        Ok(record)
    }

    /// Caches where the server says the transfer stands, and tells the UI when it moved.
    async fn apply(
        &self,
        key: &str,
        view: &api::Transfer,
        events: &Option<mpsc::Sender<TransferEvent>>,
    ) -> Result<TransferRecord> {
        let before = self.store().transfer(key)?.map(|r| r.state);
        let record = self.store().set_transfer_state(
            key,
            Some(&view.id),
            view.state,
            view.failure_code
                .map(|reason| (Code::of_failure(reason), view.failure_rsp_code.as_deref())),
            self.clock().now(),
        )?;
        if before != Some(view.state) {
            if view.state.is_final() {
                self.store()
                    .audit("transfer", key, view.state.as_str(), self.clock().now())?;
            }
            if let Some(events) = events {
                let _ = events
                    .send(TransferEvent {
                        id: key.to_owned(),
                        state: view.state,
                    })
                    .await;
            }
        }
        Ok(record)
    }

    /// Brings every transfer the app has not seen end up to date with the server: one the
    /// server has is followed; one it never received (its request got no answer) is marked
    /// never sent, and is never sent now. Returns them as they stand.
    pub async fn resume_transfers(
        &self,
        events: Option<mpsc::Sender<TransferEvent>>,
    ) -> Result<Vec<TransferRecord>> {
        let env = self.environment().await?;
        let open = self.store().open_transfers(env.id)?;
        if open.is_empty() {
            return Ok(Vec::new());
        }
        let known: Vec<api::Transfer> = self.server().await?.get("/v1/transfers").await?;
        let mut out = Vec::new();
        for record in open {
            let id = record.transfer.id.as_str();
            match known.iter().find(|t| t.idempotency_key == id) {
                Some(view) if view.state.is_final() => {
                    out.push(self.apply(id, view, &events).await?);
                }
                Some(view) => out.push(self.follow(id, view, events.clone()).await?),
                None => out.push(self.store().set_transfer_state(
                    id,
                    None,
                    TransferState::Failed,
                    Some((Code::NotSent, None)),
                    self.clock().now(),
                )?),
            }
        }
        Ok(out)
    }

    /// The transfers, newest first, as the app last heard of them.
    pub async fn transfers(&self, limit: u32) -> Result<Vec<TransferRecord>> {
        let env = self.environment().await?;
        Ok(self.store().transfers(env.id, limit)?)
    }
}
