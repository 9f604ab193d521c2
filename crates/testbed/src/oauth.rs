//! OAuth 2.0 as the center does it: the token endpoint's three grants, the granting of consent
//! that the pages and the sandbox shortcut share, and the shortcut itself.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use rand::Rng as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock;
use crate::db::DbError;
use crate::session::random_token;
use crate::state::{Institution, Testbed};
use crate::token::{self, Claims};
use crate::wire::{ApiError, Params, code};

/// `expires_in` of every access token: 90 days less a second.
pub const ACCESS_TOKEN_SECONDS: i64 = 7_775_999;
/// A refresh token outlives its access token by ten days.
pub const REFRESH_EXTRA: TimeDelta = TimeDelta::days(10);
/// An authorization code dies after ten minutes.
pub const CODE_LIFE: TimeDelta = TimeDelta::minutes(10);
/// Scopes a person can grant on the consent pages.
pub const USER_SCOPES: &[&str] = &["inquiry", "login", "transfer"];

pub(crate) fn routes() -> Router<Testbed> {
    Router::new()
        .route(
            "/oauth/2.0/token",
            post(token_endpoint).fallback(crate::api::method_not_allowed),
        )
        .route(
            "/testbed/sandbox/authorize",
            post(sandbox_authorize).fallback(crate::api::method_not_allowed),
        )
}

/// Parses a requested scope: space separated, known to the center, each at most once; sorted.
pub(crate) fn parse_scope(institution: &Institution, scope: &str) -> Result<Vec<String>, ApiError> {
    let mut scopes: Vec<String> = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(ApiError::auth_parameter("3000103"));
    }
    for s in &scopes {
        if !USER_SCOPES.contains(&s.as_str()) || !institution.may_use(s) {
            return Err(ApiError::auth_parameter("3000115"));
        }
    }
    Ok(scopes)
}

/// What a person agreed to on the pages (or through the shortcut).
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub institution: Institution,
    pub person_id: i64,
    pub scope: Vec<String>,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub client_info: String,
    pub accounts: Vec<i64>,
    pub inquiry_agree: bool,
    pub transfer_agree: bool,
}

/// Records the person's enrolment, the registered accounts with their consents and a fresh
/// authorization code, in one transaction. Registering an account again updates it.
pub(crate) async fn grant(testbed: &Testbed, grant: Grant) -> Result<String, ApiError> {
    let now = testbed.now();
    testbed
        .db()
        .write(move |conn| -> Result<String, ApiError> {
            let dtime = clock::dtime(&now);
            let user_seq_no = enroll(conn, grant.institution.id, grant.person_id, &dtime)?;
            for account_id in &grant.accounts {
                register(conn, &grant, &user_seq_no, *account_id, &dtime)?;
            }
            let code = random_token(40);
            conn.execute(
                "INSERT INTO auth_codes (code, institution_id, user_seq_no, scope, redirect_uri,
                    code_challenge, client_info, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    code,
                    grant.institution.id,
                    user_seq_no,
                    grant.scope.join(" "),
                    grant.redirect_uri,
                    grant.code_challenge,
                    grant.client_info,
                    (now + CODE_LIFE).timestamp()
                ],
            )
            .map_err(DbError::from)?;
            Ok(code)
        })
        .await
}

