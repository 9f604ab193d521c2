//! Reading a whole history: the pages of `account/transaction_list/fin_num`, one after another.
//!
//! Each page repeats the same query with the cursor (`befor_inquiry_trace_info`) the previous page
//! returned and a new `bank_tran_id`, until the center says `next_page_yn = N` or a page limit is
//! reached. The limit bounds the work a single sync can do on an account with years of history.

use futures_util::Stream;

use crate::account::{TRANSACTION_LIST, TransactionList, TransactionListRequest, TransactionQuery};
use crate::client::Client;
use crate::error::Error;
use crate::token::UserToken;
use crate::tran_id::BankTranIdIssuer;

/// The pages of one history, fetched on demand. See [`Client::transaction_pages`].
#[derive(Debug)]
pub struct TransactionPages<'a> {
    client: &'a Client,
    token: &'a UserToken,
    issuer: &'a BankTranIdIssuer,
    query: TransactionQuery,
    cursor: String,
    pages_left: u32,
    fetched: u32,
    state: PagerState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PagerState {
    More,
    /// The last page said "more" but gave no new cursor; report it, then stop.
    Stalled,
    Finished,
    /// The page limit was hit while the center still had more.
    Truncated,
}

impl<'a> TransactionPages<'a> {
    /// The pages of `query`, at most `max_pages` of them.
    pub fn new(
        client: &'a Client,
        token: &'a UserToken,
        issuer: &'a BankTranIdIssuer,
        query: TransactionQuery,
        max_pages: u32,
    ) -> Self {
        Self {
            client,
            token,
            issuer,
            query,
            cursor: String::new(),
            pages_left: max_pages,
            fetched: 0,
            state: if max_pages == 0 {
                PagerState::Truncated
            } else {
                PagerState::More
            },
        }
    }

    /// The next page, or `None` when the history is done, the page limit was reached, or an error
    /// was returned (errors end the sequence). A center that has nothing in the range may answer
    /// `A0018`; it arrives as an error whose kind is [`RspKind::NoData`](crate::RspKind::NoData),
    /// which callers usually read as an empty history.
    pub async fn next_page(&mut self) -> Option<Result<TransactionList, Error>> {
        match self.state {
            PagerState::More => {}
            PagerState::Stalled => {
                self.state = PagerState::Finished;
                return Some(Err(Error::Protocol {
                    endpoint: TRANSACTION_LIST,
                    reason: format!(
                        "page {} says another page follows but gives no new cursor",
                        self.fetched
                    ),
                }));
            }
            PagerState::Finished | PagerState::Truncated => return None,
        }
        let bank_tran_id = match self.issuer.issue() {
            Ok(id) => id,
            Err(e) => {
                self.state = PagerState::Finished;
                return Some(Err(e.into()));
            }
        };
        let request = TransactionListRequest {
            bank_tran_id,
            query: self.query.clone(),
            befor_inquiry_trace_info: self.cursor.clone(),
        };
        let page = match self.client.transaction_list(self.token, &request).await {
            Ok(page) => page,
            Err(e) => {
                self.state = PagerState::Finished;
                return Some(Err(e));
            }
        };
        self.fetched += 1;
        self.pages_left -= 1;
        self.state = next_state(&self.cursor, &page, self.pages_left);
        self.cursor.clone_from(&page.befor_inquiry_trace_info);
        Some(Ok(page))
    }

    /// How many pages have been fetched.
    pub fn pages_fetched(&self) -> u32 {
        self.fetched
    }

    /// Whether the page limit cut the history short (the center had more pages).
    pub fn truncated(&self) -> bool {
        self.state == PagerState::Truncated
    }

    /// The pages as a stream; it ends after the last page or the first error.
    pub fn into_stream(self) -> impl Stream<Item = Result<TransactionList, Error>> + 'a {
        futures_util::stream::unfold(self, |mut pages| async move {
            pages.next_page().await.map(|item| (item, pages))
        })
    }
}

/// What follows a page: the pure part of the paging rule.
fn next_state(previous_cursor: &str, page: &TransactionList, pages_left: u32) -> PagerState {
    let cursor = page.befor_inquiry_trace_info.trim();
    if !page.next_page_yn {
        PagerState::Finished
    } else if cursor.is_empty() || cursor == previous_cursor.trim() {
        PagerState::Stalled
    } else if pages_left == 0 {
        PagerState::Truncated
    } else {
        PagerState::More
    }
}

impl Client {
    /// The pages of an account's history for `query`, each fetched with a fresh id from
    /// `issuer`, at most `max_pages` of them.
    ///
    /// ```no_run
    /// # async fn demo(client: moa_openbanking::Client, token: moa_openbanking::UserToken,
    /// #     issuer: moa_openbanking::BankTranIdIssuer,
    /// #     query: moa_openbanking::account::TransactionQuery) -> Result<(), moa_openbanking::Error> {
    /// let mut pages = client.transaction_pages(&token, &issuer, query, 40);
    /// while let Some(page) = pages.next_page().await {
    ///     for row in page?.res_list {
    ///         println!("{} {} {}", row.tran_date, row.inout_type, row.tran_amt);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn transaction_pages<'a>(
        &'a self,
        token: &'a UserToken,
        issuer: &'a BankTranIdIssuer,
        query: TransactionQuery,
        max_pages: u32,
    ) -> TransactionPages<'a> {
        TransactionPages::new(self, token, issuer, query, max_pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::decode_answer;

    fn page(next: &str, cursor: &str) -> TransactionList {
        let body = format!(
            r#"{{"rsp_code":"A0000","next_page_yn":"{next}","befor_inquiry_trace_info":"{cursor}"}}"#
        );
        decode_answer(TRANSACTION_LIST, 200, body.as_bytes()).expect("decode")
    }

    #[test]
    fn paging_stops_at_the_last_page() {
        assert_eq!(next_state("", &page("N", ""), 5), PagerState::Finished);
        assert_eq!(next_state("", &page("N", "abc"), 5), PagerState::Finished);
    }

    #[test]
    fn paging_continues_with_a_new_cursor_until_the_limit() {
        assert_eq!(next_state("", &page("Y", "abc"), 5), PagerState::More);
        assert_eq!(next_state("abc", &page("Y", "abd"), 1), PagerState::More);
        assert_eq!(
            next_state("abc", &page("Y", "abd"), 0),
            PagerState::Truncated
        );
    }

    #[test]
    fn a_cursor_that_does_not_move_stalls_the_pager() {
        assert_eq!(next_state("", &page("Y", ""), 5), PagerState::Stalled);
        assert_eq!(next_state("abc", &page("Y", "abc"), 5), PagerState::Stalled);
    }
}
