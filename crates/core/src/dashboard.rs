//! What the dashboard adds up: the total of the person's money as last known.

use crate::store::BalanceRecord;

/// The dashboard's total of `balances` (the store's [`balances`](crate::Store::balances): every
/// active account of the environment, a cancelled one no longer among them). Each counts with
/// its last good balance, a stale one too, as the dashboard shows it with its "as of" time; an
/// account whose balance was never read counts nothing, and an overdraft counts below zero.
pub fn total(balances: &[BalanceRecord]) -> i64 {
    balances.iter().filter_map(|b| b.balance).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::StaleCode;

    fn record(account_id: i64, balance: Option<i64>, stale: bool) -> BalanceRecord {
        BalanceRecord {
            account_id,
            balance,
            available: balance,
            product_name: None,
            as_of: None,
            stale_code: stale.then_some(StaleCode::BankDown),
        }
    }

    #[test]
    fn the_total_counts_stale_balances_as_last_known_and_unread_ones_as_nothing() {
        assert_eq!(total(&[]), 0);
        assert_eq!(
            total(&[
                record(1, Some(50_000), false),
                record(2, Some(20_000), true),
                record(3, None, true),
                record(4, Some(-5_000), false),
            ]),
            65_000
        );
    }
}
