//! The shell's state: Moa's core, the person's language, and confirmed-but-not-sent transfer
//! checks. Everything here is a thin wrapper; decisions live in `moa_core`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use moa_core::store::settings;
use moa_core::transfer::{Preflight, rules};
use moa_core::{Code, Moa};

use crate::error::{from_core, ipc_error};
use crate::ipc::{IpcError, Language, Theme};

/// Managed by Tauri; one per process.
pub struct Core {
    /// The core.
    pub moa: Moa,
    preflights: Mutex<HashMap<String, (Preflight, Instant)>>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("moa", &self.moa)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Wraps an opened core.
    pub fn new(moa: Moa) -> Self {
        Self {
            moa,
            preflights: Mutex::new(HashMap::new()),
        }
    }

    /// The person's language (Korean until they choose).
    pub fn language(&self) -> Language {
        match self
            .moa
            .store()
            .setting(settings::LANGUAGE)
            .ok()
            .flatten()
            .as_deref()
        {
            Some("en") => Language::En,
            _ => Language::Ko,
        }
    }

    /// The person's theme.
    pub fn theme(&self) -> Theme {
        match self
            .moa
            .store()
            .setting(settings::THEME)
            .ok()
            .flatten()
            .as_deref()
        {
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            _ => Theme::System,
        }
    }

    /// A core error for the UI.
    pub fn error(&self, error: moa_core::Error) -> IpcError {
        from_core(&error)
    }

    /// An error by code.
    pub fn refuse(&self, code: Code) -> IpcError {
        ipc_error(code)
    }

    /// Keeps a checked transfer until the person confirms it; returns its token.
    pub fn hold(&self, preflight: Preflight) -> String {
        let token = uuid::Uuid::new_v4().to_string();
        let mut held = self.preflights.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|_, (_, at)| rules::still_confirmable(at.elapsed()));
        held.insert(token.clone(), (preflight, Instant::now()));
        token
    }

    /// The checked transfer for `token`, once.
    pub fn take(&self, token: &str) -> Option<Preflight> {
        let mut held = self.preflights.lock().unwrap_or_else(|e| e.into_inner());
        held.remove(token)
            .filter(|(_, at)| rules::still_confirmable(at.elapsed()))
            .map(|(p, _)| p)
    }
}

use moa_core::store::{Direction as StoreDirection, HistoryQuery};

use crate::ipc::{
    AppState, ChartPoint, ConsentView, Dashboard, Direction, EnvironmentKind, HistoryFilter,
    HistoryPage, PreferencesInput, PreflightView, RecipientInput, ServerInput, TransferDraft,
    TransferView,
};
use crate::views;

fn environment_kind(kind: moa_core::EnvironmentKind) -> EnvironmentKind {
    match kind {
        moa_core::EnvironmentKind::Sandbox => EnvironmentKind::Sandbox,
        moa_core::EnvironmentKind::Server => EnvironmentKind::Server,
    }
}

fn day(value: &Option<String>) -> Result<Option<chrono::NaiveDate>, ()> {
    value
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| ()))
        .transpose()
}

impl Core {
    /// What the UI needs at start.
    pub async fn app_state(&self) -> Result<AppState, IpcError> {
        let env = self.moa.environment().await.map_err(|e| self.error(e))?;
        // A server out of reach leaves the cached view: registered as last known.
        let consent = self.moa.consent_health().await.ok();
        let registered =
            env.user_name.is_some() && consent.as_ref().is_none_or(|c| c.expires_at.is_some());
        let consent = consent.unwrap_or(moa_core::registration::ConsentHealth {
            expires_at: None,
            days_left: None,
            renew_soon: false,
        });
        let open = self.open_transfers().await?;
        Ok(AppState {
            environment: environment_kind(env.kind),
            server_url: (env.kind == moa_core::EnvironmentKind::Server).then_some(env.base_url),
            registered,
            person_name: env.user_name,
            language: self.language(),
            theme: self.theme(),
            consent: ConsentView {
                expires_at: consent.expires_at.as_ref().map(views::time),
                days_left: consent.days_left,
                renew_soon: consent.renew_soon,
            },
            open_transfers: open,
        })
    }