fn random_digits(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// The person's `user_seq_no` with this institution, enrolling (or re-opening) them if needed.
fn enroll(
    conn: &Connection,
    institution_id: i64,
    person_id: i64,
    dtime: &str,
) -> Result<String, DbError> {
    let existing: Option<String> = conn
        .query_row(
            "SELECT user_seq_no FROM enrollments WHERE institution_id = ?1 AND person_id = ?2",
            params![institution_id, person_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(user_seq_no) = existing {
        conn.execute(
            "UPDATE enrollments SET closed_at = NULL WHERE user_seq_no = ?1",
            [&user_seq_no],
        )?;
        return Ok(user_seq_no);
    }
    loop {
        let user_seq_no = format!("1{}", random_digits(9));
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO enrollments (user_seq_no, institution_id, person_id, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![user_seq_no, institution_id, person_id, dtime],
        )?;
        if inserted == 1 {
            return Ok(user_seq_no);
        }
    }
}

fn register(
    conn: &Connection,
    grant: &Grant,
    user_seq_no: &str,
    account_id: i64,
    dtime: &str,
) -> Result<(), DbError> {
    let inquiry = grant.inquiry_agree.then_some(dtime);
    let transfer = grant.transfer_agree.then_some(dtime);
    let updated = conn.execute(
        "UPDATE registrations SET state = '01', user_seq_no = ?3,
            inquiry_agree_dtime = COALESCE(?4, inquiry_agree_dtime),
            transfer_agree_dtime = COALESCE(?5, transfer_agree_dtime)
         WHERE institution_id = ?1 AND account_id = ?2",
        params![
            grant.institution.id,
            account_id,
            user_seq_no,
            inquiry,
            transfer
        ],
    )?;
    if updated == 1 {
        return Ok(());
    }
    // 24 digits: "1", the nine digits of the client use code, fourteen of the center's own.
    let code_digits = &grant.institution.client_use_code[1..];
    loop {
        let fintech_use_num = format!("1{code_digits}{}", random_digits(14));
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO registrations (fintech_use_num, institution_id, user_seq_no,
                account_id, inquiry_agree_dtime, transfer_agree_dtime, registered_at,
                payer_num, account_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '')",
            params![
                fintech_use_num,
                grant.institution.id,
                user_seq_no,
                account_id,
                inquiry,
                transfer,
                dtime,
                format!("{user_seq_no}{}", &fintech_use_num[20..]),
            ],
        )?;
        if inserted == 1 {
            return Ok(());
        }
    }
}

fn form_fields(headers: &HeaderMap, body: &[u8]) -> Result<Params, ApiError> {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form || body.len() > crate::wire::MAX_BODY_BYTES {
        return Err(ApiError::auth_parameter("3000103"));
    }
    let text = std::str::from_utf8(body).map_err(|_| ApiError::auth_parameter("3000103"))?;
    Params::from_query(Some(text)).map_err(|_| ApiError::auth_parameter("3000103"))
}

/// A required token-form field; `O0001 [3000103]` when missing.
fn field(params: &Params, name: &str) -> Result<String, ApiError> {
    params
        .text(name, 2048)
        .map_err(|_| ApiError::auth_parameter("3000103"))
}

async fn token_endpoint(
    State(testbed): State<Testbed>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|_| ApiError::auth_parameter("3000103"))?;
    let params = form_fields(&headers, &body)?;
    let grant_type = field(&params, "grant_type")?;
    let client_id = field(&params, "client_id")?;
    let client_secret = field(&params, "client_secret")?;
    let institution = testbed
        .institution_by_client_id(&client_id)
        .filter(|i| constant_time_eq(i.client_secret.as_bytes(), client_secret.as_bytes()))
        .ok_or_else(|| ApiError::auth_parameter("3000201"))?;
    match grant_type.as_str() {
        "authorization_code" => exchange_code(&testbed, institution, &params).await,
        "refresh_token" => refresh(&testbed, institution, &params).await,
        "client_credentials" => client_credentials(&testbed, institution, &params).await,
        _ => Err(ApiError::auth_parameter("3000103")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A token pair for a person, written to the token table.
fn issue_user_tokens(
    conn: &Connection,
    key: &[u8],
    institution_id: i64,
    user_seq_no: &str,
    scope: &[String],
    family: &str,
    now: i64,
) -> Result<Value, DbError> {
    let access_exp = now + ACCESS_TOKEN_SECONDS;
    let refresh_exp = access_exp + REFRESH_EXTRA.num_seconds();
    let access = Claims {
        aud: user_seq_no.to_owned(),
        scope: scope.to_vec(),
        iss: token::ISSUER.into(),
        exp: access_exp,
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let refresh = Claims {
        exp: refresh_exp,
        jti: uuid::Uuid::new_v4().to_string(),
        ..access.clone()
    };
    let mut insert = conn.prepare_cached(
        "INSERT INTO tokens (jti, kind, institution_id, user_seq_no, scope, expires_at, pair_jti,
            family)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let scope_text = scope.join(" ");
    insert.execute(params![
        access.jti,
        "access",
        institution_id,
        user_seq_no,
        scope_text,
        access_exp,
        refresh.jti,
        family
    ])?;
    insert.execute(params![
        refresh.jti,
        "refresh",
        institution_id,
        user_seq_no,
        scope_text,
        refresh_exp,
        access.jti,
        family
    ])?;
    Ok(json!({
        "access_token": token::sign(key, &access),
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "refresh_token": token::sign(key, &refresh),
        "scope": scope_text,
        "user_seq_no": user_seq_no,
    }))
}

/// Revokes every token of `family`: what a replayed code or a reused refresh token costs.
fn revoke_family(conn: &Connection, family: Option<&str>) -> Result<(), DbError> {
    if let Some(family) = family {
        conn.execute("UPDATE tokens SET revoked = 1 WHERE family = ?1", [family])?;
        tracing::warn!("a spent grant was presented again: its tokens are revoked");
    }
    Ok(())
}

/// Whether a code or refresh token found in the store may still be exchanged: not spent and not
/// expired. One presented again once spent was stolen or replayed, so everything its grant
/// issued is revoked too (RFC 9700 §4.5 and §4.14.2, RFC 6749 §4.1.2); the caller's write must
/// commit even though it refuses, so that the revocation holds.
fn still_exchangeable(
    conn: &Connection,
    spent: bool,
    family: Option<&str>,
    expires_at: i64,
    now: i64,
) -> Result<bool, DbError> {
    if spent {
        revoke_family(conn, family)?;
        return Ok(false);
    }
    Ok(expires_at > now)
}

/// The refusal of a code or refresh token that is unknown, expired, spent or replayed.
fn invalid_grant() -> ApiError {
    ApiError::auth_parameter("3002110")
}

/// Exchanges a code or refresh token for a token pair in one write. `exchange` is given the
/// connection, the signing key and the time; a refusal it returns (the inner `Err`) still
/// commits, so that the revocation of a replayed or reused grant holds.
async fn exchange_in_one_write(
    testbed: &Testbed,
    exchange: impl FnOnce(&Connection, &[u8], i64) -> Result<Result<Value, ApiError>, ApiError>
    + Send
    + 'static,
) -> Result<Json<Value>, ApiError> {
    let now = testbed.now().timestamp();
    let key = testbed.jwt_key().to_vec();
    let body = testbed
        .db()
        .write(move |conn| exchange(conn, &key, now))
        .await??;
    Ok(Json(body))
}

async fn exchange_code(
    testbed: &Testbed,
    institution: Institution,
    params: &Params,
) -> Result<Json<Value>, ApiError> {
    let code = field(params, "code")?;
    let redirect_uri = field(params, "redirect_uri")?;
    let verifier = params
        .opt_text("code_verifier", 128)
        .map_err(|_| ApiError::auth_parameter("3000103"))?;
    exchange_in_one_write(testbed, move |conn, key, now| {
        let row = conn
            .query_row(
                "SELECT user_seq_no, scope, redirect_uri, code_challenge, expires_at, used,
                    family
                 FROM auth_codes WHERE code = ?1 AND institution_id = ?2",
                params![code, institution.id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, bool>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                },
            )
            .optional()
            .map_err(DbError::from)?;
        let Some((user_seq_no, scope, registered_uri, challenge, expires_at, used, family)) = row
        else {
            return Ok(Err(invalid_grant()));
        };
        // A code is spent once exchanged.
        if !still_exchangeable(conn, used, family.as_deref(), expires_at, now)? {
            return Ok(Err(invalid_grant()));
        }
        if registered_uri != redirect_uri {
            return Ok(Err(ApiError::auth_parameter("3000114")));
        }
        match (challenge, verifier) {
            (Some(challenge), Some(verifier)) => {
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                if !constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                    return Ok(Err(invalid_grant()));
                }
            }
            (Some(_), None) => {
                return Ok(Err(refused(
                    "3000103",
                    "code_verifier: PKCE로 받은 코드에는 code_verifier가 필요합니다",
                )));
            }
            // A public client's codes are only ever issued with a challenge; one without is
            // not its to exchange.
            (None, _) if institution.public => return Ok(Err(invalid_grant())),
            (None, _) => {}
        }
        let family = uuid::Uuid::new_v4().to_string();
        conn.execute(
            "UPDATE auth_codes SET used = 1, family = ?2 WHERE code = ?1",
            params![code, family],
        )
        .map_err(DbError::from)?;
        let scopes: Vec<String> = scope.split(' ').map(str::to_owned).collect();
        Ok(Ok(issue_user_tokens(
            conn,
            key,
            institution.id,
            &user_seq_no,
            &scopes,
            &family,
            now,
        )?))
    })
    .await
}

async fn refresh(
    testbed: &Testbed,
    institution: Institution,
    params: &Params,
) -> Result<Json<Value>, ApiError> {
    let presented = field(params, "refresh_token")?;
    let requested = field(params, "scope")?;
    let requested = parse_scope(&institution, &requested)?;
    let claims = token::verify(testbed.jwt_key(), &presented).map_err(|_| invalid_grant())?;
    exchange_in_one_write(testbed, move |conn, key, now| {
        let row = conn
            .query_row(
                "SELECT user_seq_no, scope, expires_at, pair_jti, revoked, family FROM tokens
                 WHERE jti = ?1 AND kind = 'refresh' AND institution_id = ?2",
                params![claims.jti, institution.id],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, bool>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(DbError::from)?;
        let Some((Some(user_seq_no), granted, expires_at, pair, revoked, family)) = row else {
            return Ok(Err(invalid_grant()));
        };
        // Refresh tokens rotate, so a revoked one presented again means two parties hold
        // the family: whoever it is, every token descended from the grant is revoked.
        if !still_exchangeable(conn, revoked, family.as_deref(), expires_at, now)? {
            return Ok(Err(invalid_grant()));
        }
        if requested
            .iter()
            .any(|s| !granted.split(' ').any(|g| g == s))
        {
            return Ok(Err(ApiError::auth_parameter("3000115")));
        }
        // The old pair is spent: a refresh token is single use.
        conn.execute(
            "UPDATE tokens SET revoked = 1 WHERE jti = ?1 OR jti = ?2",
            params![claims.jti, pair],
        )
        .map_err(DbError::from)?;
        // A token issued before families were kept starts its own.
        let family = family.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Ok(Ok(issue_user_tokens(
            conn,
            key,
            institution.id,
            &user_seq_no,
            &requested,
            &family,
            now,
        )?))
    })
    .await
}

async fn client_credentials(
    testbed: &Testbed,
    institution: Institution,
    params: &Params,
) -> Result<Json<Value>, ApiError> {
    let scope = field(params, "scope")?;
    if scope != "oob" && scope != "sa" {
        return Err(ApiError::auth_parameter("3000103"));
    }
    if !institution.may_use(&scope) {
        return Err(ApiError::auth_parameter("3000115"));
    }
    let now = testbed.now().timestamp();
    let claims = Claims {
        aud: institution.client_use_code.clone(),
        scope: vec![scope.clone()],
        iss: token::ISSUER.into(),
        exp: now + ACCESS_TOKEN_SECONDS,
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let access_token = token::sign(testbed.jwt_key(), &claims);
    let client_use_code = institution.client_use_code.clone();
    testbed
        .db()
        .write(move |conn| -> Result<(), DbError> {
            conn.execute(
                "INSERT INTO tokens (jti, kind, institution_id, scope, expires_at)
                 VALUES (?1, 'access', ?2, ?3, ?4)",
                params![claims.jti, institution.id, scope, claims.exp],
            )?;
            Ok(())
        })
        .await?;
    Ok(Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": "oob",
        "client_use_code": client_use_code,
    })))
}

/// `O0001` with a detail code and a reason a developer can act on.
fn refused(detail: &str, why: &str) -> ApiError {
    ApiError::new(
        code::AUTH_PARAMETER,
        format!("인증 파라미터 오류([{detail}]) {why}"),
    )
}

/// A public client asked for a code without a PKCE challenge.
pub(crate) fn pkce_required() -> ApiError {
    refused(
        "3000103",
        "code_challenge: 공개 클라이언트는 PKCE(code_challenge_method=S256)가 필요합니다 \
         (a public client must send a PKCE S256 code_challenge)",
    )
}

fn agreed(params: &Params, name: &str) -> Result<bool, ApiError> {
    match params.opt_text(name, 5) {
        Ok(None) => Ok(false),
        Ok(Some(v)) if v == "Y" || v == "true" => Ok(true),
        Ok(Some(v)) if v == "N" || v == "false" => Ok(false),
        _ => Err(refused("3000103", &format!("{name}: Y 또는 N"))),
    }
}

/// `POST /testbed/sandbox/authorize`: what a person would do on the consent pages, in one JSON
/// call, for scripted tests. It creates exactly what the pages create.
async fn sandbox_authorize(
    State(testbed): State<Testbed>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|_| refused("3000103", "본문을 읽을 수 없습니다"))?;
    let params = Params::from_json(&body).map_err(|e| refused("3000103", &e.message))?;
    let text = |name: &str| params.text(name, 512).map_err(|_| refused("3000103", name));
    let client_id = text("client_id")?;
    let client_secret = text("client_secret")?;
    let institution = testbed
        .institution_by_client_id(&client_id)
        .filter(|i| constant_time_eq(i.client_secret.as_bytes(), client_secret.as_bytes()))
        .ok_or_else(|| ApiError::auth_parameter("3000201"))?;
    let redirect_uri = text("redirect_uri")?;
    if !institution.accepts_redirect(&redirect_uri) {
        return Err(ApiError::auth_parameter("3000114"));
    }
    let scope = parse_scope(&institution, &text("scope")?)?;
    let state = text("state")?;
    let cell_no = text("cell_no")?;
    let code_challenge = params
        .opt_text("code_challenge", 128)
        .map_err(|_| refused("3000103", "code_challenge"))?;
    if institution.public && code_challenge.is_none() {
        return Err(pkce_required());
    }
    let inquiry_agree = agreed(&params, "inquiry_agree")?;
    let transfer_agree = agreed(&params, "transfer_agree")?;
    let mut wanted = Vec::new();
    for item in params
        .list("accounts")
        .map_err(|_| refused("3000103", "accounts"))?
    {
        let item =
            Params::from_value("accounts", item).map_err(|_| refused("3000103", "accounts"))?;
        let bank = item
            .bank_code("bank_code_std")
            .map_err(|_| refused("3000103", "bank_code_std"))?;
        let number = item
            .account_num("account_num")
            .map_err(|_| refused("3000103", "account_num"))?;
        wanted.push((bank, number));
    }
    if wanted.is_empty() {
        return Err(refused("3000103", "accounts: 계좌를 하나 이상 선택하세요"));
    }
    let (person_id, accounts) = testbed
        .db()
        .read(move |conn| -> Result<_, ApiError> {
            let person_id: i64 = conn
                .query_row("SELECT id FROM people WHERE cell_no = ?1", [&cell_no], |r| r.get(0))
                .optional()
                .map_err(DbError::from)?
                .ok_or_else(|| refused("3000103", "cell_no: 등록되지 않은 사용자입니다"))?;
            let mut ids = Vec::new();
            for (bank, number) in wanted {
                let id: i64 = conn
                    .query_row(
                        "SELECT id FROM accounts WHERE bank_code = ?1 AND account_num = ?2 AND person_id = ?3",
                        params![bank, number, person_id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(DbError::from)?
                    .ok_or_else(|| refused("3000103", &format!("accounts: {bank}-{number}은(는) 본인 계좌가 아닙니다")))?;
                ids.push(id);
            }
            Ok((person_id, ids))
        })
        .await?;
    let code = grant(
        &testbed,
        Grant {
            institution,
            person_id,
            scope,
            redirect_uri,
            code_challenge,
            client_info: String::new(),
            accounts,
            inquiry_agree,
            transfer_agree,
        },
    )
    .await?;
    Ok(Json(json!({ "code": code, "state": state })))
}
