//! Device authentication: every request but enrolment carries `Authorization: DPoP <token>` and
//! a `DPoP` proof (RFC 9449) made with the device's key. The token names the device; the proof
//! shows the caller holds the key it was issued to, for this method and URL, now — and only
//! once: proof ids are kept until their proof could no longer be accepted.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use chrono::TimeDelta;
use url::Url;

use crate::api::ErrorCode;
use crate::app::App;
use crate::dpop;
use crate::error::{Error, Result};
use crate::store::DeviceRecord;

/// How far a proof's `iat` may be from the server's clock, either way.
pub const MAX_SKEW: TimeDelta = TimeDelta::seconds(60);

/// A request from an enrolled, unrevoked device whose proof verified.
#[derive(Debug, Clone)]
pub struct Device {
    /// The device.
    pub record: DeviceRecord,
}

impl Device {
    /// The person the device is linked to, or [`ErrorCode::NotLinked`].
    pub fn person(&self) -> Result<i64> {
        self.record
            .person_id
            .ok_or(Error::Refused(ErrorCode::NotLinked))
    }
}

/// A request with a valid proof of a key, enrolled or not: what enrolment takes.
#[derive(Debug, Clone)]
pub struct Proven {
    /// The key's thumbprint.
    pub thumbprint: String,
}

/// The URL the client addressed: the configured public URL's origin (behind a proxy), else
/// what the `Host` header says, with the path and query of the request.
fn request_url(app: &App, parts: &Parts) -> Result<Url> {
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map(|u| u.0.clone())
        .unwrap_or_else(|| parts.uri.clone());
    let path_and_query = path
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let origin = match &app.settings().public_url {
        Some(public) => public.origin().ascii_serialization(),
        None => {
            let host = parts
                .headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .ok_or(ErrorCode::BadProof)?;
            format!("http://{host}")
        }
    };
    Url::parse(&format!("{origin}{path_and_query}")).map_err(|_| ErrorCode::BadProof.into())
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|h| h.to_str().ok())
}

/// Checks the proof of `parts` for `access_token`, and spends its id.
async fn verify(app: &App, parts: &Parts, access_token: Option<&str>) -> Result<dpop::Verified> {
    let proof = header(parts, "dpop").ok_or(ErrorCode::BadProof)?;
    let url = request_url(app, parts)?;
    let now = app.clock().now();
    let verified = dpop::verify(
        proof,
        &dpop::Expected {
            method: parts.method.as_str(),
            url: &url,
            access_token,
            now,
            max_skew: MAX_SKEW,
        },
    )
    .map_err(|e| {
        tracing::debug!(reason = e.code(), "DPoP proof refused");
        Error::Refused(ErrorCode::BadProof)
    })?;
    // Kept past the last moment the proof's iat would still be accepted.
    let keep_until = verified.iat + MAX_SKEW + MAX_SKEW;
    if !app
        .store()
        .use_proof_id(&verified.thumbprint, &verified.jti, keep_until, now)
        .await?
    {
        return Err(ErrorCode::ProofReplayed.into());
    }
    Ok(verified)
}

impl FromRequestParts<Arc<App>> for Proven {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self> {
        let verified = verify(app, parts, None).await?;
        Ok(Proven {
            thumbprint: verified.thumbprint,
        })
    }
}

impl FromRequestParts<Arc<App>> for Device {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self> {
        let token = header(parts, "authorization")
            .and_then(|h| h.strip_prefix("DPoP "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ErrorCode::UnknownDevice)?
            .to_owned();
        let record = app
            .store()
            .device_by_token(&dpop::token_hash(&token))
            .await?
            .filter(|d| d.revoked_at.is_none())
            .ok_or(ErrorCode::UnknownDevice)?;
        let verified = verify(app, parts, Some(&token)).await?;
        if verified.thumbprint != record.thumbprint {
            // A token stolen from one device and used with another key.
            return Err(ErrorCode::BadProof.into());
        }
        app.limiter().check(&record.id).await?;
        Ok(Device { record })
    }
}