    /// Every account with its last known balance, straight from the store.
    pub async fn dashboard(&self) -> Result<Dashboard, IpcError> {
        let env = self.moa.environment().await.map_err(|e| self.error(e))?;
        views::dashboard(self.moa.store(), env.id).map_err(|e| self.error(e))
    }

    /// One account as the dashboard shows it.
    pub fn account_view(&self, account_id: i64) -> Option<crate::ipc::AccountView> {
        let store = self.moa.store();
        let account = store.account(account_id).ok().flatten()?;
        let balance = store.balance(account_id).ok().flatten();
        Some(views::account(&account, balance.as_ref()))
    }

    /// A page of an account's stored history.
    pub async fn history(
        &self,
        account_id: i64,
        filter: HistoryFilter,
    ) -> Result<HistoryPage, IpcError> {
        let bad = || self.refuse(Code::BadFilter);
        let limit = filter.limit.clamp(1, 500);
        let query = HistoryQuery {
            from: day(&filter.from).map_err(|_| bad())?,
            to: day(&filter.to).map_err(|_| bad())?,
            direction: filter.direction.map(|d| match d {
                Direction::In => StoreDirection::In,
                Direction::Out => StoreDirection::Out,
            }),
            search: filter.search.filter(|s| !s.trim().is_empty()),
            limit: limit + 1,
            offset: filter.offset,
        };
        let store = self.moa.store();
        let mut rows = store
            .history(account_id, &query)
            .map_err(|e| self.error(e.into()))?;
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let (stored_rows, _) = store
            .history_extent(account_id)
            .map_err(|e| self.error(e.into()))?;
        let gaps = store
            .history_gaps(account_id)
            .map_err(|e| self.error(e.into()))?
            .len() as u32;
        Ok(HistoryPage {
            rows: rows.iter().map(views::history_row).collect(),
            has_more,
            stored_rows,
            gaps,
        })
    }

    /// The balance at the end of each day with history.
    pub async fn chart(&self, account_id: i64) -> Result<Vec<ChartPoint>, IpcError> {
        let points = self
            .moa
            .store()
            .daily_balances(account_id)
            .map_err(|e| self.error(e.into()))?;
        Ok(points
            .into_iter()
            .map(|(date, balance)| ChartPoint {
                date: date.to_string(),
                balance: balance.to_string(),
            })
            .collect())
    }
}

/// The request a draft asks for. The account number and the memo go to the core exactly as
/// typed: the core refuses one that is not 1 to 16 digits (`bad_account_number`) or a memo the
/// statements cannot show as written (`bad_memo`). Dropping characters here instead would send
/// money somewhere the person did not type (`12O4` with a letter O is not account `124`) or
/// print a memo other than theirs.
fn request_of(draft: TransferDraft) -> Result<moa_core::transfer::TransferRequest, Code> {
    let amount = rules::parse_amount(&draft.amount).map_err(|e| e.code())?;
    Ok(moa_core::transfer::TransferRequest {
        from_account: draft.from_account,
        to: match draft.to {
            RecipientInput::Own { account_id } => moa_core::transfer::Recipient::Own { account_id },
            RecipientInput::External {
                bank_code,
                account_num,
            } => moa_core::transfer::Recipient::External {
                bank_code,
                account_num,
            },
        },
        amount,
        memo: draft.memo,
    })
}

impl Core {
    /// Checks a draft and holds it for confirmation.
    pub async fn preflight(&self, draft: TransferDraft) -> Result<PreflightView, IpcError> {
        let request = request_of(draft).map_err(|code| self.refuse(code))?;
        let amount = request.amount;
        let preflight = self
            .moa
            .preflight_transfer(&request)
            .await
            .map_err(|e| self.error(e))?;
        let from = self
            .account_view(preflight.from.id)
            .ok_or_else(|| self.refuse(Code::NoSuchAccount))?;
        let view = PreflightView {
            token: String::new(),
            from,
            recipient_name: preflight.recipient_name.clone(),
            recipient_bank_name: preflight.recipient_bank_name.clone(),
            recipient_masked: preflight.recipient_account_masked.clone(),
            amount: amount.to_string(),
            available: preflight.available.to_string(),
            remaining_limit: preflight.remaining_limit.to_string(),
            memo: rules::memo_as_sent(&request.memo).to_owned(),
        };
        Ok(PreflightView {
            token: self.hold(preflight),
            ..view
        })
    }

