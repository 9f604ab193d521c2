//! The consent pages of `/oauth/2.0/authorize` and `/oauth/2.0/authorize_account`: identity check,
//! one-time code, account selection and consents, then the redirect back to the institution.
//!
//! Plain HTML forms without JavaScript, so a webview and a scripted HTTP client complete them
//! alike. Korean by default, English with `lang=eng`.
//!
//! Each file holds one concept: `words` the texts, `html` the documents, `form` what a
//! posted form or query means (pure), `store` the database reads. The handlers here only wire
//! them to the sessions.

mod form;
mod html;
mod store;
mod words;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};

use self::form::{Consent, Identity, OtpVerdict, first};
pub(crate) use self::html::esc;
use self::html::{
    accounts_page, callback, error_page, identity_page, otp_page, session_gone, too_many_attempts,
};
use self::words::words;
use crate::api::method_not_allowed;
use crate::oauth::{self, Grant};
use crate::session::{AuthRequest, Session, Stage, one_time_code};
use crate::state::{Institution, Testbed};
use crate::wire::ApiError;

pub(crate) fn routes() -> Router<Testbed> {
    let pages = [
        ("/oauth/2.0/authorize", get(authorize)),
        ("/oauth/2.0/authorize_account", get(authorize_account)),
        ("/oauth/2.0/authorize/identity", post(identity)),
        ("/oauth/2.0/authorize/otp", post(otp)),
        ("/oauth/2.0/authorize/consent", post(consent)),
    ];
    pages
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler.fallback(method_not_allowed))
        })
}

async fn authorize(state: State<Testbed>, query: RawQuery) -> Response {
    start(state, query, false).await
}

async fn authorize_account(state: State<Testbed>, query: RawQuery) -> Response {
    start(state, query, true).await
}

/// Checks the authorize request, as the center does before showing anything, and opens a session.
async fn start(
    State(testbed): State<Testbed>,
    RawQuery(raw): RawQuery,
    reconfirm: bool,
) -> Response {
    let pairs = form::query_pairs(raw.as_deref());
    let english = form::english(&pairs);
    match form::authorize_request(&pairs, reconfirm, |client_id| {
        testbed.institution_by_client_id(client_id)
    }) {
        Ok((institution, request)) => {
            let id = testbed.sessions().start(request);
            identity_page(&institution, &id, english, reconfirm, None)
        }
        Err(error) => error_page(english, &error),
    }
}

/// A posted form, the session it names and that session's institution.
type Posted = (Vec<(String, String)>, String, Session, Institution);

/// Reads a posted form; the "session gone" page when its session has expired or never was.
fn posted(testbed: &Testbed, body: &[u8]) -> Result<Posted, Box<Response>> {
    let fields = form::form(body);
    let id = first(&fields, "session").unwrap_or("").to_owned();
    let session = testbed.sessions().get(&id);
    let institution = session.as_ref().and_then(|session| {
        testbed
            .institutions()
            .into_iter()
            .find(|i| i.id == session.request.institution_id)
    });
    match (session, institution) {
        (Some(session), Some(institution)) => Ok((fields, id, session, institution)),
        _ => Err(Box::new(session_gone(false))),
    }
}

async fn identity(State(testbed): State<Testbed>, body: Bytes) -> Response {
    let (fields, id, session, institution) = match posted(&testbed, &body) {
        Ok(posted) => posted,
        Err(gone) => return *gone,
    };
    let english = session.request.english;
    let reconfirm = session.request.reconfirm;
    let identity = Identity::parse(&fields);
    let cell = identity.cell_no.clone();
    match store::person(&testbed, identity).await {
        Ok(Some(person_id)) => {
            let code = one_time_code();
            testbed.sessions().advance(
                &id,
                Stage::Otp {
                    person_id,
                    otp: code.clone(),
                    attempts: 0,
                },
            );
            otp_page(&institution, &id, english, reconfirm, &code, &cell, None)
        }
        Ok(None) => identity_page(
            &institution,
            &id,
            english,
            reconfirm,
            Some(words(english).no_such_person),
        ),
        Err(e) => error_page(english, &ApiError::from(e)),
    }
}

