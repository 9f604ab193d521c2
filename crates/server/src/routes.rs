//! The HTTP API: `/v1` for the app (every route but enrolment behind a device's DPoP proof),
//! `/healthz`, `/readyz` and `/metrics` for operators. Handlers are a few lines each; the
//! decisions live in [`crate::registration`], [`crate::sync`] and [`crate::saga`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::api::{self, ErrorCode};
use crate::app::App;
use crate::auth::{Device, Proven};
use crate::error::{Error, Result, refusal};
use crate::{dpop, registration, saga, sync};

/// A JSON body that answers a documented 400 when it does not parse.
struct Body400<T>(T);

impl<T, S> axum::extract::FromRequest<S> for Body400<T>
where
    Json<T>: axum::extract::FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> std::result::Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body400(value)),
            Err(_) => Err(refusal(ErrorCode::BadRequest)),
        }
    }
}

/// The router of the whole server.
pub fn router(app: Arc<App>) -> Router {
    let v1 = Router::new()
        .route("/devices", post(enrol))
        .route("/devices/current", delete(revoke))
        .route("/registrations", post(begin_registration))
        .route("/registrations/complete", post(complete_registration))
        .route("/me", get(me))
        .route("/sign-out", post(sign_out))
        .route("/accounts", get(accounts))
        .route("/accounts/{fintech_use_num}", delete(cancel_account))
        .route("/accounts/{fintech_use_num}/history", get(history))
        .route("/banks", get(banks))
        .route("/balances", post(balances))
        .route("/recipients/real-name", post(real_name))
        .route("/transfers/check", post(check_transfer))
        .route("/transfers", post(create_transfer).get(transfers))
        .route("/transfers/{id}", get(transfer))
        .route("/transfers/{id}/events", get(transfer_events));
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .fallback(|| async { refusal(ErrorCode::BadRequest) })
        .layer(axum::middleware::from_fn_with_state(app.clone(), observe))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(app)
}

/// Counts and times every request by its route (never by its path, which holds ids).
async fn observe(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    app.metrics().observe_request(
        route_name(&route),
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The route's name for metrics, from a fixed set so labels stay few.
fn route_name(route: &str) -> &'static str {
    const ROUTES: &[&str] = &[
        "/v1/devices",
        "/v1/devices/current",
        "/v1/registrations",
        "/v1/registrations/complete",
        "/v1/me",
        "/v1/sign-out",
        "/v1/accounts",
        "/v1/accounts/{fintech_use_num}",
        "/v1/accounts/{fintech_use_num}/history",
        "/v1/banks",
        "/v1/balances",
        "/v1/recipients/real-name",
        "/v1/transfers/check",
        "/v1/transfers",
        "/v1/transfers/{id}",
        "/v1/transfers/{id}/events",
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    ROUTES
        .iter()
        .find(|r| **r == route)
        .copied()
        .unwrap_or("unmatched")
}

async fn ready(State(app): State<Arc<App>>) -> Response {
    match app.store().ping().await {
        Ok(()) => "ready".into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    if let Ok(counts) = app.store().transfers_by_state().await {
        let counts: Vec<(&str, u64)> = counts.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        app.metrics().set_transfers_by_state(&counts);
    }
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        app.metrics().render(),
    )
        .into_response()
}

async fn enrol(State(app): State<Arc<App>>, proven: Proven) -> Result<Response> {
    let device_id = uuid::Uuid::new_v4().to_string();
    let device_token = random_token();
    let now = app.clock().now();
    app.store()
        .enrol_device(
            &device_id,
            &proven.thumbprint,
            &dpop::token_hash(&device_token),
            now,
        )
        .await?
        .ok_or(ErrorCode::AlreadyEnrolled)?;
    app.store()
        .audit("device", &device_id, "enrolled", now)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(api::Enrolled {
            device_id,
            device_token,
        }),
    )
        .into_response())
}