    /// The journal's transfers, newest first.
    pub async fn transfers(&self) -> Result<Vec<TransferView>, IpcError> {
        let records = self.moa.transfers(200).await.map_err(|e| self.error(e))?;
        Ok(records.iter().map(|t| self.transfer_view(t)).collect())
    }

    /// A transfer with its source account's label.
    pub fn transfer_view(&self, t: &moa_core::journal::TransferRecord) -> TransferView {
        let from = self
            .moa
            .store()
            .account(t.transfer.from_account)
            .ok()
            .flatten();
        views::transfer(t, from.as_ref())
    }

    async fn open_transfers(&self) -> Result<Vec<TransferView>, IpcError> {
        Ok(self
            .transfers()
            .await?
            .into_iter()
            .filter(|t| {
                !matches!(
                    t.state,
                    crate::ipc::TransferState::Completed
                        | crate::ipc::TransferState::Refunded
                        | crate::ipc::TransferState::Failed
                )
            })
            .collect())
    }

    /// Saves the person's language and theme.
    pub fn set_preferences(&self, input: PreferencesInput) -> Result<(), IpcError> {
        let store = self.moa.store();
        if let Some(language) = input.language {
            let value = if language == Language::En { "en" } else { "ko" };
            store
                .set_setting(settings::LANGUAGE, value)
                .map_err(|e| self.error(e.into()))?;
        }
        if let Some(theme) = input.theme {
            let value = match theme {
                Theme::System => "system",
                Theme::Light => "light",
                Theme::Dark => "dark",
            };
            store
                .set_setting(settings::THEME, value)
                .map_err(|e| self.error(e.into()))?;
        }
        Ok(())
    }

    /// Switches to an institution's moa-server.
    pub async fn use_server(&self, input: ServerInput) -> Result<(), IpcError> {
        self.moa
            .use_server(&input.url)
            .await
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(account_num: &str, memo: &str) -> TransferDraft {
        TransferDraft {
            from_account: 1,
            to: RecipientInput::External {
                bank_code: "004".into(),
                account_num: account_num.into(),
            },
            amount: "1000".into(),
            memo: memo.into(),
        }
    }

    #[test]
    fn an_account_number_and_a_memo_reach_the_core_as_typed() {
        let typed = "110-12O-4 56";
        let memo = "스물한 글자를 넘는 아주 아주 긴 메모입니다\u{202e}";
        let request = request_of(external(typed, memo)).unwrap();
        assert_eq!(
            request.to,
            moa_core::transfer::Recipient::External {
                bank_code: "004".into(),
                account_num: typed.into(),
            }
        );
        assert_eq!(request.memo, memo);
    }

    #[test]
    fn the_core_refuses_what_the_shell_passed_on_with_its_own_codes() {
        let code = |account_num: &str, memo: &str| {
            let request = request_of(external(account_num, memo)).unwrap();
            let moa_core::transfer::Recipient::External { account_num, .. } = &request.to else {
                unreachable!("an external recipient");
            };
            moa_core::transfer::check_account_number(account_num)
                .and_then(|()| moa_core::transfer::check_memo(&request.memo))
                .err()
                .map(|e| e.code())
        };
        assert_eq!(code("110123456", "월세"), None);
        assert_eq!(code("110-123-456", "월세"), Some(Code::BadAccountNumber));
        assert_eq!(code("12O4", ""), Some(Code::BadAccountNumber));
        assert_eq!(code("110123456", &"가".repeat(21)), Some(Code::BadMemo));
        assert_eq!(code("110123456", "abc\u{202e}def"), Some(Code::BadMemo));
    }

    #[test]
    fn an_amount_that_is_not_whole_won_above_zero_is_refused() {
        let mut draft = external("1", "");
        draft.amount = "0".into();
        assert_eq!(request_of(draft).err(), Some(Code::AmountNotPositive));
    }
}