async fn otp(State(testbed): State<Testbed>, body: Bytes) -> Response {
    let (fields, id, session, institution) = match posted(&testbed, &body) {
        Ok(posted) => posted,
        Err(gone) => return *gone,
    };
    let english = session.request.english;
    let Stage::Otp {
        person_id,
        otp,
        attempts,
    } = session.stage
    else {
        return error_page(english, &ApiError::auth_parameter("3002110"));
    };
    match form::otp_verdict(&fields, &otp, attempts) {
        OtpVerdict::Accepted => {
            testbed
                .sessions()
                .advance(&id, Stage::Accounts { person_id });
            show_accounts(
                &testbed,
                &institution,
                &id,
                &session.request,
                person_id,
                None,
            )
            .await
        }
        OtpVerdict::TooManyAttempts => {
            testbed.sessions().end(&id);
            too_many_attempts(english)
        }
        OtpVerdict::Retry { attempts } => {
            testbed.sessions().advance(
                &id,
                Stage::Otp {
                    person_id,
                    otp: otp.clone(),
                    attempts,
                },
            );
            otp_page(
                &institution,
                &id,
                english,
                session.request.reconfirm,
                &otp,
                "",
                Some(words(english).wrong_otp),
            )
        }
    }
}

/// The accounts page with the person's accounts as they are now.
async fn show_accounts(
    testbed: &Testbed,
    institution: &Institution,
    session: &str,
    request: &AuthRequest,
    person_id: i64,
    error: Option<&str>,
) -> Response {
    match store::choices(testbed, institution.id, person_id).await {
        Ok(list) => accounts_page(institution, session, request, &list, error),
        Err(e) => error_page(request.english, &e),
    }
}

async fn consent(State(testbed): State<Testbed>, body: Bytes) -> Response {
    let (fields, id, session, institution) = match posted(&testbed, &body) {
        Ok(posted) => posted,
        Err(gone) => return *gone,
    };
    let request = session.request.clone();
    let english = request.english;
    let w = words(english);
    let Stage::Accounts { person_id } = session.stage else {
        return error_page(english, &ApiError::auth_parameter("3002110"));
    };
    if form::refused(&fields) {
        testbed.sessions().end(&id);
        let description = w.refused_description;
        return callback(
            &request,
            &[
                ("error", "access_denied"),
                ("error_description", description),
                ("state", &request.state),
            ],
        );
    }
    let list = match store::choices(&testbed, institution.id, person_id).await {
        Ok(list) => list,
        Err(e) => return error_page(english, &e),
    };
    let consent = match Consent::parse(&fields, &request.scope, &list) {
        Ok(consent) => consent,
        Err(refusal) => {
            let message = refusal.message(w);
            return show_accounts(
                &testbed,
                &institution,
                &id,
                &request,
                person_id,
                Some(&message),
            )
            .await;
        }
    };
    let accounts = match store::account_ids(&testbed, consent.accounts).await {
        Ok(ids) => ids,
        Err(e) => return error_page(english, &ApiError::from(e)),
    };
    let grant = Grant {
        institution,
        person_id,
        scope: request.scope.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        client_info: request.client_info.clone(),
        accounts,
        inquiry_agree: consent.inquiry_agree,
        transfer_agree: consent.transfer_agree,
    };
    match oauth::grant(&testbed, grant).await {
        Ok(code) => {
            testbed.sessions().end(&id);
            let scope = request.scope.join(" ");
            callback(
                &request,
                &[
                    ("code", &code),
                    ("scope", &scope),
                    ("client_info", &request.client_info),
                    ("state", &request.state),
                ],
            )
        }
        Err(e) => error_page(english, &e),
    }
}