/// 32 random bytes, base64url: a device token.
fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn revoke(State(app): State<Arc<App>>, device: Device) -> Result<StatusCode> {
    let now = app.clock().now();
    app.store().revoke_device(&device.record.id, now).await?;
    app.store()
        .audit("device", &device.record.id, "revoked", now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn begin_registration(
    State(app): State<Arc<App>>,
    device: Device,
    Body400(body): Body400<api::BeginRegistration>,
) -> Result<Json<api::RegistrationStarted>> {
    Ok(Json(registration::begin(&app, &device, &body).await?))
}

async fn complete_registration(
    State(app): State<Arc<App>>,
    device: Device,
    Body400(body): Body400<api::CompleteRegistration>,
) -> Result<Json<api::Registered>> {
    Ok(Json(registration::complete(&app, &device, &body).await?))
}

async fn me(State(app): State<Arc<App>>, device: Device) -> Result<Json<api::Me>> {
    Ok(Json(registration::me(&app, device.person()?).await?))
}

async fn sign_out(State(app): State<Arc<App>>, device: Device) -> Result<StatusCode> {
    registration::sign_out(&app, &device).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn accounts(State(app): State<Arc<App>>, device: Device) -> Result<Json<Vec<api::Account>>> {
    let accounts = app.store().accounts(device.person()?).await?;
    Ok(Json(
        accounts
            .into_iter()
            .map(|a| api::Account {
                fintech_use_num: a.details.fintech_use_num.to_string(),
                bank_code: a.details.bank_code.to_string(),
                bank_name: a.details.bank_name,
                alias: a.details.alias,
                account_num_masked: a.details.account_num_masked,
                holder_name: a.details.holder_name,
                account_type: a.details.account_type,
                inquiry_agreed_at: a.details.inquiry_agreed_at,
                transfer_agreed_at: a.details.transfer_agreed_at,
            })
            .collect(),
    ))
}

async fn cancel_account(
    State(app): State<Arc<App>>,
    device: Device,
    Path(fintech_use_num): Path<String>,
) -> Result<StatusCode> {
    registration::cancel_account(&app, device.person()?, &fintech_use_num).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn history(
    State(app): State<Arc<App>>,
    device: Device,
    Path(fintech_use_num): Path<String>,
    query: std::result::Result<Query<api::HistoryQuery>, QueryRejection>,
) -> Result<Json<api::HistoryPage>> {
    let Query(query) = query.map_err(|_| Error::Refused(ErrorCode::BadRequest))?;
    Ok(Json(
        sync::history_page(&app, device.person()?, &fintech_use_num, &query).await?,
    ))
}

async fn banks(State(app): State<Arc<App>>, _device: Device) -> Result<Json<Vec<api::BankStatus>>> {
    Ok(Json(sync::bank_statuses(&app).await?))
}

/// An NDJSON response: one JSON value a line, sent as each arrives on `lines`.
fn ndjson<T: Serialize + Send + 'static>(lines: mpsc::Receiver<T>) -> Response {
    let stream = tokio_stream(lines).map(|line| {
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        Ok::<_, std::convert::Infallible>(bytes)
    });
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn tokio_stream<T: Send + 'static>(
    mut lines: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send {
    futures_util::stream::poll_fn(move |cx| lines.poll_recv(cx))
}

async fn balances(State(app): State<Arc<App>>, device: Device) -> Result<Response> {
    let person_id = device.person()?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        if let Err(e) = sync::refresh_balances(app, person_id, tx).await {
            tracing::warn!(code = e.code().as_str(), "balance refresh failed");
        }
    });
    Ok(ndjson(rx))
}

async fn real_name(
    State(app): State<Arc<App>>,
    device: Device,
    Body400(body): Body400<api::RealNameCheck>,
) -> Result<Json<api::RealName>> {
    // Only a person may look up another's account: the check is theirs, and it is audited.
    let person_id = device.person()?;
    let found = saga::real_name(&app, &body).await?;
    app.store()
        .audit(
            "recipient",
            &format!("person {person_id}"),
            &format!("real-name check of {}", found.account_masked),
            app.clock().now(),
        )
        .await?;
    Ok(Json(found))
}

async fn check_transfer(
    State(app): State<Arc<App>>,
    device: Device,
    Body400(body): Body400<api::TransferRequest>,
) -> Result<Json<api::TransferCheck>> {
    Ok(Json(saga::check(&app, device.person()?, &body).await?))
}

fn idempotency_key(headers: &HeaderMap) -> Result<String> {
    headers
        .get(api::IDEMPOTENCY_KEY)
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
        .filter(|k| {
            (8..=64).contains(&k.len())
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .ok_or(Error::Refused(ErrorCode::IdempotencyKeyMissing))
}

async fn create_transfer(
    State(app): State<Arc<App>>,
    device: Device,
    headers: HeaderMap,
    Body400(body): Body400<api::TransferRequest>,
) -> Result<Response> {
    let person_id = device.person()?;
    let key = idempotency_key(&headers)?;
    let (record, new) = saga::create(&app, person_id, &key, &body).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(saga::view(&app, &record).await?)).into_response())
}

async fn transfers(
    State(app): State<Arc<App>>,
    device: Device,
) -> Result<Json<Vec<api::Transfer>>> {
    let records = app.store().transfers(device.person()?, 200).await?;
    let mut views = Vec::with_capacity(records.len());
    for record in &records {
        views.push(saga::view(&app, record).await?);
    }
    Ok(Json(views))
}

async fn own_transfer(app: &App, person_id: i64, id: &str) -> Result<crate::store::TransferRecord> {
    Ok(app
        .store()
        .transfer(id)
        .await?
        .filter(|t| t.order.person_id == person_id)
        .ok_or(ErrorCode::NoSuchTransfer)?)
}

async fn transfer(
    State(app): State<Arc<App>>,
    device: Device,
    Path(id): Path<String>,
) -> Result<Json<api::Transfer>> {
    let record = own_transfer(&app, device.person()?, &id).await?;
    Ok(Json(saga::view(&app, &record).await?))
}

/// How long a progress stream waits for the transfer to end before it closes; the app asks
/// again.
const EVENTS_WAIT: Duration = Duration::from_secs(60);

/// How often a progress stream reads the journal when it hears of no move: another replica
/// running the transfer moves it without this one hearing.
const EVENTS_POLL: Duration = Duration::from_secs(1);

async fn transfer_events(
    State(app): State<Arc<App>>,
    device: Device,
    Path(id): Path<String>,
) -> Result<Response> {
    let person_id = device.person()?;
    // Watch first, then read: a move between the two is not missed.
    let mut moves = app.watch();
    let first = own_transfer(&app, person_id, &id).await?;
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + EVENTS_WAIT;
        let mut last = first;
        if let Ok(view) = saga::view(&app, &last).await
            && tx.send(view).await.is_err()
        {
            return;
        }
        let mut read_at = tokio::time::Instant::now();
        while !last.state.is_final() {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            let poll = (read_at + EVENTS_POLL).min(deadline);
            match tokio::time::timeout_at(poll, moves.recv()).await {
                Ok(Ok(moved_id)) if moved_id != id && read_at.elapsed() < EVENTS_POLL => continue,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
                // This transfer moved, the watcher lagged, or nothing was heard for a while:
                // read the journal.
                _ => {}
            }
            read_at = tokio::time::Instant::now();
            let Ok(Some(now)) = app.store().transfer(&id).await else {
                break;
            };
            if now.version != last.version {
                last = now;
                let Ok(view) = saga::view(&app, &last).await else {
                    break;
                };
                if tx.send(view).await.is_err() {
                    break;
                }
            }
        }
    });
    Ok(ndjson(rx))
}
